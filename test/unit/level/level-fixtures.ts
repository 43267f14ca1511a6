// Temp directories and stores for the L2 tests, closed and removed after each
// test, plus an invariant check that reads the raw LevelDB behind a closed
// store and recomputes what the meta record claims.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterEach, expect } from 'vitest';
import {
  DATA_PREFIX,
  decodeDataEntryHeader,
  decodeMeta,
  decodeOrderEntry,
  EXPIRY_PREFIX,
  META_KEY,
  ORDER_PREFIX,
} from '../../../src/tiers/level/level-keys.js';
import { LevelStore, type LevelStoreOptions } from '../../../src/tiers/level/level-store.js';

const dirs: string[] = [];
const stores: LevelStore[] = [];
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  for (const store of stores.splice(0)) await store.close().catch(() => {});
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

export function onCleanup(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup);
}

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rat-l2-'));
  dirs.push(dir);
  return dir;
}

export async function openStore(dir: string, options: Partial<LevelStoreOptions> = {}): Promise<LevelStore> {
  const store = await LevelStore.open(dir, { maxBytes: 1 << 30, ...options });
  stores.push(store);
  return store;
}

export const key = (s: string): Buffer => Buffer.from(s);

export interface RawContents {
  /** key (latin1) -> record */
  records: Map<string, Buffer>;
  items: number;
  bytes: number;
}

/**
 * Opens a CLOSED store's directory raw and checks that data, order index,
 * expiry index and meta agree with one another. Returns what is stored.
 */
export async function readRawAndCheck(dir: string): Promise<RawContents> {
  const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open({ createIfMissing: false });
  try {
    const records = new Map<string, Buffer>();
    const dataSeq = new Map<number, { id: string; exptime: number; size: number }>();
    const order = new Map<number, { id: string; exptime: number; size: number }>();
    const expiry = new Set<string>();
    let bytes = 0;
    for await (const [k, v] of db.iterator()) {
      const prefix = k[0];
      if (prefix === DATA_PREFIX) {
        const header = decodeDataEntryHeader(v)!;
        const id = k.subarray(1).toString('latin1');
        const size = k.length - 1 + header.recordLength;
        records.set(id, v.subarray(12));
        expect(dataSeq.has(header.seq)).toBe(false);
        dataSeq.set(header.seq, { id, exptime: header.exptime, size });
        bytes += size;
      } else if (prefix === ORDER_PREFIX) {
        const entry = decodeOrderEntry(v)!;
        order.set(k.readUInt32BE(1) * 2 ** 32 + k.readUInt32BE(5), {
          id: entry.key.toString('latin1'),
          exptime: entry.exptime,
          size: entry.size,
        });
      } else if (prefix === EXPIRY_PREFIX) {
        expiry.add(`${k.readUInt32BE(1)}:${k.subarray(5).toString('latin1')}`);
      } else {
        expect(k.equals(META_KEY)).toBe(true);
      }
    }
    expect(order).toEqual(dataSeq);
    const expected = new Set(
      [...dataSeq.values()].filter((d) => d.exptime !== 0).map((d) => `${d.exptime}:${d.id}`),
    );
    expect(expiry).toEqual(expected);
    const meta = decodeMeta((await db.get(META_KEY))!)!;
    expect({ items: meta.items, bytes: meta.bytes }).toEqual({ items: records.size, bytes });
    for (const seq of dataSeq.keys()) {
      expect(seq).toBeGreaterThanOrEqual(meta.evictFromSeq);
      expect(seq).toBeLessThan(meta.nextSeq);
    }
    return { records, items: meta.items, bytes: meta.bytes };
  } finally {
    await db.close();
  }
}
