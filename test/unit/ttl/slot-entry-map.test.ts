// The wheel's slot -> entry hash table: collisions, wrap-around runs and
// backward-shift deletion by example (keys chosen by their home cell), then
// random set/delete sequences against a plain Map.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { homeCell, SlotEntryMap } from '../../../src/ttl/slot-entry-map.js';

/** The first `count` slots >= 0 whose probe starts at `cell` in a table of `cells` cells. */
function slotsAtHome(cell: number, cells: number, count: number): number[] {
  const out: number[] = [];
  for (let slot = 0; out.length < count; slot++) if (homeCell(slot, cells) === cell) out.push(slot);
  return out;
}

function expectContents(map: SlotEntryMap, model: Map<number, number>, probes: readonly number[]): void {
  expect(map.size).toBe(model.size);
  for (const [slot, entry] of model) {
    expect(map.get(slot)).toBe(entry);
    expect(map.slotOf(entry)).toBe(slot);
  }
  for (const slot of probes) if (!model.has(slot)) expect(map.get(slot)).toBe(-1);
}

type MapOp = ['set' | 'delete', number];

/** A set or delete of one slot of `universe` (by index). */
function mapOp(universe: readonly number[]): fc.Arbitrary<MapOp> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.tuple(fc.constant('set' as const), fc.nat(universe.length - 1)) },
    { weight: 2, arbitrary: fc.tuple(fc.constant('delete' as const), fc.nat(universe.length - 1)) },
  );
}

/** Runs ops on map and on a Map model side by side (entries recycled as the wheel recycles them), checking after each. */
function runAgainstModel(map: SlotEntryMap, ops: readonly MapOp[], universe: readonly number[]): void {
  const model = new Map<number, number>();
  const free: number[] = [];
  let nextId = 0;
  for (const [kind, index] of ops) {
    const slot = universe[index]!;
    switch (kind) {
      case 'set': {
        if (model.has(slot)) break;
        const entry = free.pop() ?? nextId++;
        map.reserveEntries(nextId);
        map.set(slot, entry);
        model.set(slot, entry);
        break;
      }
      case 'delete': {
        const expected = model.get(slot) ?? -1;
        expect(map.delete(slot)).toBe(expected);
        if (expected !== -1) {
          model.delete(slot);
          free.push(expected);
        }
        break;
      }
      default: {
        const never: never = kind;
        throw new Error(`unknown op ${String(never)}`);
      }
    }
    expectContents(map, model, universe);
  }
}

describe('SlotEntryMap', () => {
  it('starts with 16 cells and misses everything, including non-slots', () => {
    const map = new SlotEntryMap(0);
    expect(map.cellCount).toBe(16);
    for (const slot of [0, 1, 2 ** 31 - 1, -1, 1.5, Number.NaN]) expect(map.get(slot)).toBe(-1);
    expect(map.delete(7)).toBe(-1);
    expect(() => map.set(1, 0)).toThrow(RangeError);
  });

  it('keeps colliding slots reachable through inserts, deletes and reinserts', () => {
    const map = new SlotEntryMap(8);
    const [a, b, c, d] = slotsAtHome(5, 16, 4) as [number, number, number, number];
    const [x] = slotsAtHome(6, 16, 1) as [number];
    const model = new Map<number, number>();
    // a b c d x fill cells 5..9; x sits past its home, behind the run of 5s.
    for (const [slot, entry] of [
      [a, 0],
      [b, 1],
      [c, 2],
      [d, 3],
      [x, 4],
    ] as const) {
      map.set(slot, entry);
      model.set(slot, entry);
    }
    expect(map.cellCount).toBe(16);
    const probes = [a, b, c, d, x];
    expectContents(map, model, probes);
    // Deleting the head of the run shifts b, c, d and x back one cell each.
    expect(map.delete(a)).toBe(0);
    model.delete(a);
    expectContents(map, model, probes);
    // Deleting from the middle, then a miss that probes the whole run.
    expect(map.delete(c)).toBe(2);
    model.delete(c);
    expect(map.delete(c)).toBe(-1);
    expectContents(map, model, probes);
    // Reinsert under new entry ids (the wheel reuses freed ids).
    map.set(c, 0);
    map.set(a, 2);
    model.set(c, 0).set(a, 2);
    expectContents(map, model, probes);
    for (const slot of [b, x, d, a, c]) {
      expect(map.delete(slot)).toBe(model.get(slot));
      model.delete(slot);
      expectContents(map, model, probes);
    }
  });

  it('shifts back across the end of the table and leaves entries at their home alone', () => {
    const map = new SlotEntryMap(8);
    const [p, q, r] = slotsAtHome(14, 16, 3) as [number, number, number];
    const [s] = slotsAtHome(0, 16, 1) as [number];
    const [t] = slotsAtHome(15, 16, 1) as [number];
    // Cells 14, 15, 0, 1, 2 hold p, q, r, s, t: r wrapped; s and t sit past their homes.
    const model = new Map<number, number>();
    for (const [slot, entry] of [
      [p, 0],
      [q, 1],
      [r, 2],
      [s, 3],
      [t, 4],
    ] as const) {
      map.set(slot, entry);
      model.set(slot, entry);
    }
    const probes = [p, q, r, s, t];
    for (const slot of [q, p, s, r, t]) {
      expect(map.delete(slot)).toBe(model.get(slot));
      model.delete(slot);
      expectContents(map, model, probes);
    }
    expect(map.size).toBe(0);
  });

  it('doubles before the load passes 5/8', () => {
    const map = new SlotEntryMap(1000);
    expect(map.cellCount).toBe(2048); // 1000 ids pre-size the table: 1000/1024 would be too full
    const grown = new SlotEntryMap(0);
    grown.reserveEntries(11);
    for (let i = 0; i < 10; i++) grown.set(i * 16, i);
    expect(grown.cellCount).toBe(16);
    grown.set(1000, 10);
    expect(grown.cellCount).toBe(32);
    for (let i = 0; i < 10; i++) expect(grown.get(i * 16)).toBe(i);
    expect(grown.get(1000)).toBe(10);
    expect(grown.allocatedBytes).toBe(32 * 4 + 11 * 4);
  });

  it('reserves the entry -> slot column so entry capacity grows without a copy', () => {
    const map = new SlotEntryMap(0, { entryReserve: 1000 });
    expect(map.entryReserve).toBe(1000);
    map.reserveEntries(16);
    map.reserveEntries(600);
    expect(map.entryCapacity).toBe(600);
    expect(map.entryReserve).toBe(1000);
    // What the map reports is what it can hand out, not the untouched reserve.
    expect(map.allocatedBytes).toBe(16 * 4 + 600 * 4);
    expect(() => map.set(1, 600)).toThrow(RangeError);
    map.reserveEntries(2000);
    expect(map.entryReserve).toBe(2000);
  });

  it('keeps a run that wraps the table end reachable while it is moved a few cells at a time', () => {
    for (const step of [2, 3, 4]) {
      const map = new SlotEntryMap(0, { rehashAtOnceCells: 0, migrateStep: step });
      map.reserveEntries(64);
      // Eight slots at home 15 of 16 cells fill 15, 0..6; six at home 3 queue behind them.
      const slots = [...slotsAtHome(15, 16, 8), ...slotsAtHome(3, 16, 6)];
      const model = new Map<number, number>();
      slots.forEach((slot, entry) => {
        map.set(slot, entry);
        model.set(slot, entry);
        expectContents(map, model, slots);
      });
      expect(map.cellCount).toBe(32);
      // Start another doubling, then delete from the old table's wrapped run and the new table alike.
      const more = slotsAtHome(20, 32, 7);
      more.forEach((slot, i) => {
        map.set(slot, slots.length + i);
        model.set(slot, slots.length + i);
        const victim = slots[(i * 5) % slots.length]!;
        if (model.has(victim)) {
          expect(map.delete(victim)).toBe(model.get(victim));
          model.delete(victim);
        }
        expectContents(map, model, [...slots, ...more]);
      });
    }
  });

  it('doubles a large table a few cells per set, finding every slot throughout', () => {
    const map = new SlotEntryMap(2 ** 14);
    const cells = map.cellCount;
    const ids = 2 * cells;
    map.reserveEntries(ids);
    // Fill to the 5/8 load; the next set starts a doubling that must not move the whole table.
    const full = (cells * 5) / 8;
    for (let slot = 0; slot < full; slot++) map.set(slot * 7, slot);
    expect(map.cellsToMigrate).toBe(0);
    map.set(1, full);
    expect(map.cellCount).toBe(2 * cells);
    expect(map.cellsToMigrate).toBeGreaterThan(cells - 16);
    const live = new Map<number, number>([[1, full]]);
    for (let slot = 0; slot < full; slot++) live.set(slot * 7, slot);
    // Deletes and sets while old and new tables both hold entries.
    let next = full + 1;
    for (let round = 0; map.cellsToMigrate > 0; round++) {
      const victim = (round * 13 * 7) % (full * 7);
      if (live.has(victim)) {
        expect(map.delete(victim)).toBe(live.get(victim));
        live.delete(victim);
      }
      map.set(full * 7 + round, next);
      live.set(full * 7 + round, next++);
      if (round % 512 === 0) for (const [slot, entry] of live) expect(map.get(slot)).toBe(entry);
      expect(round).toBeLessThan(cells);
    }
    expect(map.size).toBe(live.size);
    for (const [slot, entry] of live) expect(map.get(slot)).toBe(entry);
    expect(map.allocatedBytes).toBe(2 * cells * 4 + ids * 4);
  });

  it('agrees with a Map under random sets, deletes and reinserts', () => {
    // A small universe of slots, half of them colliding at one home, so runs are long and overlap.
    const colliding = slotsAtHome(3, 64, 12);
    const universe = [...colliding, 0, 1, 2, 17, 1000, 65_536, 2 ** 31 - 1, ...slotsAtHome(4, 64, 5)];
    fc.assert(
      fc.property(fc.array(mapOp(universe), { maxLength: 200 }), fc.nat(8), (ops, initial) => {
        runAgainstModel(new SlotEntryMap(initial), ops, universe);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with a Map while every doubling is incremental, runs wrapping the table end included', () => {
    // Homes at the ends of 16-, 32- and 64-cell tables, so runs wrap while old and new tables are both live.
    const universe = [
      ...slotsAtHome(15, 16, 6),
      ...slotsAtHome(0, 16, 4),
      ...slotsAtHome(31, 32, 4),
      ...slotsAtHome(63, 64, 4),
      ...slotsAtHome(7, 16, 6),
      3,
      2 ** 31 - 1,
    ];
    fc.assert(
      fc.property(
        fc.array(mapOp(universe), { maxLength: 300 }),
        fc.nat(4),
        fc.integer({ min: 2, max: 5 }),
        (ops, initial, step) => {
          runAgainstModel(
            new SlotEntryMap(initial, { rehashAtOnceCells: 0, migrateStep: step }),
            ops,
            universe,
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
