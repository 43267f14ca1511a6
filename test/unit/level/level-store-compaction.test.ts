// LevelStore compacts its data range once a burst of writes has stopped for
// COMPACT_QUIET_MS (level-store.ts): after enough bytes, not before, not
// while writes keep coming, never when disabled, and without losing a record.

import { describe, expect, it } from 'vitest';
import { COMPACT_QUIET_MS } from '../../../src/tiers/level/level-store.js';
import { key, openStore, tempDir } from './level-fixtures.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const record = (i: number): Buffer => Buffer.alloc(1000, i & 255);

async function writeBurst(store: Awaited<ReturnType<typeof openStore>>, from: number, count: number) {
  for (let i = from; i < from + count; i++) store.enqueuePut(key(`k${i}`), record(i));
  await store.flush();
}

/** Writes have been quiet for longer than COMPACT_QUIET_MS, and no compaction ran. */
async function expectNoCompaction(store: Awaited<ReturnType<typeof openStore>>): Promise<void> {
  await sleep(COMPACT_QUIET_MS + 200);
  expect(store.compacting).toBeUndefined();
  expect(store.stats().compactions).toBe(0);
}

describe('LevelStore compaction after a burst of writes', () => {
  it('compacts once writes stop, and every record still reads back', async () => {
    const store = await openStore(await tempDir(), { compactAfterBytes: 200_000 });
    await writeBurst(store, 0, 400);
    expect(store.stats().compactions).toBe(0);
    await sleep(COMPACT_QUIET_MS + 200);
    await store.compacting;
    expect(store.stats().compactions).toBe(1);
    for (let i = 0; i < 400; i++) expect((await store.get(key(`k${i}`)))?.equals(record(i))).toBe(true);
  });

  it('does not compact below the threshold', async () => {
    const store = await openStore(await tempDir(), { compactAfterBytes: 10_000_000 });
    await writeBurst(store, 0, 400);
    await expectNoCompaction(store);
  });

  it('waits while writes keep coming', async () => {
    const store = await openStore(await tempDir(), { compactAfterBytes: 200_000 });
    await writeBurst(store, 0, 400);
    // A batch every half quiet period: never a quiet second.
    for (let round = 0; round < 4; round++) {
      await sleep(COMPACT_QUIET_MS / 2);
      await writeBurst(store, 400 + round, 1);
    }
    expect(store.stats().compactions).toBe(0);
    await sleep(COMPACT_QUIET_MS + 200);
    await store.compacting;
    expect(store.stats().compactions).toBe(1);
  });

  it('never compacts when disabled (compactAfterBytes 0)', async () => {
    const store = await openStore(await tempDir(), { compactAfterBytes: 0 });
    await writeBurst(store, 0, 400);
    await expectNoCompaction(store);
  });
});
