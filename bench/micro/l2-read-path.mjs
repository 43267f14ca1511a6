#!/usr/bin/env node
// Micro bench of an L2 hit's parts, at s6's shape: 262,144 records of 4 KiB random values in a
// value log of ~1 GiB (in the page cache once written), read at random. Rows, each over the same
// random keys: ItemStore.readSync (what a get's L2 hit costs: the pointer, the pread, the checks
// and decoding), LevelStore.getSync (the same without decoding the record), a bare fs.readSync of
// 4 KiB at a random place in the same files (the kernel's share, which memcached's flash read
// pays as well), CRC32C of a 4 KiB value, and the Bloom filter's probe of a key at the default
// l2.max_size (4 GiB: 8 M expected keys, 8 MiB of bits). Keys are views into one contiguous
// buffer, as a request's key is a view of the read buffer: a key object of its own per request,
// scattered over the heap, would add a cache miss no server request pays. Prints µs per
// operation, with user and system CPU, for three passes of each. Imports the build: `npm run
// build` first.
//
//   node bench/micro/l2-read-path.mjs [--keys 262144] [--ops 200000]
//
// RAT_DIST=/other/checkout/dist runs the same bench against another build (before/after).

import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: { keys: { type: 'string', default: '262144' }, ops: { type: 'string', default: '200000' } },
});
const dist =
  process.env.RAT_DIST || path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');
const { ItemStore } = await import(path.join(dist, 'tiers/level/item-store.js'));
const { BloomFilter } = await import(path.join(dist, 'core/bloom-filter.js'));
const { crc32c } = await import(path.join(dist, 'tiers/level/crc32c.js'));

const keyCount = Number(args.keys);
const ops = Number(args.ops);
const VALUE_BYTES = 4096;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'rat-micro-l2-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const store = await ItemStore.open(tmp, {
  maxBytes: 4 * 2 ** 30,
  flushIntervalMs: 5,
  pointerCacheBytes: 16 * 2 ** 20,
});
const keyName = (i) => `key:${String(i).padStart(10, '0')}`;
const KEY_BYTES = keyName(0).length;
const source = randomBytes(VALUE_BYTES * 64);
for (let i = 0; i < keyCount; i++) {
  const at = (i * 4099) % (source.length - VALUE_BYTES);
  const value = Buffer.from(source.subarray(at, at + VALUE_BYTES));
  store.write(Buffer.from(keyName(i)), { value, flags: 0, exptime: 0, cas: i + 1 });
  if ((i & 1023) === 1023) await store.store.flush();
}
await store.store.flush();

const ORDER = 1 << 18;
const order = Buffer.alloc(ORDER * KEY_BYTES);
for (let i = 0; i < ORDER; i++)
  order.write(keyName(Math.floor(Math.random() * keyCount)), i * KEY_BYTES, 'latin1');
const keyAt = (i) => {
  const at = (i & (ORDER - 1)) * KEY_BYTES;
  return order.subarray(at, at + KEY_BYTES);
};

const vlog = path.join(tmp, 'vlog');
const segments = readdirSync(vlog)
  .filter((name) => name.endsWith('.seg'))
  .map((name) => ({ fd: openSync(path.join(vlog, name), 'r'), size: statSync(path.join(vlog, name)).size }));
const preadAt = Array.from({ length: ORDER }, () => {
  const segment = segments[Math.floor(Math.random() * segments.length)];
  return { fd: segment.fd, position: Math.floor(Math.random() * (segment.size - VALUE_BYTES - 64)) };
});
const scratch = Buffer.allocUnsafe(8192);
const value = randomBytes(VALUE_BYTES);
const bloom = new BloomFilter(8 * 2 ** 20);
for (let i = 0; i < keyCount; i++) bloom.add(Buffer.from(keyName(i)));

let sink = 0;
const cases = {
  'ItemStore.readSync': (i) => {
    sink += store.readSync(keyAt(i)).value.length;
  },
  'LevelStore.getSync': (i) => {
    sink += store.store.getSync(keyAt(i)).length;
  },
  'fs.readSync, 4 KiB': (i) => {
    const at = preadAt[i & (ORDER - 1)];
    sink += readSync(at.fd, scratch, 0, VALUE_BYTES + 64, at.position);
  },
  'crc32c, 4 KiB': () => {
    sink += crc32c(value);
  },
  'bloom probe (8 MiB)': (i) => {
    sink += bloom.mayContain(keyAt(i)) ? 1 : 0;
  },
  'key view alone': (i) => {
    sink += keyAt(i).length;
  },
};

const rows = [];
for (const [name, run] of Object.entries(cases)) {
  for (let pass = 0; pass < 3; pass++) {
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (let i = 0; i < ops; i++) run(i);
    const wallUs = ((performance.now() - started) * 1000) / ops;
    const used = process.cpuUsage(cpu);
    rows.push({
      case: name,
      pass: pass + 1,
      'µs/op': wallUs.toFixed(3),
      'user µs': (used.user / ops).toFixed(3),
      'sys µs': (used.system / ops).toFixed(3),
    });
  }
}
console.table(rows);
await store.close();
if (sink === 0) throw new Error('nothing was read: the bench measured nothing');
