// Least recently used per queue: a hit moves the slot to its queue's tail, the
// victim is the head. The per-slot queue id is needed to find the tail
// sentinel on a hit.

import type { EvictionPolicy, Evictor } from './evictor.js';
import { SlotLists } from './slot-lists.js';

export class LruEvictor implements Evictor {
  readonly policy: EvictionPolicy = 'lru';
  readonly bytesPerSlot = SlotLists.bytesPerSlot + 2;
  readonly coalescesRepeatHits = true;
  #lists: SlotLists;
  #queue: Uint16Array;

  constructor(queues: number, slotCapacity: number) {
    this.#lists = new SlotLists(queues, slotCapacity);
    this.#queue = new Uint16Array(slotCapacity);
  }

  get allocatedBytes(): number {
    return this.#lists.allocatedBytes + this.#queue.byteLength;
  }

  grow(slotCapacity: number): void {
    if (slotCapacity <= this.#queue.length) return;
    this.#lists.grow(slotCapacity);
    const queue = new Uint16Array(slotCapacity);
    queue.set(this.#queue);
    this.#queue = queue;
  }

  insert(slot: number, queue: number): void {
    this.#queue[slot] = queue;
    this.#lists.pushTail(queue, slot);
  }

  access(slot: number): void {
    this.#lists.moveToTail(this.#queue[slot]!, slot);
  }

  remove(slot: number): void {
    this.#lists.unlink(slot);
  }

  candidate(queue: number): number {
    return this.#lists.head(queue);
  }
}
