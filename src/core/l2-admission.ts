// Which L2 hits of a get earn a place in L1. Promoting every hit lets a
// uniform or scanning read load churn L1: each promotion copies the value in
// and evicts another item, for an item unlikely to be read again before it is
// evicted itself (in s6, 1 GiB read at random over a 64 MiB L1, that churn
// was most of the L2 hit's cost). memcached's extstore likewise serves flash
// hits from flash and recaches only items hit twice within a minute.
//
// Here a key is admitted on its second L2 hit within a window of L2 hits as
// long as L1 holds items: a key read again sooner than L1 turns over would
// have been an L1 hit, one read again later would have been evicted unread.
// The table holds, per key-hash bucket, the epoch of the last hit and 16
// more bits of the key's hash (without them, a window of 11k hits left a
// recent epoch in 17% of 64k buckets, and a fifth of all hits were admitted
// by collision). An epoch lasts half a window, so "this epoch or the one
// before" is at least half a window and at most a whole one. A collision can
// only admit a key early, never lose data: the table is a hint, not an index.

import { keyHashAt } from '../tiers/memory/key-hash.js';

/** 65,536 four-byte buckets (256 KiB); windows beyond it are capped. */
const BUCKETS = 1 << 16;
/** So that a nearly empty L1 still admits keys read twice in quick succession. */
const MIN_WINDOW = 1024;
const MAX_EPOCH = 0xffff;

export class L2Admission {
  /** epoch << 16 | the hash's high 16 bits; 0 = never. */
  readonly #seen = new Uint32Array(BUCKETS);
  /** The window, in L2 hits: L1's item count, read at each epoch change. */
  readonly #window: () => number;
  #epochHits = MIN_WINDOW / 2;
  #hits = 0;
  #epoch = 1;

  constructor(window: () => number) {
    this.#window = window;
  }

  /** Records an L2 hit of key buf[start, end); true if it is the key's second within the window. */
  admit(buf: Uint8Array, start: number, end: number): boolean {
    if (++this.#hits >= this.#epochHits) {
      this.#hits = 0;
      this.#epoch = this.#epoch === MAX_EPOCH ? 1 : this.#epoch + 1;
      this.#epochHits = Math.min(Math.max(this.#window(), MIN_WINDOW), BUCKETS) / 2;
    }
    const hash = keyHashAt(buf, start, end);
    const bucket = hash & (BUCKETS - 1);
    const tag = hash >>> 16;
    const last = this.#seen[bucket]!;
    const epoch = this.#epoch;
    this.#seen[bucket] = ((epoch << 16) | tag) >>> 0;
    if (last === 0 || (last & 0xffff) !== tag) return false;
    const lastEpoch = last >>> 16;
    return lastEpoch === epoch || lastEpoch === (epoch === 1 ? MAX_EPOCH : epoch - 1);
  }
}
