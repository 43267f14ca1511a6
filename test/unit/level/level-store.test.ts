import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { LevelIoError } from '../../../src/tiers/level/level-errors.js';
import { key, onCleanup, openStore, readRawAndCheck, tempDir } from './level-fixtures.js';

const rec = (s: string): Buffer => Buffer.from(`record:${s}`);

describe('LevelStore basics', () => {
  it('puts, gets and deletes, counting key + record bytes', async () => {
    const store = await openStore(await tempDir());
    expect(await store.get(key('a'))).toBeUndefined();
    await store.put(key('a'), rec('1'));
    await store.put(key('bb'), rec('22'));
    expect((await store.get(key('a')))?.toString()).toBe('record:1');
    expect(store.stats()).toMatchObject({ items: 2, bytes: 1 + 8 + 2 + 9, pendingBytes: 0 });

    await store.put(key('a'), rec('longer'));
    expect((await store.get(key('a')))?.toString()).toBe('record:longer');
    expect(store.stats()).toMatchObject({ items: 2, bytes: 1 + 13 + 2 + 9 });

    await store.del(key('a'));
    await store.del(key('missing'));
    expect(await store.get(key('a'))).toBeUndefined();
    expect(store.stats()).toMatchObject({ items: 1, bytes: 11 });
  });

  it('treats keys as bytes, not text', async () => {
    const store = await openStore(await tempDir());
    const binary = Buffer.from([0x00, 0xff, 0x80, 0x0a]);
    await store.put(binary, rec('bin'));
    expect((await store.get(Buffer.from([0x00, 0xff, 0x80, 0x0a])))?.toString()).toBe('record:bin');
    expect(await store.get(Buffer.from([0x00, 0xff, 0x80]))).toBeUndefined();
  });

  it('refuses use after close with a typed error', async () => {
    const store = await openStore(await tempDir());
    await store.close();
    await expect(store.get(key('a'))).rejects.toBeInstanceOf(LevelIoError);
    expect(() => store.enqueuePut(key('a'), rec('a'))).toThrow(/closed/);
  });
});

describe('LevelStore batched writes', () => {
  it('reads its own pending writes before they are flushed', async () => {
    const store = await openStore(await tempDir(), { flushIntervalMs: 60_000 });
    await store.put(key('gone'), rec('old'));
    store.enqueuePut(key('k'), rec('v1'));
    store.enqueuePut(key('k'), rec('v2'));
    store.enqueueDel(key('gone'));
    expect((await store.get(key('k')))?.toString()).toBe('record:v2');
    expect(await store.get(key('gone'))).toBeUndefined();
    // Coalesced: one pending write for k, sized by its latest record.
    expect(store.stats()).toMatchObject({ pendingWrites: 2, pendingBytes: 1 + 9 + 4, items: 1 });

    await store.flush();
    expect(store.stats()).toMatchObject({ pendingWrites: 0, pendingBytes: 0, items: 1 });
    expect((await store.get(key('k')))?.toString()).toBe('record:v2');
    expect(await store.get(key('gone'))).toBeUndefined();
  });

  it('keeps pending writes visible while a batch is in flight', async () => {
    const store = await openStore(await tempDir(), { flushIntervalMs: 60_000 });
    store.enqueuePut(key('x'), rec('first'));
    const flushing = store.flush();
    // x is in flight now; y joins the next batch; both must be readable.
    store.enqueuePut(key('y'), rec('second'));
    expect((await store.get(key('x')))?.toString()).toBe('record:first');
    expect((await store.get(key('y')))?.toString()).toBe('record:second');
    await flushing;
    await store.flush();
    expect(store.stats()).toMatchObject({ items: 2, pendingBytes: 0 });
  });

  it('flushes on the interval timer', async () => {
    const store = await openStore(await tempDir(), { flushIntervalMs: 5 });
    store.enqueuePut(key('t'), rec('timer'));
    expect(store.pendingBytes).toBeGreaterThan(0);
    await vi.waitFor(() => expect(store.stats()).toMatchObject({ pendingBytes: 0, items: 1 }));
  });

  it('flushes when the batch reaches batchMaxBytes, without the timer', async () => {
    const store = await openStore(await tempDir(), { flushIntervalMs: 600_000, batchMaxBytes: 64 });
    store.enqueuePut(key('small'), rec('s'));
    expect(store.stats().pendingWrites).toBe(1);
    store.enqueuePut(key('big'), Buffer.alloc(100, 1));
    await vi.waitFor(() => expect(store.stats()).toMatchObject({ pendingBytes: 0, items: 2 }));
  });

  it('group-commits concurrent puts and stays consistent', async () => {
    const dir = await tempDir();
    const store = await openStore(dir);
    const expected = new Map<string, string>();
    const puts: Promise<void>[] = [];
    for (let i = 0; i < 300; i++) {
      const k = `k${i % 37}`;
      expected.set(k, `v${i}`);
      puts.push(
        i % 11 === 0 ? store.del(key(k)) : store.put(key(k), rec(`v${i}`), i % 3 === 0 ? 1000 + i : 0),
      );
      if (i % 11 === 0) expected.delete(k);
    }
    await Promise.all(puts);
    await store.close();
    const raw = await readRawAndCheck(dir);
    expect(new Map([...raw.records].map(([k, v]) => [k, v.toString().slice(7)]))).toEqual(expected);
  });

  it('reports a failed batch to its waiters, onWriteError and stats, then carries on', async () => {
    const errors: LevelIoError[] = [];
    const store = await openStore(await tempDir(), { onWriteError: (e) => errors.push(e) });
    const batch = vi.spyOn(ClassicLevel.prototype, 'batch');
    onCleanup(() => batch.mockRestore());
    batch.mockRejectedValueOnce(new Error('disk on fire'));

    const failed = await store.put(key('lost'), rec('lost')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failed).toBeInstanceOf(LevelIoError);
    expect((failed as LevelIoError).code).toBe('RAT_ERR_L2_IO');
    expect(((failed as LevelIoError).cause as Error).message).toBe('disk on fire');
    expect(errors).toEqual([failed]);
    expect(store.stats()).toMatchObject({ writeErrors: 1, items: 0, bytes: 0, pendingBytes: 0 });
    expect(await store.get(key('lost'))).toBeUndefined();

    await store.put(key('kept'), rec('kept'));
    expect(store.stats()).toMatchObject({ writeErrors: 1, items: 1 });
  });
});

describe('LevelStore batched reads', () => {
  it('serves the reads of one event-loop turn with one getMany, each its own record', async () => {
    const store = await openStore(await tempDir(), { flushIntervalMs: 60_000 });
    await store.put(key('a'), rec('a'));
    await store.put(key('b'), rec('b'));
    store.enqueuePut(key('pending'), rec('pending'));
    const getMany = vi.spyOn(ClassicLevel.prototype, 'getMany');
    onCleanup(() => getMany.mockRestore());

    const reads = await Promise.all(['b', 'missing', 'pending', 'a'].map((k) => store.get(key(k))));
    expect(reads.map((r) => r?.toString())).toEqual(['record:b', undefined, 'record:pending', 'record:a']);
    // The pending write is answered from the batch; the other three share one trip to LevelDB.
    expect(getMany).toHaveBeenCalledTimes(1);
    expect(getMany.mock.calls[0]?.[0]).toHaveLength(3);
  });

  it('splits a crowded turn into getMany calls of at most 256 keys', async () => {
    const store = await openStore(await tempDir());
    for (let i = 0; i < 300; i += 2) store.enqueuePut(key(`k${i}`), rec(`${i}`));
    await store.flush();
    const getMany = vi.spyOn(ClassicLevel.prototype, 'getMany');
    onCleanup(() => getMany.mockRestore());

    const reads = await Promise.all(Array.from({ length: 300 }, (_, i) => store.get(key(`k${i}`))));
    reads.forEach((r, i) => {
      expect(r?.toString()).toBe(i % 2 === 0 ? `record:${i}` : undefined);
    });
    expect(getMany.mock.calls.map((call) => (call[0] as unknown[]).length)).toEqual([256, 44]);
  });

  it('answers reads queued before close() rather than failing them', async () => {
    const store = await openStore(await tempDir());
    await store.put(key('a'), rec('a'));
    const read = store.get(key('a'));
    await store.close();
    expect((await read)?.toString()).toBe('record:a');
  });

  it('rejects every read of a failed getMany with a typed error, then reads again', async () => {
    const store = await openStore(await tempDir());
    await store.put(key('a'), rec('a'));
    const getMany = vi.spyOn(ClassicLevel.prototype, 'getMany');
    onCleanup(() => getMany.mockRestore());
    getMany.mockRejectedValueOnce(new Error('disk on fire'));

    const failed = await Promise.all(
      ['a', 'b'].map((k) =>
        store.get(key(k)).then(
          () => undefined,
          (e: unknown) => e,
        ),
      ),
    );
    for (const error of failed) {
      expect(error).toBeInstanceOf(LevelIoError);
      expect(((error as LevelIoError).cause as Error).message).toBe('disk on fire');
    }
    expect((await store.get(key('a')))?.toString()).toBe('record:a');
  });
});

describe('LevelStore byte budget', () => {
  const size = (i: number) => `k${i}`.length + rec(`v${i}`).length;

  it('evicts the oldest-written records first', async () => {
    const dir = await tempDir();
    // Room for exactly keys k0..k4 (equal sizes for single digits).
    const store = await openStore(dir, { maxBytes: 5 * size(0) });
    for (let i = 0; i < 8; i++) await store.put(key(`k${i}`), rec(`v${i}`));
    for (let i = 0; i < 3; i++) expect(await store.get(key(`k${i}`))).toBeUndefined();
    for (let i = 3; i < 8; i++) expect((await store.get(key(`k${i}`)))?.toString()).toBe(`record:v${i}`);
    expect(store.stats()).toMatchObject({ items: 5, bytes: 5 * size(0), evictions: 3 });
    await store.close();
    await readRawAndCheck(dir);
  });

  it('counts an overwrite as a new write', async () => {
    const dir = await tempDir();
    const store = await openStore(dir, { maxBytes: 3 * size(0) });
    for (let i = 0; i < 3; i++) await store.put(key(`k${i}`), rec(`v${i}`));
    await store.put(key('k0'), rec('v9'));
    await store.put(key('k3'), rec('v3'));
    expect(await store.get(key('k1'))).toBeUndefined();
    expect((await store.get(key('k0')))?.toString()).toBe('record:v9');
    expect(store.stats()).toMatchObject({ items: 3, evictions: 1 });
    // The oldest key grows past the budget: its old version must not count as a victim.
    await store.put(key('k2'), rec('v22'));
    expect(await store.get(key('k0'))).toBeUndefined();
    expect((await store.get(key('k2')))?.toString()).toBe('record:v22');
    expect(store.stats()).toMatchObject({ items: 2, evictions: 2 });
    await store.close();
    await readRawAndCheck(dir);
  });

  it('evicts from an oversized batch itself, keeping its newest writes', async () => {
    const dir = await tempDir();
    const store = await openStore(dir, { maxBytes: 4 * size(0), flushIntervalMs: 60_000 });
    await store.put(key('k0'), rec('v0'));
    for (let i = 1; i < 10; i++) store.enqueuePut(key(`k${i}`), rec(`v${i}`));
    await store.flush();
    const present: number[] = [];
    for (let i = 0; i < 10; i++) if ((await store.get(key(`k${i}`))) !== undefined) present.push(i);
    expect(present).toEqual([6, 7, 8, 9]);
    expect(store.stats()).toMatchObject({ items: 4, evictions: 6 });
    await store.close();
    await readRawAndCheck(dir);
  });

  it('drops a record larger than the whole budget', async () => {
    const store = await openStore(await tempDir(), { maxBytes: 100 });
    await store.put(key('small'), rec('s'));
    await store.put(key('huge'), Buffer.alloc(500));
    expect(await store.get(key('huge'))).toBeUndefined();
    expect(store.stats()).toMatchObject({ items: 0, bytes: 0, evictions: 2 });
  });
});

describe('LevelStore expiry index', () => {
  it('reclaims what expired, soonest first, up to the limit', async () => {
    const dir = await tempDir();
    const store = await openStore(dir);
    await store.put(key('e100'), rec('a'), 100);
    await store.put(key('e200'), rec('b'), 200);
    await store.put(key('e300'), rec('c'), 300);
    await store.put(key('never'), rec('d'), 0);
    expect(await store.reclaimExpired(99, 10)).toBe(0);
    expect(await store.reclaimExpired(250, 1)).toBe(1);
    expect(await store.get(key('e100'))).toBeUndefined();
    expect(await store.get(key('e200'))).toBeDefined();
    expect(await store.reclaimExpired(250, 10)).toBe(1);
    expect(await store.get(key('e200'))).toBeUndefined();
    expect(store.stats()).toMatchObject({ items: 2, expiredReclaimed: 2 });
    expect(await store.reclaimExpired(2 ** 32, 10)).toBe(1);
    expect((await store.get(key('never')))?.toString()).toBe('record:d');
    await store.close();
    const raw = await readRawAndCheck(dir);
    expect([...raw.records.keys()]).toEqual(['never']);
  });

  it('follows overwrites and deletes of expiring records', async () => {
    const dir = await tempDir();
    const store = await openStore(dir);
    await store.put(key('a'), rec('a'), 100);
    await store.put(key('a'), rec('a2'), 0);
    await store.put(key('b'), rec('b'), 100);
    await store.put(key('b'), rec('b2'), 500);
    await store.put(key('c'), rec('c'), 100);
    await store.del(key('c'));
    expect(await store.reclaimExpired(150, 10)).toBe(0);
    expect((await store.get(key('a')))?.toString()).toBe('record:a2');
    expect(await store.reclaimExpired(500, 10)).toBe(1);
    expect(await store.get(key('b'))).toBeUndefined();
    await store.close();
    await readRawAndCheck(dir);
  });
});

describe('LevelStore persistence', () => {
  it('reopens with its records, totals and write order', async () => {
    const dir = await tempDir();
    const first = await openStore(dir, { maxBytes: 1000 });
    for (let i = 0; i < 5; i++) await first.put(key(`k${i}`), rec(`v${i}`), i === 2 ? 1234 : 0);
    await first.del(key('k1'));
    const before = first.stats();
    first.enqueuePut(key('k9'), rec('v9'));
    await first.close();

    const second = await openStore(dir, { maxBytes: 3 * (2 + 9) });
    expect(second.stats()).toMatchObject({ items: before.items + 1, bytes: before.bytes + 11 });
    expect((await second.get(key('k9')))?.toString()).toBe('record:v9');
    // Over the smaller budget on the next write: the oldest survivors go first.
    await second.put(key('k5'), rec('v5'));
    expect(await second.get(key('k0'))).toBeUndefined();
    expect(await second.get(key('k2'))).toBeUndefined();
    expect(await second.get(key('k3'))).toBeUndefined();
    expect((await second.get(key('k4')))?.toString()).toBe('record:v4');
    expect(await second.reclaimExpired(2000, 10)).toBe(0);
    await second.close();
    expect((await readRawAndCheck(dir)).items).toBe(3);
  });

  it('clear() and clearOnOpen drop everything', async () => {
    const dir = await tempDir();
    const store = await openStore(dir);
    await store.put(key('a'), rec('a'), 50);
    store.enqueuePut(key('b'), rec('b'));
    await store.clear();
    expect(await store.get(key('a'))).toBeUndefined();
    expect(await store.get(key('b'))).toBeUndefined();
    expect(store.stats()).toMatchObject({ items: 0, bytes: 0, pendingBytes: 0 });
    expect(await store.reclaimExpired(100, 10)).toBe(0);
    await store.put(key('c'), rec('c'));
    await store.close();

    const reopened = await openStore(dir, { clearOnOpen: true });
    expect(reopened.stats()).toMatchObject({ items: 0, bytes: 0 });
    expect(await reopened.get(key('c'))).toBeUndefined();
  });

  it('clear(after) drops what was written before the call, keeps what came after, and waits for `after`', async () => {
    const store = await openStore(await tempDir());
    await store.put(key('old'), rec('old'));
    store.enqueuePut(key('queued'), rec('queued'));
    let release: () => void = () => {};
    const cleared = store.clear(new Promise<void>((resolve) => (release = resolve)));
    // Queued after the call: kept, committed once the clear has run.
    const written = store.put(key('new'), rec('new'));
    expect((await store.get(key('old')))?.toString()).toBe('record:old');
    release();
    await cleared;
    await written;
    expect(await store.get(key('old'))).toBeUndefined();
    expect(await store.get(key('queued'))).toBeUndefined();
    expect((await store.get(key('new')))?.toString()).toBe('record:new');
    await store.close();
  });

  it('clear(after) leaves the records where they are when `after` rejects', async () => {
    const store = await openStore(await tempDir());
    await store.put(key('kept'), rec('kept'));
    await expect(store.clear(Promise.reject(new Error('watermark write failed')))).rejects.toThrow(
      'watermark write failed',
    );
    expect((await store.get(key('kept')))?.toString()).toBe('record:kept');
    await store.close();
  });
});

describe('LevelStore against a Map model (property)', () => {
  type Op = { kind: 'put'; k: number; v: number; exp: number } | { kind: 'del'; k: number };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('put' as const), k: fc.nat(5), v: fc.nat(12), exp: fc.nat(3) }),
    fc.record({ kind: fc.constant('del' as const), k: fc.nat(5) }),
  );

  // Tiny segments put rotation, dropping emptied segments and moving live
  // entries between almost every pair of writes; a one-slot pointer cache
  // makes every key share (and fight over) the same cached pointer.
  it.each([
    ['one segment', fc.constant(undefined), undefined],
    ['segments of 16-96 bytes', fc.integer({ min: 16, max: 96 }), undefined],
    ['segments of 16-96 bytes, a one-slot pointer cache', fc.integer({ min: 16, max: 96 }), 16],
    ['segments of 16-96 bytes, no pointer cache', fc.integer({ min: 16, max: 96 }), 0],
  ])(
    'holds what an insertion-ordered map with oldest-first eviction holds (%s)',
    async (_, segmentArb, pointerCacheBytes) => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(opArb, { maxLength: 40 }),
          fc.integer({ min: 8, max: 30 }),
          segmentArb,
          async (ops, max, segmentBytes) => {
            const dir = await tempDir();
            const store = await openStore(dir, {
              maxBytes: max,
              ...(segmentBytes === undefined ? {} : { segmentBytes }),
              ...(pointerCacheBytes === undefined ? {} : { pointerCacheBytes }),
            });
            const model = new Map<string, Buffer>();
            let modelBytes = 0;
            for (const op of ops) {
              const k = `k${op.k}`;
              const old = model.get(k);
              if (old !== undefined) modelBytes -= k.length + old.length;
              model.delete(k);
              if (op.kind === 'del') {
                await store.del(key(k));
                // Sync reads fill the pointer cache; every later batch must keep it honest.
                expect(store.getSync(key(`k${(op.k + 1) % 6}`))).toEqual(model.get(`k${(op.k + 1) % 6}`));
                continue;
              }
              const value = Buffer.from(`${k}:${'x'.repeat(op.v)}`);
              await store.put(key(k), value, op.exp * 100);
              model.set(k, value);
              modelBytes += k.length + value.length;
              for (const [oldest, v] of model) {
                if (modelBytes <= max) break;
                model.delete(oldest);
                modelBytes -= oldest.length + v.length;
              }
              expect(store.getSync(key(k))).toEqual(model.get(k));
            }
            for (let i = 0; i < 6; i++) {
              expect(await store.get(key(`k${i}`))).toEqual(model.get(`k${i}`));
              expect(store.getSync(key(`k${i}`))).toEqual(model.get(`k${i}`));
            }
            expect(store.stats()).toMatchObject({ items: model.size, bytes: modelBytes });
            await store.close();
            const raw = await readRawAndCheck(dir);
            expect(raw.records).toEqual(model);
          },
        ),
        { numRuns: 100 },
      );
    },
  );
});

describe('LevelStore value log', () => {
  it('answers sync reads from the pointer cache, and follows overwrites, deletes and moves', async () => {
    const dir = await tempDir();
    const first = await openStore(dir);
    await first.put(key('a'), rec('1'));
    await first.close();
    // Cold after a restart: the first read asks LevelDB and fills the cache.
    const store = await openStore(dir, { segmentBytes: 256 });
    expect(store.getSync(key('a'))?.toString()).toBe('record:1');
    expect(store.stats().pointerCacheHits).toBe(0);
    expect(store.getSync(key('a'))?.toString()).toBe('record:1');
    expect(store.stats().pointerCacheHits).toBe(1);
    // A committed write puts its pointer in the cache itself.
    await store.put(key('a'), rec('2'));
    expect(store.getSync(key('a'))?.toString()).toBe('record:2');
    expect(store.stats().pointerCacheHits).toBe(2);
    // Enough overwrites of other keys that a's segment is moved, then dropped.
    for (let i = 0; i < 100; i++) await store.put(key(`b${i % 3}`), rec(`${i}`.repeat(20)));
    expect(store.stats().segmentMoves).toBeGreaterThan(0);
    expect(store.getSync(key('a'))?.toString()).toBe('record:2');
    await store.del(key('a'));
    expect(store.getSync(key('a'))).toBeUndefined();
  });

  const segmentFiles = async (dir: string): Promise<string[]> =>
    (await readdir(join(dir, 'vlog'))).filter((name) => name.endsWith('.seg')).sort();

  it('keeps a moved segment readable for an async read whose snapshot predates the move', async () => {
    const store = await openStore(await tempDir(), { segmentBytes: 256, pointerCacheBytes: 0 });
    const value = (v: string): Buffer => Buffer.from(v.repeat(40));
    // Segment 0: k plus fillers, which later overwrites turn into garbage, so segment 0 is moved.
    store.enqueuePut(key('k'), value('k'));
    for (let i = 0; i < 5; i++) store.enqueuePut(key(`f${i}`), value('a'));
    await store.flush();
    // The read's getMany takes its snapshot now; its answer is held back until the move is done.
    const proto = ClassicLevel.prototype as unknown as { getMany: (...args: unknown[]) => Promise<unknown> };
    const getMany = proto.getMany;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    proto.getMany = async function (this: unknown, ...args: unknown[]) {
      const result = await getMany.apply(this, args);
      if ((args[1] as { fillCache?: boolean } | undefined)?.fillCache === false) await gate;
      return result;
    };
    onCleanup(() => {
      proto.getMany = getMany;
    });
    const reading = store.get(key('k'));
    await new Promise((resolve) => setImmediate(resolve));
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 5; i++) store.enqueuePut(key(`f${i}`), value(String(round)));
      await store.flush();
    }
    await vi.waitFor(() => expect(store.stats().segmentMoves).toBeGreaterThan(0));
    release();
    expect(await reading).toEqual(value('k'));
    proto.getMany = getMany;
    expect(await store.get(key('k'))).toEqual(value('k'));
  });

  it('deletes a segment once nothing in it is live', async () => {
    const dir = await tempDir();
    const store = await openStore(dir, { segmentBytes: 64 });
    for (let i = 0; i < 4; i++) await store.put(key(`k${i}`), rec(`v${i}`.repeat(10)));
    const full = await segmentFiles(dir);
    expect(full.length).toBeGreaterThan(1);
    for (let i = 0; i < 4; i++) await store.del(key(`k${i}`));
    await store.put(key('last'), rec('x'));
    // Only the head is left: every older segment went with the batch that emptied it.
    expect(await segmentFiles(dir)).toHaveLength(1);
    expect(store.stats()).toMatchObject({ items: 1, logSegments: 1 });
    await store.close();
    await readRawAndCheck(dir);
  });

  it('moves live entries out of segments that are mostly garbage, and stays within 4/3 of live plus a segment', async () => {
    const dir = await tempDir();
    const segmentBytes = 4096;
    const store = await openStore(dir, { segmentBytes });
    const latest = new Map<string, Buffer>();
    // One key written once and never again, so its segments cannot simply empty out.
    await store.put(key('keeper'), rec('kept'));
    latest.set('keeper', rec('kept'));
    let maxLog = 0;
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 10; i++) {
        const value = rec(`${round}:${i}:${'z'.repeat(40)}`);
        store.enqueuePut(key(`hot${i}`), value);
        latest.set(`hot${i}`, value);
      }
      await store.flush();
      await store.whenIdle();
      maxLog = Math.max(maxLog, store.stats().logBytes);
    }
    await store.flush();
    await store.whenIdle();
    const stats = store.stats();
    expect(stats.segmentMoves).toBeGreaterThan(0);
    expect(stats.segmentMoveFailures).toBe(0);
    const live = stats.bytes + stats.items * 6;
    expect(stats.logBytes).toBeLessThanOrEqual((4 / 3) * live + 2 * segmentBytes);
    expect(maxLog).toBeLessThanOrEqual(live + 3 * segmentBytes);
    for (const [id, value] of latest) expect(await store.get(key(id))).toEqual(value);
    await store.close();
    const raw = await readRawAndCheck(dir);
    expect(raw.records).toEqual(latest);

    // And the moved entries are where a reopened store looks for them.
    const reopened = await openStore(dir, { segmentBytes });
    for (const [id, value] of latest) expect(reopened.getSync(key(id))).toEqual(value);
  });

  it('reads a pointer whose segment file is gone as an empty (corrupt) record', async () => {
    const dir = await tempDir();
    const store = await openStore(dir);
    await store.put(key('a'), rec('1'));
    await store.close();
    for (const name of await segmentFiles(dir)) await rm(join(dir, 'vlog', name));
    const reopened = await openStore(dir);
    expect(reopened.getSync(key('a'))?.length).toBe(0);
    expect((await reopened.get(key('a')))?.length).toBe(0);
  });

  it('removes segment files written but never committed, and starts a new head after a restart', async () => {
    const dir = await tempDir();
    const store = await openStore(dir);
    await store.put(key('a'), rec('1'));
    await store.close();
    await writeFile(join(dir, 'vlog', '00000099.seg'), 'left by a crash');
    const reopened = await openStore(dir);
    expect(await segmentFiles(dir)).toEqual(['00000000.seg']);
    expect(reopened.getSync(key('a'))?.toString()).toBe('record:1');
    // A new head after a restart: the old one's tail is never appended to.
    await reopened.put(key('b'), rec('2'));
    expect(await segmentFiles(dir)).toEqual(['00000000.seg', '00000001.seg']);
    expect((await reopened.get(key('b')))?.toString()).toBe('record:2');
  });

  it('clear() deletes every segment', async () => {
    const dir = await tempDir();
    const store = await openStore(dir, { segmentBytes: 64 });
    for (let i = 0; i < 6; i++) await store.put(key(`k${i}`), rec(`v${i}`.repeat(10)));
    await store.clear();
    expect(await segmentFiles(dir)).toEqual([]);
    expect(store.stats()).toMatchObject({ items: 0, logSegments: 0, logBytes: 0 });
    await store.put(key('after'), rec('1'));
    expect((await store.get(key('after')))?.toString()).toBe('record:1');
    await store.close();
    await readRawAndCheck(dir);
  });
});
