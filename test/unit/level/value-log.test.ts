import { readdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOG_ENTRY_HEADER_BYTES, LogBatch, ValueLog } from '../../../src/tiers/level/value-log.js';
import { key, onCleanup, tempDir } from './level-fixtures.js';

async function openLog(dir: string, known: number[] = []): Promise<ValueLog> {
  const log = ValueLog.open(dir, known);
  onCleanup(() => log.close());
  return log;
}

/** Creates `segment` and writes `entries` to it as one batch; returns each record's offset. */
async function appendTo(log: ValueLog, segment: number, entries: Array<[string, Buffer]>): Promise<number[]> {
  log.create(segment);
  const batch = new LogBatch(segment, 0);
  const offsets = entries.map(([k, record]) => batch.add(key(k), record));
  await log.append(batch);
  return offsets;
}

describe('ValueLog', () => {
  it('appends batches and reads each record back, sync and async', async () => {
    const log = await openLog(await tempDir());
    log.create(7);
    const first = new LogBatch(7, 0);
    const a = first.add(key('a'), Buffer.from('alpha'));
    const b = first.add(key('bb'), Buffer.from('bravo!'));
    await log.append(first);
    const second = new LogBatch(7, first.length);
    const c = second.add(key('c'), Buffer.alloc(100_000, 7));
    await log.append(second);

    expect(a).toBe(LOG_ENTRY_HEADER_BYTES + 1);
    expect(log.readEntrySync(7, a, key('a'), 5)?.toString()).toBe('alpha');
    expect((await log.readEntry(7, b, key('bb'), 6))?.toString()).toBe('bravo!');
    // Larger than the scratch buffer: it grows.
    expect(log.readEntrySync(7, c, key('c'), 100_000)?.equals(Buffer.alloc(100_000, 7))).toBe(true);
    expect(log.readEntrySync(8, a, key('a'), 5)).toBeUndefined();
    expect(await log.readEntry(8, a, key('a'), 5)).toBeUndefined();
  });

  it("reads nothing through a pointer that is not the key's entry", async () => {
    const log = await openLog(await tempDir());
    const [a, b] = (await appendTo(log, 5, [
      ['aa', Buffer.from('alpha')],
      ['bb', Buffer.from('bravo')],
    ])) as [number, number];
    // Another key of the same length at the same place, a wrong length, an offset off by one.
    for (const [offset, k, length] of [
      [a, 'ab', 5],
      [a, 'aa', 4],
      [b - 1, 'bb', 5],
      [b, 'b', 5],
    ] as const) {
      expect(log.readEntrySync(5, offset, key(k), length), `${offset} ${k} ${length}`).toBeUndefined();
      expect(await log.readEntry(5, offset, key(k), length)).toBeUndefined();
    }
    expect(log.readEntrySync(5, b, key('bb'), 5)?.toString()).toBe('bravo');
  });

  it('answers every readSync in one reused buffer', async () => {
    const log = await openLog(await tempDir());
    const [x, y] = (await appendTo(log, 1, [
      ['x', Buffer.from('xxxx')],
      ['y', Buffer.from('yyyy')],
    ])) as [number, number];
    const first = log.readEntrySync(1, x, key('x'), 4)!;
    expect(first.toString()).toBe('xxxx');
    log.readEntrySync(1, y, key('y'), 4);
    // The contract callers rely on copying: the first view now shows the second read.
    expect(first.toString()).toBe('yyyy');
  });

  it('reads nothing of an entry cut by a torn tail', async () => {
    const log = await openLog(await tempDir());
    const [at] = (await appendTo(log, 2, [['k', Buffer.alloc(50, 1)]])) as [number];
    await truncate(join(log.dir, '00000002.seg'), at + 20);
    expect(log.readEntrySync(2, at, key('k'), 50)).toBeUndefined();
    expect(await log.readEntry(2, at, key('k'), 50)).toBeUndefined();
  });

  it('scans a segment in order, entries longer than a scan chunk included, and stops at a torn entry', async () => {
    const log = await openLog(await tempDir());
    log.create(3);
    const batch = new LogBatch(3, 0);
    const big = Buffer.alloc(3 * 1024 * 1024, 9);
    const offsets = [
      batch.add(key('one'), Buffer.from('1')),
      batch.add(key('big'), big),
      batch.add(key('two'), Buffer.from('22')),
    ];
    await log.append(batch);
    const tail = new LogBatch(3, batch.length);
    tail.add(key('torn'), Buffer.alloc(10));
    await log.append(tail);

    const seen = [];
    for await (const entry of log.scan(3, batch.length + tail.length - 1)) seen.push(entry);
    expect(seen.map((e) => e.key.toString())).toEqual(['one', 'big', 'two']);
    expect(seen.map((e) => e.recordOffset)).toEqual(offsets);
    expect(seen[1]!.record.equals(big)).toBe(true);
    expect(seen[2]!.record.toString()).toBe('22');
  });

  it('deletes on open the segment files the index does not know, and drop() deletes a file', async () => {
    const dir = await tempDir();
    const first = ValueLog.open(dir, []);
    first.create(1);
    first.create(2);
    first.create(3);
    await first.close();
    await writeFile(join(dir, 'vlog', 'notes.txt'), 'kept');

    const log = await openLog(dir, [1, 3]);
    expect((await readdir(log.dir)).sort()).toEqual(['00000001.seg', '00000003.seg', 'notes.txt']);
    expect(log.has(2)).toBe(false);
    log.drop(3);
    expect(log.has(3)).toBe(false);
    expect((await readdir(log.dir)).sort()).toEqual(['00000001.seg', 'notes.txt']);
  });

  it('lets an async read in flight finish when its segment is dropped', async () => {
    const log = await openLog(await tempDir());
    const [at] = (await appendTo(log, 4, [['k', Buffer.from('still here')]])) as [number];
    const reading = log.readEntry(4, at, key('k'), 10);
    log.drop(4);
    expect((await reading)?.toString()).toBe('still here');
  });

  it('reads nothing through a damaged length, without growing a buffer to it or keeping the fd', async () => {
    const log = await openLog(await tempDir());
    const fds = async (): Promise<number> => (await readdir('/proc/self/fd')).length;
    const before = await fds();
    const [at] = (await appendTo(log, 6, [['k', Buffer.from('record')]])) as [number];
    expect(log.readEntrySync(6, at, key('k'), 0xffff_ffff)).toBeUndefined();
    expect(await log.readEntry(6, at, key('k'), 0xffff_ffff)).toBeUndefined();
    log.drop(6);
    expect(await fds()).toBe(before);
  });

  it('keeps segments whose ids have more than 8 digits', async () => {
    const dir = await tempDir();
    const first = ValueLog.open(dir, []);
    first.create(123_456_789);
    await first.close();
    const log = await openLog(dir, [123_456_789]);
    expect(log.has(123_456_789)).toBe(true);
    expect(await readdir(log.dir)).toEqual(['123456789.seg']);
  });
});
