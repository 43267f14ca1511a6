// Scaling out the way memcached users already do: twemproxy (nutcracker)
// shards keys over several rat-memcached servers with modula hashing (ketama works the same way), and a
// client talking to the proxy sees one cache.

import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, LOOPBACK, toolAvailable, waitUntilAccepting } from '../helpers/memcached-process.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const NUTCRACKER_BIN = '/usr/sbin/nutcracker';

function nutcrackerAvailable(): boolean {
  try {
    accessSync(NUTCRACKER_BIN, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!toolAvailable('conformance/nutcracker', nutcrackerAvailable(), 'nutcracker'))(
  'behind twemproxy (nutcracker)',
  () => {
    const shards: TestServer[] = [];
    let proxy: ChildProcess | undefined;
    let proxyPort = 0;
    let confDir: string | undefined;

    afterAll(async () => {
      proxy?.kill('SIGKILL');
      await Promise.all(shards.map((shard) => shard.close()));
      if (confDir !== undefined) rmSync(confDir, { recursive: true, force: true });
    });

    beforeAll(async () => {
      shards.push(await startTestServer(), await startTestServer());
      proxyPort = await freePort();
      const dir = mkdtempSync(join(tmpdir(), 'rat-nutcracker-'));
      confDir = dir;
      const conf = join(dir, 'nutcracker.yml');
      writeFileSync(
        conf,
        [
          'pool:',
          `  listen: ${LOOPBACK}:${proxyPort}`,
          '  hash: fnv1a_64',
          '  distribution: modula',
          '  timeout: 2000',
          '  auto_eject_hosts: false',
          '  servers:',
          ...shards.map((shard, i) => `    - ${LOOPBACK}:${shard.port}:1 shard${i}`),
          '',
        ].join('\n'),
      );
      const statsPort = await freePort();
      proxy = spawn(
        NUTCRACKER_BIN,
        ['-c', conf, '-s', String(statsPort), '-a', LOOPBACK, '-p', join(dir, 'pid'), '-o', join(dir, 'log')],
        { stdio: 'ignore' },
      );
      await waitUntilAccepting(LOOPBACK, proxyPort, {
        timeoutMs: 10_000,
        gaveUp: () => (proxy?.exitCode === null ? undefined : `nutcracker exited with ${proxy?.exitCode}`),
      });
    });

    it('shards keys over both servers and serves them all back through the proxy', async () => {
      const client = await RawClient.connect(LOOPBACK, proxyPort);
      try {
        const keys = Array.from({ length: 200 }, (_, i) => `user:${i}`);
        await client.send(keys.map((key, i) => `set ${key} ${i} 0 ${String(i).length}\r\n${i}\r\n`).join(''));
        for (const _ of keys) expect((await client.readUntil('\r\n')).data.toString()).toBe('STORED\r\n');

        await client.send(`get ${keys.join(' ')}\r\n`);
        const reply = (await client.readUntil('END\r\n')).data.toString();
        const values = [...reply.matchAll(/^VALUE (\S+) (\d+) \d+\r\n(\d+)\r$/gm)];
        expect(values).toHaveLength(keys.length);
        for (const [, key, flags, data] of values) expect(`user:${flags}:${data}`).toBe(`${key}:${flags}`);

        const counts = shards.map((shard) => shard.core.memory.itemCount);
        expect(counts.reduce((a, b) => a + b, 0)).toBe(keys.length);
        for (const count of counts) expect(count).toBeGreaterThan(20);

        await client.send('incr user:7 3\r\ndelete user:8\r\nget user:7 user:8\r\n');
        expect((await client.readUntil('END\r\n')).data.toString()).toBe(
          '10\r\nDELETED\r\nVALUE user:7 7 2\r\n10\r\nEND\r\n',
        );
      } finally {
        await client.close();
      }
    });
  },
);
