// The idle pass over a real socket: a child server (the compiled bin, overflow
// mode, an L1 that holds every item) is given items, then left alone. Within
// a few expiry ticks `stats` shows them copied to L2; killed with SIGKILL and
// started again on the same directory, it serves every one of them. Without
// the pass, items that were never evicted exist only in L1 until a graceful
// shutdown, and a kill loses them all.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ChildServer, killHard, killIfRunning, startChildServer } from '../helpers/child-server.js';
import { RawClient } from '../helpers/raw-client.js';

const DIST = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const KEYS = 300;

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

beforeAll(() => {
  if (!existsSync(DIST)) throw new Error('dist/ is missing: run `npm run build` (npm test does it)');
});

function startChild(dir: string, extra: string[] = []): Promise<ChildServer> {
  return startChildServer(['-m', '16', '--data-dir', dir, ...extra], (child) =>
    cleanups.push(() => killIfRunning(child)),
  );
}

const valueFor = (i: number): string =>
  `${i}:`.padEnd(500 + (i % 7) * 100, String.fromCharCode(97 + (i % 26)));

async function stat(client: RawClient, name: string): Promise<number> {
  await client.send('stats\r\n');
  const reply = await client.readUntil('END\r\n');
  const match = new RegExp(`STAT ${name} (\\d+)\\r\\n`).exec(reply.data.toString('latin1'));
  if (match === null) throw new Error(`no ${name} in stats`);
  return Number(match[1]);
}

async function connect(port: number): Promise<RawClient> {
  const client = await RawClient.connect('127.0.0.1', port);
  cleanups.push(() => client.close());
  return client;
}

describe('L2 idle writes, over a socket', () => {
  it(`copies ${KEYS} items only L1 holds to L2 while idle, and serves them after a SIGKILL`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rat-l2-idle-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const first = await startChild(dir);
    const writer = await connect(first.port);
    let sets = '';
    for (let i = 0; i < KEYS; i++) sets += `set idle:${i} ${i} 0 ${valueFor(i).length}\r\n${valueFor(i)}\r\n`;
    await writer.send(sets);
    const stored = await writer.readReply((buffered) => {
      const text = buffered.toString('latin1');
      return text.split('STORED\r\n').length - 1 === KEYS ? buffered.length : -1;
    });
    expect(stored.timedOut).toBe(false);
    expect(await stat(writer, 'l2_items')).toBe(0);
    expect(await stat(writer, 'evictions')).toBe(0);

    // `stats` is not a command that ends an idle moment; poll it until the pass is done.
    const deadline = Date.now() + 10_000;
    while ((await stat(writer, 'l2_idle_writes')) < KEYS && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await stat(writer, 'l2_idle_writes')).toBe(KEYS);
    // The pass's last batch lands before it counts as done; give LevelDB's write a moment more.
    while ((await stat(writer, 'l2_items')) < KEYS && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await stat(writer, 'l2_items')).toBe(KEYS);

    await killHard(first.child);
    const second = await startChild(dir);
    const reader = await connect(second.port);
    let missing = 0;
    for (let at = 0; at < KEYS; at += 50) {
      const keys = Array.from({ length: Math.min(50, KEYS - at) }, (_, j) => at + j);
      await reader.send(`get ${keys.map((i) => `idle:${i}`).join(' ')}\r\n`);
      const reply = (await reader.readUntil('END\r\n', 10_000)).data.toString('latin1');
      for (const i of keys) {
        const value = valueFor(i);
        if (!reply.includes(`VALUE idle:${i} ${i} ${value.length}\r\n${value}\r\n`)) missing++;
      }
    }
    expect(missing).toBe(0);
  });

  it('copies nothing with l2.write_when_idle off', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rat-l2-idle-off-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const { writeFileSync } = await import('node:fs');
    const config = join(dir, 'rat.toml');
    writeFileSync(config, '[l2]\nwrite_when_idle = false\n');
    const server = await startChild(join(dir, 'data'), ['--config', config]);
    const client = await connect(server.port);
    await client.send('set k 0 0 1\r\nv\r\n');
    expect((await client.readUntil('STORED\r\n')).timedOut).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(await stat(client, 'l2_idle_writes')).toBe(0);
    expect(await stat(client, 'l2_items')).toBe(0);
  });
});
