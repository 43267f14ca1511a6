#!/usr/bin/env node
// Micro bench of one request's whole trip through the server minus the socket: a Connection
// over a transport that takes every write at once, fed pre-built chunks as the direct
// transport hands them over (parse, CacheCore, L1, reply rendering, flush). What a request
// costs here is what the server spends on it beyond the kernel's read and write.
//
//   node bench/micro/request-path.mjs [--keys 10000] [--time-ms 500]
//
// RAT_DIST=/other/checkout/dist runs the same bench against another build (before/after).

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';

const { values: args } = parseArgs({
  options: { keys: { type: 'string', default: '10000' }, 'time-ms': { type: 'string', default: '500' } },
});
const dist =
  process.env.RAT_DIST || path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');
const { loadConfig } = await import(path.join(dist, 'config/load-config.js'));
const { createCore } = await import(path.join(dist, 'start-cache.js'));
const { Connection } = await import(path.join(dist, 'server/connection.js'));

const core = createCore(loadConfig({ flags: { memoryBytes: '1024', l2Enabled: false } }));
let written = 0;
const transport = {
  transientChunks: true,
  fullReadBytes: 64 * 1024,
  remoteAddress: 'bench:0',
  pendingBytes: 0,
  closed: false,
  start() {},
  write(data) {
    written += data.length;
    return true;
  },
  pause() {},
  resume() {},
  end() {},
  destroy() {},
};
const hooks = {
  version: '1.6.18',
  shutdownEnabled: false,
  writeStats: () => false,
  setVerbosity() {},
  shutdown() {},
};
const connection = new Connection(transport, 1, 0, {
  core,
  hooks,
  limits: { maxKeyLength: 250, maxLineLength: 2048, maxItemSize: 1024 * 1024 },
  counters: { bytesRead: 0, bytesWritten: 0 },
  onError: (error) => {
    throw error;
  },
  onClose() {},
});

const keyCount = Number(args.keys);
const keyName = (i) => `key:${String(i).padStart(10, '0')}`;
const chunks = (make) =>
  Array.from({ length: 1024 }, (_, i) => Buffer.from(make((i * 7919) % keyCount), 'latin1'));
const small = 'v'.repeat(32);
const large = 'w'.repeat(4096);
for (let i = 0; i < keyCount; i++) {
  const chunk = Buffer.from(`set ${keyName(i)} 0 0 32\r\n${small}\r\n`);
  connection.onData(chunk, chunk.length);
}

const tasks = {
  'get, 32 B hit': chunks((k) => `get ${keyName(k)}\r\n`),
  'get, miss': chunks((k) => `get nokey:${k}\r\n`),
  'get, 10 keys': chunks(
    (k) => `get ${Array.from({ length: 10 }, (_, j) => keyName((k + j * 13) % keyCount)).join(' ')}\r\n`,
  ),
  'set, 32 B': chunks((k) => `set ${keyName(k)} 0 0 32\r\n${small}\r\n`),
  'set, 4 KiB': chunks((k) => `set big:${k} 0 0 4096\r\n${large}\r\n`),
  '16 gets in one chunk': chunks((k) =>
    Array.from({ length: 16 }, (_, j) => `get ${keyName((k + j) % keyCount)}\r\n`).join(''),
  ),
};

const bench = new Bench({ time: Number(args['time-ms']) });
for (const [name, list] of Object.entries(tasks)) {
  let i = 0;
  bench.add(name, () => {
    connection.onData(list[i], list[i].length);
    i = (i + 1) & 1023;
  });
}
await bench.run();
console.table(bench.table());
if (written === 0) throw new Error('no reply was written: the bench measured nothing');
