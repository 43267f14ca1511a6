// The direct socket path (server.io = direct) where it differs from net.Socket:
// one read buffer shared by every connection, writes the kernel may take
// only in part, and closing by hand (half-close, reset, server shutdown).
// The common behaviours run on both paths in text-server.test.ts.

import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/config.js';
import { makeTempDir, useCleanups } from '../helpers/cleanups.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const MIB = 1024 * 1024;
const cleanups = useCleanups();

async function server(overrides: Partial<Config> = {}): Promise<TestServer> {
  const started = await startTestServer({ io: 'direct', ...overrides });
  cleanups.push(() => started.close());
  return started;
}

async function client(target: TestServer): Promise<RawClient> {
  const connected = await RawClient.connect(target.host, target.port);
  cleanups.push(() => connected.close());
  return connected;
}

/** Sends `request`, half-closes, and collects everything until the server closes. */
function sendAndHalfClose(target: TestServer, request: Buffer | string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(target.port, target.host);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    socket.end(request);
  });
}

function valueFor(key: string, length: number): string {
  return `${key}=`.padEnd(length, key.at(-1) ?? 'x');
}

describe('direct socket I/O', () => {
  it('answers everything a client sent before its FIN, then closes', async () => {
    const target = await server();
    let request = '';
    let expected = '';
    for (let i = 0; i < 50; i++) {
      request += `set h${i} 0 0 3\r\nv${String(i).padStart(2, '0')}\r\nget h${i}\r\n`;
      expected += `STORED\r\nVALUE h${i} 0 3\r\nv${String(i).padStart(2, '0')}\r\nEND\r\n`;
    }
    const reply = await sendAndHalfClose(target, request);
    expect(reply.toString('latin1')).toBe(expected);
  });

  it('delivers replies larger than the socket buffer intact to a client that reads late', async () => {
    const target = await server({ maxItemSize: 2 * MIB, memoryBytes: 64 * MIB });
    const c = await client(target);
    const value = Buffer.alloc(1_500_000);
    for (let i = 0; i < value.length; i++) value[i] = (i * 31) & 0xff;
    await c.send([`set big 5 0 ${value.length}\r\n`, value, '\r\n']);
    await c.readUntil('STORED\r\n');
    // 8 x 1.5 MB queued before the client reads a byte: the kernel takes only part at once.
    await c.send('get big\r\n'.repeat(8));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const one = Buffer.concat([
      Buffer.from(`VALUE big 5 ${value.length}\r\n`, 'latin1'),
      value,
      Buffer.from('\r\nEND\r\n', 'latin1'),
    ]);
    const expected = Buffer.concat(Array.from({ length: 8 }, () => one));
    const reply = await c.readReply((buffered) =>
      buffered.length >= expected.length ? expected.length : -1,
    );
    expect(reply.data.equals(expected)).toBe(true);
  });

  it('with L2, requests waiting on LevelDB keep their keys while other connections reuse the read buffer', async () => {
    const dataDir = makeTempDir(cleanups, 'rat-direct-l2-');
    const target = await server({ l2Enabled: true, l2DataDir: dataDir, memoryBytes: 8 * MIB });
    const loader = await client(target);
    const keys = Array.from({ length: 4000 }, (_, i) => `key-${i}`);
    // 16 MB of values into an 8 MiB L1: most of them end up in L2 only.
    for (let i = 0; i < keys.length; i += 100) {
      const batch = keys.slice(i, i + 100);
      await loader.send(batch.map((k) => `set ${k} 0 0 4000\r\n${valueFor(k, 4000)}\r\n`).join(''));
      await loader.readReply((buffered) => {
        const text = buffered.toString('latin1');
        return text.split('STORED\r\n').length - 1 === batch.length ? buffered.length : -1;
      }, 10_000);
    }
    expect(target.core.l2?.stats.l2Demotions ?? 0).toBeGreaterThan(1000);

    const readers = await Promise.all(Array.from({ length: 6 }, () => client(target)));
    const writer = await client(target);
    const rounds = 20;
    const checks = readers.map(async (reader, r) => {
      for (let round = 0; round < rounds; round++) {
        const asked = Array.from(
          { length: 5 },
          (_, j) => keys[(r * 613 + round * 97 + j * 701) % keys.length]!,
        );
        await reader.send(`get ${asked.join(' ')}\r\n`);
        const reply = (await reader.readUntil('END\r\n', 10_000)).data.toString('latin1');
        const expected = asked.map((k) => `VALUE ${k} 0 4000\r\n${valueFor(k, 4000)}\r\n`).join('');
        expect(reply).toBe(`${expected}END\r\n`);
      }
    });
    // Meanwhile another connection fills the shared read buffer with other bytes.
    const noise = (async () => {
      for (let round = 0; round < rounds * 3; round++) {
        await writer.send(`set noise${round} 0 0 4000\r\n${'#'.repeat(4000)}\r\n`);
        await writer.readUntil('STORED\r\n', 10_000);
      }
    })();
    await Promise.all([...checks, noise]);
    expect(target.core.l2?.stats.l2Hits ?? 0).toBeGreaterThan(0);
  });

  it('keeps serving others after a client resets its connection mid-request', async () => {
    const target = await server();
    const rude = connect(target.port, target.host);
    await new Promise<void>((resolve) => rude.once('connect', () => resolve()));
    rude.write('set half 0 0 100\r\nonly part of it');
    await new Promise((resolve) => setTimeout(resolve, 20));
    rude.resetAndDestroy();
    const c = await client(target);
    await c.send('set ok 0 0 2\r\nhi\r\nget ok\r\nget half\r\n');
    const reply = await c.readUntil('END\r\nEND\r\n');
    expect(reply.data.toString('latin1')).toBe('STORED\r\nVALUE ok 0 2\r\nhi\r\nEND\r\nEND\r\n');
  });

  it('closes every connection when the server stops, after the replies already rendered', async () => {
    const target = await startTestServer({ io: 'direct' });
    const c = await RawClient.connect(target.host, target.port);
    cleanups.push(() => c.close());
    await c.send('set s 0 0 1\r\nx\r\n');
    await c.readUntil('STORED\r\n');
    await target.close();
    const rest = await c.readUntilClosed();
    expect(rest.closed).toBe(true);
  });
});
