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

export const systemClock: Clock = {
  nowSeconds: () => Math.floor(Date.now() / 1000),
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
