// Slot -> entry id map for the timing wheel: an open-addressing Int32 hash
// table with linear probing and backward-shift deletion (no tombstones, so
// probe lengths never decay with churn), plus the entry -> slot column the
// table compares keys against. It owns no entry ids: the wheel hands them out
// and tells the map how many it may use. It knows nothing of time.
//
// The table stores only entry ids (4 B a cell); a cell's key is read back
// through the entry -> slot column, which the wheel needs anyway to name a
// slot in its callbacks. That halves the table against key + value cells at
// the price of one indirect read per occupied cell probed.

const EMPTY = -1;
const MIN_CELLS = 16;
/** Fibonacci hashing: slots are small consecutive integers; the top bits of the product spread them. */
const GOLDEN = 0x9e37_79b1;

export class SlotEntryMap {
  /** Entry id per cell, EMPTY where free; length a power of two. */
  #cells: Int32Array;
  #mask: number;
  /** 32 - log2(cells): the shift that keeps the top bits of the hash. */
  #shift: number;
  /** Slot per entry id; stale for ids not in the table, which no cell then names. */
  #slotOf: Int32Array;
  #size = 0;

  constructor(entryCapacity = 0) {
    this.#slotOf = new Int32Array(entryCapacity);
    const cells = cellsFor(entryCapacity);
    this.#cells = new Int32Array(cells).fill(EMPTY);
    this.#mask = cells - 1;
    this.#shift = 32 - Math.log2(cells);
  }

  get size(): number {
    return this.#size;
  }

  /** Entry ids 0..entryCapacity-1 may be passed to `set`. */
  get entryCapacity(): number {
    return this.#slotOf.length;
  }

  /** Cells in the table (a power of two); the table doubles to keep the load at or under 5/8. */
  get cellCount(): number {
    return this.#cells.length;
  }

  get allocatedBytes(): number {
    return this.#cells.byteLength + this.#slotOf.byteLength;
  }

  /** Makes entry ids up to capacity-1 usable; copies the entry -> slot column once. */
  reserveEntries(capacity: number): void {
    if (capacity <= this.#slotOf.length) return;
    const column = new Int32Array(capacity);
    column.set(this.#slotOf);
    this.#slotOf = column;
  }

  /** The slot an entry id in the table stands for. */
  slotOf(entry: number): number {
    return this.#slotOf[entry]!;
  }

  /** The entry id stored for `slot`, or -1. Any number may be asked; non-slots are simply absent. */
  get(slot: number): number {
    const cells = this.#cells;
    const slotOf = this.#slotOf;
    for (let i = this.#home(slot); ; i = (i + 1) & this.#mask) {
      const e = cells[i]!;
      if (e === EMPTY || slotOf[e] === slot) return e;
    }
  }

  /** Stores `entry` for `slot`, which must be absent (the wheel checks with `get` first). */
  set(slot: number, entry: number): void {
    if (entry < 0 || entry >= this.#slotOf.length) {
      throw new RangeError(`entry ${entry} is outside 0..${this.#slotOf.length - 1}; reserveEntries() first`);
    }
    // Grow before the insert so the load stays at or under 5/8 after it.
    if ((this.#size + 1) * 8 > this.#cells.length * 5) this.#rehash(this.#cells.length * 2);
    this.#slotOf[entry] = slot;
    this.#insert(entry, slot);
    this.#size++;
  }

  /** Removes `slot`; returns the entry id it had, or -1 if it was absent. */
  delete(slot: number): number {
    const cells = this.#cells;
    const slotOf = this.#slotOf;
    const mask = this.#mask;
    let i = this.#home(slot);
    let e = cells[i]!;
    while (e !== EMPTY && slotOf[e] !== slot) {
      i = (i + 1) & mask;
      e = cells[i]!;
    }
    if (e === EMPTY) return EMPTY;
    // Backward shift: pull later members of the run into the hole when their
    // home is at or before it, so every key stays reachable from its home
    // without tombstones.
    let hole = i;
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const moved = cells[j]!;
      if (moved === EMPTY) break;
      const home = this.#home(slotOf[moved]!);
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        cells[hole] = moved;
        hole = j;
      }
    }
    cells[hole] = EMPTY;
    this.#size--;
    return e;
  }

  #home(slot: number): number {
    return Math.imul(slot, GOLDEN) >>> this.#shift;
  }

  #insert(entry: number, slot: number): void {
    const cells = this.#cells;
    let i = this.#home(slot);
    while (cells[i] !== EMPTY) i = (i + 1) & this.#mask;
    cells[i] = entry;
  }

  #rehash(cellCount: number): void {
    const old = this.#cells;
    this.#cells = new Int32Array(cellCount).fill(EMPTY);
    this.#mask = cellCount - 1;
    this.#shift = 32 - Math.log2(cellCount);
    for (let i = 0; i < old.length; i++) {
      const e = old[i]!;
      if (e !== EMPTY) this.#insert(e, this.#slotOf[e]!);
    }
  }
}

/** The cell a slot's probe starts at in a table of `cellCount` cells (a power of two). */
export function homeCell(slot: number, cellCount: number): number {
  return Math.imul(slot, GOLDEN) >>> (32 - Math.log2(cellCount));
}

/** The smallest power of two, at least MIN_CELLS, holding n keys at a load of at most 5/8. */
function cellsFor(n: number): number {
  let cells = MIN_CELLS;
  while (n * 8 > cells * 5) cells *= 2;
  return cells;
}
