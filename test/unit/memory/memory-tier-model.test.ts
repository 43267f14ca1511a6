// Property tests: the tier against a plain Map model. With room for
// everything it must agree exactly; with a small budget every key it still
// finds must hold exactly the last value stored under it, and every key it
// evicted must have been reported through onEvict.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EVICTION_POLICIES } from '../../../src/tiers/memory/evictor.js';
import { MemoryTier, NO_MEMORY, TOO_LARGE } from '../../../src/tiers/memory/memory-tier.js';

const KIB = 1024;
const NOW = 1_700_000_000;

interface Entry {
  value: Buffer;
  flags: number;
}

type Op =
  | { kind: 'put'; key: number; size: number; fill: number; flags: number }
  | { kind: 'remove'; key: number }
  | { kind: 'hit'; key: number };

/** Keys of 1 to 250 bytes, some sharing prefixes, some binary. */
function keyBytes(i: number): Buffer {
  const length = 1 + ((i * 37) % 250);
  const bytes = Buffer.alloc(length, i % 3 === 0 ? 0x61 : 0x0a);
  bytes.writeUInt8(i & 0xff, length - 1);
  return bytes;
}

function opArbitrary(keys: number, maxSize: number): fc.Arbitrary<Op> {
  return fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant('put' as const),
        key: fc.nat(keys - 1),
        size: fc.nat(maxSize),
        fill: fc.nat(255),
        flags: fc.nat(),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), key: fc.nat(keys - 1) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('hit' as const), key: fc.nat(keys - 1) }) },
  );
}

function valueFor(op: { size: number; fill: number }): Buffer {
  const value = Buffer.alloc(op.size, op.fill);
  if (op.size > 2) value.write('\r\n', op.size >> 1, 'latin1');
  return value;
}

function run(tier: MemoryTier, model: Map<string, Entry>, ops: Op[], exact: boolean): void {
  let now = NOW;
  for (const op of ops) {
    now++;
    const key = keyBytes(op.key);
    const id = key.toString('hex');
    switch (op.kind) {
      case 'put': {
        const value = valueFor(op);
        const slot = tier.put(key, value, op.flags, 0, now, now);
        if (slot >= 0) model.set(id, { value, flags: op.flags });
        else if (exact) throw new Error(`put failed with ${slot} although nothing should be evicted`);
        else expect([NO_MEMORY, TOO_LARGE]).toContain(slot);
        break;
      }
      case 'remove': {
        const slot = tier.find(key);
        if (slot >= 0) tier.remove(slot);
        model.delete(id);
        break;
      }
      case 'hit': {
        const slot = tier.find(key);
        if (slot >= 0) tier.access(slot, now);
        break;
      }
      default:
        throw new Error(`unknown op ${JSON.stringify(op satisfies never)}`);
    }
    expect(tier.allocatedBytes).toBeLessThanOrEqual(tier.maxBytes);
    const slot = tier.find(key);
    const entry = model.get(id);
    expect(slot >= 0).toBe(entry !== undefined);
    if (entry !== undefined) {
      expect(tier.valueView(slot).equals(entry.value)).toBe(true);
      expect(tier.flags(slot)).toBe(entry.flags >>> 0);
    }
  }
  expect(tier.itemCount).toBe(model.size);
  for (const [id, entry] of model) {
    const slot = tier.find(Buffer.from(id, 'hex'));
    expect(slot).toBeGreaterThanOrEqual(0);
    expect(tier.valueView(slot).equals(entry.value)).toBe(true);
  }
}

describe('MemoryTier against a Map model', () => {
  for (const policy of EVICTION_POLICIES) {
    it(`agrees exactly when nothing is evicted (${policy})`, () => {
      fc.assert(
        fc.property(
          fc.array(opArbitrary(60, 5000), { minLength: 20, maxLength: 300, size: 'max' }),
          (ops) => {
            const tier = new MemoryTier({
              maxBytes: 64 * 1024 * KIB,
              maxItemSize: 64 * KIB,
              eviction: policy,
            });
            const model = new Map<string, Entry>();
            run(tier, model, ops, true);
            expect(tier.evictions).toBe(0);
          },
        ),
        { numRuns: 40 },
      );
    });

    it(`never returns a wrong value under eviction pressure (${policy})`, () => {
      let evictions = 0;
      let pageMoves = 0;
      fc.assert(
        fc.property(
          fc.array(opArbitrary(120, 9 * KIB), { minLength: 50, maxLength: 400, size: 'max' }),
          (ops) => {
            const model = new Map<string, Entry>();
            const scratch = Buffer.alloc(256);
            const tier: MemoryTier = new MemoryTier({
              maxBytes: 96 * KIB,
              maxItemSize: 8 * KIB,
              pageSize: 8 * KIB,
              eviction: policy,
              onEvict: (slot) => {
                const length = tier.copyKey(slot, scratch, 0);
                expect(model.delete(scratch.toString('hex', 0, length))).toBe(true);
              },
            });
            run(tier, model, ops, false);
            evictions += tier.evictions;
            pageMoves += tier.classStats().filter((c) => c.evicted > 0 && c.pages === 0).length;
          },
        ),
        { numRuns: 60 },
      );
      // The budget really was under pressure, across classes.
      expect(evictions).toBeGreaterThan(100);
      expect(pageMoves).toBeGreaterThan(0);
    });
  }
});
