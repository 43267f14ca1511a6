// A RAM copy of recent LevelDB pointers, so most L2 hits skip LevelDB's
// lookup: in s6 that lookup was ~4 of the ~20 µs an L2 hit cost (perf), and
// memcached's extstore keeps its item headers in RAM for the same reason.
//
// Four-way set-associative over keyHash, four typed arrays and no objects,
// so a million entries are nothing for the GC. (Direct-mapped, s6's 262,144
// keys in the default 1 M slots found their pointer 90% of the time: a
// quarter-full table still puts two keys in one slot for ~11% of them. With
// four ways a set overflows only past four keys: 99.6% found in s6.)
//
// The log entry a pointer leads to carries its key, and LevelStore compares
// it before using the record, so a slot another key took over (or shares by
// a full 32-bit hash collision) falls back to LevelDB. That check cannot tell
// an older record of the same key from the current one: being current is
// LevelStore's job, which sets or forgets the slot of every data-entry put
// or delete in the continuation of the batch that commits it (see
// LevelStore#commit for the one window, and why it is harmless).

import { keyHash } from '../memory/key-hash.js';

/** Bytes of RAM per slot (four u32 columns). */
export const POINTER_CACHE_SLOT_BYTES = 16;
/** Slots a key may use: its set's. Four hashes are 16 bytes, one cache line to scan. */
const WAYS = 4;
const EMPTY = 0xffff_ffff;

export interface CachedPointer {
  segment: number;
  offset: number;
  recordLength: number;
}

export class PointerCache {
  /** Slots per set: WAYS, or fewer in a cache smaller than one set. */
  readonly #ways: number;
  readonly #setMask: number;
  readonly #hashes: Int32Array;
  readonly #segments: Uint32Array;
  readonly #offsets: Uint32Array;
  readonly #lengths: Uint32Array;
  /** Which way of a full set the next new key replaces: round robin, in effect random per set. */
  #victim = 0;

  /** `bytes` of RAM, rounded down to a power-of-two number of slots (at least one). */
  constructor(bytes: number) {
    let slots = 1;
    while (slots * 2 * POINTER_CACHE_SLOT_BYTES <= bytes) slots *= 2;
    this.#ways = Math.min(WAYS, slots);
    this.#setMask = slots / this.#ways - 1;
    this.#hashes = new Int32Array(slots);
    this.#segments = new Uint32Array(slots).fill(EMPTY);
    this.#offsets = new Uint32Array(slots);
    this.#lengths = new Uint32Array(slots);
  }

  /** The slot holding a pointer for a key with this hash, or -1. */
  find(hash: number): number {
    const first = this.#firstSlot(hash);
    const end = first + this.#ways;
    for (let slot = first; slot < end; slot++) {
      if (this.#hashes[slot] === hash && this.#segments[slot] !== EMPTY) return slot;
    }
    return -1;
  }

  segment(slot: number): number {
    return this.#segments[slot]!;
  }

  offset(slot: number): number {
    return this.#offsets[slot]!;
  }

  recordLength(slot: number): number {
    return this.#lengths[slot]!;
  }

  set(key: Uint8Array, pointer: CachedPointer): void {
    this.setHashed(keyHash(key), pointer);
  }

  setHashed(hash: number, pointer: CachedPointer): void {
    // The key's own slot wins over a free way before it, wherever it is in
    // the set: taking the free way would leave its old pointer there, stale.
    const ways = this.#ways;
    const first = this.#firstSlot(hash);
    let slot = -1;
    for (let way = first; way < first + ways; way++) {
      if (this.#segments[way] === EMPTY) {
        if (slot < 0) slot = way;
      } else if (this.#hashes[way] === hash) {
        slot = way;
        break;
      }
    }
    if (slot < 0) {
      this.#victim = (this.#victim + 1) % ways;
      slot = first + this.#victim;
    }
    this.#hashes[slot] = hash;
    this.#segments[slot] = pointer.segment;
    this.#offsets[slot] = pointer.offset;
    this.#lengths[slot] = pointer.recordLength;
  }

  /** Drops the key's pointer; a slot another key holds is left alone. */
  forget(key: Uint8Array): void {
    const slot = this.find(keyHash(key));
    if (slot >= 0) this.#segments[slot] = EMPTY;
  }

  clear(): void {
    this.#segments.fill(EMPTY);
  }

  #firstSlot(hash: number): number {
    return (hash & this.#setMask) * this.#ways;
  }
}
