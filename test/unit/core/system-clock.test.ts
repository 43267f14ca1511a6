import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/core/clock.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('systemClock', () => {
  it('tells the wall clock in whole seconds, at most one refresh behind it', async () => {
    const before = Math.floor(Date.now() / 1000);
    const seconds = systemClock.nowSeconds();
    expect(seconds).toBeGreaterThanOrEqual(before - 1);
    expect(seconds).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    await sleep(1200);
    // 1.2 s later the cached second has moved on, and is again within a refresh of Date.now.
    const later = systemClock.nowSeconds();
    expect(later).toBeGreaterThan(seconds);
    expect(Math.floor((Date.now() - 250) / 1000)).toBeLessThanOrEqual(later);
    expect(later).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });
});
