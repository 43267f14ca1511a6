// Temp directories and stores for the L2 tests, closed and removed after each
// test, plus an invariant check that reads the raw LevelDB behind a closed
// store and recomputes what the meta record claims.

import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterEach, expect } from 'vitest';
import {
  DATA_PREFIX,
  decodeDataEntry,
  decodeMeta,
  decodeOrderEntry,
  decodeSegmentUsage,
  EXPIRY_PREFIX,
  META_KEY,
  ORDER_PREFIX,
  SEGMENT_PREFIX,
  type SegmentUsage,
} from '../../../src/tiers/level/level-keys.js';
import { LevelStore, type LevelStoreOptions } from '../../../src/tiers/level/level-store.js';
import { LOG_ENTRY_HEADER_BYTES, ValueLog } from '../../../src/tiers/level/value-log.js';

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
 * expiry index, segment usage and meta agree with one another, and that
 * every pointer leads to its record in the value log. Returns what is stored.
 */
export async function readRawAndCheck(dir: string): Promise<RawContents> {
  const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open({ createIfMissing: false });
  try {
    const records = new Map<string, Buffer>();
    type Indexed = { id: string; exptime: number; size: number; segment: number };
    const dataSeq = new Map<number, Indexed>();
    const order = new Map<number, Indexed>();
    const expiry = new Set<string>();
    const segments = new Map<number, SegmentUsage>();
    const pointers: Array<{ id: string; segment: number; offset: number; length: number }> = [];
    let bytes = 0;
    for await (const [k, v] of db.iterator()) {
      const prefix = k[0];
      if (prefix === DATA_PREFIX) {
        const entry = decodeDataEntry(v)!;
        const id = k.subarray(1).toString('latin1');
        const size = k.length - 1 + entry.recordLength;
        pointers.push({ id, segment: entry.segment, offset: entry.offset, length: entry.recordLength });
        expect(dataSeq.has(entry.seq)).toBe(false);
        dataSeq.set(entry.seq, { id, exptime: entry.exptime, size, segment: entry.segment });
        bytes += size;
      } else if (prefix === ORDER_PREFIX) {
        const entry = decodeOrderEntry(v)!;
        order.set(k.readUInt32BE(1) * 2 ** 32 + k.readUInt32BE(5), {
          id: entry.key.toString('latin1'),
          exptime: entry.exptime,
          size: entry.size,
          segment: entry.segment,
        });
      } else if (prefix === EXPIRY_PREFIX) {
        expiry.add(`${k.readUInt32BE(1)}:${k.subarray(5).toString('latin1')}`);
      } else if (prefix === SEGMENT_PREFIX) {
        segments.set(k.readUInt32BE(1), decodeSegmentUsage(v)!);
      } else {
        expect(k.equals(META_KEY)).toBe(true);
      }
    }
    expect(order).toEqual(dataSeq);
    // Each segment's live bytes are exactly its entries the index points at.
    const live = new Map<number, number>();
    for (const d of dataSeq.values()) {
      live.set(d.segment, (live.get(d.segment) ?? 0) + LOG_ENTRY_HEADER_BYTES + d.size);
    }
    for (const [segment, usage] of segments) {
      expect({ segment, live: usage.live }).toEqual({ segment, live: live.get(segment) ?? 0 });
      expect(usage.written).toBeGreaterThanOrEqual(usage.live);
    }
    for (const segment of live.keys()) expect(segments.has(segment)).toBe(true);
    // Exactly the ledger's segments have files (ValueLog.open would delete the others).
    const files = (await readdir(join(dir, 'vlog'))).filter((name) => name.endsWith('.seg'));
    expect(files.map((name) => Number.parseInt(name, 10)).sort((a, b) => a - b)).toEqual(
      [...segments.keys()].sort((a, b) => a - b),
    );
    const log = ValueLog.open(dir, segments.keys());
    try {
      for (const { id, segment, offset, length } of pointers) {
        expect(offset + length).toBeLessThanOrEqual(segments.get(segment)!.written);
        const record = log.readEntrySync(segment, offset, Buffer.from(id, 'latin1'), length);
        expect(record?.length, id).toBe(length);
        records.set(id, Buffer.from(record!));
      }
    } finally {
      await log.close();
    }
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
