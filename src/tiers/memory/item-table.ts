// Per-item metadata of the L1 tier: one fixed-size record per slot in a
// single typed array, a chained hash index over them, and the free-slot
// supply. No object per item: the GC sees a few arrays whatever the item count.
//
// Records, not columns: a lookup and a get read nearly every field of one
// slot, and with one typed array per field a cold get cost ~10 cache misses
// per key (~600 ns). A 40-byte record spans one or two cache lines, like
// memcached's item header. Fields are 32-bit words (see SLOT_WORDS); the
// unsigned ones are read through a Uint32Array view of the same buffer.
//
// A slot is live iff its key length is > 0 (keys are never empty). Freed
// slots are chained through chainNext, so the free list costs no extra field;
// slots never used yet come from a bump cursor. The table knows nothing of
// pages or bytes; it stores where an item is.
//
// Growth must not stall the event loop (issue 5: no pause over 10 ms with 1 M
// items). Copying the metadata and rehashing a million chains at once took
// ~55-80 ms, so:
// - the records are allocated once at a `reserve` length taken from the budget.
//   Fresh typed arrays are calloc'd, and pages nobody touched are not resident,
//   so the reserve costs address space, not RSS; slots are handed out lowest
//   first, so what is resident tracks the high-water mark. `capacity` is what
//   the budget pays for, and raising it within the reserve is O(1). Past the
//   reserve (cache_memlimit raised at run time) the records are copied as before.
// - the bucket array is resized incrementally: while `#oldBuckets` is set, an
//   old bucket below `#migrated` has been moved to the new array, and every
//   link() moves a few more. Bucket counts are powers of two, so the keys of
//   old bucket b land only in new buckets whose low bits are b.

const MIN_BUCKETS = 16;
const MAX_BUCKETS = 2 ** 30;
/** Old buckets moved per link() while resizing; the move finishes well before capacity can double again. */
const MIGRATE_STEP = 8;

// Word offsets within a slot's record. What a lookup reads comes first.
/** keyHash of the key (int32). */
export const HASH = 0;
/** Next slot in the bucket chain or free list, -1 at the end (int32). */
export const CHAIN_NEXT = 1;
/**
 * Key length (bits 0-7, at most MAX_KEY_BYTES), the fetched bit (bit 8), the
 * clean bit (bit 9) and the high 21 bits of the CAS unique (bits 11-31): a
 * key length needs a byte, and a CAS unique (an integer below 2^53) 53 bits,
 * so together they fill 3 words rather than 4.
 */
export const KEY = 2;
export const PAGE = 3;
export const CHUNK_OFFSET = 4;
export const VALUE_LENGTH = 5;
export const FLAGS = 6;
export const EXPTIME = 7;
/** The low 32 bits of the CAS unique. */
export const CAS_LOW = 8;
export const LAST_ACCESS = 9;
export const SLOT_WORDS = 10;

export const KEY_LENGTH_MASK = 0xff;
/** 1 once the item was read since it was stored (memcached's ITEM_FETCHED), for the *_unfetched stats. */
const FETCHED_BIT = 0x100;
/**
 * 1 while L2 holds this very item (promoted from it, or copied to it while
 * the server was idle): evicting it then costs no write. Everything that
 * changes the item clears it: a new item (place, setItem), a new CAS, a new
 * exptime; L2Bridge clears it after every other change (afterWrite).
 */
const CLEAN_BIT = 0x200;
const CAS_HIGH_SHIFT = 11;
const CAS_LOW_RANGE = 2 ** 32;

/** Bytes of metadata per slot: one record. */
export const ITEM_COLUMN_BYTES = SLOT_WORDS * 4;

/** Load factor up to 2 when capacity is not a power of two; stored hashes skip most key compares. */
function bucketCountFor(capacity: number): number {
  if (capacity <= MIN_BUCKETS) return MIN_BUCKETS;
  if (capacity >= MAX_BUCKETS) return MAX_BUCKETS;
  return 1 << (31 - Math.clz32(capacity));
}

export class ItemTable {
  /**
   * SLOT_WORDS words per slot at slot * SLOT_WORDS. Public for the lookup
   * loop (MemoryTier#find); everything else goes through the accessors.
   */
  words: Int32Array;
  /** The same buffer as `words`, for the unsigned fields. */
  #u32: Uint32Array;
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

  /** `reserve` (>= capacity) is the slot count allocated up front; see the file comment. */
  constructor(capacity: number, reserve = capacity) {
    this.#capacity = capacity;
    this.words = new Int32Array(Math.max(capacity, reserve) * SLOT_WORDS);
    this.#u32 = new Uint32Array(this.words.buffer);
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

  /** Slots the records can hold without copying. */
  get reserve(): number {
    return this.words.length / SLOT_WORDS;
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

  hash(slot: number): number {
    return this.words[slot * SLOT_WORDS + HASH]!;
  }

  chainNext(slot: number): number {
    return this.words[slot * SLOT_WORDS + CHAIN_NEXT]!;
  }

  /** 0 for a free slot. */
  keyLength(slot: number): number {
    return this.words[slot * SLOT_WORDS + KEY]! & KEY_LENGTH_MASK;
  }

  page(slot: number): number {
    return this.#u32[slot * SLOT_WORDS + PAGE]!;
  }

  chunkOffset(slot: number): number {
    return this.#u32[slot * SLOT_WORDS + CHUNK_OFFSET]!;
  }

  valueLength(slot: number): number {
    return this.#u32[slot * SLOT_WORDS + VALUE_LENGTH]!;
  }

  flags(slot: number): number {
    return this.#u32[slot * SLOT_WORDS + FLAGS]!;
  }

  exptime(slot: number): number {
    return this.#u32[slot * SLOT_WORDS + EXPTIME]!;
  }

  cas(slot: number): number {
    const at = slot * SLOT_WORDS;
    const u32 = this.#u32;
    return (u32[at + KEY]! >>> CAS_HIGH_SHIFT) * CAS_LOW_RANGE + u32[at + CAS_LOW]!;
  }

  lastAccess(slot: number): number {
    return this.#u32[slot * SLOT_WORDS + LAST_ACCESS]!;
  }

  fetched(slot: number): boolean {
    return (this.words[slot * SLOT_WORDS + KEY]! & FETCHED_BIT) !== 0;
  }

  clean(slot: number): boolean {
    return (this.words[slot * SLOT_WORDS + KEY]! & CLEAN_BIT) !== 0;
  }

  setClean(slot: number, clean: boolean): void {
    const at = slot * SLOT_WORDS;
    const word = this.words[at + KEY]!;
    this.words[at + KEY] = clean ? word | CLEAN_BIT : word & ~CLEAN_BIT;
  }

  /** Where a new item is: makes the slot live (keyLength > 0); link() it next. Clears cas, fetched and clean. */
  place(slot: number, hash: number, keyLength: number, page: number, chunkOffset: number): void {
    const at = slot * SLOT_WORDS;
    this.words[at + HASH] = hash;
    this.words[at + KEY] = keyLength & KEY_LENGTH_MASK;
    this.#u32[at + PAGE] = page;
    this.#u32[at + CHUNK_OFFSET] = chunkOffset;
  }

  /** The rest of a stored item: value, flags, exptime, cas, last access; not fetched yet, not clean. */
  setItem(
    slot: number,
    valueLength: number,
    flags: number,
    exptime: number,
    cas: number,
    nowSeconds: number,
  ): void {
    const at = slot * SLOT_WORDS;
    const u32 = this.#u32;
    u32[at + VALUE_LENGTH] = valueLength;
    u32[at + FLAGS] = flags;
    u32[at + EXPTIME] = exptime;
    u32[at + LAST_ACCESS] = nowSeconds;
    this.#setCas(at, cas, this.words[at + KEY]! & KEY_LENGTH_MASK);
  }

  /** Also clears the clean bit: L2's copy has the old exptime. */
  setExptime(slot: number, exptime: number): void {
    const at = slot * SLOT_WORDS;
    this.#u32[at + EXPTIME] = exptime;
    this.words[at + KEY] = this.words[at + KEY]! & ~CLEAN_BIT;
  }

  /** An integer below 2^53, like every CAS unique. Clears the clean bit. */
  setCas(slot: number, cas: number): void {
    const at = slot * SLOT_WORDS;
    this.#setCas(at, cas, this.words[at + KEY]! & (KEY_LENGTH_MASK | FETCHED_BIT));
  }

  /**
   * A read or touch: memcached's ITEM_FETCHED plus the access time. Returns
   * true when it repeats a read or touch of the same second (see
   * MemoryTier.access), read from the record it writes anyway.
   */
  access(slot: number, nowSeconds: number): boolean {
    const at = slot * SLOT_WORDS;
    const key = this.words[at + KEY]!;
    const repeat = (key & FETCHED_BIT) !== 0 && this.#u32[at + LAST_ACCESS] === nowSeconds;
    this.#u32[at + LAST_ACCESS] = nowSeconds;
    this.words[at + KEY] = key | FETCHED_BIT;
    return repeat;
  }

  /** Raises the capacity; slots keep their numbers. O(1) within the reserve, a copy beyond it. */
  grow(capacity: number): void {
    if (capacity <= this.#capacity) return;
    if (capacity > this.reserve) this.#copyRecords(capacity);
    this.#capacity = capacity;
    if (bucketCountFor(capacity) !== this.#buckets.length) this.#startResize(bucketCountFor(capacity));
  }

  /** A free slot (not yet live: the caller place()s it), or -1. */
  allocSlot(): number {
    let slot = this.#freeHead;
    if (slot >= 0) {
      this.#freeHead = this.words[slot * SLOT_WORDS + CHAIN_NEXT]!;
    } else if (this.#unused < this.#capacity) {
      slot = this.#unused++;
    } else {
      return -1;
    }
    this.#live++;
    return slot;
  }

  freeSlot(slot: number): void {
    const at = slot * SLOT_WORDS;
    this.words[at + KEY] = 0;
    this.words[at + CHAIN_NEXT] = this.#freeHead;
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
    const words = this.words;
    const at = slot * SLOT_WORDS;
    const hash = words[at + HASH]!;
    const old = this.#oldBuckets;
    if (old !== null) {
      const b = hash & this.#oldMask;
      if (b >= this.#migrated) {
        words[at + CHAIN_NEXT] = old[b]!;
        old[b] = slot;
        return;
      }
    }
    const b = hash & this.#mask;
    words[at + CHAIN_NEXT] = this.#buckets[b]!;
    this.#buckets[b] = slot;
  }

  unlink(slot: number): void {
    const words = this.words;
    const hash = words[slot * SLOT_WORDS + HASH]!;
    const next = words[slot * SLOT_WORDS + CHAIN_NEXT]!;
    let heads = this.#buckets;
    let bucket = hash & this.#mask;
    const old = this.#oldBuckets;
    if (old !== null && (hash & this.#oldMask) >= this.#migrated) {
      heads = old;
      bucket = hash & this.#oldMask;
    }
    let current = heads[bucket]!;
    if (current === slot) {
      heads[bucket] = next;
      return;
    }
    while (current >= 0) {
      const link = current * SLOT_WORDS + CHAIN_NEXT;
      if (words[link] === slot) {
        words[link] = next;
        return;
      }
      current = words[link]!;
    }
  }

  /** `keep` is the KEY word's low bits to keep (key length, maybe the fetched bit). */
  #setCas(at: number, cas: number, keep: number): void {
    // >>> 0 is cas mod 2^32 for any integer below 2^53, without the C call a float % costs.
    const low = cas >>> 0;
    this.#u32[at + CAS_LOW] = low;
    this.words[at + KEY] = keep | (((cas - low) / CAS_LOW_RANGE) << CAS_HIGH_SHIFT);
  }

  #copyRecords(capacity: number): void {
    const words = new Int32Array(capacity * SLOT_WORDS);
    words.set(this.words);
    this.words = words;
    this.#u32 = new Uint32Array(words.buffer);
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
    const words = this.words;
    const end = Math.min(old.length, this.#migrated + count);
    for (let b = this.#migrated; b < end; b++) {
      let slot = old[b]!;
      while (slot >= 0) {
        const at = slot * SLOT_WORDS;
        const next = words[at + CHAIN_NEXT]!;
        const target = words[at + HASH]! & mask;
        words[at + CHAIN_NEXT] = buckets[target]!;
        buckets[target] = slot;
        slot = next;
      }
      old[b] = -1;
    }
    this.#migrated = end;
    if (end === old.length) this.#oldBuckets = null;
  }
}
