// The scan-resistant policy: segmented LRU per queue, a probation segment and a
// protected one (memcached's own COLD/WARM idea, Karedla et al. 1994). New
// slots enter probation; a hit in probation promotes to protected. Victims
// come from probation, so a one-pass scan of new keys only churns probation
// and never displaces items that were hit since insertion; but once protected
// holds more than 80% of the queue its own LRU end goes first, so new items
// always keep a share to prove themselves in.
//
// The cap is enforced when choosing a victim, not by demoting on promotion:
// a queue grows from empty as pages arrive, and a cap taken from its size at
// that moment would demote a hot set that was hit while the cache was filling.
//
// Why not S3-FIFO: its ghost queue remembers evicted keys, and an evictor only
// sees slots; and its eviction re-inserts items until one qualifies, so "next
// victim" would not be the side-effect-free O(1) peek candidate() promises.

import type { EvictionPolicy, Evictor } from './evictor.js';
import { SlotLists } from './slot-lists.js';

const PROBATION = 0;
const PROTECTED = 1;
const PROTECTED_SHARE = 0.8;

export class HybridEvictor implements Evictor {
  readonly policy: EvictionPolicy = 'hybrid';
  readonly bytesPerSlot = SlotLists.bytesPerSlot + 2 + 1;
  /** Kept simple: every hit counts, as a hit in probation is what promotes. */
  readonly coalescesRepeatHits = false;
  /** List id = queue * 2 + segment. */
  #lists: SlotLists;
  #queueOf: Uint16Array;
  #segment: Uint8Array;
  #size: Uint32Array;
  #protected: Uint32Array;

  constructor(queues: number, slotCapacity: number) {
    this.#lists = new SlotLists(queues * 2, slotCapacity);
    this.#queueOf = new Uint16Array(slotCapacity);
    this.#segment = new Uint8Array(slotCapacity);
    this.#size = new Uint32Array(queues);
    this.#protected = new Uint32Array(queues);
  }

  get allocatedBytes(): number {
    return (
      this.#lists.allocatedBytes +
      this.#queueOf.byteLength +
      this.#segment.byteLength +
      this.#size.byteLength +
      this.#protected.byteLength
    );
  }

  grow(slotCapacity: number): void {
    if (slotCapacity <= this.#segment.length) return;
    this.#lists.grow(slotCapacity);
    const queueOf = new Uint16Array(slotCapacity);
    queueOf.set(this.#queueOf);
    this.#queueOf = queueOf;
    const segment = new Uint8Array(slotCapacity);
    segment.set(this.#segment);
    this.#segment = segment;
  }

  insert(slot: number, queue: number): void {
    this.#queueOf[slot] = queue;
    this.#segment[slot] = PROBATION;
    this.#lists.pushTail(queue * 2 + PROBATION, slot);
    this.#size[queue]!++;
  }

  access(slot: number): void {
    const queue = this.#queueOf[slot]!;
    if (this.#segment[slot] === PROTECTED) {
      this.#lists.moveToTail(queue * 2 + PROTECTED, slot);
      return;
    }
    this.#segment[slot] = PROTECTED;
    this.#lists.moveToTail(queue * 2 + PROTECTED, slot);
    this.#protected[queue]!++;
  }

  remove(slot: number): void {
    const queue = this.#queueOf[slot]!;
    this.#lists.unlink(slot);
    this.#size[queue]!--;
    if (this.#segment[slot] === PROTECTED) this.#protected[queue]!--;
  }

  candidate(queue: number): number {
    const overShare = this.#protected[queue]! > this.#size[queue]! * PROTECTED_SHARE;
    const victim = overShare ? -1 : this.#lists.head(queue * 2 + PROBATION);
    return victim >= 0 ? victim : this.#lists.head(queue * 2 + PROTECTED);
  }
}
