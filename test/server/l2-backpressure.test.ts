// Backpressure from L2 to writers: with a tiny l2.max_pending_bytes and one
// connection pipelining large sets (far more than L1 holds, each forcing a
// demotion), the server must stop reading that socket while the L2 write
// backlog is over the limit (l2_throttled counts it) rather than drop demoted
// items, keep the backlog near the limit, and lose nothing it acknowledged:
// afterwards every key is readable, from L1 or L2, with the value written.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer } from '../helpers/test-server.js';

const MIB = 1024 * 1024;
const VALUE_BYTES = 96 * 1024;
const ITEMS = 400;
const MAX_PENDING_BYTES = MIB;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('L2 backpressure', () => {
  it('throttles a pipelining writer instead of dropping demotions, and loses no acknowledged item', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rat-l2-backpressure-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const server = await startTestServer({
      l2Enabled: true,
      l2DataDir: dir,
      memoryBytes: 4 * MIB,
      l2MaxPendingBytes: MAX_PENDING_BYTES,
    });
    cleanups.push(() => server.close());
    const client = await RawClient.connect(server.host, server.port);
    cleanups.push(() => client.close());
    const l2 = server.core.l2;
    if (l2 === undefined) throw new Error('L2 is not enabled');

    // Sampled between I/O events, so it can only under-report the true peak.
    let peakPendingBytes = 0;
    const sampler = setInterval(() => {
      peakPendingBytes = Math.max(peakPendingBytes, l2.store.pendingBytes);
    }, 0);
    cleanups.push(() => clearInterval(sampler));

    // Random bytes, so LZ4 saves nothing and every demotion writes its full size.
    const values = Array.from({ length: ITEMS }, () => randomBytes(VALUE_BYTES));
    const pipeline = values.flatMap((value, i) => [`set big:${i} ${i} 0 ${value.length}\r\n`, value, '\r\n']);
    // 37.5 MiB in one go; the replies are read only after, so the writer never waits on them.
    const sent = client.send(pipeline);
    const replies = await client.readReply(nLines(ITEMS), 30_000);
    await sent;
    clearInterval(sampler);
    expect(replies.timedOut).toBe(false);
    expect(replies.data.toString('latin1')).toBe('STORED\r\n'.repeat(ITEMS));

    await client.send('stats\r\n');
    const stats = (await client.readUntil('END\r\n')).data.toString('latin1');
    expect(Number(/STAT l2_throttled (\d+)/.exec(stats)?.[1])).toBeGreaterThan(0);
    expect(Number(/STAT l2_writes_dropped (\d+)/.exec(stats)?.[1])).toBe(0);
    expect(Number(/STAT l2_demotions (\d+)/.exec(stats)?.[1])).toBeGreaterThan(ITEMS / 2);
    // Bounded overshoot: the limit plus what one read chunk can demote.
    expect(peakPendingBytes).toBeLessThan(MAX_PENDING_BYTES + 4 * VALUE_BYTES);

    for (let i = 0; i < ITEMS; i++) {
      await client.send(`get big:${i}\r\n`);
      const header = `VALUE big:${i} ${i} ${VALUE_BYTES}\r\n`;
      const expected = Buffer.concat([Buffer.from(header), values[i] as Buffer, Buffer.from('\r\nEND\r\n')]);
      // By length, not by searching for END: a random value may contain it.
      const reply = await client.readReply(
        (buffered) =>
          buffered.subarray(0, 5).toString() === 'END\r\n'
            ? 5
            : buffered.length >= expected.length
              ? expected.length
              : -1,
        10_000,
      );
      expect(reply.data.equals(expected), `big:${i}`).toBe(true);
    }
  });
});

function nLines(n: number): (buffered: Buffer) => number {
  return (buffered) => {
    let at = -2;
    for (let i = 0; i < n; i++) {
      at = buffered.indexOf('\r\n', at + 2);
      if (at === -1) return -1;
    }
    return at + 2;
  };
}
