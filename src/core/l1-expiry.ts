// Expiry bookkeeping for L1: which slots expire when (the timing wheel), the
// bounded walk that frees what a flush_all invalidated, and memcached's
// reclaim counters. CacheCore decides what is expired or flushed; this file
// finds those items without scanning and removes them in bounded steps.

import type { MemoryTier } from '../tiers/memory/memory-tier.js';
import { FlushSweep } from '../ttl/flush-sweep.js';
import { TimingWheel } from '../ttl/timing-wheel.js';
import type { CoreStats } from './core-stats.js';
import { isExpired } from './exptime.js';

/** Most expired items one reclaim pass removes, so a mass expiry never stalls the event loop. */
export const RECLAIM_BATCH = 10_000;

export class L1Expiry {
  readonly #memory: MemoryTier;
  readonly #stats: CoreStats;
  /** L1 slots with a TTL, by expiry second. */
  readonly #wheel: TimingWheel;
  /** Frees L1 items a flush_all invalidated, in bounded steps after it takes effect. */
  readonly #flushSweep = new FlushSweep();
  #expiredUnfetched = 0;

  constructor(memory: MemoryTier, stats: CoreStats, nowSeconds: number) {
    this.#memory = memory;
    this.#stats = stats;
    // Reserved like L1's columns (a scheduled entry per L1 slot at most), so the pool never copies as it grows.
    const wheel = new TimingWheel({ nowSeconds, initialCapacity: 0, reserve: memory.slotReserve });
    this.#wheel = wheel;
    memory.setFreeListener((slot) => wheel.cancel(slot));
  }

  /** Keeps the wheel in step with a slot's expiry; items without a TTL are not in it. */
  track(slot: number, exptime: number): void {
    const wheel = this.#wheel;
    if (exptime === 0) {
      wheel.cancel(slot);
      return;
    }
    wheel.schedule(slot, exptime);
  }

  /**
   * Removes L1 items whose expiry has passed, in O(items expiring). Reads
   * never depend on it: every lookup checks expiry itself.
   */
  reclaimExpired(now: number, limit: number): number {
    const memory = this.#memory;
    return this.#wheel.advance(
      now,
      (slot) => {
        const exptime = memory.exptime(slot);
        if (isExpired(exptime, now)) {
          this.#countReclaimed(slot);
          memory.remove(slot);
        } else {
          this.track(slot, exptime);
        }
      },
      limit,
    );
  }

  /** A flush_all took effect: walk L1 (bounded per step) for items below the watermark. */
  startFlushSweep(): void {
    this.#flushSweep.start(this.#memory.slotCapacity);
  }

  /** One bounded step of the post-flush walk; returns the items removed. */
  sweepFlushed(flushedBelowCas: number): number {
    const memory = this.#memory;
    return this.#flushSweep.step((slot) => {
      if (memory.keyLength(slot) === 0 || memory.cas(slot) >= flushedBelowCas) return false;
      this.#countReclaimed(slot);
      memory.remove(slot);
      return true;
    });
  }

  /** True while a post-flush sweep has slots left to look at. */
  get sweeping(): boolean {
    return this.#flushSweep.active;
  }

  /** memcached counts items the reclaimer frees, and those of them never read. */
  #countReclaimed(slot: number): void {
    this.#stats.reclaimed++;
    if (!this.#memory.fetched(slot)) this.#expiredUnfetched++;
  }

  /**
   * Items the wheel or the post-flush sweep removed that were never read
   * since they were stored (memcached's expired_unfetched). Not in CoreStats,
   * so like `evictions` it survives `stats reset`.
   */
  get expiredUnfetched(): number {
    return this.#expiredUnfetched;
  }

  /** Slots the wheel tracks, and the bytes its columns hold. */
  get tracking(): { scheduled: number; allocatedBytes: number } {
    return { scheduled: this.#wheel.size, allocatedBytes: this.#wheel.allocatedBytes };
  }
}
