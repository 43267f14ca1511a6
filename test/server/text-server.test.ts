// Our server over real sockets: framing, pipelining, splitting, isolation
// between connections, backpressure, connection limits and eviction.

import { afterEach, describe, expect, it } from 'vitest';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const MIB = 1024 * 1024;
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function client(target: TestServer): Promise<RawClient> {
  const connected = await RawClient.connect(target.host, target.port);
  cleanups.push(() => connected.close());
  return connected;
}

// Every behaviour here is checked on both socket I/O paths (server.io).
describe.each(['direct', 'stream'] as const)('text server (io %s)', (io) => {
  async function server(overrides: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
    const started = await startTestServer({ io, ...overrides });
    cleanups.push(() => started.close());
    return started;
  }

  it('runs on the I/O path it was configured for', async () => {
    const c = await client(await server());
    await c.send('stats settings\r\n');
    const reply = await c.readUntil('END\r\n');
    expect(reply.data.toString('latin1')).toContain(`STAT socket_io ${io}\r\n`);
  });

  it('answers 200 pipelined requests from one packet in order', async () => {
    const c = await client(await server());
    let script = '';
    let expected = '';
    for (let i = 0; i < 100; i++) {
      script += `set k${i} ${i} 0 ${String(i).length}\r\n${i}\r\nget k${i}\r\n`;
      expected += `STORED\r\nVALUE k${i} ${i} ${String(i).length}\r\n${i}\r\nEND\r\n`;
    }
    await c.send(script);
    const reply = await c.readUntil('VALUE k99 99 2\r\n99\r\nEND\r\n');
    expect(reply.data.toString('latin1')).toBe(expected);
  });

  it('answers every request of a 300 KB pipeline, read across several yields to the event loop', async () => {
    const c = await client(await server());
    await c.send('set p 0 0 1\r\nx\r\n');
    await c.readUntil('STORED\r\n');
    const count = 40_000;
    await c.send('get p\r\n'.repeat(count));
    const one = 'VALUE p 0 1\r\nx\r\nEND\r\n';
    const reply = await c.readReply((buffered) =>
      buffered.length >= one.length * count ? one.length * count : -1,
    );
    expect(reply.data.toString('latin1')).toBe(one.repeat(count));
  });

  it('stores every byte value, embedded CRLF included, and returns it intact', async () => {
    const c = await client(await server());
    const value = Buffer.alloc(256 * 4);
    for (let i = 0; i < value.length; i++) value[i] = i % 256;
    value.write('\r\nEND\r\n', 100, 'latin1');
    await c.send([`set bin 0 0 ${value.length}\r\n`, value, '\r\nget bin\r\n']);
    const expected = Buffer.concat([
      Buffer.from(`STORED\r\nVALUE bin 0 ${value.length}\r\n`, 'latin1'),
      value,
      Buffer.from('\r\nEND\r\n', 'latin1'),
    ]);
    const reply = await c.readReply((buffered) =>
      buffered.length >= expected.length ? expected.length : -1,
    );
    expect(reply.data).toEqual(expected);
  });

  it('accepts a request split at every byte, and the value written separately from its line', async () => {
    const c = await client(await server());
    await c.send('set split 7 0 5\r\nhello\r\nget split\r\n', 'bytes');
    expect((await c.readUntil('END\r\n')).data.toString()).toBe(
      'STORED\r\nVALUE split 7 5\r\nhello\r\nEND\r\n',
    );
    await c.send('append split 0 0 6\r\n');
    await c.send(' world');
    await c.send('\r\n');
    await c.send('get split\r\n');
    expect((await c.readUntil('END\r\n')).data.toString()).toBe(
      'STORED\r\nVALUE split 7 11\r\nhello world\r\nEND\r\n',
    );
  });

  it('keeps serving others when one client sends garbage and is closed', async () => {
    const target = await server();
    const good = await client(target);
    const bad = await client(target);
    await good.send('set keep 0 0 4\r\nsafe\r\n');
    expect((await good.readUntil('\r\n')).data.toString()).toBe('STORED\r\n');
    await bad.send('x'.repeat(10_000));
    expect((await bad.readUntilClosed()).closed).toBe(true);
    await good.send('get keep\r\n');
    expect((await good.readUntil('END\r\n')).data.toString()).toBe('VALUE keep 0 4\r\nsafe\r\nEND\r\n');
  });

  it('stops reading from a client that does not read its replies (backpressure)', async () => {
    const target = await server({ memoryBytes: 64 * MIB });
    const c = await client(target);
    const value = 'v'.repeat(256 * 1024);
    await c.send(`set big 0 0 ${value.length}\r\n${value}\r\n`);
    await c.readUntil('STORED\r\n');
    const requests = 1000; // 256 MiB of replies if the server rendered them all
    const before = target.core.stats.cmdGet;
    void c.send('get big\r\n'.repeat(requests));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const served = target.core.stats.cmdGet - before;
    expect(served).toBeGreaterThan(0);
    expect(served).toBeLessThan(requests / 4);
    // Reading everything lets the server finish every request.
    let received = 0;
    while (received < requests) {
      const reply = await c.readUntil('END\r\n', 10_000);
      expect(reply.timedOut).toBe(false);
      received++;
    }
    expect(target.core.stats.cmdGet - before).toBe(requests);
  });

  it('refuses connections over the limit with memcached words', async () => {
    const target = await server({ maxConnections: 2 });
    const a = await client(target);
    const b = await client(target);
    await a.send('version\r\n');
    await b.send('version\r\n');
    await a.readUntil('\r\n');
    await b.readUntil('\r\n');
    const third = await client(target);
    const reply = await third.readUntilClosed();
    expect(reply.data.toString()).toBe('ERROR Too many open connections\r\n');
  });

  it('closes on quit after answering what came before it', async () => {
    const c = await client(await server());
    await c.send('set q 0 0 1\r\nx\r\nquit\r\nget q\r\n');
    const reply = await c.readUntilClosed();
    expect(reply.data.toString()).toBe('STORED\r\n');
    expect(reply.closed).toBe(true);
  });

  it('evicts within the budget and keeps the most recent items (lru)', async () => {
    const target = await server({ memoryBytes: 4 * MIB, maxItemSize: 1 * MIB, eviction: 'lru' });
    const c = await client(target);
    const value = 'x'.repeat(4096);
    const count = 4000; // ~16 MiB through a 4 MiB cache
    for (let batch = 0; batch < count; batch += 500) {
      let script = '';
      for (let i = batch; i < batch + 500; i++) script += `set key${i} 0 0 ${value.length}\r\n${value}\r\n`;
      await c.send(script);
      for (let i = 0; i < 500; i++) expect((await c.readUntil('\r\n')).data.toString()).toBe('STORED\r\n');
    }
    const memory = target.core.memory;
    expect(memory.evictions).toBeGreaterThan(0);
    expect(memory.allocatedBytes).toBeLessThanOrEqual(4 * MIB);
    await c.send(`get key${count - 1} key0\r\n`);
    const reply = (await c.readUntil('END\r\n')).data.toString();
    expect(reply.startsWith(`VALUE key${count - 1} 0 4096\r\n`)).toBe(true);
    expect(reply).not.toContain('VALUE key0 ');
  });

  it('answers stats with memcached field names and live counts', async () => {
    const c = await client(await server());
    await c.send('set a 0 0 1\r\n1\r\nget a\r\nget nope\r\n');
    await c.readUntil('END\r\nEND\r\n');
    await c.send('stats\r\n');
    const text = (await c.readUntil('END\r\n')).data.toString();
    const stats = new Map([...text.matchAll(/^STAT (\S+) (.*)\r$/gm)].map((m) => [m[1], m[2]]));
    expect(stats.get('curr_items')).toBe('1');
    expect(stats.get('get_hits')).toBe('1');
    expect(stats.get('get_misses')).toBe('1');
    expect(stats.get('cmd_set')).toBe('1');
    expect(stats.get('curr_connections')).toBe('1');
    expect(Number(stats.get('limit_maxbytes'))).toBe(64 * MIB);
  });
});
