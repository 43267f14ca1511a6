// A RAM copy of recent LevelDB pointers, so most L2 hits skip LevelDB's
// lookup: in s6 that lookup was ~4 of the ~20 µs an L2 hit cost (perf), and
// memcached's extstore keeps its item headers in RAM for the same reason.
//
// Direct-mapped over keyHash, four typed arrays and no objects, so a
// million entries are nothing for the GC. The log entry a pointer leads to
// carries its key, and LevelStore compares it before using the record, so a
// slot another key took over falls back to LevelDB. That check cannot tell
// an older record of the same key from the current one: being current is
// LevelStore's job, which sets or forgets the slot of every data-entry put
// or delete in the continuation of the batch that commits it (see
// LevelStore#commit for the one window, and why it is harmless).

import { keyHash } from '../memory/key-hash.js';

/** Bytes of RAM per slot (four u32 columns). */
export const POINTER_CACHE_SLOT_BYTES = 16;
const EMPTY = 0xffff_ffff;

export interface CachedPointer {
  segment: number;
  offset: number;
  recordLength: number;
}

export class PointerCache {
  readonly #mask: number;
  readonly #hashes: Int32Array;
  readonly #segments: Uint32Array;
  readonly #offsets: Uint32Array;
  readonly #lengths: Uint32Array;

  /** `bytes` of RAM, rounded down to a power-of-two number of slots (at least one). */
  constructor(bytes: number) {
    let slots = 1;
    while (slots * 2 * POINTER_CACHE_SLOT_BYTES <= bytes) slots *= 2;
    this.#mask = slots - 1;
    this.#hashes = new Int32Array(slots);
    this.#segments = new Uint32Array(slots).fill(EMPTY);
    this.#offsets = new Uint32Array(slots);
    this.#lengths = new Uint32Array(slots);
  }

  /** The slot holding a pointer for a key with this hash, or -1. */
  find(hash: number): number {
    const slot = hash & this.#mask;
    return this.#segments[slot] !== EMPTY && this.#hashes[slot] === hash ? slot : -1;
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
    const slot = hash & this.#mask;
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
}
