import { describe, expect, it } from 'vitest';
import { createEvictor } from '../../../src/tiers/memory/evictor.js';
import { drain, evictorSuite } from './evictor-suite.js';

evictorSuite('lfu');

describe('LfuEvictor', () => {
  it('keeps a frequently hit item over recent one-offs', () => {
    const evictor = createEvictor('lfu', 1, 8);
    evictor.insert(0, 0);
    for (let i = 0; i < 20; i++) evictor.access(0);
    evictor.insert(1, 0);
    evictor.insert(2, 0);
    evictor.access(2);
    expect(drain(evictor, 0)).toEqual([1, 2, 0]);
  });

  it('orders equal frequencies by recency', () => {
    const evictor = createEvictor('lfu', 1, 8);
    for (const slot of [0, 1, 2]) evictor.insert(slot, 0);
    evictor.access(0);
    evictor.access(1);
    evictor.access(2);
    evictor.access(0);
    evictor.access(0);
    expect(evictor.candidate(0)).toBe(1);
  });

  it('decays an item that stops being hit, so it can be evicted again', () => {
    const queueSize = 50;
    const evictor = createEvictor('lfu', 1, queueSize);
    evictor.insert(0, 0);
    for (let i = 0; i < 200; i++) evictor.access(0);
    for (let slot = 1; slot < queueSize; slot++) evictor.insert(slot, 0);
    // A churning cache of one-offs: each new one evicts the victim and reuses its slot.
    let evictedHot = false;
    for (let round = 0; round < 5000 && !evictedHot; round++) {
      const victim = evictor.candidate(0);
      evictor.remove(victim);
      if (victim === 0) evictedHot = true;
      else evictor.insert(victim, 0);
    }
    expect(evictedHot).toBe(true);
  });
});
