// L2 expiry reclamation on a real LevelStore: batches resume where the last
// one stopped (no re-walk of its own tombstones), a pass ends when nothing
// more has expired, records written already expired behind the cursor are
// caught by the next pass, and live or TTL-less records are never touched.

import { describe, expect, it } from 'vitest';
import { L2Reclaimer } from '../../../src/ttl/l2-reclaimer.js';
import { key, openStore, readRawAndCheck, tempDir } from '../level/level-fixtures.js';

const record = Buffer.alloc(32, 'r');

describe('L2 expiry passes over LevelStore', () => {
  it('deletes exactly the expired records, in resumable batches, and counts them', async () => {
    const dir = await tempDir();
    const store = await openStore(dir);
    for (let i = 0; i < 2500; i++) store.enqueuePut(key(`exp${i}`), record, 1000 + (i % 50));
    for (let i = 0; i < 300; i++) store.enqueuePut(key(`live${i}`), record, 5000);
    for (let i = 0; i < 200; i++) store.enqueuePut(key(`never${i}`), record, 0);
    await store.flush();

    expect(await store.reclaimExpired(2000, 1000)).toBe(1000);
    expect(store.reclaimHasMore).toBe(true);
    expect(await store.reclaimExpired(2000, 1000)).toBe(1000);
    expect(await store.reclaimExpired(2000, 1000)).toBe(500);
    expect(store.reclaimHasMore).toBe(false);

    // Written already expired: a later pass starts from the front and finds it.
    await store.put(key('late'), record, 900);
    const reclaimer = new L2Reclaimer({
      reclaim: async (now, limit) => ({
        removed: await store.reclaimExpired(now, limit),
        more: store.reclaimHasMore,
      }),
      batchSize: 100,
    });
    expect(await reclaimer.runPass(2000)).toBe(1);
    expect(await reclaimer.runPass(2000)).toBe(0);
    expect(store.stats()).toMatchObject({ items: 500, expiredReclaimed: 2501 });
    expect(await store.get(key('live0'))).toBeDefined();
    expect(await store.get(key('never0'))).toBeDefined();
    expect(await store.get(key('exp0'))).toBeUndefined();

    expect(await reclaimer.runPass(5000)).toBe(300);
    await store.close();
    // Records, both indexes and the meta totals still agree after the deletions.
    const raw = await readRawAndCheck(dir);
    expect(raw.items).toBe(200);
    expect([...raw.records.keys()].every((id) => id.startsWith('never'))).toBe(true);
  });
});
