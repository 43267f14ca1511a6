// CAS uniques: one counter, never reused. With L2 the counter is reserved in
// persisted blocks (a new block half a block ahead), so a restart, even after
// a crash, starts above every unique handed out before it.

/** CAS uniques reserved (persisted) at a time. */
export const CAS_BLOCK = 1_000_000;

export class CasSequence {
  #next: number;
  #reservedUpTo = Number.POSITIVE_INFINITY;
  readonly #persist: ((reservedUpTo: number) => void) | undefined;

  /** `persist` records a reservation durably; without it nothing is reserved. */
  constructor(first: number, persist?: (reservedUpTo: number) => void) {
    this.#next = Math.max(1, first);
    this.#persist = persist;
    if (persist !== undefined) this.#reserve();
  }

  /** The unique the next write will get; everything stored so far is below it. */
  get next(): number {
    return this.#next;
  }

  take(): number {
    const cas = this.#next++;
    if (this.#next + CAS_BLOCK / 2 > this.#reservedUpTo) this.#reserve();
    return cas;
  }

  #reserve(): void {
    this.#reservedUpTo = this.#next + CAS_BLOCK;
    this.#persist?.(this.#reservedUpTo);
  }
}
