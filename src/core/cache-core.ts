// CacheCore holds memcached's semantics (CAS, exptime, flush, append,
// incr/decr) over the tiers. Every protocol calls it; it returns outcomes as
// values and knows nothing of wire formats or sockets.
//
// Hot path shape: lookups return an L1 slot number (or -1) instead of an
// object, and readers copy straight from L1's pages into the output buffer.
//
// With L2, a command stays synchronous when L1 decides it: an L1 hit, a
// `set`, or an L1 miss for a key the Bloom filter says L2 never held. Only
// otherwise does it return a Promise: L2Bridge.withResident promotes the item
// first and runs the same L1 logic synchronously right after, so append,
// incr, cas... on an item that sat in L2 are never lost. Every L1 mutation
// tells the bridge (afterWrite/afterDelete), so L2 never resurrects a value.

import type { ItemRecord } from '../tiers/level/record-codec.js';
import { type MemoryTier, NO_MEMORY } from '../tiers/memory/memory-tier.js';
import { CasSequence } from './cas-sequence.js';
import type { Clock } from './clock.js';
import { CoreStats } from './core-stats.js';
import { applyDelta, readCounter } from './counter-value.js';
import { absoluteExptime, isExpired } from './exptime.js';
import { L1Expiry, RECLAIM_BATCH } from './l1-expiry.js';
import type { L2Bridge } from './l2-bridge.js';
import type {
  ArithmeticOutcome,
  FoundItem,
  ItemReader,
  MemlimitOutcome,
  StoreMode,
  StoreOutcome,
} from './outcomes.js';

const MIB = 1024 * 1024;
/** memcached refuses `cache_memlimit` below 8 MiB. */
export const MIN_MEMLIMIT_MB = 8;

export interface CacheCoreOptions {
  readonly memory: MemoryTier;
  readonly clock: Clock;
  /** The L2 tier; absent = memory only. memory's onEvict must call l2.demote. */
  readonly l2?: L2Bridge;
  /** Persisted state from L2: the first CAS to hand out and the last flush_all watermark. */
  readonly initialCas?: number;
  readonly flushedBelowCas?: number;
}

export class CacheCore {
  readonly stats = new CoreStats();
  readonly items: ItemReader;
  readonly clock: Clock;
  readonly #memory: MemoryTier;
  readonly #cas: CasSequence;
  readonly #l2: L2Bridge | undefined;
  /** Items with a CAS below this were invalidated by flush_all (memcached's oldest_cas). */
  #flushedBelowCas = 0;
  /** Unix second at which a delayed flush_all takes effect; 0 = none pending. */
  #pendingFlushAt = 0;
  /** The batch's clock (see pinClock), or -1. */
  #pinnedNow = -1;
  /** Finds expired and flushed L1 items without scanning, and frees them in bounded steps. */
  readonly #expiry: L1Expiry;

  constructor(options: CacheCoreOptions) {
    this.#memory = options.memory;
    this.items = options.memory;
    this.clock = options.clock;
    this.#expiry = new L1Expiry(options.memory, this.stats, options.clock.nowSeconds());
    this.#l2 = options.l2;
    const l2 = this.#l2;
    this.#cas = new CasSequence(
      options.initialCas ?? 1,
      l2 === undefined ? undefined : (reservedUpTo) => l2.reserveCas(reservedUpTo),
    );
    this.#flushedBelowCas = options.flushedBelowCas ?? 0;
    l2?.attach(
      (cas, exptime) => this.#isLive(cas, exptime),
      (key, item) => this.#promote(key, item),
    );
  }

  /**
   * Pins the clock for a batch of requests that run synchronously (a
   * connection's parsed chunk): one clock read per batch instead of one per
   * key, which a 10-key get would otherwise pay ten times (~3% of the
   * server's CPU in s4, profiled). The batch runs within microseconds, far
   * below the whole seconds expiry is counted in. Always paired with unpinClock().
   */
  pinClock(): void {
    this.#pinnedNow = this.clock.nowSeconds();
  }

  unpinClock(): void {
    this.#pinnedNow = -1;
  }

  #nowSeconds(): number {
    return this.#pinnedNow >= 0 ? this.#pinnedNow : this.clock.nowSeconds();
  }

  get l2(): L2Bridge | undefined {
    return this.#l2;
  }

  #isLive(cas: number, exptime: number): boolean {
    const now = this.#nowSeconds();
    this.#applyDueFlush(now);
    return cas >= this.#flushedBelowCas && !isExpired(exptime, now);
  }

  /** An L2 hit goes into L1 unchanged: same flags, exptime and CAS. */
  #promote(key: Buffer, item: ItemRecord): number {
    const now = this.#nowSeconds();
    const slot = this.#memory.put(key, item.value, item.flags, item.exptime, item.cas, now);
    if (slot < 0) return -1;
    this.#expiry.track(slot, item.exptime);
    return slot;
  }

  /** Commands served so far: the L2 bridge's idle passes run only while it stands still. */
  #commandCount(): number {
    const s = this.stats;
    return (
      s.cmdGet +
      s.cmdSet +
      s.cmdTouch +
      s.cmdFlush +
      s.deleteHits +
      s.deleteMisses +
      s.incrHits +
      s.incrMisses +
      s.decrHits +
      s.decrMisses
    );
  }

  /** The L1 miss is not final: L2 may hold key (and L1 has no slot for it at all). */
  #mayBeInL2(key: Buffer): boolean {
    const l2 = this.#l2;
    return l2 !== undefined && this.#memory.find(key) < 0 && l2.mayHold(key);
  }

  /**
   * The reply to a get that waited for L2. When the slot still holds the
   * write L2 just returned (a CAS names one write), its value is that
   * record's buffer, which nothing else holds: no second 4 KiB copy out of
   * L1, and a third less of the ArrayBuffer churn that drives V8's major GCs
   * under an L2-heavy load (profiled in s6). Otherwise a copy from L1.
   */
  #foundItem(slot: number, promoted: ItemRecord | undefined): FoundItem {
    const memory = this.#memory;
    if (promoted !== undefined && promoted.cas === memory.cas(slot)) {
      return { value: promoted.value, flags: memory.flags(slot), cas: promoted.cas };
    }
    return this.#snapshot(slot);
  }

  #snapshot(slot: number): FoundItem {
    const memory = this.#memory;
    const value = Buffer.allocUnsafe(memory.valueLength(slot));
    memory.copyValue(slot, value, 0);
    return { value, flags: memory.flags(slot), cas: memory.cas(slot) };
  }

  /**
   * One expiry-driver tick (a few times a second): a delayed flush_all whose
   * time has come takes effect, expired L1 items go, one bounded step of the
   * post-flush sweep runs, an L2 expiry pass starts when one is due, and so
   * does an idle pass of L1's items to L2 (both asynchronous, never
   * blocking). Work per tick is bounded and proportional to what expired or
   * was flushed.
   */
  tickExpiry(): void {
    const now = this.#nowSeconds();
    this.#applyDueFlush(now);
    this.reclaimExpired();
    if (this.#expiry.sweeping) this.sweepFlushed();
    const l2 = this.#l2;
    if (l2 === undefined) return;
    l2.reclaimer.tick(now);
    l2.idleTick(() => this.#commandCount());
  }

  /** Removes L1 items whose expiry has passed (at most `limit`); returns how many. */
  reclaimExpired(limit = RECLAIM_BATCH): number {
    return this.#expiry.reclaimExpired(this.#nowSeconds(), limit);
  }

  /** One bounded step of the walk that frees items flush_all invalidated. Tests call it directly. */
  sweepFlushed(): number {
    return this.#expiry.sweepFlushed(this.#flushedBelowCas);
  }

  get sweepingFlushed(): boolean {
    return this.#expiry.sweeping;
  }

  /** memcached's expired_unfetched (survives `stats reset`, like `evictions`). */
  get expiredUnfetched(): number {
    return this.#expiry.expiredUnfetched;
  }

  /** Slots the wheel tracks, and the bytes its columns hold. */
  get expiryTracking(): { scheduled: number; allocatedBytes: number } {
    return this.#expiry.tracking;
  }

  get memory(): MemoryTier {
    return this.#memory;
  }

  /**
   * The live slot for key, or -1. Expired and flushed items are unlinked on
   * sight, so nothing stale is ever returned whatever the reclaimer has done.
   */
  #lookup(key: Buffer, now: number, countMiss: boolean): number {
    return this.#lookupAt(key, 0, key.length, now, countMiss);
  }

  #lookupAt(buf: Buffer, start: number, end: number, now: number, countMiss: boolean): number {
    this.#applyDueFlush(now);
    const memory = this.#memory;
    const slot = memory.findAt(buf, start, end);
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

  /**
   * get / gets: a hit bumps the item in its evictor. An L1 hit or a certain
   * miss returns the slot (or -1); an item read from L2 on the spot, or a
   * Promise of one, is returned as a copy the caller may keep.
   */
  get(key: Buffer): number | FoundItem | Promise<FoundItem | undefined> {
    const found = this.getAt(key, 0, key.length);
    return typeof found === 'object' && !(found instanceof Promise)
      ? { ...found, value: Buffer.from(found.value) }
      : found;
  }

  /**
   * get() of the key buf[start, end); the view is made only if L2 must be
   * asked. For the protocol sessions: an item read from L2 on the spot is
   * returned as itself (L2Bridge.fetchNow), its value valid only until the
   * next call into the core, so it is rendered at once.
   */
  getAt(buf: Buffer, start: number, end: number): number | FoundItem | Promise<FoundItem | undefined> {
    const stats = this.stats;
    stats.cmdGet++;
    const slot = this.#getL1(buf, start, end);
    if (slot >= 0) {
      stats.l1Hits++;
      return slot;
    }
    const l2 = this.#l2;
    const key = l2 === undefined ? undefined : buf.subarray(start, end);
    if (l2 === undefined || key === undefined || !l2.mayHold(key)) {
      stats.getMisses++;
      return -1;
    }
    const fetched = l2.fetchNow(key);
    if (fetched === null) {
      stats.getMisses++;
      return -1;
    }
    if (fetched !== undefined) {
      stats.getHits++;
      return fetched;
    }
    return l2.withFetched(key, (promoted, served) => {
      // Served from L2 and left there: L1 lacks the key, so the record is the answer.
      if (served !== undefined) {
        stats.getHits++;
        return served;
      }
      const found = this.#getL1(key, 0, key.length);
      if (found < 0) {
        stats.getMisses++;
        return undefined;
      }
      return this.#foundItem(found, promoted);
    });
  }

  #getL1(buf: Buffer, start: number, end: number): number {
    const now = this.#nowSeconds();
    const slot = this.#lookupAt(buf, start, end, now, true);
    if (slot < 0) return -1;
    this.stats.getHits++;
    this.#memory.access(slot, now);
    return slot;
  }

  /** gat / gats: get and move the expiry. Sync or async as get(). */
  getAndTouch(key: Buffer, exptime: number): number | Promise<FoundItem | undefined> {
    const stats = this.stats;
    stats.cmdGet++;
    stats.cmdTouch++;
    if (!this.#mayBeInL2(key)) return this.#getAndTouchL1(key, exptime);
    return (this.#l2 as L2Bridge).withResident(key, (promoted) => {
      const slot = this.#getAndTouchL1(key, exptime);
      return slot < 0 ? undefined : this.#foundItem(slot, promoted);
    });
  }

  #getAndTouchL1(key: Buffer, exptime: number): number {
    const now = this.#nowSeconds();
    const stats = this.stats;
    const slot = this.#lookup(key, now, true);
    if (slot < 0) {
      stats.touchMisses++;
      return -1;
    }
    stats.touchHits++;
    this.#retouch(key, slot, exptime, now);
    return slot;
  }

  /** touch/gat on a live slot: new expiry (in the wheel too), an access, and L2 told. */
  #retouch(key: Buffer, slot: number, exptime: number, now: number): void {
    const absolute = absoluteExptime(exptime, now);
    this.#memory.setExptime(slot, absolute);
    this.#expiry.track(slot, absolute);
    this.#memory.access(slot, now);
    this.#l2?.afterWrite(key, slot);
  }

  touch(key: Buffer, exptime: number): boolean | Promise<boolean> {
    this.stats.cmdTouch++;
    if (!this.#mayBeInL2(key)) return this.#touchL1(key, exptime);
    return (this.#l2 as L2Bridge).withResident(key, () => this.#touchL1(key, exptime));
  }

  #touchL1(key: Buffer, exptime: number): boolean {
    const now = this.#nowSeconds();
    const slot = this.#lookup(key, now, false);
    if (slot < 0) {
      this.stats.touchMisses++;
      return false;
    }
    this.stats.touchHits++;
    this.#retouch(key, slot, exptime, now);
    return true;
  }

  /** `set` never needs L2 (it overwrites); the others need to know whether the item exists. */
  store(
    mode: StoreMode,
    key: Buffer,
    data: Buffer,
    flags: number,
    exptime: number,
    casUnique: bigint,
  ): StoreOutcome | Promise<StoreOutcome> {
    if (mode === 'set' || !this.#mayBeInL2(key))
      return this.#storeL1(mode, key, 0, key.length, data, 0, data.length, flags, exptime, casUnique);
    return (this.#l2 as L2Bridge).withResident(key, () =>
      this.#storeL1(mode, key, 0, key.length, data, 0, data.length, flags, exptime, casUnique),
    );
  }

  /**
   * store() of the key buf[keyStart, keyEnd) and the value buf[valueStart,
   * valueEnd), for the protocol sessions: where L1 alone answers (every
   * `set`, and everything without L2) the key and value go from the input to
   * L1 with no view made of them.
   */
  storeAt(
    mode: StoreMode,
    buf: Buffer,
    keyStart: number,
    keyEnd: number,
    valueStart: number,
    valueEnd: number,
    flags: number,
    exptime: number,
    casUnique: bigint,
  ): StoreOutcome | Promise<StoreOutcome> {
    if (mode === 'set' || this.#l2 === undefined)
      return this.#storeL1(mode, buf, keyStart, keyEnd, buf, valueStart, valueEnd, flags, exptime, casUnique);
    return this.store(
      mode,
      buf.subarray(keyStart, keyEnd),
      buf.subarray(valueStart, valueEnd),
      flags,
      exptime,
      casUnique,
    );
  }

  /** The key is keyBuf[keyStart, keyEnd), the data dataBuf[dataStart, dataEnd). */
  #storeL1(
    mode: StoreMode,
    keyBuf: Buffer,
    keyStart: number,
    keyEnd: number,
    dataBuf: Buffer,
    dataStart: number,
    dataEnd: number,
    flags: number,
    exptime: number,
    casUnique: bigint,
  ): StoreOutcome {
    const now = this.#nowSeconds();
    const memory = this.#memory;
    const stats = this.stats;
    stats.cmdSet++;
    // A set replaces whatever is there, live or not, and put() finds the old
    // item itself: looking it up here too was a second hash and chain walk.
    let existing = -1;
    if (mode === 'set') this.#applyDueFlush(now);
    else existing = this.#lookupAt(keyBuf, keyStart, keyEnd, now, false);
    let value = dataBuf;
    let valueStart = dataStart;
    let valueEnd = dataEnd;
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
        const data = dataBuf.subarray(dataStart, dataEnd);
        value = mode === 'append' ? Buffer.concat([current, data]) : Buffer.concat([data, current]);
        valueStart = 0;
        valueEnd = value.length;
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
    const slot = memory.putAt(
      keyBuf,
      keyStart,
      keyEnd,
      value,
      valueStart,
      valueEnd,
      storeFlags,
      storeExptime,
      this.#cas.next,
      now,
    );
    if (slot < 0) {
      if (slot === NO_MEMORY) stats.storeNoMemory++;
      else stats.storeTooLarge++;
      this.#dropAfterFailedSet(mode, keyBuf, keyStart, keyEnd, now);
      return 'no_memory';
    }
    this.#cas.take();
    this.#expiry.track(slot, storeExptime);
    this.#l2?.afterWrite(keyBuf.subarray(keyStart, keyEnd), slot);
    stats.totalItems++;
    return 'stored';
  }

  /** The parser refused the value as too large; memcached still unlinks the old value of a `set`. */
  refuseTooLarge(mode: StoreMode, key: Buffer): void {
    this.stats.cmdSet++;
    this.stats.storeTooLarge++;
    this.#dropAfterFailedSet(mode, key, 0, key.length, this.#nowSeconds());
  }

  /** memcached: a failed `set` must not leave the previous value readable. */
  #dropAfterFailedSet(mode: StoreMode, keyBuf: Buffer, keyStart: number, keyEnd: number, now: number): void {
    if (mode !== 'set') return;
    const slot = this.#lookupAt(keyBuf, keyStart, keyEnd, now, false);
    if (slot >= 0) this.#memory.remove(slot);
    this.#l2?.afterDelete(keyBuf.subarray(keyStart, keyEnd));
  }

  delete(key: Buffer): boolean | Promise<boolean> {
    if (!this.#mayBeInL2(key)) return this.#deleteL1(key);
    return (this.#l2 as L2Bridge).withResident(key, () => this.#deleteL1(key));
  }

  #deleteL1(key: Buffer): boolean {
    const slot = this.#lookup(key, this.#nowSeconds(), false);
    if (slot < 0) {
      this.stats.deleteMisses++;
      return false;
    }
    this.stats.deleteHits++;
    this.#memory.remove(slot);
    this.#l2?.afterDelete(key);
    return true;
  }

  arithmetic(key: Buffer, delta: bigint, increment: boolean): ArithmeticOutcome | Promise<ArithmeticOutcome> {
    if (!this.#mayBeInL2(key)) return this.#arithmeticL1(key, delta, increment);
    return (this.#l2 as L2Bridge).withResident(key, () => this.#arithmeticL1(key, delta, increment));
  }

  #arithmeticL1(key: Buffer, delta: bigint, increment: boolean): ArithmeticOutcome {
    const now = this.#nowSeconds();
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
      memory.setCas(slot, this.#cas.take());
      memory.access(slot, now);
      this.#l2?.afterWrite(key, slot);
      return next;
    }
    const stored = memory.put(
      key,
      Buffer.from(digits, 'latin1'),
      memory.flags(slot),
      memory.exptime(slot),
      this.#cas.next,
      now,
    );
    if (stored < 0) {
      stats.storeNoMemory++;
      return 'not_found';
    }
    this.#cas.take();
    this.#expiry.track(stored, memory.exptime(stored));
    this.#l2?.afterWrite(key, stored);
    return next;
  }

  /** flush_all: O(1) now; items are dropped when next seen (and by the reclaimer). */
  flushAll(delay: number): void {
    const now = this.#nowSeconds();
    this.stats.cmdFlush++;
    if (delay > 0) {
      this.#pendingFlushAt = absoluteExptime(delay, now);
      return;
    }
    this.#pendingFlushAt = 0;
    this.#applyFlush();
  }

  /** A delayed flush_all whose time has come takes effect before anything is read or stored. */
  #applyDueFlush(now: number): void {
    if (this.#pendingFlushAt !== 0 && this.#pendingFlushAt <= now) this.#applyFlush();
  }

  #applyFlush(): void {
    this.#pendingFlushAt = 0;
    this.#flushedBelowCas = this.#cas.next;
    this.#expiry.startFlushSweep();
    this.#l2?.afterFlush(this.#flushedBelowCas);
  }

  setMemoryLimit(megabytes: number): MemlimitOutcome {
    if (megabytes < MIN_MEMLIMIT_MB) return 'too_small';
    this.#memory.setMaxBytes(megabytes * MIB);
    return 'ok';
  }
}
