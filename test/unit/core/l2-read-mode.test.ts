// L2Bridge's read modes for gets (l2.read_mode): auto reads on the event
// loop until reads turn slow (the device, not the page cache), then goes to
// the pool for a while; sync never leaves the loop; async never uses it.
// "Slow" is simulated by a readSync that spins past SLOW_SYNC_READ_MS.

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import { type L2ReadMode, SLOW_SYNC_READ_LIMIT, SLOW_SYNC_READ_MS } from '../../../src/core/l2-bridge.js';
import type { FoundItem } from '../../../src/core/outcomes.js';
import type { ItemStore } from '../../../src/tiers/level/item-store.js';
import { pushOutOfL1, tieredCore } from './tiered-core.js';

/** A core whose keys k0..k(count-1) are in L2 only: set, then pushed out of L1 by fillers. */
async function coreWithL2Keys(readMode: L2ReadMode, count: number) {
  const tiered = await tieredCore(
    new ManualClock(),
    'overflow',
    { readMode, promotion: 'second-hit' },
    10_000,
  );
  const keys = Array.from({ length: count }, (_, i) => Buffer.from(`k${i}`));
  for (const key of keys) tiered.core.store('set', key, Buffer.alloc(8000, key.toString()), 7, 0, 0n);
  pushOutOfL1(tiered.core, keys);
  await tiered.store.flush();
  return { ...tiered, keys };
}

/** Makes every readSync take longer than SLOW_SYNC_READ_MS, as a read from the device would. */
function slowDown(store: ItemStore): void {
  const readSync = store.readSync.bind(store);
  store.readSync = (key) => {
    const until = performance.now() + SLOW_SYNC_READ_MS * 2;
    while (performance.now() < until) {
      // spin: the read is slow in the way the bridge measures, the wall clock
    }
    return readSync(key);
  };
}

describe('L2 read modes of gets', () => {
  it('auto: answers on the spot while reads are fast', async () => {
    const { core, store, bridge, keys } = await coreWithL2Keys('auto', 40);
    try {
      for (const key of keys) {
        const got = core.get(key);
        expect(got).not.toBeInstanceOf(Promise);
        expect((got as FoundItem).value.equals(Buffer.alloc(8000, key.toString()))).toBe(true);
      }
      expect(bridge.stats.l2SyncReads).toBe(keys.length);
      // The first read of a table file may be slow; far fewer than would switch modes.
      expect(bridge.stats.l2SlowSyncReads).toBeLessThan(SLOW_SYNC_READ_LIMIT);
    } finally {
      await store.close();
    }
  });

  it('get() hands back a value the caller may keep, though reads on the spot share one buffer', async () => {
    // Random values are stored raw (lz4 would not shrink them), so they are read straight into the log's buffer.
    const tiered = await tieredCore(
      new ManualClock(),
      'overflow',
      { readMode: 'sync', promotion: 'second-hit' },
      10_000,
    );
    const { core, store } = tiered;
    const keys = Array.from({ length: 4 }, (_, i) => Buffer.from(`k${i}`));
    const values = keys.map(() => randomBytes(8000));
    for (const [i, key] of keys.entries()) core.store('set', key, values[i]!, 7, 0, 0n);
    pushOutOfL1(core, keys);
    await store.flush();
    try {
      const kept = keys.map((key) => core.get(key) as FoundItem);
      for (const [i, item] of kept.entries()) expect(item.value.equals(values[i]!), `k${i}`).toBe(true);
      // getAt, the sessions' path, answers in the shared buffer: the next read overwrites it.
      const first = core.getAt(keys[0]!, 0, keys[0]!.length) as FoundItem;
      core.getAt(keys[1]!, 0, keys[1]!.length);
      expect(first.value.equals(values[1]!)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it(`auto: after more than ${SLOW_SYNC_READ_LIMIT} slow reads, gets go to the pool and still answer`, async () => {
    const { core, store, bridge, keys } = await coreWithL2Keys('auto', 40);
    try {
      slowDown(store);
      const answers: unknown[] = [];
      for (const key of keys) answers.push(core.get(key));
      expect(bridge.stats.l2SlowSyncReads).toBe(SLOW_SYNC_READ_LIMIT + 1);
      expect(bridge.stats.l2SyncReads).toBe(SLOW_SYNC_READ_LIMIT + 1);
      expect(answers.slice(0, SLOW_SYNC_READ_LIMIT + 1).every((a) => !(a instanceof Promise))).toBe(true);
      expect(answers.slice(SLOW_SYNC_READ_LIMIT + 1).every((a) => a instanceof Promise)).toBe(true);
      const values = await Promise.all(answers);
      expect(values.every((v) => (v as FoundItem | undefined)?.value.length === 8000)).toBe(true);
      expect(values.every((v) => (v as FoundItem).flags === 7)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('sync: slow reads stay on the event loop', async () => {
    const { core, store, bridge, keys } = await coreWithL2Keys('sync', 40);
    try {
      slowDown(store);
      for (const key of keys) expect(core.get(key)).not.toBeInstanceOf(Promise);
      expect(bridge.stats.l2SyncReads).toBe(keys.length);
      expect(bridge.stats.l2SlowSyncReads).toBe(keys.length);
    } finally {
      await store.close();
    }
  });

  it('async: every get read goes to the pool', async () => {
    const { core, store, bridge, keys } = await coreWithL2Keys('async', 10);
    try {
      const answers = keys.map((key) => core.get(key));
      expect(answers.every((a) => a instanceof Promise)).toBe(true);
      const values = await Promise.all(answers);
      expect(values.every((v) => (v as FoundItem | undefined)?.value.length === 8000)).toBe(true);
      expect(bridge.stats.l2SyncReads).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('a read on the spot never serves a deleted or expired item', async () => {
    const { core, store, keys } = await coreWithL2Keys('sync', 4);
    try {
      const [gone, expiring] = keys as [Buffer, Buffer];
      expect(await core.delete(gone)).toBe(true);
      expect(core.get(gone)).toBe(-1);
      expect(await core.touch(expiring, 1)).toBe(true);
      // touch promoted it; push it back out, then let it expire.
      pushOutOfL1(core, [expiring]);
      await store.flush();
      (core.clock as ManualClock).advanceSeconds(5);
      expect(core.get(expiring)).toBe(-1);
    } finally {
      await store.close();
    }
  });
});
