import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ItemTable } from '../../../src/tiers/memory/item-table.js';

/** Every slot reachable from the chain of `hash`. */
function chain(table: ItemTable, hash: number): number[] {
  const slots: number[] = [];
  for (let slot = table.chainHead(hash); slot >= 0; slot = table.chainNext[slot]!) slots.push(slot);
  return slots;
}

function insert(table: ItemTable, hash: number): number {
  const slot = table.allocSlot();
  if (slot < 0) return slot;
  table.hash[slot] = hash;
  table.keyLength[slot] = 1;
  table.link(slot);
  return slot;
}

describe('ItemTable', () => {
  it('grows within its reserve without replacing the columns', () => {
    const table = new ItemTable(0, 1000);
    const hashColumn = table.hash;
    table.grow(10);
    table.grow(600);
    expect(table.capacity).toBe(600);
    expect(table.reserve).toBe(1000);
    expect(table.hash).toBe(hashColumn);
    table.grow(2000);
    expect(table.hash).not.toBe(hashColumn);
    expect(table.reserve).toBe(2000);
  });

  it('hands out the lowest unused slots first, freed slots before them', () => {
    const table = new ItemTable(4);
    expect([insert(table, 1), insert(table, 2), insert(table, 3)]).toEqual([0, 1, 2]);
    table.unlink(1);
    table.freeSlot(1);
    expect(insert(table, 4)).toBe(1);
    expect(insert(table, 5)).toBe(3);
    expect(table.allocSlot()).toBe(-1);
  });

  it('resizes the bucket array a few buckets per link, finding every slot throughout', () => {
    const table = new ItemTable(64);
    const live = new Map<number, number>();
    for (let i = 0; i < 64; i++) live.set(insert(table, Math.imul(i, 0x9e3779b1)), Math.imul(i, 0x9e3779b1));
    table.grow(4096);
    expect(table.resizing).toBe(true);
    for (const [slot, hash] of live) expect(chain(table, hash)).toContain(slot);
    for (let i = 64; !(!table.resizing && i > 200); i++) {
      const hash = Math.imul(i, 0x9e3779b1);
      live.set(insert(table, hash), hash);
      for (const [slot, h] of live) expect(chain(table, h)).toContain(slot);
    }
    expect(table.resizing).toBe(false);
  });

  it('agrees with a Map model under inserts, removals and growth', () => {
    const op = fc.oneof(
      fc.record({ insert: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) }),
      fc.record({ remove: fc.nat() }),
      fc.record({ grow: fc.integer({ min: 1, max: 3000 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), fc.integer({ min: 0, max: 2000 }), (ops, reserve) => {
        const table = new ItemTable(0, reserve);
        const model = new Map<number, number>();
        for (const o of ops) {
          if ('insert' in o) {
            const slot = insert(table, o.insert);
            if (slot >= 0) model.set(slot, o.insert);
            else expect(model.size).toBe(table.capacity);
          } else if ('remove' in o) {
            const slots = [...model.keys()];
            if (slots.length === 0) continue;
            const slot = slots[o.remove % slots.length]!;
            table.unlink(slot);
            table.freeSlot(slot);
            model.delete(slot);
          } else {
            table.grow(o.grow);
          }
          expect(table.liveCount).toBe(model.size);
        }
        for (const [slot, hash] of model)
          expect(chain(table, hash).filter((s) => s === slot)).toHaveLength(1);
      }),
      { numRuns: 200 },
    );
  });
});
