// L2Bridge: how items move between L1 (MemoryTier) and L2 (ItemStore), and
// the bookkeeping that keeps each key linearizable across the two:
//  - a Bloom filter of keys L2 may hold, so most L1 misses stay synchronous;
//  - reads in flight per key, marked dirty by any mutation of the key, so a
//    slow L2 read never promotes a value older than what L1 now holds;
//  - the keys promoted from L2 and unchanged since ("clean in L2", a Set of
//    latin1 keys): evicting them costs no write, the L2 copy is still right.
// CacheCore calls it after every L1 mutation of a key (afterWrite/afterDelete)
// and runs commands on keys that may be in L2 through withResident(), which
// promotes first and runs the command synchronously in the same continuation.

import type { ItemStore } from '../tiers/level/item-store.js';
import type { ItemRecord } from '../tiers/level/record-codec.js';
import { MAX_KEY_BYTES, type MemoryTier } from '../tiers/memory/memory-tier.js';
import { L2Reclaimer } from '../ttl/l2-reclaimer.js';
import { BloomFilter } from './bloom-filter.js';

export type L2Mode = 'overflow' | 'write-through';

export class L2Stats {
  l1Hits = 0;
  l2Hits = 0;
  l2Misses = 0;
  l2Promotions = 0;
  l2Demotions = 0;
  /** Requests that waited for an L2 read. */
  l2Reads = 0;
  /** Connections paused because the L2 write backlog was over l2.max_pending_bytes. */
  l2Throttled = 0;
}

export interface L2BridgeOptions {
  readonly store: ItemStore;
  readonly memory: MemoryTier;
  readonly mode: L2Mode;
  /** Sizes the Bloom filter. */
  readonly expectedKeys: number;
  readonly maxPendingBytes: number;
  /** Seconds between L2 expiry passes (l2.reclaim_interval_seconds); default 10. */
  readonly reclaimIntervalSeconds?: number;
  /** A failed expiry pass (retried next interval). */
  readonly onReclaimError?: (error: unknown) => void;
}

/** What the core tells the bridge about an item: dead items are never promoted or demoted. */
export type LivenessCheck = (cas: number, exptime: number) => boolean;

export const CAS_RESERVED = 'cas_reserved';
export const FLUSHED_BELOW_CAS = 'flushed_below_cas';

export function encodeU64(n: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(BigInt(n));
  return out;
}

export function decodeU64(bytes: Buffer | undefined): number {
  return bytes === undefined || bytes.length !== 8 ? 0 : Number(bytes.readBigUInt64BE(0));
}

/** `promoted` is the item this read put into L1, if it did. */
type Waiter = (authoritative: boolean, promoted: ItemRecord | undefined) => void;

interface ReadInFlight {
  dirty: boolean;
  readonly waiters: Waiter[];
}

/** Retries of a read that a concurrent mutation made stale before the command runs on L1 alone. */
const MAX_RELOADS = 4;

export class L2Bridge {
  readonly stats = new L2Stats();
  readonly store: ItemStore;
  readonly mode: L2Mode;
  /** Deletes expired L2 records in the background; CacheCore ticks it, close stops it. */
  readonly reclaimer: L2Reclaimer;
  readonly #memory: MemoryTier;
  readonly #bloom: BloomFilter;
  /** Until the start-up key scan is done the filter is incomplete, so every miss asks L2. */
  #bloomReady = false;
  readonly #clean = new Set<string>();
  /** Holds a victim's key in demote(); keys are at most 250 bytes. */
  readonly #keyScratch = Buffer.allocUnsafe(MAX_KEY_BYTES);
  readonly #reads = new Map<string, ReadInFlight>();
  readonly #maxPendingBytes: number;
  #isLive: LivenessCheck = () => true;
  #promote: (key: Buffer, item: ItemRecord) => boolean = () => false;

  constructor(options: L2BridgeOptions) {
    this.store = options.store;
    this.mode = options.mode;
    this.#memory = options.memory;
    this.#bloom = new BloomFilter(options.expectedKeys);
    this.#maxPendingBytes = options.maxPendingBytes;
    this.reclaimer = new L2Reclaimer({
      reclaim: (now, limit) => this.reclaimExpired(now, limit),
      ...(options.reclaimIntervalSeconds === undefined
        ? {}
        : { intervalSeconds: options.reclaimIntervalSeconds }),
      ...(options.onReclaimError === undefined ? {} : { onError: options.onReclaimError }),
    });
  }

  /** CacheCore's hooks: which items are alive (expiry, flush_all) and how to put one into L1. */
  attach(isLive: LivenessCheck, promote: (key: Buffer, item: ItemRecord) => boolean): void {
    this.#isLive = isLive;
    this.#promote = promote;
  }

  /** Fills the Bloom filter from the keys on disk; until it resolves every miss reads L2. */
  async scanKeys(): Promise<number> {
    const count = await this.store.store.forEachKey((key) => this.#bloom.add(key));
    this.#bloomReady = true;
    return count;
  }

  get bloomBytes(): number {
    return this.#bloom.allocatedBytes;
  }

  get cleanKeys(): number {
    return this.#clean.size;
  }

  /** False only when L2 certainly has no item for key: then an L1 miss is final. */
  mayHold(key: Buffer): boolean {
    return !this.#bloomReady || this.#bloom.mayContain(key);
  }

  /** True while the L2 write backlog is above l2.max_pending_bytes. */
  get throttled(): boolean {
    return this.store.pendingBytes > this.#maxPendingBytes;
  }

  /**
   * Resolves once the backlog is back under the limit; never rejects. A failed
   * batch (disk full) leaves the backlog too, its writes dropped and counted by
   * the store, so the loop still ends; letting flush()'s rejection escape
   * would leave the throttled connection paused for good and, unhandled, crash
   * the process.
   */
  async drained(): Promise<void> {
    while (this.throttled) await this.store.flush().catch(() => {});
  }

  /**
   * Loads key from L2 into L1 if L2 has a live, current copy, then runs op
   * synchronously in the same continuation. op is given the item the read
   * promoted (undefined if none): a reader whose L1 slot still holds that
   * write (same CAS) may answer with its value instead of copying it out of
   * L1 again. Never rejects for an L2 failure: a failed read is a miss.
   */
  withResident<T>(key: Buffer, op: (promoted: ItemRecord | undefined) => T): Promise<T> {
    const id = key.toString('latin1');
    this.stats.l2Reads++;
    return new Promise<T>((resolve, reject) => {
      const attempt = (reloads: number): void => {
        this.#load(key, id, (authoritative, promoted) => {
          // A mutation during the read won; if it has since left L1 again (evicted to
          // L2, say), read once more rather than miss an item that exists.
          if (!authoritative && reloads < MAX_RELOADS && this.#memory.find(key) < 0 && this.mayHold(key)) {
            attempt(reloads + 1);
            return;
          }
          try {
            resolve(op(promoted));
          } catch (error) {
            reject(error);
          }
        });
      };
      attempt(0);
    });
  }

  #load(key: Buffer, id: string, waiter: Waiter): void {
    const existing = this.#reads.get(id);
    if (existing !== undefined) {
      existing.waiters.push(waiter);
      return;
    }
    const entry: ReadInFlight = { dirty: false, waiters: [waiter] };
    this.#reads.set(id, entry);
    this.store.read(key).then(
      (item) => this.#finishLoad(key, id, entry, item),
      () => this.#finishLoad(key, id, entry, undefined),
    );
  }

  #finishLoad(key: Buffer, id: string, entry: ReadInFlight, item: ItemRecord | undefined): void {
    this.#reads.delete(id);
    let promoted: ItemRecord | undefined;
    if (!entry.dirty) {
      if (item === undefined) {
        this.stats.l2Misses++;
      } else if (!this.#isLive(item.cas, item.exptime)) {
        this.stats.l2Misses++;
        this.store.remove(key);
      } else if (this.#memory.find(key) < 0 && this.#promote(key, item)) {
        promoted = item;
        this.stats.l2Hits++;
        this.stats.l2Promotions++;
        // Write-through keeps every L1 item in L2 anyway; overflow remembers the copy is current.
        if (this.mode === 'overflow') this.#clean.add(id);
      }
    }
    for (const waiter of entry.waiters) waiter(!entry.dirty, promoted);
  }

  /** After L1 stored a new value (or exptime, or CAS) for key in `slot`. */
  afterWrite(key: Buffer, slot: number): void {
    const id = key.toString('latin1');
    this.#markDirty(id);
    if (this.mode === 'write-through') {
      this.#bloom.add(key);
      this.store.write(Buffer.from(key), this.#copyItem(slot));
      return;
    }
    this.#clean.delete(id);
    if (this.mayHold(key)) this.store.remove(key);
  }

  /** After L1 dropped key (delete, or a failed set that must not leave the old value). */
  afterDelete(key: Buffer): void {
    const id = key.toString('latin1');
    this.#markDirty(id);
    this.#clean.delete(id);
    if (this.mayHold(key)) this.store.remove(key);
  }

  /**
   * flush_all: every item with a CAS below `flushedBelowCas` is dead. The
   * watermark is persisted (so a restart still refuses them) and L2 is
   * emptied in the background; reads check the watermark meanwhile.
   */
  afterFlush(flushedBelowCas: number): void {
    this.#clean.clear();
    for (const entry of this.#reads.values()) entry.dirty = true;
    const store = this.store;
    void store.store
      .putAux(FLUSHED_BELOW_CAS, encodeU64(flushedBelowCas))
      .then(() => store.clear())
      .catch(() => {
        // Reads still refuse the flushed records by CAS; the write-error path counts and logs.
      });
  }

  /**
   * Deletes up to `limit` L2 records expired at `nowSeconds`, soonest first,
   * via the store's expiry index (cost: the records that expired). The L2
   * reclaimer's batch; the Bloom filter keeps the keys (a false positive only
   * costs one L2 read that misses).
   */
  async reclaimExpired(nowSeconds: number, limit: number): Promise<{ removed: number; more: boolean }> {
    const store = this.store.store;
    const removed = await store.reclaimExpired(nowSeconds, limit);
    return { removed, more: store.reclaimHasMore };
  }

  /** CAS uniques below `upTo` may be handed out; persisted first so a restart never repeats one. */
  reserveCas(upTo: number): void {
    void this.store.store.putAux(CAS_RESERVED, encodeU64(upTo)).catch(() => {});
  }

  /**
   * L1 is about to evict `slot` for space (overflow mode: demote it). The copy
   * is taken now, synchronously; encoding and the write follow.
   */
  demote(slot: number): void {
    if (this.mode === 'write-through') return;
    const memory = this.#memory;
    // The key goes through a scratch buffer: in a read-heavy steady state most
    // victims are clean, and their eviction then allocates only the Set's string.
    const scratch = this.#keyScratch;
    const length = memory.copyKey(slot, scratch, 0);
    if (this.#clean.delete(scratch.toString('latin1', 0, length))) return;
    if (!this.#isLive(memory.cas(slot), memory.exptime(slot))) return;
    const key = Buffer.from(scratch.subarray(0, length));
    this.#bloom.add(key);
    this.store.write(key, this.#copyItem(slot));
    this.stats.l2Demotions++;
  }

  /** Graceful shutdown: every live L1 item L2 does not already hold. */
  persistAll(): number {
    if (this.mode === 'write-through') return 0;
    const memory = this.#memory;
    let written = 0;
    memory.forEachSlot((slot) => {
      const key = Buffer.allocUnsafe(memory.keyLength(slot));
      memory.copyKey(slot, key, 0);
      if (this.#clean.has(key.toString('latin1'))) return;
      if (!this.#isLive(memory.cas(slot), memory.exptime(slot))) return;
      this.store.write(key, this.#copyItem(slot));
      written++;
    });
    return written;
  }

  #copyItem(slot: number): ItemRecord {
    const memory = this.#memory;
    const value = Buffer.allocUnsafe(memory.valueLength(slot));
    memory.copyValue(slot, value, 0);
    return { value, flags: memory.flags(slot), exptime: memory.exptime(slot), cas: memory.cas(slot) };
  }

  #markDirty(id: string): void {
    const read = this.#reads.get(id);
    if (read !== undefined) read.dirty = true;
  }
}
