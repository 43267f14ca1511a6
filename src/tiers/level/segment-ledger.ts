// How full each value-log segment is: the bytes written to it and the bytes
// of its entries the index still points at. LevelStore's plans record their
// effect on a SegmentChange; the change's records go into the same atomic
// LevelDB batch as the pointers they count, and the ledger takes the change
// only once that batch is in. So after a crash the ledger read back on open
// matches the index exactly, as meta does.

import { encodeSegmentUsage, type SegmentUsage, segmentKey } from './level-keys.js';
import type { BatchOp } from './store-plans.js';

export class SegmentLedger {
  readonly #usage = new Map<number, SegmentUsage>();
  #written = 0;
  #live = 0;

  constructor(entries: Iterable<[number, SegmentUsage]> = []) {
    for (const [segment, usage] of entries) this.#set(segment, usage);
  }

  get segments(): number {
    return this.#usage.size;
  }

  /** Bytes in all segments (what the log holds on disk). */
  get writtenBytes(): number {
    return this.#written;
  }

  get liveBytes(): number {
    return this.#live;
  }

  ids(): IterableIterator<number> {
    return this.#usage.keys();
  }

  usage(segment: number): SegmentUsage | undefined {
    return this.#usage.get(segment);
  }

  /** The segment not in `skip` with the most dead bytes, if it has any. */
  mostGarbage(skip: (segment: number) => boolean): number | undefined {
    let best: number | undefined;
    let bestGarbage = 0;
    for (const [segment, usage] of this.#usage) {
      const garbage = usage.written - usage.live;
      if (garbage > bestGarbage && !skip(segment)) {
        best = segment;
        bestGarbage = garbage;
      }
    }
    return best;
  }

  change(): SegmentChange {
    return new SegmentChange(this);
  }

  /** Takes a change whose batch is in LevelDB. */
  apply(change: SegmentChange): void {
    for (const [segment, usage] of change.touched) {
      if (usage === undefined) this.#delete(segment);
      else this.#set(segment, usage);
    }
  }

  clear(): void {
    this.#usage.clear();
    this.#written = 0;
    this.#live = 0;
  }

  #set(segment: number, usage: SegmentUsage): void {
    this.#delete(segment);
    this.#usage.set(segment, usage);
    this.#written += usage.written;
    this.#live += usage.live;
  }

  #delete(segment: number): void {
    const old = this.#usage.get(segment);
    if (old === undefined) return;
    this.#usage.delete(segment);
    this.#written -= old.written;
    this.#live -= old.live;
  }
}

/** One plan's effect on the ledger: new usage per touched segment, undefined = dropped. */
export class SegmentChange {
  readonly touched = new Map<number, SegmentUsage | undefined>();
  readonly #ledger: SegmentLedger;

  constructor(ledger: SegmentLedger) {
    this.#ledger = ledger;
  }

  current(segment: number): SegmentUsage | undefined {
    return this.touched.has(segment) ? this.touched.get(segment) : this.#ledger.usage(segment);
  }

  /** An entry of `bytes` written to the segment and pointed at. */
  append(segment: number, bytes: number): void {
    const usage = this.current(segment) ?? { written: 0, live: 0 };
    this.touched.set(segment, { written: usage.written + bytes, live: usage.live + bytes });
  }

  /** An entry of `bytes` no longer pointed at. */
  free(segment: number, bytes: number): void {
    const usage = this.current(segment);
    if (usage === undefined) return;
    this.touched.set(segment, { written: usage.written, live: Math.max(0, usage.live - bytes) });
  }

  drop(segment: number): void {
    this.touched.set(segment, undefined);
  }

  /** Segments not in `keep` this change leaves with nothing live: dropped in the same batch. */
  dropEmpty(keep: (segment: number) => boolean): number[] {
    const emptied: number[] = [];
    for (const [segment, usage] of this.touched) {
      if (usage !== undefined && usage.live === 0 && !keep(segment)) {
        this.touched.set(segment, undefined);
        emptied.push(segment);
      }
    }
    return emptied;
  }

  ops(): BatchOp[] {
    const ops: BatchOp[] = [];
    for (const [segment, usage] of this.touched) {
      ops.push(
        usage === undefined
          ? { type: 'del', key: segmentKey(segment) }
          : { type: 'put', key: segmentKey(segment), value: encodeSegmentUsage(usage) },
      );
    }
    return ops;
  }
}
