// The background walk that frees L1 items invalidated by flush_all. This is
// a walk triggered by flush_all, not a periodic scan: it starts only when a
// flush takes effect, covers the slots that existed at that moment once, in
// bounded steps per expiry-driver tick, and then stops. flush_all itself
// stays O(1) (a CAS watermark); reads refuse flushed items whether or not
// the walk has reached them, so the walk only gives their memory back
// without waiting for reads or eviction. It knows slot numbers, not items:
// the caller says whether a slot was flushed and removes it.

/** Slots looked at per step: a cheap column read each. */
export const FLUSH_SWEEP_SLOTS_PER_STEP = 200_000;
/** Items removed per step, so a flush of millions of items never stalls the event loop. */
export const FLUSH_SWEEP_REMOVALS_PER_STEP = 10_000;

export class FlushSweep {
  /** Next slot to look at; the walk is done once it reaches #end. */
  #next = 0;
  #end = 0;

  get active(): boolean {
    return this.#next < this.#end;
  }

  /**
   * (Re)starts the walk over slots 0..slotCount-1, the slots that existed when
   * the flush took effect; any item in a higher slot was stored after it.
   */
  start(slotCount: number): void {
    this.#next = 0;
    this.#end = Math.max(this.#end, slotCount);
  }

  /**
   * Looks at the next slots; `sweep(slot)` removes the slot's item if the
   * flush invalidated it and returns true if it did. Returns the removals.
   */
  step(
    sweep: (slot: number) => boolean,
    maxSlots = FLUSH_SWEEP_SLOTS_PER_STEP,
    maxRemovals = FLUSH_SWEEP_REMOVALS_PER_STEP,
  ): number {
    const stop = Math.min(this.#end, this.#next + maxSlots);
    let removed = 0;
    let slot = this.#next;
    while (slot < stop && removed < maxRemovals) {
      if (sweep(slot)) removed++;
      slot++;
    }
    this.#next = slot;
    if (slot >= this.#end) {
      this.#next = 0;
      this.#end = 0;
    }
    return removed;
  }
}
