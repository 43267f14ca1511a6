#!/usr/bin/env node
// Micro bench of the L1 hot path on pre-built keys: find (hit and miss), put (in-place rewrite),
// and find + access + copyValue as a get does it. Imports the build: `npm run build` first.
//
//   node bench/micro/l1-get-set.mjs [--keys 10000] [--time-ms 500]
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
const { MemoryTier } = await import(path.join(dist, 'tiers/memory/memory-tier.js'));

const keyCount = Number(args.keys);
const keys = Array.from({ length: keyCount }, (_, i) => Buffer.from(`key:${String(i).padStart(10, '0')}`));
const missing = Array.from({ length: keyCount }, (_, i) =>
  Buffer.from(`nokey:${String(i).padStart(8, '0')}`),
);
const value = Buffer.alloc(32, 'v');
const target = Buffer.allocUnsafe(64 * 1024);
const tier = new MemoryTier({ maxBytes: 1024 * 1024 * 1024, maxItemSize: 1024 * 1024, eviction: 'lru' });
for (let i = 0; i < keyCount; i++) tier.put(keys[i], value, 0, 0, i + 1, 0);

let i = 0;
let sink = 0;
const bench = new Bench({ time: Number(args['time-ms']) });
bench
  .add('find hit', () => {
    sink += tier.find(keys[i++ % keyCount]);
  })
  .add('find miss', () => {
    sink += tier.find(missing[i++ % keyCount]);
  })
  .add('get (find + access + copyValue)', () => {
    const slot = tier.find(keys[i++ % keyCount]);
    tier.access(slot, 0);
    sink += tier.copyValue(slot, target, 0);
  })
  .add('put (same class, in place)', () => {
    sink += tier.put(keys[i++ % keyCount], value, 0, 0, i, 0);
  });
await bench.run();
console.table(bench.table());
if (sink === 0.5) console.log(sink);
