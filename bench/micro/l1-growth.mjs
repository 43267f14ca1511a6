#!/usr/bin/env node
// The longest single L1 put while loading N items into an empty tier: column growth and hash
// index resizes happen inside some put, so this is the event-loop stall they cause, without the
// network or another process's noise. Imports the build: `npm run build` first.
//
//   node bench/micro/l1-growth.mjs [--items 1000000] [--value-bytes 100] [--memory 1024]
//
// RAT_DIST=/other/checkout/dist runs it against another build (before/after).

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    items: { type: 'string', default: '1000000' },
    'value-bytes': { type: 'string', default: '100' },
    memory: { type: 'string', default: '1024' },
  },
});
const dist =
  process.env.RAT_DIST || path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');
const { MemoryTier } = await import(path.join(dist, 'tiers/memory/memory-tier.js'));

const items = Number(args.items);
const value = Buffer.alloc(Number(args['value-bytes']), 'v');
const tier = new MemoryTier({
  maxBytes: Number(args.memory) * 1024 * 1024,
  maxItemSize: 1024 * 1024,
  eviction: 'lru',
});
const rssBefore = process.memoryUsage().rss;
const slow = [];
let worstMs = 0;
const started = performance.now();
for (let i = 0; i < items; i++) {
  const key = Buffer.from(`key:${String(i).padStart(10, '0')}`);
  const t = performance.now();
  tier.put(key, value, 0, 0, i + 1, 0);
  const ms = performance.now() - t;
  if (ms > worstMs) worstMs = ms;
  if (ms > 2) slow.push(`${ms.toFixed(1)} ms at item ${i} (slot capacity ${tier.slotCapacity})`);
}
const seconds = (performance.now() - started) / 1000;
console.log(slow.length > 0 ? `puts over 2 ms:\n  ${slow.join('\n  ')}` : 'no put over 2 ms');
console.log(
  `${items} puts in ${seconds.toFixed(2)} s; worst put ${worstMs.toFixed(1)} ms; ` +
    `L1 allocatedBytes ${(tier.allocatedBytes / 2 ** 20).toFixed(1)} MiB; ` +
    `process RSS +${((process.memoryUsage().rss - rssBefore) / 2 ** 20).toFixed(1)} MiB`,
);
