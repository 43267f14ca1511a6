// A damaged value log never serves bad bytes: a flipped bit or a torn tail
// reads as a miss, is counted as a corrupt record, and its pointer goes.

import { randomBytes } from 'node:crypto';
import { open, readdir, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ItemStore } from '../../../src/tiers/level/item-store.js';
import { HEADER_BYTES } from '../../../src/tiers/level/record-codec.js';
import { LOG_ENTRY_HEADER_BYTES } from '../../../src/tiers/level/value-log.js';
import { key, onCleanup, tempDir } from './level-fixtures.js';

async function storeWith(dir: string, values: Map<string, Buffer>): Promise<void> {
  const store = await ItemStore.open(dir, { maxBytes: 1 << 30, compressMinBytes: 512 });
  for (const [k, value] of values) store.write(key(k), { value, flags: 3, exptime: 0, cas: 1 });
  await store.close();
}

async function reopen(dir: string): Promise<ItemStore> {
  const store = await ItemStore.open(dir, { maxBytes: 1 << 30, compressMinBytes: 512 });
  onCleanup(() => store.close());
  return store;
}

async function segmentPath(dir: string): Promise<string> {
  const names = (await readdir(join(dir, 'vlog'))).filter((name) => name.endsWith('.seg'));
  expect(names).toHaveLength(1);
  return join(dir, 'vlog', names[0]!);
}

describe('ItemStore over a damaged value log', () => {
  it('reads a record with a flipped byte as a miss, counts it and deletes its pointer', async () => {
    const dir = await tempDir();
    const values = new Map([
      ['first', randomBytes(4000)],
      ['second', randomBytes(4000)],
    ]);
    await storeWith(dir, values);
    const file = await open(await segmentPath(dir), 'r+');
    // Inside the first entry's value, past its log header, its key and its record header.
    const at = LOG_ENTRY_HEADER_BYTES + 'first'.length + HEADER_BYTES + 100;
    await file.write(Buffer.from([0xff ^ values.get('first')![100]!]), 0, 1, at);
    await file.close();

    const store = await reopen(dir);
    expect(store.readSync(key('first'))).toBeUndefined();
    expect(store.counters.corruptRecords).toBe(1);
    expect(store.readSync(key('second'))?.value.equals(values.get('second')!)).toBe(true);
    await store.flush();
    expect(store.store.stats().items).toBe(1);
  });

  it('reads an entry cut by a torn tail as a miss on the async path too', async () => {
    const dir = await tempDir();
    const values = new Map([
      ['kept', randomBytes(3000)],
      ['torn', randomBytes(3000)],
    ]);
    await storeWith(dir, values);
    const path = await segmentPath(dir);
    const entry = LOG_ENTRY_HEADER_BYTES + 'kept'.length + HEADER_BYTES + 3000;
    await truncate(path, entry + 1000);

    const store = await reopen(dir);
    expect(await store.read(key('torn'))).toBeUndefined();
    expect(store.counters.corruptRecords).toBe(1);
    expect((await store.read(key('kept')))?.value.equals(values.get('kept')!)).toBe(true);
    await store.flush();
    expect(store.store.stats().items).toBe(1);
  });
});
