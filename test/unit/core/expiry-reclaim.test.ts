// Background reclamation with an injected clock, no sockets and no sleeps:
// the wheel's L1 reclaim and its unfetched counters, the walk that frees
// flushed items after flush_all, and the pacing of L2 expiry passes.

import { beforeEach, describe, expect, it } from 'vitest';
import { CacheCore } from '../../../src/core/cache-core.js';
import { ManualClock } from '../../../src/core/clock.js';
import { MemoryTier } from '../../../src/tiers/memory/memory-tier.js';
import { FlushSweep } from '../../../src/ttl/flush-sweep.js';
import { L2Reclaimer } from '../../../src/ttl/l2-reclaimer.js';

const MIB = 1024 * 1024;
const b = (text: string) => Buffer.from(text, 'latin1');

let clock: ManualClock;
let memory: MemoryTier;
let core: CacheCore;

beforeEach(() => {
  clock = new ManualClock(1_700_000_000_500);
  memory = new MemoryTier({ maxBytes: 8 * MIB, maxItemSize: MIB, eviction: 'lru' });
  core = new CacheCore({ memory, clock });
});

function set(key: string, exptime: number, value = 'v'): void {
  expect(core.store('set', b(key), b(value), 0, exptime, 0n)).toBe('stored');
}

describe('L1 reclamation by the wheel', () => {
  it('removes expired items on the tick after their second, counting the never-fetched ones', () => {
    set('read', 5);
    set('unread', 5);
    set('later', 50);
    set('forever', 0);
    expect(core.get(b('read'))).toBeGreaterThanOrEqual(0);
    clock.advanceSeconds(4);
    core.tickExpiry();
    expect(memory.itemCount).toBe(4);
    clock.advanceSeconds(1);
    core.tickExpiry();
    expect(memory.itemCount).toBe(2);
    expect(core.stats.reclaimed).toBe(2);
    expect(core.expiredUnfetched).toBe(1);
    expect(core.expiryTracking.scheduled).toBe(1);
  });

  it('a set clears the fetched bit: a read item overwritten and left unread counts as unfetched', () => {
    set('k', 5);
    expect(core.get(b('k'))).toBeGreaterThanOrEqual(0);
    set('k', 5, 'again');
    clock.advanceSeconds(5);
    core.tickExpiry();
    expect(core.stats.reclaimed).toBe(1);
    expect(core.expiredUnfetched).toBe(1);
  });

  it('touch counts as a fetch, as in memcached', () => {
    set('k', 5);
    expect(core.touch(b('k'), 3)).toBe(true);
    clock.advanceSeconds(3);
    core.tickExpiry();
    expect(core.stats.reclaimed).toBe(1);
    expect(core.expiredUnfetched).toBe(0);
  });

  it('evicted_unfetched counts only evictions of items never read', () => {
    const small = new MemoryTier({ maxBytes: 2 * MIB, maxItemSize: 64 * 1024, eviction: 'lru' });
    const tiny = new CacheCore({ memory: small, clock });
    const value = b('x'.repeat(1000));
    for (let i = 0; i < 4000; i++) {
      expect(tiny.store('set', b(`k${i}`), value, 0, 0, 0n)).toBe('stored');
      // Every other item is read right away, so about half the evicted ones were fetched.
      if (i % 2 === 0) expect(tiny.get(b(`k${i}`))).toBeGreaterThanOrEqual(0);
    }
    expect(small.evictions).toBeGreaterThan(1000);
    expect(small.evictedUnfetched).toBeGreaterThan(small.evictions * 0.4);
    expect(small.evictedUnfetched).toBeLessThan(small.evictions * 0.6);
  });
});

describe('the post-flush_all sweep', () => {
  it('frees every flushed item in bounded steps, keeping items stored after the flush', () => {
    for (let i = 0; i < 25_000; i++) set(`old${i}`, i % 3 === 0 ? 0 : 1000);
    expect(core.sweepingFlushed).toBe(false);
    core.flushAll(0);
    set('new', 0);
    expect(core.sweepingFlushed).toBe(true);
    const first = core.sweepFlushed();
    // One step removes at most 10 000 items, so the event loop is never held long.
    expect(first).toBe(10_000);
    let steps = 1;
    while (core.sweepingFlushed) {
      core.tickExpiry();
      steps++;
    }
    expect(steps).toBe(3);
    expect(memory.itemCount).toBe(1);
    expect(core.stats.reclaimed).toBe(25_000);
    expect(core.expiryTracking.scheduled).toBe(0);
    expect(core.get(b('new'))).toBeGreaterThanOrEqual(0);
  });

  it('a delayed flush takes effect on the tick at its second, without any read, and is swept', () => {
    for (let i = 0; i < 100; i++) set(`k${i}`, 0);
    core.flushAll(10);
    clock.advanceSeconds(9);
    core.tickExpiry();
    expect(memory.itemCount).toBe(100);
    expect(core.sweepingFlushed).toBe(false);
    clock.advanceSeconds(1);
    core.tickExpiry();
    expect(memory.itemCount).toBe(0);
    expect(core.get(b('k1'))).toBe(-1);
  });
});

describe('FlushSweep', () => {
  it('walks each slot once, honours both limits, and restarts on a new flush', () => {
    const sweep = new FlushSweep();
    const seen: number[] = [];
    sweep.start(10);
    const recording = (removes: (slot: number) => boolean) => (slot: number) => {
      seen.push(slot);
      return removes(slot);
    };
    expect(
      sweep.step(
        recording((slot) => slot % 2 === 0),
        4,
        100,
      ),
    ).toBe(2);
    expect(
      sweep.step(
        recording(() => true),
        100,
        3,
      ),
    ).toBe(3);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6]);
    sweep.start(12);
    seen.length = 0;
    expect(sweep.step(recording(() => false))).toBe(0);
    expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(sweep.active).toBe(false);
  });
});

describe('L2Reclaimer pacing', () => {
  function fakeStore(expired: number) {
    const calls: Array<[number, number]> = [];
    let left = expired;
    return {
      calls,
      add(n: number) {
        left += n;
      },
      reclaim: async (now: number, limit: number) => {
        calls.push([now, limit]);
        const n = Math.min(left, limit);
        left -= n;
        return { removed: n, more: n === limit };
      },
    };
  }

  it('runs at the first tick (start-up backlog), then once per interval', async () => {
    const store = fakeStore(2500);
    const reclaimer = new L2Reclaimer({ reclaim: store.reclaim, intervalSeconds: 10, batchSize: 1000 });
    reclaimer.tick(100);
    expect(await reclaimer.runPass(100)).toBe(2500);
    expect(store.calls).toEqual([
      [100, 1000],
      [100, 1000],
      [100, 1000],
    ]);
    store.add(5);
    reclaimer.tick(109);
    expect(reclaimer.running).toBe(false);
    reclaimer.tick(110);
    expect(reclaimer.running).toBe(true);
    expect(await reclaimer.runPass(110)).toBe(5);
    expect(reclaimer.removed).toBe(2505);
  });

  it('stops a pass at maxPerPass and resumes at the next tick, not a whole interval later', async () => {
    const store = fakeStore(5000);
    const reclaimer = new L2Reclaimer({ reclaim: store.reclaim, batchSize: 1000, maxPerPass: 2000 });
    expect(await reclaimer.runPass(100)).toBe(2000);
    reclaimer.tick(100);
    expect(reclaimer.running).toBe(true);
    expect(await reclaimer.runPass(100)).toBe(2000);
    reclaimer.tick(100);
    expect(await reclaimer.runPass(100)).toBe(1000);
    reclaimer.tick(105);
    expect(reclaimer.running).toBe(false);
  });

  it('reports a failed batch, never rejects, and stop() ends the passes', async () => {
    const errors: unknown[] = [];
    const reclaimer = new L2Reclaimer({
      reclaim: () => Promise.reject(new Error('disk gone')),
      onError: (error) => errors.push(error),
    });
    expect(await reclaimer.runPass(1)).toBe(0);
    expect(errors).toHaveLength(1);
    await reclaimer.stop();
    reclaimer.tick(1_000_000);
    expect(reclaimer.running).toBe(false);
    expect(
      () => new L2Reclaimer({ reclaim: async () => ({ removed: 0, more: false }), intervalSeconds: 0 }),
    ).toThrow(RangeError);
  });
});
