// Expiry across both tiers over a real socket, with a ManualClock instead of
// sleeps: items with mixed TTLs, most of them sitting in L2 (L1 is tiny), are
// served up to their last second and never after; flush_all, immediate and
// delayed, invalidates both tiers; a restart with items that expired while the
// server was down never serves them and reclaims them in the background.

import { describe, expect, it, vi } from 'vitest';
import type { Config } from '../../src/config/config.js';
import { ManualClock } from '../../src/core/clock.js';
import { makeTempDir, useCleanups } from '../helpers/cleanups.js';
import type { RawClient } from '../helpers/raw-client.js';
import { startServerAndClient, type TestServer } from '../helpers/test-server.js';

const MIB = 1024 * 1024;
const cleanups = useCleanups();
const tempDir = (): string => makeTempDir(cleanups, 'rat-ttl-server-');

interface Running {
  server: TestServer;
  client: RawClient;
  close(): Promise<void>;
}

async function start(clock: ManualClock, overrides: Partial<Config>): Promise<Running> {
  const { server, client } = await startServerAndClient(
    cleanups,
    { l2Enabled: true, memoryBytes: 4 * MIB, ...overrides },
    { clock },
  );
  return { server, client, close: server.close };
}

/** TTL per item: a mix of none, short, medium and long. */
const TTLS = [0, 5, 20, 100] as const;
const COUNT = 2000;
const VALUE_BYTES = 4000;

function valueFor(i: number): string {
  return `v${i}-`.padEnd(VALUE_BYTES, String.fromCharCode(97 + (i % 26)));
}

async function storeAll(client: RawClient, prefix: string, ttlOf: (i: number) => number): Promise<void> {
  let pipeline = '';
  for (let i = 0; i < COUNT; i++) {
    pipeline += `set ${prefix}${i} ${i} ${ttlOf(i)} ${VALUE_BYTES} noreply\r\n${valueFor(i)}\r\n`;
  }
  await client.send(`${pipeline}version\r\n`);
  await client.readUntil('\r\n', 20_000);
}

/** The keys served by `get`, each checked to carry its own value. */
async function served(client: RawClient, prefix: string): Promise<Set<number>> {
  const hits = new Set<number>();
  for (let i = 0; i < COUNT; i += 50) {
    const keys = Array.from({ length: Math.min(50, COUNT - i) }, (_, j) => `${prefix}${i + j}`);
    await client.send(`get ${keys.join(' ')}\r\n`);
    const text = (await client.readUntil('END\r\n', 10_000)).data.toString('latin1');
    const pattern = /VALUE \S+?(\d+) \d+ (\d+)\r\n/g;
    for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
      const n = Number(match[1]);
      const begin = match.index + match[0].length;
      expect(text.slice(begin, begin + Number(match[2]))).toBe(valueFor(n));
      hits.add(n);
      pattern.lastIndex = begin + Number(match[2]) + 2;
    }
  }
  return hits;
}

/** Item numbers whose TTL (from `ttlOf`) passes `live`. */
function expected(
  live: (ttl: number) => boolean,
  ttlOf = (i: number): number => TTLS[i % TTLS.length]!,
): Set<number> {
  const out = new Set<number>();
  for (let i = 0; i < COUNT; i++) if (live(ttlOf(i))) out.add(i);
  return out;
}

async function l2Settled(server: TestServer): Promise<{ items: number }> {
  const l2 = server.core.l2!;
  await l2.store.flush();
  return l2.store.store.stats();
}

/**
 * Runs an L2 expiry pass at the clock's time. The first call may join a pass
 * the driver's tick started earlier (with an earlier time); the second then
 * runs a fresh one.
 */
async function reclaimL2(server: TestServer, clock: ManualClock): Promise<void> {
  const reclaimer = server.core.l2!.reclaimer;
  await reclaimer.runPass(clock.nowSeconds());
  await reclaimer.runPass(clock.nowSeconds());
}

function l2Expired(server: TestServer): number {
  return server.core.l2!.store.store.stats().expiredReclaimed;
}

describe('TTL across both tiers', () => {
  it('serves mixed TTLs up to their last second and never after, and reclaims both tiers', async () => {
    const clock = new ManualClock();
    const { server, client } = await start(clock, { l2DataDir: tempDir() });
    await storeAll(client, 'k', (i) => TTLS[i % TTLS.length]!);
    // Most items went to L2: L1 holds 4 MiB, the items take 8 MB.
    expect((await l2Settled(server)).items).toBeGreaterThan(COUNT / 3);

    clock.advanceSeconds(4);
    expect(await served(client, 'k')).toEqual(expected(() => true));
    clock.advanceSeconds(1);
    expect(await served(client, 'k')).toEqual(expected((ttl) => ttl !== 5));
    clock.advanceSeconds(15);
    // Background reclamation before any read: reads would unlink expired items
    // themselves. L1 by the wheel (this tick; the driver's own 250 ms ticks may
    // run too), L2 by a pass over its expiry index.
    server.core.tickExpiry();
    expect(await served(client, 'k')).toEqual(expected((ttl) => ttl === 0 || ttl === 100));
    await l2Settled(server);
    await reclaimL2(server, clock);
    const core = server.core;
    // Only TTL 0 and 100 items are left (an item may be in both tiers: a promoted copy stays in L2).
    expect((await l2Settled(server)).items).toBeLessThanOrEqual(COUNT / 2);
    expect(core.memory.itemCount).toBeLessThanOrEqual(COUNT / 2);
    expect(l2Expired(server)).toBeGreaterThan(0);
    expect(core.stats.reclaimed).toBeGreaterThan(0);
    await client.send('stats\r\n');
    const stats = (await client.readUntil('END\r\n')).data.toString('latin1');
    expect(stats).toMatch(/STAT l2_expired \d+\r\n/);
    expect(stats).toMatch(/STAT expired_unfetched \d+\r\n/);
    expect(stats).toMatch(/STAT evicted_unfetched \d+\r\n/);

    clock.advanceSeconds(80);
    server.core.tickExpiry();
    await reclaimL2(server, clock);
    expect(await served(client, 'k')).toEqual(expected((ttl) => ttl === 0));
  });

  it('flush_all invalidates both tiers at once and empties them in the background', async () => {
    const clock = new ManualClock();
    const { server, client } = await start(clock, { l2DataDir: tempDir() });
    await storeAll(client, 'f', (i) => (i % 2 === 0 ? 0 : 1000));
    expect((await l2Settled(server)).items).toBeGreaterThan(COUNT / 3);
    await client.send('flush_all\r\nset after 0 0 1\r\nx\r\n');
    await client.readUntil('STORED\r\n');
    expect((await served(client, 'f')).size).toBe(0);
    while (server.core.sweepingFlushed) server.core.sweepFlushed();
    expect(server.core.memory.itemCount).toBe(1);
    await vi.waitFor(async () => expect((await l2Settled(server)).items).toBe(0), { timeout: 10_000 });
    await client.send('get after\r\n');
    expect((await client.readUntil('END\r\n')).data.toString()).toBe('VALUE after 0 1\r\nx\r\nEND\r\n');
  });

  it('flush_all with a delay serves everything until its second, then nothing stored before it', async () => {
    const clock = new ManualClock();
    const { server, client } = await start(clock, { l2DataDir: tempDir() });
    await storeAll(client, 'd', () => 0);
    await l2Settled(server);
    await client.send('flush_all 10\r\n');
    await client.readUntil('OK\r\n');
    clock.advanceSeconds(9);
    expect((await served(client, 'd')).size).toBe(COUNT);
    clock.advanceSeconds(1);
    // No read needed: the driver's tick applies the flush, and its sweep frees L1.
    server.core.tickExpiry();
    expect(server.core.memory.itemCount).toBe(0);
    expect((await served(client, 'd')).size).toBe(0);
    await vi.waitFor(async () => expect((await l2Settled(server)).items).toBe(0), { timeout: 10_000 });
  });

  it('a restart never serves items that expired while it was down, and reclaims them from L2', async () => {
    const clock = new ManualClock();
    const dir = tempDir();
    const first = await start(clock, { l2DataDir: dir });
    const ttlOf = (i: number): number => (i % 2 === 0 ? 0 : 30);
    await storeAll(first.client, 'r', ttlOf);
    await first.close();

    clock.advanceSeconds(60);
    const second = await start(clock, { l2DataDir: dir });
    // Nobody asks: the expiry driver's first tick after start-up runs the L2 pass.
    await vi.waitFor(() => expect(l2Expired(second.server)).toBe(COUNT / 2), { timeout: 10_000 });
    expect((await l2Settled(second.server)).items).toBe(COUNT / 2);
    expect(await served(second.client, 'r')).toEqual(expected((ttl) => ttl === 0, ttlOf));
  });
});
