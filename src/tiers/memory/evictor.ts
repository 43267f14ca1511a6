// The eviction-policy seam of the L1 tier. An evictor orders the slots of each
// queue (one queue per slab class) and names the next victim; it never frees
// anything itself and knows nothing of keys, pages or budgets. Every policy
// keeps its state in typed arrays indexed by slot and does O(1) work per call.

import { FifoEvictor } from './fifo-evictor.js';
import { HybridEvictor } from './hybrid-evictor.js';
import { LfuEvictor } from './lfu-evictor.js';
import { LruEvictor } from './lru-evictor.js';

export type EvictionPolicy = 'lru' | 'lfu' | 'fifo' | 'hybrid';

export const EVICTION_POLICIES: readonly EvictionPolicy[] = ['lru', 'lfu', 'fifo', 'hybrid'];

export interface Evictor {
  readonly policy: EvictionPolicy;
  /** Bytes this evictor holds in its arrays (counted against the budget). */
  readonly allocatedBytes: number;
  /** Bytes each extra unit of slot capacity costs, so the tier can price a grow() before doing it. */
  readonly bytesPerSlot: number;
  /** Makes room for slots [0, slotCapacity); never shrinks. */
  grow(slotCapacity: number): void;
  insert(slot: number, queue: number): void;
  /**
   * True when a repeated hit on a slot within the same second may be left out
   * (MemoryTier.access): the order it would restore is a second's worth of
   * hits at most. False where every hit counts (frequency, promotion).
   */
  readonly coalescesRepeatHits: boolean;
  /** A hit. */
  access(slot: number): void;
  remove(slot: number): void;
  /** Next victim of that queue, -1 if empty; does not remove. */
  candidate(queue: number): number;
}

export function createEvictor(policy: EvictionPolicy, queues: number, slotCapacity: number): Evictor {
  switch (policy) {
    case 'lru':
      return new LruEvictor(queues, slotCapacity);
    case 'lfu':
      return new LfuEvictor(queues, slotCapacity);
    case 'fifo':
      return new FifoEvictor(queues, slotCapacity);
    case 'hybrid':
      return new HybridEvictor(queues, slotCapacity);
    default:
      return policy satisfies never;
  }
}
