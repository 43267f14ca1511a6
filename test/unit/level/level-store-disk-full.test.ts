// A write to LevelDB's log that fails part-way (the disk filled in the middle
// of it) leaves a torn record at the log's end. LevelDB does not stop there:
// its next append goes behind the torn bytes, and at the next open recovery
// drops the torn record and everything after it, i.e. every batch
// acknowledged after the disk had room again. The store must not write
// behind a torn record; these tests tear one for real, on a tmpfs filled to
// the byte, and check what a reopened store still holds.
//
// The tmpfs needs `mount -t tmpfs`, i.e. root (CI runs as root).

import {
  closeSync,
  ftruncateSync,
  openSync,
  readdirSync,
  statfsSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LevelIoError } from '../../../src/tiers/level/level-errors.js';
import type { LevelStore } from '../../../src/tiers/level/level-store.js';
import { mountTmpfs } from '../../helpers/tmpfs.js';
import { onCleanup, openStore, tempDir } from './level-fixtures.js';

const MIB = 1024 * 1024;
/** Long keys and one-byte records: a put's LevelDB ops (pointer, order index) outweigh its log entry. */
const KEY_BYTES = 200;
const BATCH_KEYS = 2000;

async function freshTmpfs(sizeMiB: number): Promise<string> {
  const dir = await tempDir();
  onCleanup(mountTmpfs(dir, sizeMiB));
  return dir;
}

const keyOf = (prefix: string, i: number): Buffer =>
  Buffer.from(`${prefix}:${String(i).padStart(8, '0')}:`.padEnd(KEY_BYTES, 'k'));
const recordOf = (i: number): Buffer => Buffer.from([i & 0xff]);

function enqueueBatch(store: LevelStore, prefix: string, count = BATCH_KEYS): void {
  for (let i = 0; i < count; i++) store.enqueuePut(keyOf(prefix, i), recordOf(i));
}

/** Bytes of LevelDB's write-ahead log(s) in dir. */
function levelLogBytes(dir: string): number {
  let bytes = 0;
  for (const name of readdirSync(dir)) if (name.endsWith('.log')) bytes += statSync(join(dir, name)).size;
  return bytes;
}

/** Bytes of the value log's segments in dir. */
function valueLogBytes(dir: string): number {
  let bytes = 0;
  const vlog = join(dir, 'vlog');
  for (const name of readdirSync(vlog)) bytes += statSync(join(vlog, name)).size;
  return bytes;
}

function freeBytes(dir: string): number {
  const fs = statfsSync(dir);
  return fs.bavail * fs.bsize;
}

/** Fills the filesystem of `dir` with one file until exactly about `leave` bytes are free; returns the file. */
function fillLeaving(dir: string, leave: number): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  let size = 0;
  try {
    for (;;) size += writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  }
  ftruncateSync(fd, Math.max(0, size - leave));
  closeSync(fd);
  return path;
}

/**
 * Writes the batch 'first' on a roomy disk, measuring what it adds to each
 * log; then fills the disk so that the same-shaped batch 'torn' finds room
 * for its value-log append and half of LevelDB's record, and writes it.
 * Returns the filler file (delete it for room again).
 */
async function tearLevelLog(store: LevelStore, dir: string, mount: string): Promise<string> {
  const before = { level: levelLogBytes(dir), value: valueLogBytes(dir) };
  enqueueBatch(store, 'first');
  await store.flush();
  const levelBatch = levelLogBytes(dir) - before.level;
  const valueBatch = valueLogBytes(dir) - before.value;
  expect(levelBatch).toBeGreaterThan(valueBatch);

  const filler = fillLeaving(mount, valueBatch + Math.floor(levelBatch / 2));
  const levelBefore = levelLogBytes(dir);
  enqueueBatch(store, 'torn');
  await expect(store.flush()).rejects.toBeInstanceOf(LevelIoError);
  const torn = levelLogBytes(dir) - levelBefore;
  // The premise: LevelDB's record went in part-way, not at all or whole.
  expect(torn).toBeGreaterThan(0);
  expect(torn).toBeLessThan(levelBatch);
  expect(store.stats().writeErrors).toBe(1);
  return filler;
}

describe('LevelStore on a disk that fills mid-write', () => {
  it('loses no write acknowledged after a batch tore LevelDB’s log, across a reopen', async () => {
    const mount = await freshTmpfs(16);
    const dir = join(mount, 'db');
    const store = await openStore(dir, { flushIntervalMs: 1000 });
    const filler = await tearLevelLog(store, dir, mount);

    // Room again: these are acknowledged, so they must survive.
    unlinkSync(filler);
    expect(freeBytes(mount)).toBeGreaterThan(8 * MIB);
    enqueueBatch(store, 'after', 500);
    await store.flush();
    expect(store.stats().reopens).toBe(1);
    for (const i of [0, 499]) expect(await store.get(keyOf('after', i))).toEqual(recordOf(i));
    await store.close();

    const reopened = await openStore(dir);
    for (let i = 0; i < BATCH_KEYS; i++) expect(await reopened.get(keyOf('first', i))).toEqual(recordOf(i));
    const afterMissing: number[] = [];
    for (let i = 0; i < 500; i++) {
      const record = await reopened.get(keyOf('after', i));
      if (record === undefined) afterMissing.push(i);
      else expect(record).toEqual(recordOf(i));
    }
    expect(afterMissing).toEqual([]);
    // The torn batch was reported failed: its keys are gone, or (never partly) there.
    for (let i = 0; i < BATCH_KEYS; i += 97) {
      const record = await reopened.get(keyOf('torn', i));
      if (record !== undefined) expect(record).toEqual(recordOf(i));
    }
    expect(reopened.stats().items).toBe(BATCH_KEYS + 500);
    await reopened.close();
  });

  it('while the disk stays full, fails writes without appending to LevelDB’s log and goes on reading', async () => {
    const mount = await freshTmpfs(16);
    const dir = join(mount, 'db');
    const store = await openStore(dir, { flushIntervalMs: 1000 });
    const filler = await tearLevelLog(store, dir, mount);
    const levelAfterTear = levelLogBytes(dir);

    for (let attempt = 0; attempt < 3; attempt++) {
      store.enqueuePut(keyOf('meanwhile', attempt), recordOf(attempt));
      await expect(store.flush()).rejects.toThrow(/waiting for disk space/);
    }
    expect(levelLogBytes(dir)).toBe(levelAfterTear);
    expect(store.stats()).toMatchObject({ writeErrors: 4, reopens: 0 });
    // Reads go on from the handle as it is: through the pointer cache, LevelDB, and getMany.
    expect(store.getSync(keyOf('first', 7))).toEqual(recordOf(7));
    expect(await store.get(keyOf('first', 1999))).toEqual(recordOf(1999));
    expect(store.getSync(keyOf('meanwhile', 0))).toBeUndefined();

    unlinkSync(filler);
    store.enqueuePut(keyOf('meanwhile', 0), recordOf(0));
    await store.flush();
    expect(store.stats().reopens).toBe(1);
    expect(store.getSync(keyOf('meanwhile', 0))).toEqual(recordOf(0));
    expect(store.getSync(keyOf('first', 7))).toEqual(recordOf(7));
  });

  it('a clear that cannot reopen fails, and so do the writes it dropped, instead of leaving them waiting', async () => {
    const mount = await freshTmpfs(16);
    const dir = join(mount, 'db');
    const store = await openStore(dir, { flushIntervalMs: 1000 });
    await tearLevelLog(store, dir, mount);

    const inFlight = store.put(keyOf('meanwhile', 0), recordOf(0));
    // Queued behind the batch in flight, so still pending when clear() takes the pending batch.
    const dropped = store.put(keyOf('meanwhile', 1), recordOf(1));
    const clearing = store.clear();
    await expect(inFlight).rejects.toThrow(/waiting for disk space/);
    await expect(clearing).rejects.toThrow(/waiting for disk space/);
    await expect(dropped).rejects.toThrow(/L2 clear failed/);
    // Nothing was cleared.
    expect(store.getSync(keyOf('first', 7))).toEqual(recordOf(7));
  });
});
