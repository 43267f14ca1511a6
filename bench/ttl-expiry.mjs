// Issue 4's acceptance bench: expiry across both tiers, measured on the built
// server (node bin/rat-memcached) and, for the wheel's memory, in-process.
//
// 1. expiry: -m 64 with L2 (temp data dir); 1 M items of 200 bytes with random
//    TTLs of 1-30 s (most of them land in L2). Then, for --wait seconds after
//    the load, a reader keeps getting random keys and checks that no item is
//    served once its expiry has certainly passed (the client knows an upper
//    bound of each exptime: the second its set was acknowledged + TTL).
//    Prints curr_items / l2_items each second, the first second both are 0,
//    and the data dir's size on disk: after the load, at the end, and after a
//    graceful close plus a LevelDB compaction of the whole key range.
// 2. idle: 1 M items with a TTL ten days ahead (all in L1: -m 512), then the
//    server's CPU over 10 s of idleness from /proc/<pid>/stat.
// 3. wheel: bytes per tracked item, from CacheCore.expiryTracking with 1 M
//    items with TTLs and 1 M without (in this process, from dist/).
//
//   npm run build && node bench/ttl-expiry.mjs [--items 1000000] [--wait 35]
//     [--phases expiry,idle,wheel] [--reclaim-interval 10]

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { HOST, readCpuSeconds, readStats, startServer } from './lib/servers.mjs';

const { values: args } = parseArgs({
  options: {
    items: { type: 'string', default: '1000000' },
    wait: { type: 'string', default: '35' },
    phases: { type: 'string', default: 'expiry,idle,wheel' },
    'reclaim-interval': { type: 'string', default: '10' },
  },
});
const ITEMS = Number(args.items);
const WAIT_SECONDS = Number(args.wait);
const VALUE_BYTES = 200;
const CHUNK = 1000;

const keyOf = (i) => `ttl:${String(i).padStart(7, '0')}`;
const valueFor = (i) => Buffer.from(`${keyOf(i)}:`.padEnd(VALUE_BYTES, 'x'));

function duBytes(dir) {
  return Number(execFileSync('du', ['-sb', dir]).toString().split('\t')[0]);
}

function connect(port) {
  const socket = net.connect({ host: HOST, port, noDelay: true });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * Pipelines `set ... noreply` in chunks, each followed by `version`; up to 8
 * chunks unacknowledged. `onAck(first, count, ackMs)` gets each chunk's
 * acknowledgement time (the server has processed every set in it by then).
 */
async function load(port, ttlOf, onAck) {
  const socket = await connect(port);
  const pending = [];
  let text = '';
  let wake;
  socket.on('data', (d) => {
    text += d.toString('latin1');
    let nl = text.indexOf('\n');
    while (nl >= 0) {
      const line = text.slice(0, nl);
      text = text.slice(nl + 1);
      if (!line.startsWith('VERSION')) throw new Error(`unexpected reply while loading: ${line}`);
      const [first, count] = pending.shift();
      onAck(first, count, Date.now());
      nl = text.indexOf('\n');
    }
    wake?.();
  });
  socket.on('drain', () => wake?.());
  const started = Date.now();
  for (let first = 0; first < ITEMS; first += CHUNK) {
    const count = Math.min(CHUNK, ITEMS - first);
    const parts = [];
    for (let i = first; i < first + count; i++) {
      parts.push(Buffer.from(`set ${keyOf(i)} 0 ${ttlOf(i)} ${VALUE_BYTES} noreply\r\n`), valueFor(i));
      parts.push(Buffer.from('\r\n'));
    }
    parts.push(Buffer.from('version\r\n'));
    pending.push([first, count]);
    const flushed = socket.write(Buffer.concat(parts));
    while (!flushed && socket.writableNeedDrain) await new Promise((r) => (wake = r));
    while (pending.length > 8) await new Promise((r) => (wake = r));
  }
  while (pending.length > 0) await new Promise((r) => (wake = r));
  socket.destroy();
  return (Date.now() - started) / 1000;
}

/** Random multi-gets until `untilMs`; a VALUE for an item whose exptime bound has passed is a violation. */
async function readAndCheck(port, expiresBySecond, untilMs) {
  const socket = await connect(port);
  let text = '';
  let resolveReply;
  socket.on('data', (d) => {
    text += d.toString('latin1');
    if (text.endsWith('END\r\n')) resolveReply?.();
  });
  let gets = 0;
  let hits = 0;
  let violations = 0;
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  while (Date.now() < untilMs) {
    const keys = Array.from({ length: 100 }, () => random() % ITEMS);
    const sentSecond = Math.floor(Date.now() / 1000);
    text = '';
    const done = new Promise((r) => (resolveReply = r));
    socket.write(`get ${keys.map(keyOf).join(' ')}\r\n`);
    await done;
    gets += keys.length;
    for (const match of text.matchAll(/VALUE ttl:(\d+) 0 (\d+)\r\n/g)) {
      const i = Number(match[1]);
      hits++;
      if (sentSecond >= expiresBySecond[i]) violations++;
      const begin = match.index + match[0].length;
      if (text.slice(begin, begin + VALUE_BYTES) !== valueFor(i).toString('latin1')) violations++;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  socket.destroy();
  return { gets, hits, violations };
}

async function expiryPhase() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rat-ttl-bench-'));
  const config = path.join(dir, 'config.toml');
  writeFileSync(config, `[l2]\nreclaim_interval_seconds = ${Number(args['reclaim-interval'])}\n`);
  const dataDir = path.join(dir, 'data');
  const server = await startServer(
    { name: 'rat', label: 'rat' },
    { memoryMiB: 64, extraArgs: ['--data-dir', dataDir, '--config', config] },
  );
  try {
    const ttls = new Uint8Array(ITEMS);
    for (let i = 0; i < ITEMS; i++) ttls[i] = 1 + Math.floor(Math.random() * 30);
    const expiresBySecond = new Uint32Array(ITEMS);
    const loadSeconds = await load(
      server.port,
      (i) => ttls[i],
      (first, count, ackMs) => {
        const s = Math.floor(ackMs / 1000);
        for (let i = first; i < first + count; i++) expiresBySecond[i] = s + ttls[i];
      },
    );
    const loadEnd = Date.now();
    const afterLoad = await readStats(server.port);
    const diskAfterLoad = duBytes(dataDir);
    console.log(
      `expiry: loaded ${ITEMS} items in ${loadSeconds.toFixed(1)} s; curr_items ${afterLoad.get('curr_items')}, ` +
        `l2_items ${afterLoad.get('l2_items')}, l2_demotions ${afterLoad.get('l2_demotions')}, disk ${diskAfterLoad} B`,
    );
    const reader = readAndCheck(server.port, expiresBySecond, loadEnd + WAIT_SECONDS * 1000);
    let zeroAt;
    for (let s = 1; s <= WAIT_SECONDS; s++) {
      await new Promise((r) => setTimeout(r, loadEnd + s * 1000 - Date.now()));
      const st = await readStats(server.port);
      const curr = Number(st.get('curr_items'));
      const l2 = Number(st.get('l2_items'));
      if (zeroAt === undefined && curr === 0 && l2 === 0) zeroAt = s;
      if (s % 5 === 0 || s === WAIT_SECONDS)
        console.log(
          `  +${s}s curr_items ${curr} l2_items ${l2} reclaimed ${st.get('reclaimed')} ` +
            `l2_expired ${st.get('l2_expired')} expired_unfetched ${st.get('expired_unfetched')}`,
        );
    }
    const checked = await reader;
    const end = await readStats(server.port);
    const diskAtEnd = duBytes(dataDir);
    await server.stop();
    const diskAfterClose = duBytes(dataDir);
    const { ClassicLevel } = await import('classic-level');
    const db = new ClassicLevel(dataDir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    await db.compactRange(Buffer.alloc(0), Buffer.alloc(64, 0xff));
    await db.close();
    const diskCompacted = duBytes(dataDir);
    console.log(
      `expiry: curr_items ${end.get('curr_items')} l2_items ${end.get('l2_items')} at +${WAIT_SECONDS}s; ` +
        `both 0 from +${zeroAt ?? 'never'}s after the load; reader: ${checked.gets} gets, ${checked.hits} hits, ` +
        `${checked.violations} expired or wrong values served`,
    );
    console.log(
      `expiry: disk ${diskAfterLoad} B after load, ${diskAtEnd} B at the end, ${diskAfterClose} B after close, ` +
        `${diskCompacted} B after compactRange`,
    );
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function idlePhase() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rat-ttl-idle-'));
  const server = await startServer(
    { name: 'rat', label: 'rat' },
    { memoryMiB: 512, extraArgs: ['--data-dir', path.join(dir, 'data')] },
  );
  try {
    await load(
      server.port,
      () => 864_000,
      () => {},
    );
    const st = await readStats(server.port);
    await new Promise((r) => setTimeout(r, 2000));
    const cpu0 = readCpuSeconds(server.pid);
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 10_000));
    const cpu = readCpuSeconds(server.pid) - cpu0;
    const wall = (Date.now() - t0) / 1000;
    console.log(
      `idle: ${st.get('curr_items')} items in L1 (l2_items ${st.get('l2_items')}), TTL 10 days: ` +
        `${cpu.toFixed(2)} CPU s over ${wall.toFixed(1)} s = ${((100 * cpu) / wall).toFixed(2)}% of a core`,
    );
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function wheelPhase() {
  const { CacheCore } = await import('../dist/core/cache-core.js');
  const { ManualClock } = await import('../dist/core/clock.js');
  const { MemoryTier } = await import('../dist/tiers/memory/memory-tier.js');
  const memory = new MemoryTier({ maxBytes: 1024 * 1024 * 1024, maxItemSize: 1024 * 1024, eviction: 'lru' });
  const core = new CacheCore({ memory, clock: new ManualClock() });
  const value = Buffer.alloc(16, 'v');
  const onlyTtl = new CacheCore({
    memory: new MemoryTier({ maxBytes: 1024 * 1024 * 1024, maxItemSize: 1024 * 1024, eviction: 'lru' }),
    clock: new ManualClock(),
  });
  for (let i = 0; i < ITEMS; i++)
    onlyTtl.store('set', Buffer.from(`t:${i}`), value, 0, 1 + (i % 100_000), 0n);
  const only = onlyTtl.expiryTracking;
  console.log(
    `wheel: ${ITEMS} items all with TTL: ${only.allocatedBytes} B = ` +
      `${(only.allocatedBytes / only.scheduled).toFixed(1)} B per tracked item`,
  );
  for (let i = 0; i < ITEMS; i++) core.store('set', Buffer.from(`n:${i}`), value, 0, 0, 0n);
  const noTtl = core.expiryTracking;
  for (let i = 0; i < ITEMS; i++) core.store('set', Buffer.from(`t:${i}`), value, 0, 1 + (i % 100_000), 0n);
  const withTtl = core.expiryTracking;
  console.log(
    `wheel: ${ITEMS} items without TTL: ${noTtl.scheduled} scheduled, ${noTtl.allocatedBytes} B; ` +
      `then ${ITEMS} with TTL: ${withTtl.scheduled} scheduled, ${withTtl.allocatedBytes} B ` +
      `(${(withTtl.allocatedBytes / withTtl.scheduled).toFixed(1)} B per tracked item; L1 has ` +
      `${memory.slotCapacity} slots, which the wheel does not size itself to)`,
  );
}

for (const phase of args.phases.split(',')) {
  if (phase === 'expiry') await expiryPhase();
  else if (phase === 'idle') await idlePhase();
  else if (phase === 'wheel') await wheelPhase();
  else throw new Error(`unknown phase ${phase}`);
}
