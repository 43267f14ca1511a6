// event_loop_max_delay_ms, the stat operators read stalls from: a stall of
// the server's event loop shows up as itself (not plus the monitor's timer
// interval), and `stats reset` clears it. The server runs in this process,
// so blocking the test's own thread blocks the server's loop.

import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import type { RawClient } from '../helpers/raw-client.js';
import { startServerAndClient } from '../helpers/test-server.js';

const cleanups = useCleanups();

async function maxDelayMs(client: RawClient): Promise<number> {
  await client.send('stats\r\n');
  const reply = (await client.readUntil('END\r\n')).data.toString();
  const match = /STAT event_loop_max_delay_ms ([\d.]+)\r\n/.exec(reply);
  if (match === null) throw new Error(`no event_loop_max_delay_ms in ${reply}`);
  return Number(match[1]);
}

function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // the whole process stalls, the server's event loop with it
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('event_loop_max_delay_ms', () => {
  it('reports a 60 ms stall as about 60 ms, and stats reset clears it', async () => {
    const { client } = await startServerAndClient(cleanups, {});
    await sleep(50);
    await client.send('stats reset\r\n');
    expect((await client.readUntil('RESET\r\n')).data.toString()).toBe('RESET\r\n');
    await sleep(50);
    // Bounds are loose: other test files share the two cores and delay timers too.
    expect(await maxDelayMs(client)).toBeLessThan(50);
    block(60);
    await sleep(30);
    const stalled = await maxDelayMs(client);
    expect(stalled).toBeGreaterThanOrEqual(50);
    expect(stalled).toBeLessThan(100);
    await client.send('stats reset\r\n');
    await client.readUntil('RESET\r\n');
    await sleep(50);
    expect(await maxDelayMs(client)).toBeLessThan(50);
  });
});
