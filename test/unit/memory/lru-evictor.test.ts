import { describe, expect, it } from 'vitest';
import { createEvictor } from '../../../src/tiers/memory/evictor.js';
import { drain, evictorSuite } from './evictor-suite.js';

evictorSuite('lru');

describe('LruEvictor', () => {
  it('evicts the least recently used slot', () => {
    const evictor = createEvictor('lru', 1, 8);
    for (const slot of [0, 1, 2, 3]) evictor.insert(slot, 0);
    evictor.access(0);
    evictor.access(2);
    expect(drain(evictor, 0)).toEqual([1, 3, 0, 2]);
  });
});
