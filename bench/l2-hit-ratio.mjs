// Issue 3's acceptance bench: a working set 16x L1. Each target gets `-m 64`
// and 1 GiB of 4 KiB values written as fast as one pipelining connection can
// send them (set ... noreply; the server's own backpressure decides the pace),
// then one random read pass over every key. Prints, per target and value set:
// load time, hit ratio, read ops/s, and for rat its L2 footprint (l2_bytes:
// keys + records on disk before LevelDB's own overhead) against the logical
// bytes written (compression ratio), plus the data directory's size on disk.
//
// Targets: rat (--data-dir <tmp>), memcached (-m 64 alone) and memcached-ext
// (-m 64 -o ext_path=<tmpfile>:2g, its flash tier). Value sets: compressible
// (a repeated 64-byte pattern with the key in it) and incompressible (4 KiB
// windows of random bytes, so LZ4 saves nothing).
//
//   npm run build && node bench/l2-hit-ratio.mjs [--gib 1] [--targets rat,memcached,memcached-ext]
//     [--sets compressible,incompressible] [--readers 8]

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { bulkLoad } from './lib/bulk-loader.mjs';
import { keyName, makeRandom } from './lib/request-pool.mjs';
import { HOST, pinSelfToCore0, readStats, startServer } from './lib/servers.mjs';
import { TextReplyScanner } from './lib/text-reply-scanner.mjs';

const VALUE_BYTES = 4096;
const MEMORY_MIB = 64;

const { values: args } = parseArgs({
  options: {
    gib: { type: 'string', default: '1' },
    targets: { type: 'string', default: 'rat,memcached,memcached-ext' },
    sets: { type: 'string', default: 'compressible,incompressible' },
    readers: { type: 'string', default: '8' },
  },
});
const ITEMS = Math.round((Number(args.gib) * 1024 ** 3) / VALUE_BYTES);
const READERS = Number(args.readers);

function connect(port) {
  const socket = net.connect({ host: HOST, port, noDelay: true });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** One `get` per key, keys shuffled, split over READERS connections with 64 in flight each. */
async function readPass(port) {
  const order = Array.from({ length: ITEMS }, (_, i) => i);
  const random = makeRandom(42);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const started = performance.now();
  const share = Math.ceil(ITEMS / READERS);
  const hits = await Promise.all(
    Array.from({ length: READERS }, (_, r) => readShare(port, order.slice(r * share, (r + 1) * share))),
  );
  const seconds = (performance.now() - started) / 1000;
  return { hits: hits.reduce((a, b) => a + b, 0), seconds };
}

async function readShare(port, keys) {
  const socket = await connect(port);
  const scanner = new TextReplyScanner();
  const window = 64;
  let next = 0;
  let done = 0;
  await new Promise((resolve, reject) => {
    const send = (n) => {
      let out = '';
      for (let k = 0; k < n && next < keys.length; k++, next++) out += `get ${keyName(keys[next])}\r\n`;
      if (out !== '') socket.write(out);
    };
    socket.on('error', reject);
    socket.on('data', (d) => {
      const replies = scanner.feed(d);
      done += replies;
      if (done >= keys.length) resolve();
      else send(replies);
    });
    if (keys.length === 0) resolve();
    send(window);
  });
  socket.destroy();
  return scanner.values;
}

function duBytes(dir) {
  return Number(execFileSync('du', ['-sb', dir]).toString().split('\t')[0]);
}

async function runOne(targetName, setName) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'rat-l2-bench-'));
  const target = { name: targetName === 'rat' ? 'rat' : 'memcached', label: targetName };
  const extraArgs = [];
  if (targetName === 'rat') extraArgs.push('--data-dir', path.join(tmp, 'data'));
  if (targetName === 'memcached-ext') extraArgs.push('-o', `ext_path=${path.join(tmp, 'extstore')}:2g`);
  const server = await startServer(target, { memoryMiB: MEMORY_MIB, extraArgs });
  try {
    const { seconds: loadSeconds } = await bulkLoad({
      port: server.port,
      items: ITEMS,
      valueBytes: VALUE_BYTES,
      values: setName,
    });
    const { hits, seconds } = await readPass(server.port);
    const stats = await readStats(server.port);
    const row = {
      target: targetName,
      values: setName,
      items: ITEMS,
      loadSeconds: round(loadSeconds),
      loadMiBps: round((ITEMS * VALUE_BYTES) / 1024 ** 2 / loadSeconds),
      hitRatio: round(hits / ITEMS, 4),
      readOpsPerSec: Math.round(ITEMS / seconds),
    };
    if (targetName === 'rat') {
      const l2Bytes = Number(stats.get('l2_bytes'));
      const logical = Number(stats.get('l2_bytes_uncompressed'));
      Object.assign(row, {
        l2Items: Number(stats.get('l2_items')),
        l2Bytes,
        logicalBytesDemoted: logical,
        recordBytesDemoted: Number(stats.get('l2_bytes_compressed')),
        compressionRatio: round(logical / Number(stats.get('l2_bytes_compressed')), 2),
        dataDirBytes: duBytes(path.join(tmp, 'data')),
        l2Throttled: Number(stats.get('l2_throttled')),
        l2WritesDropped: Number(stats.get('l2_writes_dropped')),
        l2Hits: Number(stats.get('l2_hits')),
      });
    }
    if (targetName === 'memcached-ext') {
      Object.assign(row, {
        extstoreObjectsWritten: Number(stats.get('extstore_objects_written')),
        extstoreBytesWritten: Number(stats.get('extstore_bytes_written')),
      });
    }
    return row;
  } finally {
    await server.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

function round(n, digits = 1) {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

pinSelfToCore0();
const rows = [];
for (const setName of args.sets.split(',')) {
  for (const targetName of args.targets.split(',')) {
    if (!['rat', 'memcached', 'memcached-ext'].includes(targetName)) {
      throw new Error(`unknown target ${targetName}; use rat, memcached or memcached-ext`);
    }
    const row = await runOne(targetName, setName);
    rows.push(row);
    console.log(JSON.stringify(row));
  }
}
console.table(
  rows.map((r) => ({
    target: r.target,
    values: r.values,
    'load s': r.loadSeconds,
    'hit ratio': r.hitRatio,
    'read ops/s': r.readOpsPerSec,
    'logical/record bytes': r.compressionRatio ?? '',
  })),
);
