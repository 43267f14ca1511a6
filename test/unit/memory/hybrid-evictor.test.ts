import { describe, expect, it } from 'vitest';
import { createEvictor, type EvictionPolicy } from '../../../src/tiers/memory/evictor.js';
import { evictorSuite } from './evictor-suite.js';

evictorSuite('hybrid');

/**
 * A cache of `capacity` slots in one queue: a hot set is inserted and hit a
 * few times, then a one-pass scan of new keys, 10x the cache, goes through.
 * Returns how many hot slots are still cached.
 */
function hotSurvivorsAfterScan(policy: EvictionPolicy): number {
  const capacity = 100;
  const hot = 20;
  const evictor = createEvictor(policy, 1, capacity);
  const cached = new Set<number>();
  const free: number[] = Array.from({ length: capacity }, (_, i) => capacity - 1 - i);
  const slotOfKey = new Map<number, number>();
  const admit = (key: number): void => {
    if (free.length === 0) {
      const victim = evictor.candidate(0);
      evictor.remove(victim);
      cached.delete(victim);
      free.push(victim);
      for (const [k, slot] of slotOfKey) if (slot === victim) slotOfKey.delete(k);
    }
    const slot = free.pop()!;
    evictor.insert(slot, 0);
    cached.add(slot);
    slotOfKey.set(key, slot);
  };
  for (let key = 0; key < hot; key++) admit(key);
  for (let round = 0; round < 3; round++) {
    for (let key = 0; key < hot; key++) evictor.access(slotOfKey.get(key)!);
  }
  for (let key = 1000; key < 1000 + capacity * 10; key++) admit(key);
  let survivors = 0;
  for (let key = 0; key < hot; key++) if (slotOfKey.has(key)) survivors++;
  return survivors;
}

describe('HybridEvictor (segmented LRU)', () => {
  it('survives a one-pass scan larger than the cache', () => {
    expect(hotSurvivorsAfterScan('hybrid')).toBe(20);
  });

  it('where plain LRU loses the hot set to the same scan', () => {
    expect(hotSurvivorsAfterScan('lru')).toBe(0);
  });

  it('evicts from probation before protected, in LRU order', () => {
    const evictor = createEvictor('hybrid', 1, 8);
    for (const slot of [0, 1, 2, 3, 4]) evictor.insert(slot, 0);
    evictor.access(3);
    evictor.access(1);
    const order: number[] = [];
    for (let victim = evictor.candidate(0); victim >= 0; victim = evictor.candidate(0)) {
      order.push(victim);
      evictor.remove(victim);
    }
    expect(order).toEqual([0, 2, 4, 3, 1]);
  });

  it('a hit in protected refreshes recency there', () => {
    const evictor = createEvictor('hybrid', 1, 16);
    for (let slot = 0; slot < 10; slot++) evictor.insert(slot, 0);
    for (let slot = 0; slot < 10; slot++) evictor.access(slot);
    evictor.access(0);
    // All 10 protected (over the share): LRU order inside protected, 0 now most recent.
    expect(evictor.candidate(0)).toBe(1);
  });

  it('takes protected slots first once protected is over 80% of the queue', () => {
    const evictor = createEvictor('hybrid', 1, 8);
    for (const slot of [0, 1, 2, 3, 4]) evictor.insert(slot, 0);
    for (const slot of [4, 3, 2, 1]) evictor.access(slot);
    // 4 of 5 protected is the share: probation's slot 0 goes first.
    expect(evictor.candidate(0)).toBe(0);
    evictor.access(0);
    // 5 of 5 is over it: protected's least recent goes.
    expect(evictor.candidate(0)).toBe(4);
  });
});
