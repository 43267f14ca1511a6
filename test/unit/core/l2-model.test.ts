// Model-based property test of CacheCore over a tiny L1 and a real L2: random
// set/add/cas/append/incr/delete/touch/get/flush_all and idle moments (the
// expiry tick's pass that copies L1's items to L2), compared step by step
// with a plain Map. Values of a few KiB in a 2 MiB L1 keep items moving
// between the tiers all the time; the clock is manual.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CacheCore } from '../../../src/core/cache-core.js';
import { ManualClock } from '../../../src/core/clock.js';
import type { FoundItem } from '../../../src/core/outcomes.js';
import { pushOutOfL1, type ReadPolicy, tieredCore } from './tiered-core.js';

/** Summed over runs, per policy: the test only means something if items really went through L2. */
const totals = new Map<
  string,
  { demotions: number; promotions: number; syncReads: number; idleWrites: number }
>();

interface ModelItem {
  value: Buffer;
  flags: number;
  /** Absolute unix second, 0 = never. */
  exptime: number;
  cas: number;
}

/** The pre-admission behaviour: every read on the pool, every hit promoted. */
const ASYNC_EVERY_HIT: ReadPolicy = { readMode: 'async', promotion: 'every-hit' };

async function read(core: CacheCore, key: Buffer): Promise<FoundItem | undefined> {
  const result = await core.get(key);
  if (typeof result !== 'number') return result;
  if (result < 0) return undefined;
  const value = Buffer.alloc(core.items.valueLength(result));
  core.items.copyValue(result, value, 0);
  return { value, flags: core.items.flags(result), cas: core.items.cas(result) };
}

const keyArb = fc.integer({ min: 0, max: 60 }).map((n) => Buffer.from(`key-${n}`));
const valueArb = fc
  .tuple(fc.integer({ min: 1, max: 16_000 }), fc.integer({ min: 0, max: 255 }), fc.boolean())
  .map(([length, seed, compressible]) => {
    const value = Buffer.alloc(length);
    for (let i = 0; i < length; i++)
      value[i] = compressible ? 97 + ((seed + (i >> 6)) % 3) : (seed * 31 + i * 17) & 255;
    return value;
  });
const exptimeArb = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 10 }));

const commandArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('set' as const),
      key: keyArb,
      value: valueArb,
      exptime: exptimeArb,
      flags: fc.nat(1000),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('add' as const),
      key: keyArb,
      value: valueArb,
      exptime: exptimeArb,
      flags: fc.nat(1000),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('append' as const), key: keyArb, value: valueArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('cas' as const),
      key: keyArb,
      value: valueArb,
      stale: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('incr' as const), key: keyArb, delta: fc.nat(1000) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), key: keyArb }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('touch' as const), key: keyArb, exptime: exptimeArb }),
  },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('get' as const), key: keyArb }) },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('tick' as const), seconds: fc.integer({ min: 1, max: 8 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'flush' as const }) },
  { weight: 2, arbitrary: fc.constant({ op: 'idle' as const }) },
);
type Command = typeof commandArb extends fc.Arbitrary<infer T> ? T : never;

async function runAgainstModel(
  commands: Command[],
  mode: 'overflow' | 'write-through',
  policy: ReadPolicy,
): Promise<void> {
  const clock = new ManualClock();
  const { core, store, bridge } = await tieredCore(clock, mode, policy);
  const model = new Map<string, ModelItem>();
  const live = (key: Buffer): ModelItem | undefined => {
    const item = model.get(key.toString());
    if (item === undefined) return undefined;
    if (item.exptime !== 0 && item.exptime <= clock.nowSeconds()) {
      model.delete(key.toString());
      return undefined;
    }
    return item;
  };
  const abs = (exptime: number) => (exptime === 0 ? 0 : clock.nowSeconds() + exptime);
  try {
    for (const [step, command] of commands.entries()) {
      const where = `step ${step}: ${command.op}`;
      switch (command.op) {
        case 'set':
        case 'add': {
          const existing = live(command.key);
          const outcome = await core.store(
            command.op,
            command.key,
            command.value,
            command.flags,
            command.exptime,
            0n,
          );
          const expected = command.op === 'add' && existing !== undefined ? 'not_stored' : 'stored';
          expect(outcome, where).toBe(expected);
          if (outcome === 'stored') {
            const stored = await read(core, command.key);
            expect(stored, where).toBeDefined();
            model.set(command.key.toString(), {
              value: command.value,
              flags: command.flags,
              exptime: abs(command.exptime),
              cas: stored?.cas ?? -1,
            });
          }
          break;
        }
        case 'append': {
          const existing = live(command.key);
          const outcome = await core.store('append', command.key, command.value, 0, 0, 0n);
          expect(outcome, where).toBe(existing === undefined ? 'not_stored' : 'stored');
          if (existing !== undefined) {
            existing.value = Buffer.concat([existing.value, command.value]);
            existing.cas = (await read(core, command.key))?.cas ?? -1;
          }
          break;
        }
        case 'cas': {
          const existing = live(command.key);
          const unique = existing === undefined ? 1n : BigInt(existing.cas + (command.stale ? 1 : 0));
          const outcome = await core.store('cas', command.key, command.value, 7, 0, unique);
          const expected = existing === undefined ? 'not_found' : command.stale ? 'exists' : 'stored';
          expect(outcome, where).toBe(expected);
          if (outcome === 'stored' && existing !== undefined) {
            model.set(command.key.toString(), {
              value: command.value,
              flags: 7,
              exptime: 0,
              cas: (await read(core, command.key))?.cas ?? -1,
            });
          }
          break;
        }
        case 'incr': {
          const existing = live(command.key);
          const result = await core.arithmetic(command.key, BigInt(command.delta), true);
          if (existing === undefined) {
            expect(result, where).toBe('not_found');
            break;
          }
          const text = existing.value.toString('latin1');
          if (!/^\d{1,20}$/.test(text.trimEnd()) || BigInt(text.trimEnd()) >= 2n ** 64n) {
            expect(result, where).toBe('non_numeric');
            break;
          }
          const next = (BigInt(text.trimEnd()) + BigInt(command.delta)) % 2n ** 64n;
          expect(result, where).toBe(next);
          const after = await read(core, command.key);
          existing.value = after?.value ?? Buffer.alloc(0);
          existing.cas = after?.cas ?? -1;
          expect(existing.value.toString('latin1').trimEnd(), where).toBe(next.toString());
          break;
        }
        case 'delete': {
          const existing = live(command.key);
          expect(await core.delete(command.key), where).toBe(existing !== undefined);
          model.delete(command.key.toString());
          break;
        }
        case 'touch': {
          const existing = live(command.key);
          expect(await core.touch(command.key, command.exptime), where).toBe(existing !== undefined);
          if (existing !== undefined) existing.exptime = abs(command.exptime);
          break;
        }
        case 'get': {
          const existing = live(command.key);
          const found = await read(core, command.key);
          if (existing === undefined) {
            expect(found, where).toBeUndefined();
          } else {
            expect(found, where).toBeDefined();
            expect(found?.value.equals(existing.value), `${where} value`).toBe(true);
            expect(found?.flags, where).toBe(existing.flags);
            expect(found?.cas, where).toBe(existing.cas);
          }
          break;
        }
        case 'tick':
          clock.advanceSeconds(command.seconds);
          break;
        case 'flush':
          core.flushAll(0);
          model.clear();
          break;
        case 'idle':
          // Two ticks with no command between them: the second starts the pass.
          core.tickExpiry();
          core.tickExpiry();
          await bridge.idlePass;
          break;
        default:
          command satisfies never;
      }
    }
    const total = totals.get(policyName(mode, policy)) ?? {
      demotions: 0,
      promotions: 0,
      syncReads: 0,
      idleWrites: 0,
    };
    total.idleWrites += bridge.stats.l2IdleWrites;
    total.demotions += bridge.stats.l2Demotions;
    total.promotions += bridge.stats.l2Promotions;
    total.syncReads += bridge.stats.l2SyncReads;
    totals.set(policyName(mode, policy), total);
  } finally {
    await store.close();
  }
}

function policyName(mode: string, policy: ReadPolicy): string {
  return `${mode}, read_mode ${policy.readMode}, promotion ${policy.promotion}`;
}

describe('CacheCore over L1 + L2 against a Map model', () => {
  const policies: ReadPolicy[] = [ASYNC_EVERY_HIT, { readMode: 'sync', promotion: 'second-hit' }];
  for (const policy of policies) {
    it(`overflow mode, read_mode ${policy.readMode}, promotion ${policy.promotion}: every answer matches the model while items move between tiers`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(commandArb, { minLength: 50, maxLength: 400 }), (commands) =>
          runAgainstModel(commands, 'overflow', policy),
        ),
        { numRuns: 30 },
      );
      const name = policyName('overflow', policy);
      const total = totals.get(name);
      // Typical runs: ~500 demotions, 60-80 promotions and (sync) 70 reads on the event loop.
      expect(total?.demotions).toBeGreaterThan(50);
      expect(total?.promotions).toBeGreaterThan(20);
      expect(total?.idleWrites).toBeGreaterThan(50);
      if (policy.readMode === 'sync') expect(total?.syncReads).toBeGreaterThan(20);
      else expect(total?.syncReads).toBe(0);
      console.info(`[l2-model] ${name}: ${JSON.stringify(total)}`);
    });
  }

  it('write-through mode: every answer matches the model', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(commandArb, { minLength: 50, maxLength: 400 }), (commands) =>
        runAgainstModel(commands, 'write-through', { readMode: 'auto', promotion: 'second-hit' }),
      ),
      { numRuns: 15 },
    );
  });
});

describe('CacheCore over L1 + L2: commands that wait for the same L2 read', () => {
  /** A core whose L1 no longer holds `key` (set, then pushed out to L2 by other items). */
  async function withKeyInL2(key: Buffer, value: string, policy: ReadPolicy = ASYNC_EVERY_HIT) {
    const tiered = await tieredCore(new ManualClock(), 'overflow', policy);
    expect(tiered.core.store('set', key, Buffer.from(value), 3, 0, 0n)).toBe('stored');
    pushOutOfL1(tiered.core, [key]);
    await tiered.store.flush();
    return tiered;
  }

  it('a get queued behind an append answers the appended value, not the record it read', async () => {
    const key = Buffer.from('racing');
    const { core, store } = await withKeyInL2(key, 'hello');
    try {
      const appended = core.store('append', key, Buffer.from(' world'), 0, 0, 0n);
      const got = core.get(key);
      expect(typeof got).not.toBe('number');
      expect(await appended).toBe('stored');
      const found = (await got) as FoundItem | undefined;
      expect(found?.value.toString()).toBe('hello world');
      expect(found?.flags).toBe(3);
    } finally {
      await store.close();
    }
  });

  it('read_mode sync: a get while an append waits for L2 answers at once, and the append lands on top', async () => {
    const key = Buffer.from('racing');
    const { core, store, bridge } = await withKeyInL2(key, 'hello', {
      readMode: 'sync',
      promotion: 'every-hit',
    });
    try {
      const appended = core.store('append', key, Buffer.from(' world'), 0, 0, 0n);
      expect(appended).toBeInstanceOf(Promise);
      // The append is not acknowledged yet, so the get may order before it.
      const got = core.get(key);
      expect(got).not.toBeInstanceOf(Promise);
      expect((got as FoundItem).value.toString()).toBe('hello');
      expect(bridge.stats.l2SyncReads).toBe(1);
      expect(await appended).toBe('stored');
      expect((await read(core, key))?.value.toString()).toBe('hello world');
    } finally {
      await store.close();
    }
  });

  it('a get ahead of an append answers the value it read, and keeps it after the append', async () => {
    const key = Buffer.from('racing');
    const { core, store } = await withKeyInL2(key, 'hello');
    try {
      const got = core.get(key);
      const appended = core.store('append', key, Buffer.from(' world'), 0, 0, 0n);
      expect(typeof got).not.toBe('number');
      const found = (await got) as FoundItem | undefined;
      expect(await appended).toBe('stored');
      expect(found?.value.toString()).toBe('hello');
      expect((await read(core, key))?.value.toString()).toBe('hello world');
    } finally {
      await store.close();
    }
  });
});
