// L2 over real sockets: warm restart (graceful close writes L1 to L2, the next
// start serves every item with the same flags and CAS, and new CAS uniques
// stay above the old ones), and L2 hits for a working set larger than L1.

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/config.js';
import { makeTempDir, useCleanups } from '../helpers/cleanups.js';
import type { RawClient } from '../helpers/raw-client.js';
import { startServerAndClient, type TestServer } from '../helpers/test-server.js';

const MIB = 1024 * 1024;
const cleanups = useCleanups();
const tempDir = (): string => makeTempDir(cleanups, 'rat-l2-server-');

function start(overrides: Partial<Config>): Promise<{ server: TestServer; client: RawClient }> {
  return startServerAndClient(cleanups, { l2Enabled: true, memoryBytes: 8 * MIB, ...overrides });
}

function valueFor(i: number, length: number): string {
  return `v${i}-`.padEnd(length, String.fromCharCode(97 + (i % 26)));
}

/** Parses `gets` replies: key -> {flags, cas, value}. */
function parseValues(text: string): Map<string, { flags: number; cas: number; value: string }> {
  const items = new Map<string, { flags: number; cas: number; value: string }>();
  const pattern = /VALUE (\S+) (\d+) (\d+) (\d+)\r\n/g;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    const [, key, flags, length, cas] = match;
    const start = match.index + match[0].length;
    items.set(key as string, {
      flags: Number(flags),
      cas: Number(cas),
      value: text.slice(start, start + Number(length)),
    });
    pattern.lastIndex = start + Number(length) + 2;
  }
  return items;
}

/** `set <key> <flags> 0 <n> noreply` for every key, value valueFor(i, valueBytes), as one pipeline. */
function setPipeline(keys: string[], valueBytes: number, flags: (i: number) => number): string {
  let pipeline = '';
  for (const [i, key] of keys.entries()) {
    const value = valueFor(i, valueBytes);
    pipeline += `set ${key} ${flags(i)} 0 ${value.length} noreply\r\n${value}\r\n`;
  }
  return pipeline;
}

async function getsAll(client: RawClient, keys: string[]): Promise<ReturnType<typeof parseValues>> {
  const items = new Map<string, { flags: number; cas: number; value: string }>();
  for (let i = 0; i < keys.length; i += 50) {
    await client.send(`gets ${keys.slice(i, i + 50).join(' ')}\r\n`);
    const reply = await client.readUntil('END\r\n', 10_000);
    for (const [key, item] of parseValues(reply.data.toString('latin1'))) items.set(key, item);
  }
  return items;
}

describe('L2 over a real socket', () => {
  it('restarts warm: every item back with the same flags and CAS, and CAS never repeats', async () => {
    const dir = tempDir();
    const count = 2000;
    const keys = Array.from({ length: count }, (_, i) => `warm:${i}`);
    const first = await start({ l2DataDir: dir });
    await first.client.send(setPipeline(keys, 2000, (i) => i));
    const before = await getsAll(first.client, keys);
    expect(before.size).toBe(count);
    const maxCasBefore = Math.max(...[...before.values()].map((item) => item.cas));
    await first.server.close();

    const second = await start({ l2DataDir: dir });
    const after = await getsAll(second.client, keys);
    expect(after.size).toBe(count);
    for (const [i, key] of keys.entries()) {
      const item = after.get(key);
      expect(item?.value, key).toBe(valueFor(i, 2000));
      expect(item?.flags, key).toBe(i);
      expect(item?.cas, key).toBe(before.get(key)?.cas);
    }
    await second.client.send('set fresh 0 0 1\r\nx\r\ngets fresh\r\n');
    const fresh = parseValues((await second.client.readUntil('END\r\n')).data.toString('latin1')).get(
      'fresh',
    );
    expect(fresh?.cas).toBeGreaterThan(maxCasBefore);
  });

  it('overwrites many times the size of L1 through 1 MiB segments: moves reclaim the log, every key reads its last value, before and after a restart', async () => {
    const dir = tempDir();
    // 16 MiB of L2 makes 1 MiB segments; 1,500 keys of 3,000 B overwritten six times through 4 MiB of L1.
    const overrides = { l2DataDir: dir, l2MaxBytes: 16 * MIB, memoryBytes: 4 * MIB };
    const keys = Array.from({ length: 1500 }, (_, i) => `churn:${i}`);
    // Incompressible (LZ4 would shrink valueFor's text to a few bytes and nothing would need a move).
    const values = Array.from({ length: 6 }, () => keys.map(() => randomBytes(2250).toString('base64')));
    const churnValue = (round: number, i: number): string => values[round]![i]!;
    const first = await start(overrides);
    for (let round = 0; round < 6; round++) {
      let pipeline = '';
      for (const [i, key] of keys.entries()) {
        const value = churnValue(round, i);
        pipeline += `set ${key} 0 0 ${value.length} noreply\r\n${value}\r\n`;
      }
      await first.client.send(`${pipeline}version\r\n`);
      await first.client.readUntil('VERSION', 10_000);
    }
    const level = first.server.core.l2?.store.store;
    await first.server.core.l2?.store.flush();
    // Moves run a chunk at a time after the batches; once they have caught up, the files stay near
    // the live records: at most 4/3 of them plus a segment or two.
    await level!.whenIdle();
    const stats = level!.stats();
    expect(stats.segmentMoves).toBeGreaterThan(0);
    expect(stats.segmentMoveFailures).toBe(0);
    expect(stats.logBytes).toBeLessThanOrEqual((4 / 3) * (stats.bytes + 6 * stats.items) + 2 * MIB);
    const check = async (client: RawClient): Promise<void> => {
      const items = await getsAll(client, keys);
      expect(items.size).toBe(keys.length);
      for (const [i, key] of keys.entries()) expect(items.get(key)?.value, key).toBe(churnValue(5, i));
    };
    await check(first.client);
    await first.server.close();

    const second = await start(overrides);
    await check(second.client);
  });

  for (const l2ReadMode of ['sync', 'async'] as const) {
    it(`serves a working set four times L1 from L2, and delete/overwrite never resurrect (read_mode ${l2ReadMode})`, async () => {
      const dir = tempDir();
      const { server, client } = await start({ l2DataDir: dir, l2ReadMode });
      const keys = Array.from({ length: 8000 }, (_, i) => `big:${i}`);
      await client.send(setPipeline(keys, 4000, () => 1));
      await client.send('delete big:0\r\nset big:1 2 0 3\r\nnew\r\n');
      expect((await client.readUntil('STORED\r\n')).data.toString()).toBe('DELETED\r\nSTORED\r\n');
      const items = await getsAll(client, keys);
      expect(items.has('big:0')).toBe(false);
      expect(items.get('big:1')?.value).toBe('new');
      expect(items.size).toBe(keys.length - 1);
      for (const [i, key] of keys.entries()) {
        if (i > 1) expect(items.get(key)?.value, key).toBe(valueFor(i, 4000));
      }
      const l2 = server.core.l2;
      expect(l2?.stats.l2Demotions).toBeGreaterThan(keys.length / 2);
      expect(l2?.stats.l2Hits).toBeGreaterThan(keys.length / 2);
      // Only gets read on the event loop: the delete of big:0 read L2 on the pool.
      if (l2ReadMode === 'sync') expect(l2?.stats.l2SyncReads).toBe((l2?.stats.l2Reads ?? 0) - 1);
      else expect(l2?.stats.l2SyncReads).toBe(0);
    });
  }

  // A scan of four times L1, read twice in the same order: every key comes
  // back after ~8,000 other L2 reads, while L1 holds ~2,000 items.
  for (const l2Promotion of ['second-hit', 'every-hit'] as const) {
    it(`a scan larger than L1 ${l2Promotion === 'second-hit' ? 'is served from L2 without promoting' : 'promotes every hit'} (promotion ${l2Promotion})`, async () => {
      const { server, client } = await start({ l2DataDir: tempDir(), l2Promotion });
      const keys = Array.from({ length: 8000 }, (_, i) => `scan:${i}`);
      await client.send(setPipeline(keys, 4000, () => 0));
      const l2 = server.core.l2;
      for (let pass = 0; pass < 2; pass++) {
        const items = await getsAll(client, keys);
        expect(items.size).toBe(keys.length);
        for (const [i, key] of keys.entries()) expect(items.get(key)?.value, key).toBe(valueFor(i, 4000));
      }
      expect(l2?.stats.l2Hits).toBeGreaterThan(keys.length);
      if (l2Promotion === 'second-hit') expect(l2?.stats.l2Promotions).toBe(0);
      else expect(l2?.stats.l2Promotions).toBe(l2?.stats.l2Hits);
    });
  }
});
