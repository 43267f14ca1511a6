// Example-based tests for the timing wheel: each level, the cascades between
// them, reschedule/cancel, exact expiry seconds, big jumps, the work limit and
// the entry pool's growth and memory. Time is whatever the test passes to advance(); nothing sleeps.

import { describe, expect, it } from 'vitest';
import { TimingWheel, WHEEL_ENTRY_BYTES } from '../../../src/ttl/timing-wheel.js';

const T0 = 1_700_000_123; // not aligned to any level boundary
const ALIGNED = 2 ** 30; // aligned to every level and to the 2^26 s epoch

function collect(wheel: TimingWheel, now: number, limit?: number): number[] {
  const out: number[] = [];
  wheel.advance(now, (slot) => out.push(slot), limit);
  return out;
}

describe('TimingWheel', () => {
  const deltas = [
    1,
    2,
    200,
    255,
    256,
    257,
    1000,
    2 ** 14 - 1,
    2 ** 14,
    2 ** 14 + 1,
    100_000,
    2 ** 20 - 1,
    2 ** 20,
    2 ** 20 + 1,
    5_000_000,
    2 ** 26 - 1,
    2 ** 26,
    2 ** 26 + 1,
    100_000_000,
    3 * 2 ** 26 + 12_345,
  ];
  for (const start of [T0, ALIGNED, ALIGNED - 1]) {
    it.each(deltas)(`expires exactly at start+%i, not a second before (start ${start})`, (delta) => {
      const wheel = new TimingWheel({ nowSeconds: start, initialCapacity: 4 });
      wheel.schedule(3, start + delta);
      expect(collect(wheel, start + delta - 1)).toEqual([]);
      expect(wheel.isScheduled(3)).toBe(true);
      expect(collect(wheel, start + delta)).toEqual([3]);
      expect(wheel.isScheduled(3)).toBe(false);
      expect(wheel.size).toBe(0);
    });
  }

  it('cascades across block boundaries when stepped one second at a time', () => {
    const start = ALIGNED - 300;
    const wheel = new TimingWheel({ nowSeconds: start, initialCapacity: 64 });
    const offsets = [1, 255, 256, 257, 299, 300, 301, 511, 512, 556, 600, 812, 813];
    offsets.forEach((offset, slot) => {
      wheel.schedule(slot, start + offset);
    });
    const seen = new Map<number, number>();
    for (let now = start + 1; now <= start + 900; now++) {
      for (const slot of collect(wheel, now)) seen.set(slot, now);
    }
    expect(seen.size).toBe(offsets.length);
    offsets.forEach((offset, slot) => {
      expect(seen.get(slot)).toBe(start + offset);
    });
  });

  it('cascades from the top level down when one advance passes several boundaries', () => {
    const wheel = new TimingWheel({ nowSeconds: T0, initialCapacity: 8 });
    const at = [T0 + 5, T0 + 3000, T0 + 200_000, T0 + 3_000_000, T0 + 90_000_000];
    at.forEach((t, slot) => {
      wheel.schedule(slot, t);
    });
    // Stop one second before each expiry, then at it.
    at.forEach((t, slot) => {
      expect(collect(wheel, t - 1)).toEqual([]);
      expect(collect(wheel, t)).toEqual([slot]);
    });
  });

  it('delivers everything a multi-year jump passes in one call, in time order', () => {
    const wheel = new TimingWheel({ nowSeconds: T0, initialCapacity: 16 });
    const at = [T0 + 90_000_000, T0 + 7, T0 + 3_000_000, T0 + 40_000, T0 + 600];
    at.forEach((t, slot) => {
      wheel.schedule(slot, t);
    });
    wheel.schedule(9, T0 + 2 ** 28);
    expect(collect(wheel, T0 + 100_000_000)).toEqual([1, 4, 3, 2, 0]);
    expect(wheel.size).toBe(1);
    expect(collect(wheel, T0 + 2 ** 28 - 1)).toEqual([]);
    expect(collect(wheel, T0 + 2 ** 28)).toEqual([9]);
  });

  it('stays correct after a jump lands between an entry and its cascade', () => {
    const wheel = new TimingWheel({ nowSeconds: T0, initialCapacity: 4 });
    wheel.schedule(0, T0 + 5_000_000);
    expect(collect(wheel, T0 + 4_999_000)).toEqual([]);
    wheel.schedule(1, T0 + 4_999_500);
    expect(collect(wheel, T0 + 4_999_999)).toEqual([1]);
    expect(collect(wheel, T0 + 5_000_000)).toEqual([0]);
  });

  it('reschedules a slot in place without changing size', () => {
    const wheel = new TimingWheel({ nowSeconds: T0, initialCapacity: 4 });
    wheel.schedule(2, T0 + 10);
    wheel.schedule(2, T0 + 100_000);
    expect(wheel.size).toBe(1);
    expect(collect(wheel, T0 + 50_000)).toEqual([]);
    wheel.schedule(2, T0 + 50_010);
    expect(collect(wheel, T0 + 50_009)).toEqual([]);
    expect(collect(wheel, T0 + 50_010)).toEqual([2]);
    expect(collect(wheel, T0 + 200_000)).toEqual([]);
  });

  it('cancel removes a slot at any level and is a no-op when not scheduled', () => {
    const wheel = new TimingWheel({ nowSeconds: T0, initialCapacity: 8 });
    const at = [T0 + 1, T0 + 1000, T0 + 100_000, T0 + 5_000_000, T0 + 100_000_000];
    at.forEach((t, slot) => {
      wheel.schedule(slot, t);
    });
    wheel.schedule(5, T0); // due
    for (const slot of [0, 2, 4, 5]) wheel.cancel(slot);
    wheel.cancel(0);
    wheel.cancel(7);
    wheel.cancel(-1);
    expect(wheel.size).toBe(2);
    expect(collect(wheel, T0 + 200_000_000).sort()).toEqual([1, 3]);
  });

  it('treats expiresAt at or before now as due on the next advance, even with the same now', () => {
    const wheel = new TimingWheel({ nowSeconds: T0, initialCapacity: 4 });
    wheel.schedule(0, T0);
    wheel.schedule(1, T0 - 1000);
    wheel.schedule(2, -5);
    wheel.schedule(3, T0 + 1);
    expect(collect(wheel, T0).sort()).toEqual([0, 1, 2]);
    expect(collect(wheel, T0 + 1)).toEqual([3]);
  });

  it('never lets time go backwards', () => {
    const wheel = new TimingWheel({ nowSeconds: T0, initialCapacity: 4 });
    expect(collect(wheel, T0 + 100)).toEqual([]);
    expect(collect(wheel, T0 + 10)).toEqual([]);
    wheel.schedule(0, T0 + 50); // before the latest now: already expired
    wheel.schedule(1, T0 + 101);
    expect(collect(wheel, T0 + 10)).toEqual([0]);
    expect(collect(wheel, T0 + 101)).toEqual([1]);
  });

  it('lets a slot be reused after expiry, including from inside onExpire', () => {
    const wheel = new TimingWheel({ nowSeconds: T0, initialCapacity: 2 });
    wheel.schedule(1, T0 + 3);
    const seen: number[] = [];
    wheel.advance(T0 + 3, (slot) => {
      seen.push(slot);
      wheel.schedule(slot, T0 + 1000);
    });
    expect(seen).toEqual([1]);
    expect(wheel.isScheduled(1)).toBe(true);
    expect(collect(wheel, T0 + 999)).toEqual([]);
    expect(collect(wheel, T0 + 1000)).toEqual([1]);
    wheel.schedule(1, T0 + 1001);
    expect(collect(wheel, T0 + 1001)).toEqual([1]);
  });

  it('does not spin when onExpire reschedules into the past; that lands on the next call', () => {
    const wheel = new TimingWheel({ nowSeconds: T0, initialCapacity: 2 });
    wheel.schedule(0, T0 + 1);
    let calls = 0;
    const expired = wheel.advance(T0 + 1, (slot) => {
      calls++;
      wheel.schedule(slot, T0);
    });
    expect(expired).toBe(1);
    expect(calls).toBe(1);
    expect(wheel.hasBacklog).toBe(true);
    expect(collect(wheel, T0 + 1)).toEqual([0]);
    expect(wheel.hasBacklog).toBe(false);
  });

  it('bounds expirations per call by limit and delivers the rest later', () => {
    const wheel = new TimingWheel({ nowSeconds: T0, initialCapacity: 128 });
    for (let slot = 0; slot < 100; slot++) wheel.schedule(slot, T0 + 1 + (slot % 3));
    expect(collect(wheel, T0 + 3, 30)).toHaveLength(30);
    expect(wheel.hasBacklog).toBe(true);
    expect(collect(wheel, T0 + 3, 30)).toHaveLength(30);
    expect(collect(wheel, T0 + 3, 30)).toHaveLength(30);
    expect(collect(wheel, T0 + 3, 30)).toHaveLength(10);
    expect(wheel.hasBacklog).toBe(false);
    expect(wheel.size).toBe(0);
    expect(collect(wheel, T0 + 3, 0)).toEqual([]);
  });

  it('counts cascade moves against limit and still delivers every slot exactly once', () => {
    const wheel = new TimingWheel({ nowSeconds: T0, initialCapacity: 2048 });
    const n = 2000;
    for (let slot = 0; slot < n; slot++) wheel.schedule(slot, T0 + 1000 + (slot % 5_000_000));
    for (let slot = 1000; slot < n; slot++) wheel.schedule(slot, T0 + 1000 + slot * 3000);
    const seen = new Set<number>();
    let calls = 0;
    const target = T0 + 1000 + n * 3000;
    do {
      const batch = collect(wheel, target, 64);
      expect(batch.length).toBeLessThanOrEqual(64);
      for (const slot of batch) {
        expect(seen.has(slot)).toBe(false);
        seen.add(slot);
      }
      calls++;
    } while (wheel.hasBacklog);
    expect(seen.size).toBe(n);
    expect(calls).toBeGreaterThan(n / 64);
  });

  it('resumes a limited advance without delivering anything early', () => {
    const wheel = new TimingWheel({ nowSeconds: T0 + 100, initialCapacity: 64 });
    for (let slot = 0; slot < 40; slot++) wheel.schedule(slot, T0 + 300);
    wheel.schedule(40, T0 + 301);
    expect(collect(wheel, T0 + 300, 10)).toHaveLength(10);
    // Scheduled while the wheel is behind: must still wait for its own second.
    wheel.schedule(41, T0 + 302);
    const rest = collect(wheel, T0 + 300);
    expect(rest).toHaveLength(30);
    expect(rest).not.toContain(40);
    expect(collect(wheel, T0 + 301)).toEqual([40]);
    expect(collect(wheel, T0 + 302)).toEqual([41]);
  });

  it('grows its entry pool as slots are scheduled, keeping every list intact', () => {
    const wheel = new TimingWheel({ nowSeconds: T0, initialCapacity: 2 });
    wheel.schedule(0, T0 + 5);
    wheel.schedule(1_000_000, T0 + 5);
    wheel.schedule(3, T0 + 100_000);
    expect(wheel.capacity).toBeGreaterThanOrEqual(3);
    for (let i = 0; i < 2000; i++) wheel.schedule(10_000 + i, T0 + 5);
    wheel.schedule(0x7fff_ffff, T0 + 5);
    expect(wheel.isScheduled(0)).toBe(true);
    expect(wheel.isScheduled(2)).toBe(false);
    expect(wheel.isScheduled(1500)).toBe(false);
    expect(wheel.size).toBe(2004);
    wheel.cancel(1_000_000);
    const due = collect(wheel, T0 + 5);
    expect(due.slice(0, 1)).toEqual([0]);
    expect(due).toHaveLength(2002);
    expect(due.at(-1)).toBe(0x7fff_ffff);
    expect(collect(wheel, T0 + 100_000)).toEqual([3]);
    expect(wheel.size).toBe(0);
  });

  it('grows within its reserve without copying the pool', () => {
    const wheel = new TimingWheel({ nowSeconds: T0, initialCapacity: 0, reserve: 50_000 });
    expect(wheel.reserve).toBe(50_000);
    // The pool doubles a dozen times, the slot map past the size it rehashes at once; the last
    // doubling stops at the reserve instead of stepping past it (and copying).
    for (let i = 0; i < 50_000; i++) wheel.schedule(i * 3, T0 + 1 + (i % 500));
    expect(wheel.capacity).toBe(50_000);
    expect(wheel.reserve).toBe(50_000);
    for (let i = 0; i < 50_000; i += 7) wheel.cancel(i * 3);
    let expired = 0;
    for (let t = T0 + 1; t <= T0 + 500; t++) {
      for (const slot of collect(wheel, t)) {
        expect(slot % 3).toBe(0);
        expect((slot / 3) % 7).not.toBe(0);
        expired++;
      }
    }
    expect(expired).toBe(50_000 - Math.ceil(50_000 / 7));
    expect(wheel.size).toBe(0);
    // Only the capacity is paid for: a wheel that used a tenth of its reserve reports a tenth of it.
    const light = new TimingWheel({ nowSeconds: T0, initialCapacity: 0, reserve: 50_000 });
    for (let i = 0; i < 5000; i++) light.schedule(i, T0 + 5);
    expect(light.allocatedBytes).toBeLessThan(WHEEL_ENTRY_BYTES * 20_000);
    // Past the reserve it still grows, by copying.
    const small = new TimingWheel({ nowSeconds: T0, initialCapacity: 0, reserve: 16 });
    for (let i = 0; i < 100; i++) small.schedule(i, T0 + 5);
    expect(small.reserve).toBeGreaterThanOrEqual(100);
    expect(collect(small, T0 + 5)).toHaveLength(100);
  });

  it('reuses freed entry ids instead of growing', () => {
    const wheel = new TimingWheel({ nowSeconds: T0, initialCapacity: 16 });
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 16; i++) wheel.schedule(round * 1000 + i, T0 + 1 + (i % 3));
      if (round % 2 === 0) for (let i = 0; i < 16; i++) wheel.cancel(round * 1000 + i);
      else expect(collect(wheel, T0 + 3 + round)).toHaveLength(16);
    }
    expect(wheel.capacity).toBe(16);
    expect(wheel.size).toBe(0);
  });

  it('costs memory per scheduled entry only, not per slot number', () => {
    const empty = new TimingWheel({ nowSeconds: T0, initialCapacity: 0 });
    expect(empty.allocatedBytes).toBeLessThan(4096);
    const sparse = new TimingWheel({ nowSeconds: T0, initialCapacity: 0 });
    // High slot numbers, as when a TTL item lands above a million items without one.
    for (let i = 0; i < 1000; i++) sparse.schedule(1_000_000 + i * 997, T0 + 1 + i);
    const perEntry = (sparse.allocatedBytes - empty.allocatedBytes) / 1000;
    // 18 B of pool columns per entry (up to 2x slack after doubling) plus a table of 4 B cells at load <= 5/8.
    expect(perEntry).toBeGreaterThanOrEqual(WHEEL_ENTRY_BYTES);
    expect(perEntry).toBeLessThan(2 * WHEEL_ENTRY_BYTES + 4 * (16 / 5));
  });

  it('pre-sizes the pool to initialCapacity at 18 B an entry plus the map', () => {
    const small = new TimingWheel({ nowSeconds: T0, initialCapacity: 0 });
    const big = new TimingWheel({ nowSeconds: T0, initialCapacity: 1_000_000 });
    // 1 M entries need 2^21 cells (load 0.48) at 4 B each.
    expect(big.allocatedBytes - small.allocatedBytes).toBe(
      WHEEL_ENTRY_BYTES * 1_000_000 + 4 * (2 ** 21 - 16),
    );
  });

  it('handles times at the top of the Uint32 range', () => {
    const top = 0xffff_fffe; // the last second; 0xffffffff is kept free for the cursor
    const wheel = new TimingWheel({ nowSeconds: top - 2 ** 27, initialCapacity: 4 });
    wheel.schedule(0, top);
    wheel.schedule(1, top - 1);
    wheel.schedule(2, 2 ** 40); // clamped to the last representable second
    expect(collect(wheel, top - 2)).toEqual([]);
    expect(collect(wheel, top - 1)).toEqual([1]);
    expect(collect(wheel, 2 ** 50).sort()).toEqual([0, 2]);
  });

  it('rejects slots and times it cannot represent', () => {
    const wheel = new TimingWheel({ nowSeconds: T0, initialCapacity: 4 });
    expect(() => wheel.schedule(-1, T0 + 1)).toThrow(RangeError);
    expect(() => wheel.schedule(1.5, T0 + 1)).toThrow(RangeError);
    expect(() => wheel.schedule(0, Number.NaN)).toThrow(RangeError);
    expect(() => wheel.schedule(0, T0 + 0.5)).toThrow(RangeError);
    expect(() => wheel.schedule(2 ** 31, T0 + 1)).toThrow(RangeError);
    expect(() => new TimingWheel({ nowSeconds: T0, initialCapacity: -1 })).toThrow(RangeError);
    wheel.schedule(1, T0 + 1);
    expect(wheel.isScheduled(99)).toBe(false);
    expect(wheel.isScheduled(-1)).toBe(false);
    expect(wheel.isScheduled(1.5)).toBe(false);
    wheel.cancel(1.5);
    expect(wheel.size).toBe(1);
  });
});
