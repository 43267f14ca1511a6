// Paces L2's expiry reclamation: every `intervalSeconds` (by the injected
// clock's seconds, so tests drive it) one pass deletes expired L2 records in
// batches of `batchSize` through the supplied `reclaim` (LevelStore's walk of
// its expiry index: it reads only the expired prefix, so a pass costs what
// expired, never a scan of what is stored). It knows nothing of LevelDB or
// items. A pass is asynchronous and never blocks the event loop; at most one
// runs at a time. A pass stops after `maxPerPass` records; a backlog left
// behind (mass expiry, or items that expired while the server was down) is
// picked up on the very next tick instead of waiting a whole interval.
//
// Bound: a record that expired at second E is gone by E + intervalSeconds +
// the duration of the passes ahead of it (the default, 10 s, leaves ample
// room under the documented 60 s while fewer than ~10^4 records expire per
// second).

export const DEFAULT_L2_RECLAIM_INTERVAL_SECONDS = 10;
/** Records per LevelDB batch: one getMany and one atomic write of ~3 deletes each. */
export const L2_RECLAIM_BATCH = 1000;
/** Records per pass before yielding the store's queue to foreground writes for a tick. */
export const L2_RECLAIM_MAX_PER_PASS = 50_000;

/** One batch's outcome: records deleted, and whether the batch stopped at its limit. */
export interface ReclaimBatch {
  readonly removed: number;
  readonly more: boolean;
}

export type ReclaimFn = (nowSeconds: number, limit: number) => Promise<ReclaimBatch>;

export interface L2ReclaimerOptions {
  /** Deletes up to `limit` records expired at `nowSeconds`. */
  reclaim: ReclaimFn;
  intervalSeconds?: number;
  batchSize?: number;
  maxPerPass?: number;
  /** A failed batch ends the pass; the next interval retries. */
  onError?: (error: unknown) => void;
}

export class L2Reclaimer {
  readonly #reclaim: ReclaimFn;
  readonly #intervalSeconds: number;
  readonly #batchSize: number;
  readonly #maxPerPass: number;
  readonly #onError: ((error: unknown) => void) | undefined;
  /** Second at or after which the next pass may start; 0 = at the first tick (start-up backlog). */
  #dueAt = 0;
  #running: Promise<number> | undefined;
  #stopped = false;
  #removed = 0;

  constructor(options: L2ReclaimerOptions) {
    const intervalSeconds = options.intervalSeconds ?? DEFAULT_L2_RECLAIM_INTERVAL_SECONDS;
    if (!Number.isInteger(intervalSeconds) || intervalSeconds < 1) {
      throw new RangeError(`intervalSeconds must be a positive integer, got ${intervalSeconds}`);
    }
    this.#reclaim = options.reclaim;
    this.#intervalSeconds = intervalSeconds;
    this.#batchSize = options.batchSize ?? L2_RECLAIM_BATCH;
    this.#maxPerPass = options.maxPerPass ?? L2_RECLAIM_MAX_PER_PASS;
    this.#onError = options.onError;
  }

  /** Records this reclaimer removed (the `l2_expired` stat). */
  get removed(): number {
    return this.#removed;
  }

  get running(): boolean {
    return this.#running !== undefined;
  }

  /** Called on every expiry-driver tick; starts a pass when one is due. Cheap otherwise. */
  tick(nowSeconds: number): void {
    if (this.#running !== undefined || this.#stopped || nowSeconds < this.#dueAt) return;
    void this.runPass(nowSeconds);
  }

  /**
   * Runs one pass now (or joins the one running) and resolves to the records
   * it removed. Never rejects: errors go to onError.
   */
  runPass(nowSeconds: number): Promise<number> {
    this.#running ??= this.#pass(nowSeconds).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** No new passes; resolves once the one under way (if any) has finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
  }

  async #pass(nowSeconds: number): Promise<number> {
    let removed = 0;
    let backlog = false;
    try {
      while (!this.#stopped) {
        const limit = Math.min(this.#batchSize, this.#maxPerPass - removed);
        if (limit <= 0) {
          backlog = true;
          break;
        }
        const batch = await this.#reclaim(nowSeconds, limit);
        removed += batch.removed;
        this.#removed += batch.removed;
        if (!batch.more) break;
      }
    } catch (error) {
      this.#onError?.(error);
    }
    this.#dueAt = backlog ? nowSeconds : nowSeconds + this.#intervalSeconds;
    return removed;
  }
}
