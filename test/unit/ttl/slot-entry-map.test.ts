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

  it('agrees with a Map under random sets, deletes and reinserts', () => {
    // A small universe of slots, half of them colliding at one home, so runs are long and overlap.
    const colliding = slotsAtHome(3, 64, 12);
    const universe = [...colliding, 0, 1, 2, 17, 1000, 65_536, 2 ** 31 - 1, ...slotsAtHome(4, 64, 5)];
    const op = fc.oneof(
      { weight: 3, arbitrary: fc.tuple(fc.constant('set' as const), fc.nat(universe.length - 1)) },
      { weight: 2, arbitrary: fc.tuple(fc.constant('delete' as const), fc.nat(universe.length - 1)) },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), fc.nat(8), (ops, initial) => {
        const map = new SlotEntryMap(initial);
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
      }),
      { numRuns: 300 },
    );
  });
});
