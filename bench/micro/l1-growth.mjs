#!/usr/bin/env node
// The longest single L1 put while loading N items into an empty tier: column growth and hash
// index resizes happen inside some put, so this is the event-loop stall they cause, without the
// network or another process's noise. With --ttl each put is also scheduled in the expiry wheel
// (as CacheCore does), whose pool and slot map grow too. Imports the build: `npm run build` first.
//
//   node bench/micro/l1-growth.mjs [--items 1000000] [--value-bytes 100] [--memory 1024] [--ttl 3600]
//
// RAT_DIST=/other/checkout/dist runs it against another build (before/after).

import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    items: { type: 'string', default: '1000000' },
    'value-bytes': { type: 'string', default: '100' },
    memory: { type: 'string', default: '1024' },
    ttl: { type: 'string', default: '0' },
  },
});
const dist =
  process.env.RAT_DIST || path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');
const { MemoryTier } = await import(path.join(dist, 'tiers/memory/memory-tier.js'));
const { L1Expiry } = await import(path.join(dist, 'core/l1-expiry.js'));
const { CoreStats } = await import(path.join(dist, 'core/core-stats.js'));

const items = Number(args.items);
const value = Buffer.alloc(Number(args['value-bytes']), 'v');
const tier = new MemoryTier({
  maxBytes: Number(args.memory) * 1024 * 1024,
  maxItemSize: 1024 * 1024,
  eviction: 'lru',
});
const ttl = Number(args.ttl);
const NOW = 1_700_000_000;
const expiry = ttl > 0 ? new L1Expiry(tier, new CoreStats(), NOW) : undefined;
const rssBefore = process.memoryUsage().rss;
// A slow put that a GC pause overlaps is the collector's, not growth's: say so.
const gcs = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcs.push([e.startTime, e.duration]);
}).observe({ entryTypes: ['gc'] });
const slow = [];
let worstMs = 0;
const started = performance.now();
for (let i = 0; i < items; i++) {
  const key = Buffer.from(`key:${String(i).padStart(10, '0')}`);
  const t = performance.now();
  const slot = tier.put(key, value, 0, ttl > 0 ? NOW + ttl : 0, i + 1, 0);
  expiry?.track(slot, NOW + ttl);
  const ms = performance.now() - t;
  if (ms > worstMs) worstMs = ms;
  if (ms > 1) slow.push([t, ms, i, tier.slotCapacity]);
}
await new Promise((resolve) => setImmediate(resolve)); // delivers the last GC entries
const describe = ([t, ms, i, capacity]) => {
  const gc = gcs.filter(([start, d]) => start < t + ms && start + d > t).reduce((sum, [, d]) => sum + d, 0);
  return `${ms.toFixed(1)} ms at item ${i} (slot capacity ${capacity})${gc > 0 ? `, GC ${gc.toFixed(1)} ms` : ''}`;
};
const seconds = (performance.now() - started) / 1000;
console.log(slow.length > 0 ? `puts over 1 ms:\n  ${slow.map(describe).join('\n  ')}` : 'no put over 1 ms');
console.log(
  `${items} puts in ${seconds.toFixed(2)} s; worst put ${worstMs.toFixed(1)} ms; ` +
    `L1 allocatedBytes ${(tier.allocatedBytes / 2 ** 20).toFixed(1)} MiB; ` +
    (expiry === undefined
      ? ''
      : `wheel ${expiry.tracking.scheduled} scheduled, ${(expiry.tracking.allocatedBytes / 2 ** 20).toFixed(1)} MiB; `) +
    `process RSS +${((process.memoryUsage().rss - rssBefore) / 2 ** 20).toFixed(1)} MiB`,
);
