import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ItemTable } from '../../../src/tiers/memory/item-table.js';

/** Every slot reachable from the chain of `hash`. */
function chain(table: ItemTable, hash: number): number[] {
  const slots: number[] = [];
  for (let slot = table.chainHead(hash); slot >= 0; slot = table.chainNext(slot)) slots.push(slot);
  return slots;
}

function insert(table: ItemTable, hash: number): number {
  const slot = table.allocSlot();
  if (slot < 0) return slot;
  table.place(slot, hash, 1, 0, 0);
  table.link(slot);
  return slot;
}

describe('ItemTable', () => {
  it('grows within its reserve without replacing the records', () => {
    const table = new ItemTable(0, 1000);
    const records = table.words;
    table.grow(10);
    table.grow(600);
    expect(table.capacity).toBe(600);
    expect(table.reserve).toBe(1000);
    expect(table.words).toBe(records);
    table.grow(2000);
    expect(table.words).not.toBe(records);
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

  it('keeps every field of a record apart, whatever the values', () => {
    const u32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
    const cas = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
    const fields = fc.record({
      hash: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      keyLength: fc.integer({ min: 1, max: 250 }),
      page: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      chunkOffset: fc.integer({ min: 0, max: 2 ** 30 }),
      valueLength: fc.integer({ min: 0, max: 2 ** 30 }),
      flags: u32,
      exptime: u32,
      cas,
      lastAccess: u32,
      nextCas: cas,
      accessedAt: u32,
    });
    fc.assert(
      fc.property(fc.array(fields, { minLength: 3, maxLength: 3 }), (items) => {
        const table = new ItemTable(3);
        const read = (slot: number) => [
          table.hash(slot),
          table.keyLength(slot),
          table.page(slot),
          table.chunkOffset(slot),
          table.valueLength(slot),
          table.flags(slot),
          table.exptime(slot),
          table.cas(slot),
          table.lastAccess(slot),
          table.fetched(slot),
        ];
        items.forEach((f, slot) => {
          table.place(slot, f.hash, f.keyLength, f.page, f.chunkOffset);
          table.setItem(slot, f.valueLength, f.flags, f.exptime, f.cas, f.lastAccess);
        });
        items.forEach((f, slot) => {
          const stored = [f.hash, f.keyLength, f.page, f.chunkOffset, f.valueLength, f.flags, f.exptime];
          expect(read(slot)).toEqual([...stored, f.cas, f.lastAccess, false]);
          table.access(slot, f.accessedAt);
          table.setCas(slot, f.nextCas);
          expect(read(slot)).toEqual([...stored, f.nextCas, f.accessedAt, true]);
          table.setExptime(slot, f.flags);
          expect(table.exptime(slot)).toBe(f.flags);
          table.setItem(slot, f.valueLength, f.flags, f.exptime, f.cas, f.lastAccess);
          expect(read(slot)).toEqual([...stored, f.cas, f.lastAccess, false]);
        });
        table.freeSlot(1);
        expect(table.keyLength(1)).toBe(0);
        expect(read(0)[1]).toBe(items[0]!.keyLength);
        expect(read(2)[1]).toBe(items[2]!.keyLength);
      }),
      { numRuns: 300 },
    );
  });
});
