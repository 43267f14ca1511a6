// First in, first out per queue: hits change nothing, the victim is the
// oldest insertion. The cheapest policy: no per-slot state besides the links.

import type { EvictionPolicy, Evictor } from './evictor.js';
import { SlotLists } from './slot-lists.js';

export class FifoEvictor implements Evictor {
  readonly policy: EvictionPolicy = 'fifo';
  readonly bytesPerSlot = SlotLists.bytesPerSlot;
  readonly coalescesRepeatHits = true;
  #lists: SlotLists;

  constructor(queues: number, slotCapacity: number) {
    this.#lists = new SlotLists(queues, slotCapacity);
  }

  get allocatedBytes(): number {
    return this.#lists.allocatedBytes;
  }

  grow(slotCapacity: number): void {
    this.#lists.grow(slotCapacity);
  }

  insert(slot: number, queue: number): void {
    this.#lists.pushTail(queue, slot);
  }

  access(_slot: number): void {
    // FIFO ignores hits by definition.
  }

  remove(slot: number): void {
    this.#lists.unlink(slot);
  }

  candidate(queue: number): number {
    return this.#lists.head(queue);
  }
}
