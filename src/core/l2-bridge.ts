// L2Bridge: how items move between L1 (MemoryTier) and L2 (ItemStore), and
// the bookkeeping that keeps each key linearizable across the two:
//  - a Bloom filter of keys L2 may hold, so most L1 misses stay synchronous;
//  - reads in flight per key, marked dirty by any mutation of the key, so a
//    slow L2 read never promotes a value older than what L1 now holds;
//  - which L1 items L2 holds unchanged ("clean", a bit in L1's slot record:
//    promoted from L2, or copied there while the server was idle): evicting
//    them costs no write, the L2 copy is still right.
// CacheCore calls it after every L1 mutation of a key (afterWrite/afterDelete)
// and runs commands on keys that may be in L2 through withResident(), which
// promotes first and runs the command synchronously in the same continuation.
// Gets go through fetchNow() or withFetched(): they are answered from the L2
// record itself, and promote only what the admission policy lets in
// (l2-admission.ts). fetchNow reads on the event loop (see L2ReadMode).

import type { ItemStore } from '../tiers/level/item-store.js';
import type { ItemRecord } from '../tiers/level/record-codec.js';
import type { MemoryTier } from '../tiers/memory/memory-tier.js';
import { L2Reclaimer } from '../ttl/l2-reclaimer.js';
import { BloomFilter } from './bloom-filter.js';
import { L2Admission } from './l2-admission.js';

export type L2Mode = 'overflow' | 'write-through';
/** Which L2 hits of a get are promoted into L1: the second within the admission window, or all. */
export type L2Promotion = 'second-hit' | 'every-hit';

/**
 * Where a get's L2 read runs. 'async': on the libuv pool, batched per turn.
 * 'sync': on the event loop, which skips the pool hop, the promise and the
 * bookkeeping of a read in flight (an L2 hit then costs half: s6, where
 * LevelDB's lookup was 3.5 µs and the async path around it ~20). It blocks
 * the loop for the lookup, which is fine while LevelDB's files sit in the
 * page cache and not when a lookup waits for the device. 'auto': sync, but
 * reads slower than SLOW_SYNC_READ_MS (device reads, not the page cache)
 * send gets async for ASYNC_BACKOFF_MS before sync is tried again.
 * Commands other than get always read async.
 */
export type L2ReadMode = 'auto' | 'sync' | 'async';

/** Page-cache lookups take microseconds; a quarter millisecond means the device. */
export const SLOW_SYNC_READ_MS = 0.25;
/**
 * Auto mode goes async when more than this many of SYNC_READ_WINDOW sync
 * reads were slow. One slow read says little: the wall clock also counts the
 * time the thread was preempted (by GC helpers or LevelDB's compaction on a
 * shared core), about 1 read in 1,000 in s6. A device-bound load makes
 * nearly every read slow and trips it within the first 17.
 */
export const SLOW_SYNC_READ_LIMIT = 16;
export const SYNC_READ_WINDOW = 256;
export const ASYNC_BACKOFF_MS = 1000;

export class L2Stats {
  l1Hits = 0;
  l2Hits = 0;
  l2Misses = 0;
  l2Promotions = 0;
  l2Demotions = 0;
  /** L1 items an idle pass (idleTick) copied to L2, counted once their batch landed. */
  l2IdleWrites = 0;
  /** Requests that waited for an L2 read. */
  l2Reads = 0;
  /** L2 reads of gets done on the event loop (fetchNow), and those slower than SLOW_SYNC_READ_MS. */
  l2SyncReads = 0;
  l2SlowSyncReads = 0;
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
  /** Default 'second-hit'. Commands other than get always promote: they change the item in L1. */
  readonly promotion?: L2Promotion;
  /** Default 'auto'. */
  readonly readMode?: L2ReadMode;
  /** Overflow mode: copy L1's items to L2 while no command arrives (idleTick). Default true. */
  readonly writeWhenIdle?: boolean;
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

/**
 * `promoted` is the item this read put into L1, if it did; `served` the live,
 * current item it found and left in L2 (L1 lacks the key), if it did that instead.
 */
type Waiter = (
  authoritative: boolean,
  promoted: ItemRecord | undefined,
  served: ItemRecord | undefined,
) => void;

interface ReadInFlight {
  dirty: boolean;
  /** Some waiter needs the item in L1 (any command but a get). */
  promote: boolean;
  readonly waiters: Waiter[];
}

/** Retries of a read that a concurrent mutation made stale before the command runs on L1 alone. */
const MAX_RELOADS = 4;
/** An idle pass looks at this many L1 slots per step (a few ms at most), then yields or flushes. */
const IDLE_SCAN_SLOTS = 16_384;
/** And writes at most this much per step before waiting for the batch to land. */
const IDLE_BATCH_BYTES = 256 * 1024;

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
  readonly #reads = new Map<string, ReadInFlight>();
  readonly #maxPendingBytes: number;
  /** undefined: every L2 hit is promoted. */
  readonly #admission: L2Admission | undefined;
  readonly #readMode: L2ReadMode;
  /** performance.now() until which auto mode reads async, after too many slow sync reads. */
  #asyncUntil = 0;
  /** Sync reads in the current window of SYNC_READ_WINDOW, and how many of them were slow. */
  #windowReads = 0;
  #windowSlow = 0;
  #isLive: LivenessCheck = () => true;
  #promote: (key: Buffer, item: ItemRecord) => number = () => -1;
  readonly #writeWhenIdle: boolean;
  /** The core's command count at the last idle tick. */
  #lastCommands = -1;
  /** L1 was written to since the last idle pass began: it may hold items L2 lacks. */
  #mayHoldDirty = false;
  #idlePass: Promise<void> | undefined;
  #idleStopped = false;

  constructor(options: L2BridgeOptions) {
    this.store = options.store;
    this.mode = options.mode;
    this.#memory = options.memory;
    this.#bloom = new BloomFilter(options.expectedKeys);
    this.#maxPendingBytes = options.maxPendingBytes;
    this.#admission =
      options.promotion === 'every-hit' ? undefined : new L2Admission(() => this.#memory.itemCount);
    this.#readMode = options.readMode ?? 'auto';
    this.#writeWhenIdle = options.writeWhenIdle ?? true;
    this.reclaimer = new L2Reclaimer({
      reclaim: (now, limit) => this.reclaimExpired(now, limit),
      ...(options.reclaimIntervalSeconds === undefined
        ? {}
        : { intervalSeconds: options.reclaimIntervalSeconds }),
      ...(options.onReclaimError === undefined ? {} : { onError: options.onReclaimError }),
    });
  }

  /** CacheCore's hooks: which items are alive (expiry, flush_all) and how to put one into L1 (its slot, or -1). */
  attach(isLive: LivenessCheck, promote: (key: Buffer, item: ItemRecord) => number): void {
    this.#isLive = isLive;
    this.#promote = promote;
  }

  /** Fills the Bloom filter from the keys on disk; until it resolves every miss reads L2. */
  async scanKeys(): Promise<number> {
    const count = await this.store.store.forEachKey((key) => this.#bloom.add(key));
    this.#bloomReady = true;
    return count;
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
    return this.#read(key, true, op);
  }

  /**
   * A get's read: op runs as in withResident, and is also given `served`,
   * the item L2 holds when the read found it live and current but did not
   * promote it (see L2Admission). Then L1 lacks the key and `served` is the
   * answer; otherwise the caller reads L1 as after withResident.
   */
  withFetched<T>(
    key: Buffer,
    op: (promoted: ItemRecord | undefined, served: ItemRecord | undefined) => T,
  ): Promise<T> {
    return this.#read(key, false, op);
  }

  /**
   * A get's L2 read done now, when the read mode allows: the live item L2
   * holds (promoted into L1 if admitted, its value the record's buffer either
   * way), null when L2 has no live copy, or undefined when the read must go
   * through withFetched instead. The caller has seen L1 miss the key. The
   * value may be a view that the next fetchNow overwrites (ItemStore.readSync).
   */
  fetchNow(key: Buffer): ItemRecord | null | undefined {
    const mode = this.#readMode;
    if (mode === 'async') return undefined;
    let item: ItemRecord | undefined;
    const started = performance.now();
    if (mode === 'auto' && started < this.#asyncUntil) return undefined;
    const stats = this.stats;
    stats.l2Reads++;
    stats.l2SyncReads++;
    try {
      item = this.store.readSync(key);
    } catch {
      // Counted by the store; a failed read is a miss, as on the async path.
      item = undefined;
    }
    const finished = performance.now();
    this.#noteSyncRead(finished - started, finished);
    if (!this.#liveOrDropped(key, item)) return null;
    this.#hit(key, item, false);
    return item;
  }

  /** The auto mode's window of sync reads (see SLOW_SYNC_READ_LIMIT). */
  #noteSyncRead(elapsedMs: number, now: number): void {
    if (elapsedMs > SLOW_SYNC_READ_MS) {
      this.stats.l2SlowSyncReads++;
      if (++this.#windowSlow > SLOW_SYNC_READ_LIMIT && this.#readMode === 'auto') {
        this.#asyncUntil = now + ASYNC_BACKOFF_MS;
        this.#windowReads = 0;
        this.#windowSlow = 0;
      }
    }
    if (++this.#windowReads >= SYNC_READ_WINDOW) {
      this.#windowReads = 0;
      this.#windowSlow = 0;
    }
  }

  /** A current read's record: true if it is live; a miss is counted, a dead record removed. */
  #liveOrDropped(key: Buffer, item: ItemRecord | undefined): item is ItemRecord {
    if (item === undefined) {
      this.stats.l2Misses++;
      return false;
    }
    if (!this.#isLive(item.cas, item.exptime)) {
      this.stats.l2Misses++;
      this.store.remove(key);
      return false;
    }
    return true;
  }

  /**
   * A live L2 item for a key L1 lacks: counted as a hit and promoted if
   * `mustPromote` or the admission policy lets it in. True if it went into L1.
   */
  #hit(key: Buffer, item: ItemRecord, mustPromote: boolean): boolean {
    this.stats.l2Hits++;
    const admission = this.#admission;
    const admit = mustPromote || admission === undefined || admission.admit(key, 0, key.length);
    if (!admit) return false;
    const slot = this.#promote(key, item);
    if (slot < 0) return false;
    this.stats.l2Promotions++;
    // Write-through keeps every L1 item in L2 anyway; overflow remembers the copy is current.
    if (this.mode === 'overflow') this.#memory.markClean(slot);
    return true;
  }

  #read<T>(
    key: Buffer,
    resident: boolean,
    op: (promoted: ItemRecord | undefined, served: ItemRecord | undefined) => T,
  ): Promise<T> {
    const id = key.toString('latin1');
    this.stats.l2Reads++;
    return new Promise<T>((resolve, reject) => {
      const attempt = (reloads: number): void => {
        this.#load(key, id, resident, (authoritative, promoted, served) => {
          // A mutation during the read won; if it has since left L1 again (evicted to
          // L2, say), read once more rather than miss an item that exists.
          if (!authoritative && reloads < MAX_RELOADS && this.#memory.find(key) < 0 && this.mayHold(key)) {
            attempt(reloads + 1);
            return;
          }
          try {
            resolve(op(promoted, authoritative ? served : undefined));
          } catch (error) {
            reject(error);
          }
        });
      };
      attempt(0);
    });
  }

  #load(key: Buffer, id: string, resident: boolean, waiter: Waiter): void {
    const existing = this.#reads.get(id);
    if (existing !== undefined) {
      existing.waiters.push(waiter);
      if (resident) existing.promote = true;
      return;
    }
    const entry: ReadInFlight = { dirty: false, promote: resident, waiters: [waiter] };
    this.#reads.set(id, entry);
    this.store.read(key).then(
      (item) => this.#finishLoad(key, id, entry, item),
      () => this.#finishLoad(key, id, entry, undefined),
    );
  }

  #finishLoad(key: Buffer, id: string, entry: ReadInFlight, item: ItemRecord | undefined): void {
    this.#reads.delete(id);
    let promoted: ItemRecord | undefined;
    let served: ItemRecord | undefined;
    // A key L1 holds by now (a sync get promoted it meanwhile) is neither hit nor miss here.
    if (!entry.dirty && this.#liveOrDropped(key, item) && this.#memory.find(key) < 0) {
      if (this.#hit(key, item, entry.promote)) promoted = item;
      else served = item;
    }
    for (const waiter of entry.waiters) waiter(!entry.dirty, promoted, served);
  }

  /** After L1 stored a new value (or exptime, or CAS) for key in `slot`. */
  afterWrite(key: Buffer, slot: number): void {
    this.#markDirty(key.toString('latin1'));
    if (this.mode === 'write-through') {
      this.#bloom.add(key);
      this.store.write(Buffer.from(key), this.#copyItem(slot));
      return;
    }
    this.#memory.markDirty(slot);
    this.#mayHoldDirty = true;
    if (this.mayHold(key)) this.store.remove(key);
  }

  /** After L1 dropped key (delete, or a failed set that must not leave the old value). */
  afterDelete(key: Buffer): void {
    this.#markDirty(key.toString('latin1'));
    if (this.mayHold(key)) this.store.remove(key);
  }

  /**
   * flush_all: every item with a CAS below `flushedBelowCas` is dead. The
   * watermark is persisted (so a restart still refuses them) and L2 is
   * emptied in the background; reads check the watermark meanwhile. The
   * clear is queued now, behind the watermark's write, so it drops what was
   * written before the flush and keeps what is written after it (an
   * eviction's or an idle pass's write of a newer item).
   */
  afterFlush(flushedBelowCas: number): void {
    for (const entry of this.#reads.values()) entry.dirty = true;
    const store = this.store;
    const watermark = store.store.putAux(FLUSHED_BELOW_CAS, encodeU64(flushedBelowCas));
    // Reads still refuse the flushed records by CAS; the write-error path counts and logs.
    watermark.catch(() => {});
    store.clear(watermark).catch(() => {});
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
    if (this.#writeOut(slot) >= 0) this.stats.l2Demotions++;
  }

  /** Graceful shutdown: every live L1 item L2 does not already hold. */
  persistAll(): number {
    if (this.mode === 'write-through') return 0;
    let written = 0;
    this.#memory.forEachSlot((slot) => {
      if (this.#writeOut(slot) >= 0) written++;
    });
    return written;
  }

  /**
   * Overflow mode's write-behind, run from CacheCore's expiry tick with a
   * reader of its command count: when no command arrived since the previous
   * tick and L1 was written to since the last pass, a pass copies the L1
   * items L2 lacks into L2, in slot order and in batches, marks them clean,
   * and stops as soon as a command arrives. Evicting them later costs no write. Without
   * it a load leaves L1 full of items only L1 holds, and the reads after it
   * pay for their eviction: in s6 the load's last 12,400 items were each
   * written out (4 KiB) by the first ~15 s of reads, which ran below the
   * later ones. memcached's extstore flusher likewise writes items to flash
   * in the background. A crash also loses only what was written since.
   */
  idleTick(commandCount: () => number): void {
    const commands = commandCount();
    const idle = commands === this.#lastCommands;
    this.#lastCommands = commands;
    if (!idle || !this.#mayHoldDirty || this.#idlePass !== undefined || this.#idleStopped) return;
    if (this.mode !== 'overflow' || !this.#writeWhenIdle) return;
    this.#idlePass = this.#writeIdle(() => commandCount() !== commands).finally(() => {
      this.#idlePass = undefined;
    });
  }

  /** The idle pass under way, if any (tests wait for it). */
  get idlePass(): Promise<void> | undefined {
    return this.#idlePass;
  }

  /** Before persistAll at shutdown: no idle pass starts, and the one under way has stopped. */
  async stopIdleWrites(): Promise<void> {
    this.#idleStopped = true;
    await this.#idlePass;
  }

  async #writeIdle(busy: () => boolean): Promise<void> {
    const memory = this.#memory;
    // A write during the pass sets it again; one the pass never reached is then taken next time.
    this.#mayHoldDirty = false;
    let slot = 0;
    for (;;) {
      if (this.#idleStopped || busy()) {
        this.#mayHoldDirty = true;
        return;
      }
      const end = Math.min(memory.slotCapacity, slot + IDLE_SCAN_SLOTS);
      const batch: number[] = [];
      let bytes = 0;
      for (; slot < end && bytes < IDLE_BATCH_BYTES; slot++) {
        if (memory.keyLength(slot) === 0) continue;
        const written = this.#writeOut(slot);
        if (written < 0) continue;
        // Clean from now: the copy is L1's item as it is, and any change to it clears the bit.
        memory.markClean(slot);
        batch.push(slot);
        bytes += written;
      }
      if (batch.length > 0) {
        try {
          await this.store.flush();
        } catch {
          // Not in L2 after all (counted as dropped writes by the store): dirty again, tried next time.
          for (const written of batch) if (memory.keyLength(written) > 0) memory.markDirty(written);
          this.#mayHoldDirty = true;
          return;
        }
        this.stats.l2IdleWrites += batch.length;
      } else if (slot < memory.slotCapacity) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (slot >= memory.slotCapacity) return;
    }
  }

  /**
   * Queues a copy of the live item in `slot` for L2, unless L2 already holds
   * it (clean) or it is dead: the key goes into the Bloom filter first. The
   * bytes queued (key and value), or -1 if nothing was.
   */
  #writeOut(slot: number): number {
    const memory = this.#memory;
    if (memory.isClean(slot)) return -1;
    if (!this.#isLive(memory.cas(slot), memory.exptime(slot))) return -1;
    const key = Buffer.allocUnsafe(memory.keyLength(slot));
    memory.copyKey(slot, key, 0);
    this.#bloom.add(key);
    const item = this.#copyItem(slot);
    this.store.write(key, item);
    return key.length + item.value.length;
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
