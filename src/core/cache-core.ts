// CacheCore holds memcached's semantics (CAS, exptime, flush, append,
// incr/decr) over the tiers. Every protocol calls it; it returns outcomes as
// values and knows nothing of wire formats or sockets.
//
// Hot path shape: lookups return an L1 slot number (or -1) instead of an
// object, and readers copy straight from L1's pages into the output buffer.

import { type MemoryTier, NO_MEMORY } from '../tiers/memory/memory-tier.js';
import { TimingWheel } from '../ttl/timing-wheel.js';
import type { Clock } from './clock.js';
import { CoreStats } from './core-stats.js';
import { applyDelta, readCounter } from './counter-value.js';
import { absoluteExptime, isExpired } from './exptime.js';
import type { ArithmeticOutcome, ItemReader, MemlimitOutcome, StoreMode, StoreOutcome } from './outcomes.js';

const MIB = 1024 * 1024;
/** memcached refuses `cache_memlimit` below 8 MiB. */
export const MIN_MEMLIMIT_MB = 8;

export interface CacheCoreOptions {
  readonly memory: MemoryTier;
  readonly clock: Clock;
}

/** Most expired items one reclaim pass removes, so a mass expiry never stalls the event loop. */
export const RECLAIM_BATCH = 10_000;

export class CacheCore {
  readonly stats = new CoreStats();
  readonly items: ItemReader;
  readonly clock: Clock;
  readonly #memory: MemoryTier;
  /** Next CAS unique; never reused within a process. */
  #nextCas = 1;
  /** Items with a CAS below this were invalidated by flush_all (memcached's oldest_cas). */
  #flushedBelowCas = 0;
  /** Unix second at which a delayed flush_all takes effect; 0 = none pending. */
  #pendingFlushAt = 0;
  /** L1 slots with a TTL, by expiry second: reclaims expired items without scanning. */
  readonly #wheel: TimingWheel;

  constructor(options: CacheCoreOptions) {
    this.#memory = options.memory;
    this.items = options.memory;
    this.clock = options.clock;
    this.#wheel = new TimingWheel({ nowSeconds: options.clock.nowSeconds(), initialCapacity: 0 });
    const wheel = this.#wheel;
    this.#memory.setFreeListener((slot) => wheel.cancel(slot));
  }

  /** Keeps the wheel in step with a slot's expiry; items without a TTL are not in it. */
  #trackExpiry(slot: number, exptime: number): void {
    const wheel = this.#wheel;
    if (exptime === 0) {
      wheel.cancel(slot);
      return;
    }
    if (slot >= wheel.capacity) wheel.grow(this.#memory.slotCapacity);
    wheel.schedule(slot, exptime);
  }

  /**
   * Removes L1 items whose expiry has passed, in O(items expiring); called a
   * few times a second by the expiry driver. Reads never depend on it: every
   * lookup checks expiry itself.
   */
  reclaimExpired(limit = RECLAIM_BATCH): number {
    const now = this.clock.nowSeconds();
    const memory = this.#memory;
    return this.#wheel.advance(
      now,
      (slot) => {
        const exptime = memory.exptime(slot);
        if (isExpired(exptime, now)) {
          memory.remove(slot);
          this.stats.reclaimed++;
        } else {
          this.#trackExpiry(slot, exptime);
        }
      },
      limit,
    );
  }

  /** Slots the wheel tracks, and the bytes its columns hold (for stats and the memory note). */
  get expiryTracking(): { scheduled: number; allocatedBytes: number } {
    return { scheduled: this.#wheel.size, allocatedBytes: this.#wheel.allocatedBytes };
  }

  get memory(): MemoryTier {
    return this.#memory;
  }

  /**
   * The live slot for key, or -1. Expired and flushed items are unlinked on
   * sight, so nothing stale is ever returned whatever the reclaimer has done.
   */
  #lookup(key: Buffer, now: number, countMiss: boolean): number {
    if (this.#pendingFlushAt !== 0 && this.#pendingFlushAt <= now) this.#applyFlush();
    const memory = this.#memory;
    const slot = memory.find(key);
    if (slot < 0) return -1;
    if (memory.cas(slot) < this.#flushedBelowCas) {
      memory.remove(slot);
      if (countMiss) this.stats.getFlushed++;
      return -1;
    }
    if (isExpired(memory.exptime(slot), now)) {
      memory.remove(slot);
      if (countMiss) this.stats.getExpired++;
      return -1;
    }
    return slot;
  }

  /** get / gets: a hit bumps the item in its evictor. */
  get(key: Buffer): number {
    const now = this.clock.nowSeconds();
    const stats = this.stats;
    stats.cmdGet++;
    const slot = this.#lookup(key, now, true);
    if (slot < 0) {
      stats.getMisses++;
      return -1;
    }
    stats.getHits++;
    this.#memory.access(slot, now);
    return slot;
  }

  /** gat / gats: get and move the expiry. */
  getAndTouch(key: Buffer, exptime: number): number {
    const now = this.clock.nowSeconds();
    const stats = this.stats;
    stats.cmdGet++;
    stats.cmdTouch++;
    const slot = this.#lookup(key, now, true);
    if (slot < 0) {
      stats.touchMisses++;
      return -1;
    }
    stats.touchHits++;
    const absolute = absoluteExptime(exptime, now);
    this.#memory.setExptime(slot, absolute);
    this.#trackExpiry(slot, absolute);
    this.#memory.access(slot, now);
    return slot;
  }

  touch(key: Buffer, exptime: number): boolean {
    const now = this.clock.nowSeconds();
    this.stats.cmdTouch++;
    const slot = this.#lookup(key, now, false);
    if (slot < 0) {
      this.stats.touchMisses++;
      return false;
    }
    this.stats.touchHits++;
    const absolute = absoluteExptime(exptime, now);
    this.#memory.setExptime(slot, absolute);
    this.#trackExpiry(slot, absolute);
    this.#memory.access(slot, now);
    return true;
  }

  store(
    mode: StoreMode,
    key: Buffer,
    data: Buffer,
    flags: number,
    exptime: number,
    casUnique: bigint,
  ): StoreOutcome {
    const now = this.clock.nowSeconds();
    const memory = this.#memory;
    const stats = this.stats;
    stats.cmdSet++;
    const existing = this.#lookup(key, now, false);
    let value = data;
    let storeFlags = flags;
    let storeExptime = absoluteExptime(exptime, now);
    switch (mode) {
      case 'set':
        break;
      case 'add':
        if (existing >= 0) {
          // memcached bumps an item that an add collided with.
          memory.access(existing, now);
          return 'not_stored';
        }
        break;
      case 'replace':
        if (existing < 0) return 'not_stored';
        break;
      case 'append':
      case 'prepend': {
        if (existing < 0) return 'not_stored';
        const current = memory.valueView(existing);
        value = mode === 'append' ? Buffer.concat([current, data]) : Buffer.concat([data, current]);
        storeFlags = memory.flags(existing);
        storeExptime = memory.exptime(existing);
        break;
      }
      case 'cas':
        if (existing < 0) {
          stats.casMisses++;
          return 'not_found';
        }
        if (BigInt(memory.cas(existing)) !== casUnique) {
          stats.casBadval++;
          return 'exists';
        }
        stats.casHits++;
        break;
      default:
        return mode satisfies never;
    }
    const slot = memory.put(key, value, storeFlags, storeExptime, this.#nextCas, now);
    if (slot < 0) {
      if (slot === NO_MEMORY) stats.storeNoMemory++;
      else stats.storeTooLarge++;
      this.#dropAfterFailedSet(mode, key, now);
      return 'no_memory';
    }
    this.#nextCas++;
    this.#trackExpiry(slot, storeExptime);
    stats.totalItems++;
    return 'stored';
  }

  /** The parser refused the value as too large; memcached still unlinks the old value of a `set`. */
  refuseTooLarge(mode: StoreMode, key: Buffer): void {
    this.stats.cmdSet++;
    this.stats.storeTooLarge++;
    this.#dropAfterFailedSet(mode, key, this.clock.nowSeconds());
  }

  /** memcached: a failed `set` must not leave the previous value readable. */
  #dropAfterFailedSet(mode: StoreMode, key: Buffer, now: number): void {
    if (mode !== 'set') return;
    const slot = this.#lookup(key, now, false);
    if (slot >= 0) this.#memory.remove(slot);
  }

  delete(key: Buffer): boolean {
    const slot = this.#lookup(key, this.clock.nowSeconds(), false);
    if (slot < 0) {
      this.stats.deleteMisses++;
      return false;
    }
    this.stats.deleteHits++;
    this.#memory.remove(slot);
    return true;
  }

  arithmetic(key: Buffer, delta: bigint, increment: boolean): ArithmeticOutcome {
    const now = this.clock.nowSeconds();
    const memory = this.#memory;
    const stats = this.stats;
    const slot = this.#lookup(key, now, false);
    if (slot < 0) {
      if (increment) stats.incrMisses++;
      else stats.decrMisses++;
      return 'not_found';
    }
    const current = readCounter(memory.valueView(slot));
    if (current === undefined) return 'non_numeric';
    if (increment) stats.incrHits++;
    else stats.decrHits++;
    const next = applyDelta(current, delta, increment);
    const digits = next.toString();
    const length = memory.valueLength(slot);
    if (digits.length <= length) {
      // memcached rewrites a shorter number in place, padded with spaces
      // ("10" decr 3 reads back as "7 "); clients can observe it, so we match.
      memory.overwriteValue(slot, Buffer.from(digits.padEnd(length, ' '), 'latin1'));
      memory.setCas(slot, this.#nextCas++);
      memory.access(slot, now);
      return next;
    }
    const stored = memory.put(
      key,
      Buffer.from(digits, 'latin1'),
      memory.flags(slot),
      memory.exptime(slot),
      this.#nextCas,
      now,
    );
    if (stored < 0) {
      stats.storeNoMemory++;
      return 'not_found';
    }
    this.#nextCas++;
    this.#trackExpiry(stored, memory.exptime(stored));
    return next;
  }

  /** flush_all: O(1) now; items are dropped when next seen (and by the reclaimer). */
  flushAll(delay: number): void {
    const now = this.clock.nowSeconds();
    this.stats.cmdFlush++;
    if (delay > 0) {
      this.#pendingFlushAt = absoluteExptime(delay, now);
      return;
    }
    this.#pendingFlushAt = 0;
    this.#applyFlush();
  }

  #applyFlush(): void {
    this.#pendingFlushAt = 0;
    this.#flushedBelowCas = this.#nextCas;
  }

  setMemoryLimit(megabytes: number): MemlimitOutcome {
    if (megabytes < MIN_MEMLIMIT_MB) return 'too_small';
    this.#memory.setMaxBytes(megabytes * MIB);
    return 'ok';
  }
}
