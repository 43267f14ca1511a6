// The expiry driver with hand-driven timers and a ManualClock: one interval,
// unref()'d, ticking with the clock's seconds, stoppable. Nothing sleeps.

import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import {
  DEFAULT_EXPIRY_INTERVAL_MS,
  ExpiryDriver,
  type IntervalTimers,
} from '../../../src/ttl/expiry-driver.js';
import { TimingWheel } from '../../../src/ttl/timing-wheel.js';

class FakeTimers implements IntervalTimers {
  readonly active = new Map<object, { callback: () => void; ms: number; unrefed: boolean }>();
  created = 0;

  setInterval(callback: () => void, ms: number): { unref(): unknown } {
    this.created++;
    const handle = {
      unref: () => {
        const entry = this.active.get(handle);
        if (entry) entry.unrefed = true;
        return handle;
      },
    };
    this.active.set(handle, { callback, ms, unrefed: false });
    return handle;
  }

  clearInterval(handle: { unref(): unknown }): void {
    this.active.delete(handle);
  }

  fireAll(): void {
    for (const { callback } of this.active.values()) callback();
  }
}

describe('ExpiryDriver', () => {
  it('runs one unref()d interval that ticks with the clock seconds', () => {
    const clock = new ManualClock(1_700_000_000_500);
    const timers = new FakeTimers();
    const ticks: number[] = [];
    const driver = new ExpiryDriver({ clock, timers, tick: (now) => ticks.push(now) });
    expect(timers.created).toBe(0);
    driver.start();
    driver.start();
    expect(driver.running).toBe(true);
    expect(timers.created).toBe(1);
    const [entry] = timers.active.values();
    expect(entry?.ms).toBe(DEFAULT_EXPIRY_INTERVAL_MS);
    expect(entry?.unrefed).toBe(true);

    timers.fireAll();
    clock.advanceMs(600);
    timers.fireAll();
    clock.advanceSeconds(3600);
    timers.fireAll();
    expect(ticks).toEqual([1_700_000_000, 1_700_000_001, 1_700_003_601]);
  });

  it('stops its timer and can start again', () => {
    const timers = new FakeTimers();
    const ticks: number[] = [];
    const driver = new ExpiryDriver({
      clock: new ManualClock(),
      timers,
      intervalMs: 100,
      tick: (n) => ticks.push(n),
    });
    driver.start();
    driver.stop();
    driver.stop();
    expect(driver.running).toBe(false);
    expect(timers.active.size).toBe(0);
    timers.fireAll();
    expect(ticks).toEqual([]);
    driver.start();
    expect(timers.created).toBe(2);
    expect([...timers.active.values()][0]?.ms).toBe(100);
    driver.tickNow();
    expect(ticks).toHaveLength(1);
  });

  it('rejects a non-positive interval', () => {
    const clock = new ManualClock();
    expect(() => new ExpiryDriver({ clock, tick: () => {}, intervalMs: 0 })).toThrow(RangeError);
    expect(() => new ExpiryDriver({ clock, tick: () => {}, intervalMs: Number.NaN })).toThrow(RangeError);
  });

  it('drives a wheel: expiry lands on the first tick at or after exptime', () => {
    const clock = new ManualClock(1_700_000_000_000);
    const timers = new FakeTimers();
    const wheel = new TimingWheel({ nowSeconds: clock.nowSeconds(), initialCapacity: 8 });
    const expired: number[] = [];
    const driver = new ExpiryDriver({
      clock,
      timers,
      tick: (now) => wheel.advance(now, (slot) => expired.push(slot), 1000),
    });
    wheel.schedule(4, clock.nowSeconds() + 2);
    driver.start();
    for (let i = 0; i < 7; i++) {
      clock.advanceMs(250);
      timers.fireAll();
    }
    expect(expired).toEqual([]);
    clock.advanceMs(250);
    timers.fireAll();
    expect(expired).toEqual([4]);
    driver.stop();
  });

  it('uses real Node timers by default and unrefs them', () => {
    const driver = new ExpiryDriver({ clock: new ManualClock(), tick: () => {} });
    driver.start();
    expect(driver.running).toBe(true);
    driver.stop();
    expect(driver.running).toBe(false);
  });
});
