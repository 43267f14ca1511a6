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
//
// No call may stall the event loop (issue 5: ~10 ms to rehash 1 M entries at
// once), so:
// - a cell holds entry + 1 and 0 is empty: a new table is a fresh (calloc'd)
//   array, with no fill and no page touched until used;
// - the entry -> slot column can be reserved up front, like L1's columns;
// - a table of more than `rehashAtOnceCells` cells doubles incrementally:
//   the old table stays readable and every set() moves MIGRATE_STEP of its
//   cells into the new one, see #migrate.

const EMPTY = 0;
const NONE = -1;
const MIN_CELLS = 16;
/** Up to 2^14 cells a rehash at once costs well under 0.1 ms; beyond, it is spread over later sets. */
const REHASH_AT_ONCE_CELLS = 2 ** 14;
/**
 * Old cells moved per set() while doubling. A doubling starts at a load of
 * 5/8 and the next one is 5/8 x (old cells) sets away, so any step >= 2
 * finishes first.
 */
const MIGRATE_STEP = 32;
/** Fibonacci hashing: slots are small consecutive integers; the top bits of the product spread them. */
const GOLDEN = 0x9e37_79b1;

export interface SlotEntryMapOptions {
  /** Length the entry -> slot column is allocated at up front, so reserveEntries() up to it never copies. */
  entryReserve?: number;
  /** Tables up to this many cells double in one go; larger ones incrementally (tests lower it). */
  rehashAtOnceCells?: number;
  /** Old cells moved per set() while doubling; at least 2 (tests lower it to see every state). */
  migrateStep?: number;
}

export class SlotEntryMap {
  /** Entry id + 1 per cell, EMPTY where free; length a power of two. */
  #cells: Int32Array;
  #mask: number;
  /** 32 - log2(cells): the shift that keeps the top bits of the hash. */
  #shift: number;
  /**
   * While doubling: the previous table. Its cells are moved cyclically from
   * #oldStart (a cell after an empty one, so no run crosses the start); the
   * first #migrated of them are empty, and a probe whose home lies among them
   * starts at the first unmoved cell instead, where its run now begins.
   */
  #old: Int32Array | null = null;
  #oldMask = 0;
  #oldShift = 0;
  #oldStart = 0;
  #migrated = 0;
  readonly #rehashAtOnceCells: number;
  readonly #migrateStep: number;
  /** Slot per entry id; stale for ids not in a table, which no cell then names. */
  #slotOf: Int32Array;
  /** Ids below this may be used; the column may be longer (reserved). */
  #entryCapacity: number;
  #size = 0;

  constructor(entryCapacity = 0, options: SlotEntryMapOptions = {}) {
    this.#entryCapacity = entryCapacity;
    this.#slotOf = new Int32Array(Math.max(entryCapacity, options.entryReserve ?? 0));
    this.#rehashAtOnceCells = options.rehashAtOnceCells ?? REHASH_AT_ONCE_CELLS;
    this.#migrateStep = Math.max(2, options.migrateStep ?? MIGRATE_STEP);
    const cells = cellsFor(entryCapacity);
    this.#cells = new Int32Array(cells);
    this.#mask = cells - 1;
    this.#shift = 32 - Math.log2(cells);
  }

  get size(): number {
    return this.#size;
  }

  /** Entry ids 0..entryCapacity-1 may be passed to `set`. */
  get entryCapacity(): number {
    return this.#entryCapacity;
  }

  /** Cells in the table (a power of two); the table doubles to keep the load at or under 5/8. */
  get cellCount(): number {
    return this.#cells.length;
  }

  /** Cells of the previous table not yet moved into the current one; 0 unless a doubling is under way. */
  get cellsToMigrate(): number {
    return this.#old === null ? 0 : this.#old.length - this.#migrated;
  }

  /** Length of the entry -> slot column: entry capacity up to it costs no copy. */
  get entryReserve(): number {
    return this.#slotOf.length;
  }

  /** Both tables while doubling, and the entry -> slot column up to the entry capacity (the reserve beyond is not resident). */
  get allocatedBytes(): number {
    return this.#cells.byteLength + (this.#old?.byteLength ?? 0) + this.#entryCapacity * 4;
  }

  /** Makes entry ids up to capacity-1 usable; O(1) within the reserve, one copy of the column beyond it. */
  reserveEntries(capacity: number): void {
    if (capacity <= this.#entryCapacity) return;
    if (capacity > this.#slotOf.length) {
      const column = new Int32Array(capacity);
      column.set(this.#slotOf);
      this.#slotOf = column;
    }
    this.#entryCapacity = capacity;
  }

  /** The slot an entry id in the table stands for. */
  slotOf(entry: number): number {
    return this.#slotOf[entry]!;
  }

  /** The entry id stored for `slot`, or -1. Any number may be asked; non-slots are simply absent. */
  get(slot: number): number {
    const e = find(this.#cells, this.#mask, this.#home(slot), slot, this.#slotOf);
    if (e !== NONE || this.#old === null) return e;
    return find(this.#old, this.#oldMask, this.#oldProbeStart(slot), slot, this.#slotOf);
  }

  /** Stores `entry` for `slot`, which must be absent (the wheel checks with `get` first). */
  set(slot: number, entry: number): void {
    if (!(entry >= 0 && entry < this.#entryCapacity)) {
      throw new RangeError(`entry ${entry} is outside 0..${this.#entryCapacity - 1}; reserveEntries() first`);
    }
    if (this.#old !== null) this.#migrate(this.#migrateStep);
    // Grow before the insert so the load stays at or under 5/8 after it.
    if ((this.#size + 1) * 8 > this.#cells.length * 5) this.#double();
    this.#slotOf[entry] = slot;
    insert(this.#cells, this.#mask, this.#home(slot), entry);
    this.#size++;
  }

  /** Removes `slot`; returns the entry id it had, or -1 if it was absent. */
  delete(slot: number): number {
    let e = removeFrom(this.#cells, this.#mask, this.#shift, this.#home(slot), slot, this.#slotOf);
    if (e === NONE && this.#old !== null) {
      e = removeFrom(this.#old, this.#oldMask, this.#oldShift, this.#oldProbeStart(slot), slot, this.#slotOf);
    }
    if (e !== NONE) this.#size--;
    return e;
  }

  #home(slot: number): number {
    return Math.imul(slot, GOLDEN) >>> this.#shift;
  }

  /** Where a probe for `slot` starts in the old table: its home, or the first unmoved cell if its home was moved. */
  #oldProbeStart(slot: number): number {
    const home = Math.imul(slot, GOLDEN) >>> this.#oldShift;
    const mask = this.#oldMask;
    const start = this.#oldStart;
    return ((home - start) & mask) < this.#migrated ? (start + this.#migrated) & mask : home;
  }

  /** Starts doubling the table; small tables are rehashed at once. */
  #double(): void {
    // A doubling still under way is finished first (cannot happen with a step >= 2, see MIGRATE_STEP).
    if (this.#old !== null) this.#migrate(this.#old.length);
    const old = this.#cells;
    const cellCount = old.length * 2;
    // A cell after an empty one: no run of the old table wraps across it. The load is <= 5/8, so one exists.
    let start = 0;
    while (old[(start - 1) & this.#mask] !== EMPTY) start++;
    this.#old = old;
    this.#oldMask = this.#mask;
    this.#oldShift = this.#shift;
    this.#oldStart = start;
    this.#migrated = 0;
    this.#cells = new Int32Array(cellCount);
    this.#mask = cellCount - 1;
    this.#shift = 32 - Math.log2(cellCount);
    if (old.length <= this.#rehashAtOnceCells) this.#migrate(old.length);
  }

  /**
   * Moves the next `count` old cells into the new table. A cell is emptied
   * from the start of its run, so the rest of the run stays reachable from
   * the first unmoved cell (see #oldProbeStart), and deletes there still
   * shift entries back correctly: every home they compare lies before the hole.
   */
  #migrate(count: number): void {
    const old = this.#old!;
    const oldMask = this.#oldMask;
    const cells = this.#cells;
    const mask = this.#mask;
    const shift = this.#shift;
    const slotOf = this.#slotOf;
    const end = Math.min(old.length, this.#migrated + count);
    for (let k = this.#migrated; k < end; k++) {
      const i = (this.#oldStart + k) & oldMask;
      const c = old[i]!;
      if (c === EMPTY) continue;
      old[i] = EMPTY;
      insert(cells, mask, Math.imul(slotOf[c - 1]!, GOLDEN) >>> shift, c - 1);
    }
    this.#migrated = end;
    if (end === old.length) this.#old = null;
  }
}

/** The entry id for `slot` probing from `start`, or -1 at the first empty cell. */
function find(cells: Int32Array, mask: number, start: number, slot: number, slotOf: Int32Array): number {
  for (let i = start; ; i = (i + 1) & mask) {
    const c = cells[i]!;
    if (c === EMPTY) return NONE;
    if (slotOf[c - 1] === slot) return c - 1;
  }
}

function insert(cells: Int32Array, mask: number, home: number, entry: number): void {
  let i = home;
  while (cells[i] !== EMPTY) i = (i + 1) & mask;
  cells[i] = entry + 1;
}

/**
 * Finds `slot` probing from `start` and removes it with a backward shift:
 * later members of the run move into the hole when their home is at or
 * before it, so every key stays reachable without tombstones. Returns the
 * entry id, or -1.
 */
function removeFrom(
  cells: Int32Array,
  mask: number,
  shift: number,
  start: number,
  slot: number,
  slotOf: Int32Array,
): number {
  let i = start;
  let c = cells[i]!;
  while (c !== EMPTY && slotOf[c - 1] !== slot) {
    i = (i + 1) & mask;
    c = cells[i]!;
  }
  if (c === EMPTY) return NONE;
  let hole = i;
  for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
    const moved = cells[j]!;
    if (moved === EMPTY) break;
    const home = Math.imul(slotOf[moved - 1]!, GOLDEN) >>> shift;
    if (((j - home) & mask) >= ((j - hole) & mask)) {
      cells[hole] = moved;
      hole = j;
    }
  }
  cells[hole] = EMPTY;
  return c - 1;
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
