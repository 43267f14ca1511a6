import { describe, expect, it } from 'vitest';
import { createEvictor } from '../../../src/tiers/memory/evictor.js';
import { drain, evictorSuite } from './evictor-suite.js';

evictorSuite('fifo');

describe('FifoEvictor', () => {
  it('ignores hits: the first inserted goes first', () => {
    const evictor = createEvictor('fifo', 1, 8);
    for (const slot of [5, 6, 7]) evictor.insert(slot, 0);
    for (let i = 0; i < 10; i++) evictor.access(5);
    expect(drain(evictor, 0)).toEqual([5, 6, 7]);
  });
});
