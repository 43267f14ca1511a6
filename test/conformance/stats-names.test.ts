// `stats` is compared by shape, not bytes: values (pid, uptime, counters, rusage) differ by nature.
// Ours must print well-formed `STAT <name> <value>` lines ended by `END`, include the counters that
// monitoring tools and clients read, and name them as memcached does. Names memcached has and ours
// lacks are printed (not failed): many are slab/LRU internals we do not have.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endsAt, RawClient } from '../helpers/raw-client.js';
import { oracleAvailable, type RunningTarget, startOracle, startOurs } from './targets.js';

const REQUIRED = [
  'pid',
  'uptime',
  'time',
  'version',
  'curr_connections',
  'total_connections',
  'cmd_get',
  'cmd_set',
  'cmd_touch',
  'cmd_flush',
  'get_hits',
  'get_misses',
  'get_expired',
  'get_flushed',
  'delete_hits',
  'delete_misses',
  'incr_hits',
  'incr_misses',
  'decr_hits',
  'decr_misses',
  'cas_hits',
  'cas_misses',
  'cas_badval',
  'touch_hits',
  'touch_misses',
  'curr_items',
  'total_items',
  'bytes',
  'limit_maxbytes',
  'evictions',
  'threads',
] as const;

/** Counters both servers must move the same way for the same traffic (after `stats reset`). */
const TRAFFIC =
  'set a 0 0 1\r\n1\r\nget a nope\r\ngets a\r\nincr a 1\r\nincr nope 1\r\ndecr a 1\r\ndecr nope 1\r\n' +
  'touch a 0\r\ntouch nope 0\r\ncas nope 0 0 1 1\r\nx\r\ndelete a\r\ndelete a\r\n';
const TRAFFIC_COUNTERS = {
  cmd_get: '3',
  cmd_touch: '2',
  get_hits: '2',
  get_misses: '1',
  incr_hits: '1',
  incr_misses: '1',
  decr_hits: '1',
  decr_misses: '1',
  touch_hits: '1',
  touch_misses: '1',
  cas_misses: '1',
  delete_hits: '1',
  delete_misses: '1',
  curr_items: '0',
};
// The traffic's replies, up to the last one (`NOT_FOUND` of the second delete).
const TRAFFIC_END = 'DELETED\r\nNOT_FOUND\r\n';

async function statsOf(target: RunningTarget, track: (c: RawClient) => void) {
  const client = await RawClient.connect(target.host, target.port);
  track(client);
  await client.send('stats reset\r\n');
  await client.readUntil('RESET\r\n');
  await client.send(TRAFFIC);
  await client.readUntil(TRAFFIC_END);
  await client.send('stats\r\n');
  const { data } = await client.readReply(endsAt('END\r\n'));
  await client.close();
  const text = data.toString('latin1');
  const lines = text.split('\r\n');
  expect(lines.at(-1), `${target.label} ends stats with END`).toBe('');
  expect(lines.at(-2), `${target.label} ends stats with END`).toBe('END');
  const stats = new Map<string, string>();
  for (const line of lines.slice(0, -2)) {
    const m = /^STAT ([^ ]+) ([^ ]+(?: [^ ]+)*)$/.exec(line);
    expect(m, `${target.label}: malformed stats line ${JSON.stringify(line)}`).not.toBeNull();
    if (m?.[1] !== undefined && m[2] !== undefined) stats.set(m[1], m[2]);
  }
  return stats;
}

const available = oracleAvailable('conformance/stats-names');

describe.skipIf(!available)('stats: names and counters against memcached 1.6.18', () => {
  let oracle: RunningTarget | undefined;
  let ours: RunningTarget | undefined;
  const clients = new Set<RawClient>();
  const track = (c: RawClient) => {
    clients.add(c);
  };

  afterAll(async () => {
    await Promise.all([...clients].map((c) => c.close()));
    await Promise.all([ours?.close(), oracle?.close()]);
  });

  beforeAll(async () => {
    [oracle, ours] = await Promise.all([startOracle(), startOurs()]);
  });

  const both = async () => {
    if (oracle === undefined || ours === undefined) throw new Error('servers did not start');
    return { theirs: await statsOf(oracle, track), mine: await statsOf(ours, track) };
  };

  it('ours has every required stat, and memcached has them too', async () => {
    const { theirs, mine } = await both();
    expect(
      REQUIRED.filter((n) => !theirs.has(n)),
      'memcached lacks',
    ).toEqual([]);
    expect(
      REQUIRED.filter((n) => !mine.has(n)),
      'ours lacks',
    ).toEqual([]);
    const theirsOnly = [...theirs.keys()].filter((n) => !mine.has(n));
    const oursOnly = [...mine.keys()].filter((n) => !theirs.has(n));
    console.info(`[stats] in memcached only (${theirsOnly.length}): ${theirsOnly.join(' ')}`);
    console.info(`[stats] in ours only (${oursOnly.length}): ${oursOnly.join(' ')}`);
  });

  it('counters move the same way for the same traffic after stats reset', async () => {
    const { theirs, mine } = await both();
    const pick = (s: Map<string, string>) =>
      Object.fromEntries(Object.keys(TRAFFIC_COUNTERS).map((k) => [k, s.get(k)]));
    expect(pick(theirs), 'memcached').toEqual(TRAFFIC_COUNTERS);
    expect(pick(mine), 'ours').toEqual(TRAFFIC_COUNTERS);
    expect(mine.get('version'), 'version').toMatch(/^\d+\.\d+\.\d+/);
    expect(mine.get('limit_maxbytes'), 'limit_maxbytes').toBe(theirs.get('limit_maxbytes'));
    expect(mine.get('threads'), 'threads').toMatch(/^[1-9]\d*$/);
  });
});
