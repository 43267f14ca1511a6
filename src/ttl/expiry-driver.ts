// One interval timer that drives TTL expiry for the whole cache: every tick it
// reads the injected Clock and hands the seconds to a supplied `tick`
// (typically a TimingWheel.advance with a work limit). It knows nothing of the
// wheel or items. Never a timer per key (undici's util/timers.js idea), and
// the timer is unref()'d so it alone never keeps the process alive.

import type { Clock } from '../core/clock.js';

export const DEFAULT_EXPIRY_INTERVAL_MS = 250;

/** The two timer functions the driver needs; injectable so tests drive ticks by hand. */
export interface IntervalTimers {
  setInterval(callback: () => void, ms: number): { unref(): unknown };
  clearInterval(handle: { unref(): unknown }): void;
}

const nodeTimers: IntervalTimers = {
  setInterval: (callback, ms) => setInterval(callback, ms),
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
};

export interface ExpiryDriverOptions {
  clock: Clock;
  /** Called once per interval with clock.nowSeconds(); should bound its own work. */
  tick: (nowSeconds: number) => void;
  /** 250 ms keeps expiry within 1 s of exptime even if a tick runs late. */
  intervalMs?: number;
  timers?: IntervalTimers;
}

export class ExpiryDriver {
  readonly #clock: Clock;
  readonly #tick: (nowSeconds: number) => void;
  readonly #intervalMs: number;
  readonly #timers: IntervalTimers;
  #handle: { unref(): unknown } | undefined;

  constructor(options: ExpiryDriverOptions) {
    const intervalMs = options.intervalMs ?? DEFAULT_EXPIRY_INTERVAL_MS;
    if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
      throw new RangeError(`intervalMs must be a positive number, got ${intervalMs}`);
    }
    this.#clock = options.clock;
    this.#tick = options.tick;
    this.#intervalMs = intervalMs;
    this.#timers = options.timers ?? nodeTimers;
  }

  get running(): boolean {
    return this.#handle !== undefined;
  }

  /** Starts the timer; a second start is a no-op, so there is never more than one. */
  start(): void {
    if (this.#handle !== undefined) return;
    this.#handle = this.#timers.setInterval(() => this.tickNow(), this.#intervalMs);
    this.#handle.unref();
  }

  stop(): void {
    if (this.#handle === undefined) return;
    this.#timers.clearInterval(this.#handle);
    this.#handle = undefined;
  }

  /** Runs one tick immediately, e.g. at start-up or from a shutdown path. */
  tickNow(): void {
    this.#tick(this.#clock.nowSeconds());
  }
}
