// L2 faults over a real socket. A full disk: L2 lives on a 3 MiB tmpfs, the
// client writes far more than fits, and the server must keep answering every
// command (never SERVER_ERROR), serve what L1 holds, count the failed batches
// in `stats` (l2_write_errors), log the episode once with its cause, and, once
// the filesystem has room again (remounted larger), write to L2 again by
// itself. And a locked directory: a second server on a data dir in use exits
// at start-up with one clear line on stderr.
//
// The full disk needs `mount -t tmpfs`, i.e. root (CI runs as root); a
// read-only chmod would be no fault at all for root.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/log/logger.js';
import { startCache } from '../../src/start-cache.js';
import { makeTempDir, useCleanups } from '../helpers/cleanups.js';
import { RawClient } from '../helpers/raw-client.js';
import { mountTmpfs } from '../helpers/tmpfs.js';

const BIN = fileURLToPath(new URL('../../bin/rat-memcached', import.meta.url));
const MIB = 1024 * 1024;
const VALUE_BYTES = 4096;

const cleanups = useCleanups();
const tempDir = (prefix: string): string => makeTempDir(cleanups, prefix);

/** A tmpfs of `sizeMiB` at a fresh directory, unmounted afterwards. */
function freshTmpfs(sizeMiB: number): string {
  const dir = tempDir('rat-l2-tmpfs-');
  cleanups.push(mountTmpfs(dir, sizeMiB));
  return dir;
}

/** Sets every item with a reply; returns the replies that were not STORED. */
async function setAll(client: RawClient, items: ReadonlyMap<string, Buffer>): Promise<string[]> {
  const odd: string[] = [];
  const entries = [...items];
  for (let at = 0; at < entries.length; at += 64) {
    const batch = entries.slice(at, at + 64);
    await client.send(batch.flatMap(([key, value]) => [`set ${key} 0 0 ${value.length}\r\n`, value, '\r\n']));
    const reply = await client.readReply(countLines(batch.length), 10_000);
    for (const line of reply.data.toString('latin1').split('\r\n')) {
      if (line !== '' && line !== 'STORED') odd.push(line);
    }
    if (reply.timedOut || reply.closed) odd.push(`<no reply: ${reply.timedOut ? 'timeout' : 'closed'}>`);
  }
  return odd;
}

function countLines(n: number): (buffered: Buffer) => number {
  return (buffered) => {
    let at = -1;
    for (let i = 0; i < n; i++) {
      at = buffered.indexOf('\r\n', at + 1);
      if (at === -1) return -1;
    }
    return at + 2;
  };
}

/** key -> value for every key the server returns; one `get` per 50 keys. */
async function getAll(client: RawClient, keys: readonly string[]): Promise<Map<string, Buffer>> {
  const found = new Map<string, Buffer>();
  for (let at = 0; at < keys.length; at += 50) {
    await client.send(`get ${keys.slice(at, at + 50).join(' ')}\r\n`);
    const reply = await client.readReply(endOfGet, 10_000);
    const data = reply.data;
    let pos = 0;
    while (data.subarray(pos, pos + 6).toString('latin1') === 'VALUE ') {
      const eol = data.indexOf('\r\n', pos);
      const [, key, , length] = data.subarray(pos, eol).toString('latin1').split(' ');
      const start = eol + 2;
      found.set(key as string, Buffer.from(data.subarray(start, start + Number(length))));
      pos = start + Number(length) + 2;
    }
  }
  return found;
}

/** A get reply ends at END\r\n after its VALUE blocks (values may hold any bytes, so walk them). */
function endOfGet(buffered: Buffer): number {
  let pos = 0;
  for (;;) {
    const eol = buffered.indexOf('\r\n', pos);
    if (eol === -1) return -1;
    const line = buffered.subarray(pos, eol).toString('latin1');
    if (line === 'END') return eol + 2;
    if (!line.startsWith('VALUE ')) return eol + 2;
    pos = eol + 2 + Number(line.split(' ')[3]) + 2;
    if (pos > buffered.length) return -1;
  }
}

async function stat(client: RawClient, name: string): Promise<number> {
  await client.send('stats\r\n');
  const text = (await client.readUntil('END\r\n')).data.toString('latin1');
  const match = new RegExp(`^STAT ${name} (\\d+)\\r$`, 'm').exec(text);
  if (match === null) throw new Error(`stats has no ${name}`);
  return Number(match[1]);
}

function randomItems(prefix: string, count: number): Map<string, Buffer> {
  const items = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) items.set(`${prefix}${i}`, randomBytes(VALUE_BYTES));
  return items;
}

/** Keys whose served value differs from what was set (a miss is not a difference). */
function wrongValues(items: ReadonlyMap<string, Buffer>, served: ReadonlyMap<string, Buffer>): string[] {
  return [...served]
    .filter(([key, value]) => !value.equals(items.get(key) ?? Buffer.alloc(0)))
    .map(([k]) => k);
}

describe('L2 faults', () => {
  it('keeps serving from L1 while the disk is full, counts and logs it once, and recovers by itself', async () => {
    const mount = freshTmpfs(3);
    const logs: Array<Record<string, unknown>> = [];
    const logger = createLogger('info', {
      write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>),
    });
    const config = {
      ...loadConfig(),
      host: '127.0.0.1',
      port: 0,
      l2Enabled: true,
      l2DataDir: join(mount, 'db'),
      memoryBytes: 4 * MIB,
      // The budget is far above the filesystem, so it is the disk that fills, not the budget.
      l2MaxBytes: 256 * MIB,
    };
    const running = await startCache(config, { logger });
    cleanups.push(() => running.close());
    const client = await RawClient.connect('127.0.0.1', running.address.port);
    cleanups.push(() => client.close());

    // 8 MiB of incompressible values through 4 MiB of L1 onto 3 MiB of disk.
    const first = randomItems('full:', 2048);
    expect(await setAll(client, first)).toEqual([]);
    await running.core.l2?.store.flush().catch(() => {});
    expect(await stat(client, 'l2_write_errors')).toBeGreaterThan(0);
    const failing = logs.filter(
      (entry) => entry.msg === 'L2 writes failing; serving from L1 until they recover',
    );
    expect(failing).toHaveLength(1);
    expect(JSON.stringify(failing[0]?.err)).toMatch(/space|ENOSPC/i);

    // What L1 holds (the most recent writes) is served. Read first: promoting
    // an older item from L2 would evict one of them, and with L2 failing an
    // evicted item is dropped, as the issue allows.
    const keys = [...first.keys()];
    const recent = keys.slice(-300);
    const servedRecent = await getAll(client, recent);
    expect(recent.filter((key) => !servedRecent.has(key))).toEqual([]);
    expect(wrongValues(first, servedRecent)).toEqual([]);
    // Whatever else is served (L2 holds what fitted before the disk filled) is never wrong.
    const served = await getAll(client, keys);
    expect(served.size).toBeGreaterThan(recent.length);
    expect(wrongValues(first, served)).toEqual([]);

    // Room again: the next batches reach LevelDB without a restart.
    execFileSync('mount', ['-o', 'remount,size=64m', mount]);
    const second = randomItems('after:', 2048);
    expect(await setAll(client, second)).toEqual([]);
    await running.core.l2?.store.flush();
    expect(logs.some((entry) => entry.msg === 'L2 writes recovered')).toBe(true);
    // Twice what L1 holds: all of it readable means demotions landed in L2 again.
    const servedAfter = await getAll(client, [...second.keys()]);
    expect(wrongValues(second, servedAfter)).toEqual([]);
    expect(servedAfter.size).toBe(second.size);

    // The episode left a database that reopens and serves only intact values.
    await running.close();
    const reopened = await startCache(config, { logger });
    cleanups.push(() => reopened.close());
    const again = await RawClient.connect('127.0.0.1', reopened.address.port);
    cleanups.push(() => again.close());
    const servedReopened = await getAll(again, [...second.keys()]);
    expect(servedReopened.size).toBe(second.size);
    expect(wrongValues(second, servedReopened)).toEqual([]);
  });

  it('does not leave a throttled writer stuck (or crash) when the backlog cannot drain to a full disk', async () => {
    const mount = freshTmpfs(3);
    const running = await startCache({
      ...loadConfig(),
      host: '127.0.0.1',
      port: 0,
      l2Enabled: true,
      l2DataDir: join(mount, 'db'),
      memoryBytes: 4 * MIB,
      l2MaxBytes: 256 * MIB,
      l2MaxPendingBytes: MIB,
    });
    // Its final flush fails on the full disk; what this test checks is the writer, not the close.
    cleanups.push(() => running.close().catch(() => {}));
    const client = await RawClient.connect('127.0.0.1', running.address.port);
    cleanups.push(() => client.close());
    // 24 MiB of 96 KiB values in one pipeline: the backlog passes 1 MiB at once, every batch fails.
    const items = new Map<string, Buffer>();
    for (let i = 0; i < 256; i++) items.set(`burst:${i}`, randomBytes(96 * 1024));
    expect(await setAll(client, items)).toEqual([]);
    expect(await stat(client, 'l2_throttled')).toBeGreaterThan(0);
    expect(await stat(client, 'l2_write_errors')).toBeGreaterThan(0);
    const recent = [...items.keys()].slice(-20);
    const served = await getAll(client, recent);
    expect(served.size).toBe(recent.length);
    expect(wrongValues(items, served)).toEqual([]);
  });

  it('refuses to start on a data dir another server holds, with one clear line', async () => {
    const dir = tempDir('rat-l2-locked-');
    mkdirSync(join(dir, 'db'));
    const first = await startChild(join(dir, 'db'));
    const second = spawn(process.execPath, [BIN, '--port', '0', '--data-dir', join(dir, 'db')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    trackChild(second);
    let stderr = '';
    second.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => second.once('exit', (c) => resolve(c)));
    expect(code).not.toBe(0);
    expect(stderr.trim().split('\n')).toEqual([
      `rat-memcached: L2 directory ${join(dir, 'db')} is locked by another process (is another rat-memcached using it?)`,
    ]);
    expect(first.exitCode).toBeNull();
  });
});

function trackChild(child: ChildProcess): void {
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
}

function startChild(dataDir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, '--port', '0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`first server exited early with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if ((JSON.parse(line) as { msg?: string }).msg === 'listening') resolve(child);
    });
  });
}
