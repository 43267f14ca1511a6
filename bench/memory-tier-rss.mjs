// What one L1 item costs in process memory, and whether the budget holds.
//   fill:  1 M items (key:%010d, 100-byte values) into a 1 GiB tier: RSS delta
//          and allocatedBytes per item, insert rate, longest GC and event-loop pause.
//   churn: a 64 MiB tier takes 1 GiB of 4 KiB values: RSS must stay near 64 MiB.
// Needs a build of src/tiers/memory: `npm run build`, or
//   npx tsc -p tsconfig.build.json --outDir /tmp/l1dist && L1_DIST=/tmp/l1dist/tiers/memory/memory-tier.js ...
// Run: node --expose-gc bench/memory-tier-rss.mjs [fill|churn] [lru|lfu|fifo|hybrid]

import { spawnSync } from 'node:child_process';
import { isAbsolute } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const MIB = 1024 * 1024;
const distPath = process.env.L1_DIST ?? '../dist/tiers/memory/memory-tier.js';
const distUrl = isAbsolute(distPath) ? pathToFileURL(distPath) : new URL(distPath, import.meta.url);
const { MemoryTier } = await import(distUrl.href);

const mode = process.argv[2];
const policy = process.argv[3] ?? 'lru';
if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');

if (mode === undefined) {
  // Each part in its own process, so one's freed memory is not the other's baseline.
  for (const part of ['fill', 'churn']) {
    const args = ['--expose-gc', fileURLToPath(import.meta.url), part, policy];
    spawnSync(process.execPath, args, { stdio: 'inherit', env: process.env });
  }
  process.exit(0);
}

function rss() {
  globalThis.gc();
  return process.memoryUsage().rss;
}

/** Writes key:%010d into a reused buffer: the bench itself allocates nothing per item. */
function writeKey(buffer, i) {
  buffer.write('key:', 0, 'latin1');
  for (let p = 13, n = i; p >= 4; p--, n = Math.floor(n / 10)) buffer[p] = 48 + (n % 10);
}

let maxGcMs = 0;
let gcCount = 0;
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcCount++;
    maxGcMs = Math.max(maxGcMs, entry.duration);
  }
});

async function fill() {
  const items = 1_000_000;
  const key = Buffer.alloc(14);
  const value = Buffer.alloc(100, 0x76);
  const baseline = rss();
  const tier = new MemoryTier({ maxBytes: 1024 * MIB, maxItemSize: MIB, eviction: policy });
  gcObserver.observe({ entryTypes: ['gc'] });
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const started = performance.now();
  let busyMs = 0;
  for (let i = 0; i < items; ) {
    // Yield every 10 k puts so the event-loop monitor sees how long a batch blocks.
    const batchStart = performance.now();
    for (const end = Math.min(items, i + 10_000); i < end; i++) {
      writeKey(key, i);
      if (tier.put(key, value, 0, 0, i + 1, 1_700_000_000) < 0) throw new Error(`put ${i} failed`);
    }
    busyMs += performance.now() - batchStart;
    await new Promise((resolve) => setImmediate(resolve));
  }
  const elapsedMs = performance.now() - started;
  loop.disable();
  for (let i = 0; i < items; i += 997) {
    writeKey(key, i);
    if (tier.find(key) < 0) throw new Error(`lost ${i}`);
  }
  const findStart = performance.now();
  for (let i = 0; i < items; i++) {
    writeKey(key, i);
    tier.find(key);
  }
  const findMs = performance.now() - findStart;
  await new Promise((resolve) => setImmediate(resolve));
  gcObserver.disconnect();
  const after = rss();
  console.log(`fill (${policy}): ${items} items of 14-byte keys + 100-byte values, maxBytes 1 GiB`);
  console.log(`  RSS delta/item        ${((after - baseline) / items).toFixed(1)} B`);
  console.log(
    `  allocatedBytes/item   ${(tier.allocatedBytes / items).toFixed(1)} B (${(tier.allocatedBytes / MIB).toFixed(1)} MiB)`,
  );
  console.log(
    `  insert rate           ${(((items / busyMs) * 1000) / 1e6).toFixed(2)} M puts/s (wall ${elapsedMs.toFixed(0)} ms)`,
  );
  console.log(`  find rate             ${(((items / findMs) * 1000) / 1e6).toFixed(2)} M finds/s`);
  console.log(`  GC                    ${gcCount} collections, longest ${maxGcMs.toFixed(2)} ms`);
  console.log(`  event loop            max delay ${(loop.max / 1e6).toFixed(1)} ms per 10 k-put batch`);
  console.log(`  items ${tier.itemCount}, evictions ${tier.evictions}`);
}

async function churn() {
  const maxBytes = 64 * MIB;
  const valueBytes = 4096;
  const writes = (1024 * MIB) / valueBytes;
  const key = Buffer.alloc(14);
  const value = Buffer.alloc(valueBytes, 0x77);
  const baseline = rss();
  const tier = new MemoryTier({ maxBytes, maxItemSize: MIB, eviction: policy });
  gcObserver.observe({ entryTypes: ['gc'] });
  let peak = 0;
  let overBudget = 0;
  const started = performance.now();
  for (let i = 0; i < writes; i++) {
    writeKey(key, i);
    if (tier.put(key, value, 0, 0, i + 1, 1_700_000_000 + (i >> 12)) < 0) throw new Error(`put ${i} failed`);
    if (tier.allocatedBytes > maxBytes) overBudget++;
    if (i % 8192 === 0) {
      peak = Math.max(peak, process.memoryUsage().rss);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  const elapsedMs = performance.now() - started;
  gcObserver.disconnect();
  const after = rss();
  const usage = process.memoryUsage();
  peak = Math.max(peak, after);
  console.log(`churn (${policy}): ${writes} puts of 4 KiB values (1 GiB) into maxBytes 64 MiB`);
  console.log(`  baseline RSS          ${(baseline / MIB).toFixed(1)} MiB`);
  console.log(`  peak RSS - baseline   ${((peak - baseline) / MIB).toFixed(1)} MiB (sampled every 8 k puts)`);
  console.log(`  final RSS - baseline  ${((after - baseline) / MIB).toFixed(1)} MiB`);
  console.log(
    `  allocatedBytes        ${(tier.allocatedBytes / MIB).toFixed(2)} MiB, over budget after ${overBudget} puts`,
  );
  console.log(
    `  of RSS: arrayBuffers  ${(usage.arrayBuffers / MIB).toFixed(1)} MiB, V8 heap ${(usage.heapTotal / MIB).toFixed(1)} MiB`,
  );
  console.log(
    `  items ${tier.itemCount}, evictions ${tier.evictions}, ${(((writes / elapsedMs) * 1000) / 1e6).toFixed(2)} M puts/s`,
  );
  console.log(`  GC                    ${gcCount} collections, longest ${maxGcMs.toFixed(2)} ms`);
}

if (mode === 'fill') await fill();
else if (mode === 'churn') await churn();
else throw new Error(`unknown mode ${mode}`);
