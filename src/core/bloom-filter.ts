// BloomFilter: "is this key possibly in L2?" in memory, so an L1 miss for a
// key L2 has never held is answered synchronously without a LevelDB read.
// False positives only cost a read; false negatives must never happen, so
// keys are added before their L2 write is queued and never removed (a
// deleted key stays a harmless false positive). Bits in one Uint32Array;
// k probes by double hashing (Kirsch–Mitzenmacher) of two 32-bit hashes.

import { keyHash } from '../tiers/memory/key-hash.js';

const PROBES = 4;
const MIN_BITS = 1 << 20;
const MAX_BITS = 2 ** 31;

export class BloomFilter {
  readonly #bits: Uint32Array;
  readonly #mask: number;
  #added = 0;

  /** Sized for `expectedKeys` at ~8 bits per key (about 2.5% false positives), a power of two. */
  constructor(expectedKeys: number) {
    let bits = MIN_BITS;
    while (bits < expectedKeys * 8 && bits < MAX_BITS) bits *= 2;
    this.#bits = new Uint32Array(bits / 32);
    this.#mask = bits - 1;
  }

  /** Keys added so far (with repeats): a hint of how full it is. */
  get added(): number {
    return this.#added;
  }

  add(key: Uint8Array): void {
    const h1 = keyHash(key);
    const h2 = fnv1a(key) | 1;
    const bits = this.#bits;
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.#mask;
      bits[bit >>> 5]! |= 1 << (bit & 31);
    }
    this.#added++;
  }

  mayContain(key: Uint8Array): boolean {
    const h1 = keyHash(key);
    const h2 = fnv1a(key) | 1;
    const bits = this.#bits;
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.#mask;
      if ((bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

function fnv1a(key: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key[i]!, 0x01000193);
  return h;
}
