// Time for the cache, injected so tests drive it instead of sleeping.
// memcached works in whole seconds: an item with exptime E is gone once the
// seconds clock reaches E, so a TTL of 1 can expire almost at once. We keep
// expiry as absolute unix seconds (it must survive restarts in L2).

export interface Clock {
  /** Whole unix seconds; the unit of every exptime the cache stores. */
  nowSeconds(): number;
  /** Milliseconds, for logs and latencies; never for expiry. */
  nowMs(): number;
}

/**
 * How often systemClock's seconds are re-read. Expiry counts whole seconds,
 * and memcached's own clock ticks once a second (clock_handler), so a tenth
 * of a second late is well inside what a client can tell.
 */
const SECONDS_REFRESH_MS = 100;
let cachedSeconds = 0;
let secondsTimer: NodeJS.Timeout | undefined;

function readSeconds(): void {
  cachedSeconds = Math.floor(Date.now() / 1000);
}

/**
 * The real clock. nowSeconds() is read once per request batch, and
 * Date.now() costs ~50 ns a call (bench/micro/buffer-views.mjs), ~0.5% of a
 * small get under load; so it returns a value an unref'd timer refreshes
 * instead. A blocked event loop holds it back, as it holds memcached's timer
 * event back.
 */
export const systemClock: Clock = {
  nowSeconds: () => {
    if (secondsTimer === undefined) {
      readSeconds();
      secondsTimer = setInterval(readSeconds, SECONDS_REFRESH_MS);
      secondsTimer.unref();
    }
    return cachedSeconds;
  },
  nowMs: () => Date.now(),
};

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  #ms: number;

  constructor(startMs = 1_700_000_000_000) {
    this.#ms = startMs;
  }

  nowSeconds(): number {
    return Math.floor(this.#ms / 1000);
  }

  nowMs(): number {
    return this.#ms;
  }

  advanceMs(ms: number): void {
    this.#ms += ms;
  }

  advanceSeconds(seconds: number): void {
    this.#ms += seconds * 1000;
  }
}
