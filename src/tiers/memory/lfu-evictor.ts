// Least frequently used, in O(1): each slot carries a small saturating
// logarithmic counter (Redis-style, levels 0..15) and sits in the list of its
// level within its queue; lists keep LRU order, so the victim is the head of
// the lowest non-empty level (found with a per-queue bitmask, no scan).
//
// Counters must also decay, or items that were popular once would sit at the
// top forever. We have no clock here, so each queue counts its own operations:
// every insert or hit looks at the oldest slot of one level (round robin) and
// drops it a level if it was not touched during the last `size` operations of
// its queue, i.e. for a whole turnover of the queue.

import type { EvictionPolicy, Evictor } from './evictor.js';
import { SlotLists } from './slot-lists.js';

const LEVELS = 16;
const TOP_LEVEL = LEVELS - 1;
/** New items start one above the floor so that decayed (stale) items go first. */
const INITIAL_LEVEL = 1;

export class LfuEvictor implements Evictor {
  readonly policy: EvictionPolicy = 'lfu';
  readonly bytesPerSlot = SlotLists.bytesPerSlot + 2 + 1 + 4;
  /** Every hit is a count. */
  readonly coalescesRepeatHits = false;
  /** List id = queue * LEVELS + level. */
  #lists: SlotLists;
  #queueOf: Uint16Array;
  #level: Uint8Array;
  /** The queue's operation count when the slot was last inserted or hit. */
  #stamp: Uint32Array;
  /** Per queue: bit l set when level l is non-empty. */
  #nonEmpty: Uint16Array;
  #size: Uint32Array;
  #ticks: Uint32Array;
  #ageCursor: Uint8Array;
  /** xorshift32 state: the counter bump is probabilistic, but reproducible. */
  #random = 0x2545f491;

  constructor(queues: number, slotCapacity: number) {
    this.#lists = new SlotLists(queues * LEVELS, slotCapacity);
    this.#queueOf = new Uint16Array(slotCapacity);
    this.#level = new Uint8Array(slotCapacity);
    this.#stamp = new Uint32Array(slotCapacity);
    this.#nonEmpty = new Uint16Array(queues);
    this.#size = new Uint32Array(queues);
    this.#ticks = new Uint32Array(queues);
    this.#ageCursor = new Uint8Array(queues);
  }

  get allocatedBytes(): number {
    return (
      this.#lists.allocatedBytes +
      this.#queueOf.byteLength +
      this.#level.byteLength +
      this.#stamp.byteLength +
      this.#nonEmpty.byteLength +
      this.#size.byteLength +
      this.#ticks.byteLength +
      this.#ageCursor.byteLength
    );
  }

  grow(slotCapacity: number): void {
    if (slotCapacity <= this.#level.length) return;
    this.#lists.grow(slotCapacity);
    const queueOf = new Uint16Array(slotCapacity);
    queueOf.set(this.#queueOf);
    this.#queueOf = queueOf;
    const level = new Uint8Array(slotCapacity);
    level.set(this.#level);
    this.#level = level;
    const stamp = new Uint32Array(slotCapacity);
    stamp.set(this.#stamp);
    this.#stamp = stamp;
  }

  insert(slot: number, queue: number): void {
    this.#queueOf[slot] = queue;
    this.#size[queue]!++;
    this.#place(slot, queue, INITIAL_LEVEL);
    this.#stamp[slot] = this.#tick(queue);
    this.#age(queue);
  }

  access(slot: number): void {
    const queue = this.#queueOf[slot]!;
    const level = this.#level[slot]!;
    this.#stamp[slot] = this.#tick(queue);
    if (level < TOP_LEVEL && this.#shouldBump(level)) {
      this.#detach(slot, queue, level);
      this.#place(slot, queue, level + 1);
    } else {
      this.#lists.moveToTail(queue * LEVELS + level, slot);
    }
    this.#age(queue);
  }

  remove(slot: number): void {
    const queue = this.#queueOf[slot]!;
    this.#detach(slot, queue, this.#level[slot]!);
    this.#size[queue]!--;
  }

  candidate(queue: number): number {
    const mask = this.#nonEmpty[queue]!;
    if (mask === 0) return -1;
    const lowest = 31 - Math.clz32(mask & -mask);
    return this.#lists.head(queue * LEVELS + lowest);
  }

  #place(slot: number, queue: number, level: number): void {
    this.#level[slot] = level;
    this.#lists.pushTail(queue * LEVELS + level, slot);
    this.#nonEmpty[queue]! |= 1 << level;
  }

  #detach(slot: number, queue: number, level: number): void {
    this.#lists.unlink(slot);
    if (this.#lists.isEmpty(queue * LEVELS + level)) this.#nonEmpty[queue]! &= ~(1 << level);
  }

  #tick(queue: number): number {
    const tick = (this.#ticks[queue]! + 1) >>> 0;
    this.#ticks[queue] = tick;
    return tick;
  }

  /** Redis' LFULogIncr with factor 1: level l+1 needs about l more hits. */
  #shouldBump(level: number): boolean {
    if (level <= INITIAL_LEVEL) return true;
    let x = this.#random;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#random = x;
    return (x >>> 0) / 0x1_0000_0000 < 1 / (level - INITIAL_LEVEL + 1);
  }

  #age(queue: number): void {
    const level = (this.#ageCursor[queue]! % TOP_LEVEL) + 1;
    this.#ageCursor[queue] = level;
    const oldest = this.#lists.head(queue * LEVELS + level);
    if (oldest < 0) return;
    const idle = (this.#ticks[queue]! - this.#stamp[oldest]!) >>> 0;
    if (idle <= this.#size[queue]!) return;
    this.#detach(oldest, queue, level);
    this.#place(oldest, queue, level - 1);
  }
}
