// Per-item metadata of the L1 tier: typed-array columns indexed by slot, a
// chained hash index over them, and the free-slot supply. No object per item:
// the GC sees a dozen arrays whatever the item count.
//
// A slot is live iff keyLength > 0 (keys are never empty). Freed slots are
// chained through chainNext, so the free list costs no extra column; slots
// never used yet come from a bump cursor. The table knows nothing of pages or
// bytes; it stores where an item is.
//
// Growth must not stall the event loop (issue 5: no pause over 10 ms with 1 M
// items). Copying ten columns and rehashing a million chains at once took
// ~55-80 ms, so:
// - columns are allocated once at a `reserve` length taken from the budget.
//   Fresh typed arrays are calloc'd, and pages nobody touched are not resident,
//   so the reserve costs address space, not RSS; slots are handed out lowest
//   first, so what is resident tracks the high-water mark. `capacity` is what
//   the budget pays for, and raising it within the reserve is O(1). Past the
//   reserve (cache_memlimit raised at run time) the columns are copied as before.
// - the bucket array is resized incrementally: while `#oldBuckets` is set, an
//   old bucket below `#migrated` has been moved to the new array, and every
//   link() moves a few more. Bucket counts are powers of two, so the keys of
//   old bucket b land only in new buckets whose low bits are b.

const MIN_BUCKETS = 16;
const MAX_BUCKETS = 2 ** 30;
/** Old buckets moved per link() while resizing; the move finishes well before capacity can double again. */
const MIGRATE_STEP = 8;

/** Bytes of column per slot: hash, chainNext, page, chunkOffset, keyLength, valueLength, flags, exptime, cas, lastAccess, fetched. */
export const ITEM_COLUMN_BYTES = 4 + 4 + 4 + 4 + 1 + 4 + 4 + 4 + 8 + 4 + 1;

/** Load factor up to 2 when capacity is not a power of two; stored hashes skip most key compares. */
function bucketCountFor(capacity: number): number {
  if (capacity <= MIN_BUCKETS) return MIN_BUCKETS;
  if (capacity >= MAX_BUCKETS) return MAX_BUCKETS;
  return 1 << (31 - Math.clz32(capacity));
}

export class ItemTable {
  /** keyHash of the key (int32). */
  hash: Int32Array;
  chainNext: Int32Array;
  page: Uint32Array;
  chunkOffset: Uint32Array;
  keyLength: Uint8Array;
  valueLength: Uint32Array;
  flags: Uint32Array;
  exptime: Uint32Array;
  /** CAS uniques are integers below 2^53. */
  cas: Float64Array;
  lastAccess: Uint32Array;
  /**
   * 1 once the item was read since it was stored (memcached's ITEM_FETCHED),
   * for the expired_unfetched / evicted_unfetched stats.
   */
  fetched: Uint8Array;
  /** Bucket heads (slot or -1); length is a power of two. */
  #buckets: Int32Array;
  #mask: number;
  /** The bucket array being emptied into #buckets, or null when no resize is under way. */
  #oldBuckets: Int32Array | null = null;
  #oldMask = 0;
  /** Old buckets [0, #migrated) are empty: their chains were moved to #buckets. */
  #migrated = 0;
  #capacity: number;
  #freeHead = -1;
  /** Slots [#unused, capacity) were never handed out. */
  #unused = 0;
  #live = 0;

  /** `reserve` (>= capacity) is the column length allocated up front; see the file comment. */
  constructor(capacity: number, reserve = capacity) {
    const length = Math.max(capacity, reserve);
    this.#capacity = capacity;
    this.hash = new Int32Array(length);
    this.chainNext = new Int32Array(length);
    this.page = new Uint32Array(length);
    this.chunkOffset = new Uint32Array(length);
    this.keyLength = new Uint8Array(length);
    this.valueLength = new Uint32Array(length);
    this.flags = new Uint32Array(length);
    this.exptime = new Uint32Array(length);
    this.cas = new Float64Array(length);
    this.lastAccess = new Uint32Array(length);
    this.fetched = new Uint8Array(length);
    this.#buckets = new Int32Array(bucketCountFor(capacity)).fill(-1);
    this.#mask = this.#buckets.length - 1;
  }

  /** What a table of that capacity costs the budget (the reserve beyond it is not resident). */
  static bytesFor(capacity: number): number {
    return capacity * ITEM_COLUMN_BYTES + bucketCountFor(capacity) * 4;
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** Slots the columns can hold without copying. */
  get reserve(): number {
    return this.hash.length;
  }

  get liveCount(): number {
    return this.#live;
  }

  get allocatedBytes(): number {
    return ItemTable.bytesFor(this.#capacity);
  }

  /** True while the bucket array is being resized (tests). */
  get resizing(): boolean {
    return this.#oldBuckets !== null;
  }

  /** Raises the capacity; slots keep their numbers. O(1) within the reserve, a copy beyond it. */
  grow(capacity: number): void {
    if (capacity <= this.#capacity) return;
    if (capacity > this.hash.length) this.#copyColumns(capacity);
    this.#capacity = capacity;
    if (bucketCountFor(capacity) !== this.#buckets.length) this.#startResize(bucketCountFor(capacity));
  }

  /** A free slot (not yet live: the caller sets keyLength), or -1. */
  allocSlot(): number {
    let slot = this.#freeHead;
    if (slot >= 0) {
      this.#freeHead = this.chainNext[slot]!;
    } else if (this.#unused < this.#capacity) {
      slot = this.#unused++;
    } else {
      return -1;
    }
    this.#live++;
    return slot;
  }

  freeSlot(slot: number): void {
    this.keyLength[slot] = 0;
    this.chainNext[slot] = this.#freeHead;
    this.#freeHead = slot;
    this.#live--;
  }

  /** First slot in the chain of that hash; walk on with chainNext. */
  chainHead(hash: number): number {
    const old = this.#oldBuckets;
    if (old !== null) {
      const b = hash & this.#oldMask;
      if (b >= this.#migrated) return old[b]!;
    }
    return this.#buckets[hash & this.#mask]!;
  }

  link(slot: number): void {
    if (this.#oldBuckets !== null) this.#migrate(MIGRATE_STEP);
    const hash = this.hash[slot]!;
    const old = this.#oldBuckets;
    if (old !== null) {
      const b = hash & this.#oldMask;
      if (b >= this.#migrated) {
        this.chainNext[slot] = old[b]!;
        old[b] = slot;
        return;
      }
    }
    const b = hash & this.#mask;
    this.chainNext[slot] = this.#buckets[b]!;
    this.#buckets[b] = slot;
  }

  unlink(slot: number): void {
    const hash = this.hash[slot]!;
    let heads = this.#buckets;
    let bucket = hash & this.#mask;
    const old = this.#oldBuckets;
    if (old !== null && (hash & this.#oldMask) >= this.#migrated) {
      heads = old;
      bucket = hash & this.#oldMask;
    }
    let current = heads[bucket]!;
    if (current === slot) {
      heads[bucket] = this.chainNext[slot]!;
      return;
    }
    while (current >= 0) {
      const next = this.chainNext[current]!;
      if (next === slot) {
        this.chainNext[current] = this.chainNext[slot]!;
        return;
      }
      current = next;
    }
  }

  #copyColumns(capacity: number): void {
    this.hash = copyInto(new Int32Array(capacity), this.hash);
    this.chainNext = copyInto(new Int32Array(capacity), this.chainNext);
    this.page = copyInto(new Uint32Array(capacity), this.page);
    this.chunkOffset = copyInto(new Uint32Array(capacity), this.chunkOffset);
    this.keyLength = copyInto(new Uint8Array(capacity), this.keyLength);
    this.valueLength = copyInto(new Uint32Array(capacity), this.valueLength);
    this.flags = copyInto(new Uint32Array(capacity), this.flags);
    this.exptime = copyInto(new Uint32Array(capacity), this.exptime);
    this.cas = copyInto(new Float64Array(capacity), this.cas);
    this.lastAccess = copyInto(new Uint32Array(capacity), this.lastAccess);
    this.fetched = copyInto(new Uint8Array(capacity), this.fetched);
  }

  #startResize(bucketCount: number): void {
    // A resize still under way (capacity grew again before enough links) is finished first.
    if (this.#oldBuckets !== null) this.#migrate(this.#oldBuckets.length);
    this.#oldBuckets = this.#buckets;
    this.#oldMask = this.#mask;
    this.#migrated = 0;
    this.#buckets = new Int32Array(bucketCount).fill(-1);
    this.#mask = bucketCount - 1;
  }

  /** Moves up to `count` old buckets' chains into the new array. */
  #migrate(count: number): void {
    const old = this.#oldBuckets!;
    const buckets = this.#buckets;
    const mask = this.#mask;
    const end = Math.min(old.length, this.#migrated + count);
    for (let b = this.#migrated; b < end; b++) {
      let slot = old[b]!;
      while (slot >= 0) {
        const next = this.chainNext[slot]!;
        const target = this.hash[slot]! & mask;
        this.chainNext[slot] = buckets[target]!;
        buckets[target] = slot;
        slot = next;
      }
      old[b] = -1;
    }
    this.#migrated = end;
    if (end === old.length) this.#oldBuckets = null;
  }
}

function copyInto<T extends Uint8Array | Uint32Array | Int32Array | Float64Array>(target: T, source: T): T {
  target.set(source as ArrayLike<number>);
  return target;
}
