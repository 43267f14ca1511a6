// Per-item metadata of the L1 tier: typed-array columns indexed by slot, a
// chained hash index over them, and the free-slot chain. No object per item:
// the GC sees a dozen arrays whatever the item count.
//
// A slot is live iff keyLength > 0 (keys are never empty). Free slots are
// chained through chainNext, so the free list costs no extra column. The
// table knows nothing of pages or bytes; it stores where an item is.

const MIN_BUCKETS = 16;
const MAX_BUCKETS = 2 ** 30;

/** Bytes of column per slot: hash, chainNext, page, chunkOffset, keyLength, valueLength, flags, exptime, cas, lastAccess. */
export const ITEM_COLUMN_BYTES = 4 + 4 + 4 + 4 + 1 + 4 + 4 + 4 + 8 + 4;

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
  /** Bucket heads (slot or -1); length is a power of two. */
  buckets: Int32Array;
  #mask: number;
  #capacity: number;
  #freeHead = -1;
  #live = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
    this.hash = new Int32Array(capacity);
    this.chainNext = new Int32Array(capacity);
    this.page = new Uint32Array(capacity);
    this.chunkOffset = new Uint32Array(capacity);
    this.keyLength = new Uint8Array(capacity);
    this.valueLength = new Uint32Array(capacity);
    this.flags = new Uint32Array(capacity);
    this.exptime = new Uint32Array(capacity);
    this.cas = new Float64Array(capacity);
    this.lastAccess = new Uint32Array(capacity);
    this.buckets = new Int32Array(bucketCountFor(capacity)).fill(-1);
    this.#mask = this.buckets.length - 1;
    this.#chainFree(0, capacity);
  }

  /** What a table of that capacity allocates. */
  static bytesFor(capacity: number): number {
    return capacity * ITEM_COLUMN_BYTES + bucketCountFor(capacity) * 4;
  }

  get capacity(): number {
    return this.#capacity;
  }

  get liveCount(): number {
    return this.#live;
  }

  get allocatedBytes(): number {
    return ItemTable.bytesFor(this.#capacity);
  }

  /** Copies every column into arrays of the new capacity; slots keep their numbers. */
  grow(capacity: number): void {
    const old = this.#capacity;
    if (capacity <= old) return;
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
    this.#capacity = capacity;
    this.#chainFree(old, capacity);
    if (bucketCountFor(capacity) !== this.buckets.length) this.#rehash();
  }

  /** A free slot (not yet live: the caller sets keyLength), or -1. */
  allocSlot(): number {
    const slot = this.#freeHead;
    if (slot >= 0) {
      this.#freeHead = this.chainNext[slot]!;
      this.#live++;
    }
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
    return this.buckets[hash & this.#mask]!;
  }

  link(slot: number): void {
    const bucket = this.hash[slot]! & this.#mask;
    this.chainNext[slot] = this.buckets[bucket]!;
    this.buckets[bucket] = slot;
  }

  unlink(slot: number): void {
    const bucket = this.hash[slot]! & this.#mask;
    let current = this.buckets[bucket]!;
    if (current === slot) {
      this.buckets[bucket] = this.chainNext[slot]!;
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

  /** Links [from, to) onto the free chain so the lowest slot is handed out first. */
  #chainFree(from: number, to: number): void {
    for (let slot = to - 1; slot >= from; slot--) {
      this.chainNext[slot] = this.#freeHead;
      this.#freeHead = slot;
    }
  }

  #rehash(): void {
    this.buckets = new Int32Array(bucketCountFor(this.#capacity)).fill(-1);
    this.#mask = this.buckets.length - 1;
    for (let slot = 0; slot < this.#capacity; slot++) {
      if (this.keyLength[slot]! > 0) this.link(slot);
    }
  }
}

function copyInto<T extends Uint8Array | Uint32Array | Int32Array | Float64Array>(target: T, source: T): T {
  target.set(source as ArrayLike<number>);
  return target;
}
