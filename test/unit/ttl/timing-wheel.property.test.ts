// The wheel against the simplest correct model: a list of (slot, expiresAt)
// scanned in full on every advance. Random schedule/cancel/advance sequences
// with steps from one second to years, starting on and off level boundaries.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TimingWheel } from '../../../src/ttl/timing-wheel.js';

const SLOTS = 24;
const LAST_SECOND = 0xffff_fffe;

type Op =
  | { kind: 'schedule'; slot: number; offset: number }
  | { kind: 'cancel'; slot: number }
  | { kind: 'advance'; step: number; limit: number | undefined };

// Offsets and steps cluster around the level spans (256 s, 2^14, 2^20, 2^26)
// so entries land on every level and advances cross every kind of boundary.
const span = fc.oneof(
  fc.integer({ min: 0, max: 300 }),
  fc.integer({ min: 200, max: 20_000 }),
  fc.integer({ min: 10_000, max: 1_500_000 }),
  fc.integer({ min: 1_000_000, max: 80_000_000 }),
  fc.integer({ min: 60_000_000, max: 300_000_000 }),
  // Right on a level's edge, where an off-by-one in placement would alias a bucket.
  fc
    .tuple(
      fc.constantFrom(256, 2 ** 14, 2 ** 20, 2 ** 26, 63 * 2 ** 14, 63 * 2 ** 20, 64 * 2 ** 20),
      fc.integer({ min: -2, max: 2 }),
    )
    .map(([edge, jitter]) => edge + jitter),
);

const op = (withLimit: boolean): fc.Arbitrary<Op> =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('schedule' as const),
        slot: fc.nat(SLOTS - 1),
        offset: fc.oneof(span, fc.integer({ min: -500, max: 0 })),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), slot: fc.nat(SLOTS - 1) }) },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('advance' as const),
        step: fc.oneof(fc.integer({ min: -5, max: 3 }), span),
        limit: withLimit
          ? fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined })
          : fc.constant(undefined),
      }),
    },
  );

const start = fc.oneof(
  fc.constant(1_700_000_123),
  fc.constant(2 ** 30),
  fc.constant(2 ** 30 - 1),
  fc.integer({ min: 2 ** 30 - 2 ** 27, max: 2 ** 30 + 2 ** 27 }),
  // One second before a level boundary, so the first second processed starts a block.
  fc
    .tuple(fc.constantFrom(8, 14, 20, 26), fc.integer({ min: 1, max: 40 }))
    .map(([shift, k]) => 2 ** 31 + k * 2 ** shift - 1),
  fc.integer({ min: 0, max: LAST_SECOND - 2 ** 30 }),
);

/** Which slot numbers the SLOTS op indices stand for, and how big the wheel's entry pool starts. */
interface Layout {
  slots: readonly number[];
  initialCapacity: number;
}

const DENSE: Layout = { slots: Array.from({ length: SLOTS }, (_, i) => i), initialCapacity: SLOTS };
// Slot numbers far apart and up to the largest, with a pool that starts at one
// entry: every run grows the pool and the slot map and reuses freed ids.
const SPARSE: Layout = {
  slots: Array.from({ length: SLOTS }, (_, i) => (i === SLOTS - 1 ? 0x7fff_ffff : i * 1_000_003 + 7)),
  initialCapacity: 1,
};

function run(startSeconds: number, ops: Op[], layout: Layout = DENSE): void {
  const wheel = new TimingWheel({ nowSeconds: startSeconds, initialCapacity: layout.initialCapacity });
  const model = new Map<number, number>();
  let now = startSeconds;
  for (const o of ops) {
    switch (o.kind) {
      case 'schedule': {
        const t = Math.min(Math.max(now + o.offset, 0), LAST_SECOND);
        const slot = layout.slots[o.slot]!;
        wheel.schedule(slot, t);
        model.set(slot, t);
        break;
      }
      case 'cancel': {
        const slot = layout.slots[o.slot]!;
        wheel.cancel(slot);
        model.delete(slot);
        break;
      }
      case 'advance': {
        // The model clamps exactly as the contract says: time never goes backwards.
        now = Math.min(Math.max(now, now + o.step), LAST_SECOND);
        const due = [...model].filter(([, t]) => t <= now).map(([slot]) => slot);
        const got: number[] = [];
        const count = wheel.advance(now + Math.min(o.step, 0), (slot) => got.push(slot), o.limit);
        expect(count).toBe(got.length);
        if (o.limit === undefined) {
          expect(got.sort((a, b) => a - b)).toEqual(due.sort((a, b) => a - b));
        } else {
          expect(got.length).toBeLessThanOrEqual(o.limit);
          for (const slot of got) expect(due).toContain(slot);
          expect(new Set(got).size).toBe(got.length);
        }
        for (const slot of got) model.delete(slot);
        break;
      }
      default: {
        const exhaustive: never = o;
        throw new Error(`unknown op ${JSON.stringify(exhaustive)}`);
      }
    }
    expect(wheel.size).toBe(model.size);
    for (const slot of layout.slots) expect(wheel.isScheduled(slot)).toBe(model.has(slot));
  }
  // Whatever a limited advance left behind comes out on an unlimited one.
  const got: number[] = [];
  wheel.advance(now, (slot) => got.push(slot));
  const due = [...model].filter(([, t]) => t <= now).map(([slot]) => slot);
  expect(got.sort((a, b) => a - b)).toEqual(due.sort((a, b) => a - b));
}

describe('TimingWheel against a sorted-list model', () => {
  it('expires exactly the model set on every unlimited advance', () => {
    fc.assert(
      fc.property(start, fc.array(op(false), { maxLength: 120 }), (s, ops) => run(s, ops)),
      { numRuns: 400 },
    );
  });

  it('with limits, never delivers early, never twice, and loses nothing', () => {
    fc.assert(
      fc.property(start, fc.array(op(true), { maxLength: 120 }), (s, ops) => run(s, ops)),
      { numRuns: 400 },
    );
  });

  it('behaves the same with sparse slot numbers and a pool that starts at one entry', () => {
    fc.assert(
      fc.property(start, fc.array(op(true), { maxLength: 120 }), (s, ops) => run(s, ops, SPARSE)),
      { numRuns: 300 },
    );
  });
});
