// Hierarchical timing wheel: which L1 slots expire when, at 1 s resolution.
// It owns only slot numbers and their expiry seconds; it knows nothing of
// items, keys or memory tiers, and it never reads a clock (callers pass time).
//
// Only scheduled slots cost memory. Each has an entry in a dense pool: typed-
// array columns indexed by entry id (no object per entry), ids reused through
// a free-list stack threaded through the `next` column, the pool's capacity
// doubled when full. The columns may be reserved up front (`reserve`, like
// L1's): ids are handed out lowest first, so untouched pages of the reserve
// are never resident, and doubling within it copies nothing (issue 5: a
// 1 M-entry copy stalled the event loop). A SlotEntryMap finds a slot's entry
// and names an entry's slot. Every entry lives in one doubly
// linked list of a bucket, so schedule, reschedule and cancel are O(1).
// Levels (bucket ids in one shared head/tail table):
//   L0  256 buckets x 1 s      ids   0..255  (the next 256 s)
//   L1   64 buckets x 256 s    ids 256..319  (~4.5 h)
//   L2   64 buckets x 4.5 h    ids 320..383  (~12 days)
//   L3   64 buckets x 12 days  ids 384..447  (~2 years)
//   two overflow lists        ids 448..449, one per 2^26 s epoch parity
//   a due list                id  450, slots scheduled at or before "now"
// A level-k entry is always at least one and at most 63 level-k blocks ahead,
// never 64: so a bucket, when cascaded, only ever sends its entries down, and
// draining it can stop, resume on the next call, and never see them again.

import { SlotEntryMap } from './slot-entry-map.js';

const L0_BUCKETS = 256;
const L1_FIRST = 256;
const L2_FIRST = 320;
const L3_FIRST = 384;
const OVERFLOW_FIRST = 448;
const DUE = 450;
const BUCKET_COUNT = 451;

const L1_SHIFT = 8;
const L2_SHIFT = 14;
const L3_SHIFT = 20;
const EPOCH_SHIFT = 26;

/**
 * Seconds are Uint32 so every shift below is an unsigned `>>>` (good until
 * 2106). Times stop one short of the top so the cursor, `now + 1`, still fits.
 */
const MAX_SECONDS = 0xffff_fffe;

const NONE = -1;
const DEFAULT_CAPACITY = 1024;
/** Slot numbers travel in an Int32 column. */
const MAX_SLOT = 0x7fff_ffff;
/** Entry ids travel in Int32 link columns. */
const MAX_ENTRIES = 0x7fff_ffff;
/** Bytes per pool entry in the wheel's own columns: next + prev + expiresAt (4 each), bucket (2). */
const POOL_COLUMN_BYTES = 14;
/** Bytes per pool entry: the wheel's columns and the slot (4, in the map). */
export const WHEEL_ENTRY_BYTES = POOL_COLUMN_BYTES + 4;

export interface TimingWheelOptions {
  /** Unix seconds the wheel starts at; a slot scheduled at or before it is due at once. */
  nowSeconds: number;
  /** Entries the pool holds before it first grows (any slot number may be scheduled at any time). */
  initialCapacity?: number;
  /**
   * Entries the columns are allocated for up front (address space, not RSS):
   * the pool grows within it without copying. Past it, growing copies.
   */
  reserve?: number;
}

export class TimingWheel {
  // Per-entry columns, indexed by entry id.
  /** In a bucket list: the next entry; on the free list: the next free id. */
  #next: Int32Array;
  #prev: Int32Array;
  #expiresAt: Uint32Array;
  // 451 bucket ids fit an Int16, which saves 2 MB per million entries over Int32.
  // Meaningless for an entry in no list (free, or never handed out).
  #bucket: Int16Array;
  /** Ids below this may be handed out; the columns may be longer (reserved). */
  #capacity: number;
  readonly #entries: SlotEntryMap;
  /** Top of the free-list stack of entry ids below #highWater, or NONE. */
  #freeHead = NONE;
  /** Ids at or above this have never been handed out. */
  #highWater = 0;

  // Per-bucket heads and tails of entry ids (FIFO: expiries in one second come out in schedule order).
  readonly #heads = new Int32Array(BUCKET_COUNT).fill(NONE);
  readonly #tails = new Int32Array(BUCKET_COUNT).fill(NONE);
  /** One bit per bucket id (bit b of word b >>> 5): set while that bucket is non-empty. */
  readonly #occupied = new Uint32Array(Math.ceil(BUCKET_COUNT / 32));

  /** Highest time ever passed in; all entries with expiresAt <= #now are due. */
  #now: number;
  /** Next second whose buckets are not yet fully drained; always <= #now + 1. */
  #cursor: number;
  #size = 0;
  #dueCount = 0;
  /** Work left in the current advance call: one unit per entry expired or moved down a level. */
  #budget = 0;
  #expired = 0;

  constructor(options: TimingWheelOptions) {
    this.#now = clampSeconds(options.nowSeconds);
    this.#cursor = this.#now + 1;
    const capacity = options.initialCapacity ?? DEFAULT_CAPACITY;
    checkCapacity(capacity);
    const length = Math.max(capacity, options.reserve ?? 0);
    checkCapacity(length);
    this.#capacity = capacity;
    this.#next = new Int32Array(length);
    this.#prev = new Int32Array(length);
    this.#expiresAt = new Uint32Array(length);
    this.#bucket = new Int16Array(length);
    this.#entries = new SlotEntryMap(capacity, { entryReserve: length });
  }

  /** Scheduled slots, including ones already due but not yet delivered. */
  get size(): number {
    return this.#size;
  }

  /** Entries the pool holds before it next grows. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Entries the columns are allocated for: growth up to here copies nothing. */
  get reserve(): number {
    return this.#bucket.length;
  }

  /** Columns up to the capacity (the reserve beyond it is never touched, so not resident), the map, the buckets. */
  get allocatedBytes(): number {
    return (
      this.#capacity * POOL_COLUMN_BYTES +
      this.#entries.allocatedBytes +
      this.#heads.byteLength +
      this.#tails.byteLength +
      this.#occupied.byteLength
    );
  }

  /**
   * True when an advance to the latest `now` has work left: the last call hit
   * its limit, or slots were scheduled at or before `now` since.
   */
  get hasBacklog(): boolean {
    return this.#dueCount > 0 || this.#nextEventFrom(this.#cursor) <= this.#now;
  }

  isScheduled(slot: number): boolean {
    // Negative and non-integer numbers are never stored, so they are simply absent.
    return this.#entries.get(slot) !== NONE;
  }

  /** (Re)schedules `slot` to expire once time reaches `expiresAtSeconds`; O(1). */
  schedule(slot: number, expiresAtSeconds: number): void {
    this.#checkSlot(slot);
    if (!Number.isInteger(expiresAtSeconds)) {
      throw new RangeError(`expiresAtSeconds must be an integer, got ${expiresAtSeconds}`);
    }
    let e = this.#entries.get(slot);
    if (e === NONE) {
      e = this.#allocate();
      this.#entries.set(slot, e);
      this.#size++;
    } else {
      this.#unlink(e);
    }
    const t = clampSeconds(expiresAtSeconds);
    this.#expiresAt[e] = t;
    // Anything at or before the latest `now` is delivered by the next advance,
    // even one with the same `now`: memcached treats exptime == now as gone.
    if (t <= this.#now) this.#link(e, DUE);
    else this.#place(e, t);
  }

  cancel(slot: number): void {
    const e = this.#entries.delete(slot);
    if (e === NONE) return;
    this.#unlink(e);
    this.#release(e);
  }

  /**
   * Moves time to `nowSeconds` (never backwards: an earlier value is treated as
   * the latest one seen) and calls `onExpire(slot)` for every slot whose
   * expiresAt <= now, unscheduling it first. `limit` caps the work (entries
   * expired plus entries cascaded down a level) so one call stays short; what
   * is left is delivered by later calls. Returns the number expired.
   * Empty stretches are skipped via per-bucket occupancy bits, so a jump of
   * years costs the buckets actually holding entries, not one step per second.
   */
  advance(nowSeconds: number, onExpire: (slot: number) => void, limit = Number.POSITIVE_INFINITY): number {
    const requested = clampSeconds(nowSeconds);
    if (requested > this.#now) this.#now = requested;
    const now = this.#now;
    this.#budget = limit;
    this.#expired = 0;

    // Only the due entries present on entry, so a callback that schedules
    // into the past cannot keep this call busy forever.
    for (let n = this.#dueCount; n > 0 && this.#budget > 0; n--) {
      const e = this.#heads[DUE]!;
      if (e === NONE) break;
      this.#expire(e, onExpire);
    }

    while (this.#budget > 0) {
      const s = this.#nextEventFrom(this.#cursor);
      if (s > now) {
        this.#cursor = now + 1;
        break;
      }
      this.#cursor = s;
      if (!this.#drainSecond(s, onExpire)) break;
      this.#cursor = s + 1;
    }
    return this.#expired;
  }

  /** Pops a free entry id, doubling the pool when none is left. */
  #allocate(): number {
    const free = this.#freeHead;
    if (free !== NONE) {
      this.#freeHead = this.#next[free]!;
      return free;
    }
    if (this.#highWater === this.#capacity) this.#growPool();
    return this.#highWater++;
  }

  /** Unscheduling: the map has already forgotten the slot; the id goes on the free stack. */
  #release(e: number): void {
    this.#next[e] = this.#freeHead;
    this.#freeHead = e;
    this.#size--;
  }

  /**
   * Doubles the pool's capacity: O(1) within the reserve; past it, one copy
   * of the columns (amortised O(1) per schedule). Either way only ids ever
   * handed out are touched; slots never scheduled cost nothing.
   */
  #growPool(): void {
    const old = this.#capacity;
    if (old >= MAX_ENTRIES) throw new RangeError('the timing wheel holds at most 2^31-1 entries');
    let size = Math.min(MAX_ENTRIES, Math.max(16, old * 2));
    // Stop at the reserve rather than step past it: only growing beyond it copies.
    if (old < this.#bucket.length) size = Math.min(size, this.#bucket.length);
    if (size > this.#bucket.length) {
      this.#next = copyInto(new Int32Array(size), this.#next);
      this.#prev = copyInto(new Int32Array(size), this.#prev);
      this.#expiresAt = copyInto(new Uint32Array(size), this.#expiresAt);
      this.#bucket = copyInto(new Int16Array(size), this.#bucket);
    }
    this.#capacity = size;
    this.#entries.reserveEntries(size);
  }

  /**
   * Everything that happens at second s, highest level first: bring the
   * overflow list of the epoch that just ended into the wheel, cascade the
   * current bucket of each level whose block starts at s, then expire L0.
   * Each step drains a bucket no new entry can enter while cursor == s, so a
   * call cut short by the budget resumes here without redoing anything.
   */
  #drainSecond(s: number, onExpire: (slot: number) => void): boolean {
    if ((s & 0x3ff_ffff) === 0 && !this.#cascade(OVERFLOW_FIRST + (((s >>> EPOCH_SHIFT) - 1) & 1))) {
      return false;
    }
    if ((s & 0xf_ffff) === 0 && !this.#cascade(L3_FIRST + ((s >>> L3_SHIFT) & 63))) return false;
    if ((s & 0x3fff) === 0 && !this.#cascade(L2_FIRST + ((s >>> L2_SHIFT) & 63))) return false;
    if ((s & 0xff) === 0 && !this.#cascade(L1_FIRST + ((s >>> L1_SHIFT) & 63))) return false;
    const b = s & 0xff;
    while (this.#heads[b] !== NONE) {
      if (this.#budget <= 0) return false;
      this.#expire(this.#heads[b]!, onExpire);
    }
    return true;
  }

  #cascade(b: number): boolean {
    while (this.#heads[b] !== NONE) {
      if (this.#budget <= 0) return false;
      const e = this.#heads[b]!;
      this.#unlink(e);
      this.#budget--;
      this.#place(e, this.#expiresAt[e]!);
    }
    return true;
  }

  #expire(e: number, onExpire: (slot: number) => void): void {
    const slot = this.#entries.slotOf(e);
    this.#entries.delete(slot);
    this.#unlink(e);
    this.#release(e);
    this.#budget--;
    this.#expired++;
    onExpire(slot);
  }

  /** Files an entry with t >= cursor by how far ahead of the cursor it is. */
  #place(e: number, t: number): void {
    const c = this.#cursor;
    let b: number;
    if (t - c < L0_BUCKETS) b = t & 0xff;
    else if ((t >>> L1_SHIFT) - (c >>> L1_SHIFT) < 64) b = L1_FIRST + ((t >>> L1_SHIFT) & 63);
    else if ((t >>> L2_SHIFT) - (c >>> L2_SHIFT) < 64) b = L2_FIRST + ((t >>> L2_SHIFT) & 63);
    else if ((t >>> L3_SHIFT) - (c >>> L3_SHIFT) < 64) b = L3_FIRST + ((t >>> L3_SHIFT) & 63);
    // Beyond ~2 years: parked until the current 2^26 s epoch ends. Each
    // overflow entry is then touched once per epoch, so its cost is amortised
    // over 2^26 s; the two lists keep entries parked during the drain out of
    // the list being drained.
    else b = OVERFLOW_FIRST + ((c >>> EPOCH_SHIFT) & 1);
    this.#link(e, b);
  }

  /** The first second >= c at which some bucket must be drained, or +Infinity. */
  #nextEventFrom(c: number): number {
    if (this.#size === this.#dueCount) return Number.POSITIVE_INFINITY;
    let best = Number.POSITIVE_INFINITY;
    const d0 = this.#nextOccupied(0, 8, c & 0xff);
    if (d0 >= 0) best = c + d0;
    best = Math.min(best, this.#nextCascade(L1_FIRST, L1_SHIFT, c));
    best = Math.min(best, this.#nextCascade(L2_FIRST, L2_SHIFT, c));
    best = Math.min(best, this.#nextCascade(L3_FIRST, L3_SHIFT, c));
    // Overflow list i is drained at the start of each epoch e with (e - 1) & 1 === i.
    const e0 = Math.ceil(c / 2 ** EPOCH_SHIFT);
    for (let i = 0; i < 2; i++) {
      if (this.#heads[OVERFLOW_FIRST + i] === NONE) continue;
      const e = e0 + ((i - (e0 - 1)) & 1);
      best = Math.min(best, e * 2 ** EPOCH_SHIFT);
    }
    return best;
  }

  /** When the next occupied bucket of a 64-bucket level is cascaded, looking from second c. */
  #nextCascade(first: number, shift: number, c: number): number {
    const block = Math.ceil(c / 2 ** shift);
    const d = this.#nextOccupied(first, 2, block & 63);
    return d < 0 ? Number.POSITIVE_INFINITY : (block + d) * 2 ** shift;
  }

  /**
   * Cyclic distance from bucket index `from` to the next occupied bucket of a
   * level whose bits start at bucket id `first` and span `words` words; -1 if
   * the level is empty.
   */
  #nextOccupied(first: number, words: number, from: number): number {
    const base = first >>> 5;
    const startWord = from >>> 5;
    const bitsPerLevel = words * 32;
    for (let i = 0; i <= words; i++) {
      const w = (startWord + i) % words;
      let bits = this.#occupied[base + w]!;
      if (i === 0) bits &= ~0 << (from & 31);
      else if (i === words) bits &= (1 << (from & 31)) - 1;
      if (bits !== 0) {
        const index = w * 32 + (31 - Math.clz32(bits & -bits));
        return (index - from + bitsPerLevel) % bitsPerLevel;
      }
    }
    return -1;
  }

  #link(e: number, b: number): void {
    const tail = this.#tails[b]!;
    this.#bucket[e] = b;
    this.#next[e] = NONE;
    this.#prev[e] = tail;
    if (tail === NONE) {
      this.#heads[b] = e;
      this.#occupied[b >>> 5]! |= 1 << (b & 31);
    } else {
      this.#next[tail] = e;
    }
    this.#tails[b] = e;
    if (b === DUE) this.#dueCount++;
  }

  #unlink(e: number): void {
    const b = this.#bucket[e]!;
    const next = this.#next[e]!;
    const prev = this.#prev[e]!;
    if (prev === NONE) this.#heads[b] = next;
    else this.#next[prev] = next;
    if (next === NONE) this.#tails[b] = prev;
    else this.#prev[next] = prev;
    if (this.#heads[b] === NONE) this.#occupied[b >>> 5]! &= ~(1 << (b & 31));
    this.#bucket[e] = NONE;
    if (b === DUE) this.#dueCount--;
  }

  #checkSlot(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot > MAX_SLOT) {
      throw new RangeError(`slot ${slot} is outside 0..${MAX_SLOT}`);
    }
  }
}

function clampSeconds(seconds: number): number {
  if (!(seconds > 0)) return 0;
  return seconds >= MAX_SECONDS ? MAX_SECONDS : Math.floor(seconds);
}

function checkCapacity(capacity: number): void {
  if (!Number.isInteger(capacity) || capacity < 0 || capacity > MAX_ENTRIES) {
    throw new RangeError(`capacity must be an integer in 0..2^31-1, got ${capacity}`);
  }
}

function copyInto<T extends Int32Array | Uint32Array | Int16Array>(target: T, source: T): T {
  target.set(source);
  return target;
}
