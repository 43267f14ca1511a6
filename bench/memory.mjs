#!/usr/bin/env node
// Memory benchmark: what an item costs in resident memory, and whether a small memory limit
// really bounds the process, for rat-memcached and the reference memcached side by side.
//
//   node bench/memory.mjs [--targets rat,memcached] [--scenario items|rss-bound]
//                         [--items 1000000] [--value-bytes 100] [--total-mib 1024] [--memory MiB]
//
// items:     start with -m 1024, RSS, load `--items` keys key:%010d with 100-byte values via
//            pipelined `set ... noreply`, sync with `version`, RSS again; bytes/item = ΔRSS/items.
//            curr_items and a sample of gets check the items are really there.
//            Then a read load (`--serve-seconds` 5 s, 4 connections x 16 pipelined gets of random
//            loaded keys).
// rss-bound: start with -m 64, write `--total-mib` (1 GiB) of 4 KiB values, sample RSS every
//            250 ms; report the baseline and the maximum.
// Stalls, for the load and the read load apart: rat's own event_loop_max_delay_ms (`stats reset`
// between the phases; 'n/a' for memcached), and for both servers the worst round trip of a probe
// connection sending one `version` every `--probe-ms` (what a client sees, descheduling included).

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bulkLoad, countHits } from './lib/bulk-loader.mjs';
import { startLatencyProbe } from './lib/latency-probe.mjs';
import { readLoad } from './lib/read-load.mjs';
import { keyName, makeRandom } from './lib/request-pool.mjs';
import {
  parseTargets,
  pinSelfToCore0,
  readRssBytes,
  readStats,
  roundTrip,
  startServer,
} from './lib/servers.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MiB = 1024 * 1024;
const SAMPLE_GETS = 10_000;

const { values: args } = parseArgs({
  options: {
    targets: { type: 'string', default: 'rat,memcached' },
    target: { type: 'string' },
    scenario: { type: 'string', default: 'items' },
    items: { type: 'string', default: '1000000' },
    'value-bytes': { type: 'string' },
    'total-mib': { type: 'string', default: '1024' },
    memory: { type: 'string' },
    'sample-ms': { type: 'string', default: '250' },
    'serve-seconds': { type: 'string', default: '5' },
    'probe-ms': { type: 'string', default: '2' },
  },
});

const scenario = args.scenario;
if (scenario !== 'items' && scenario !== 'rss-bound')
  throw new Error('--scenario must be items or rss-bound');
const targets = parseTargets(args.target ?? args.targets);
const memoryMiB = Number(args.memory ?? (scenario === 'items' ? 1024 : 64));
const valueBytes = Number(args['value-bytes'] ?? (scenario === 'items' ? 100 : 4096));
const items =
  scenario === 'items' ? Number(args.items) : Math.floor((Number(args['total-mib']) * MiB) / valueBytes);
const sampleMs = Number(args['sample-ms']);
const serveSeconds = scenario === 'items' ? Number(args['serve-seconds']) : 0;
const probeMs = Number(args['probe-ms']);
const log = (msg) => process.stderr.write(`${msg}\n`);
const mib = (b) => (b / MiB).toFixed(1);

pinSelfToCore0();

/** Reads a stat, or null when the server does not report it (older rat builds, memcached). */
function stat(stats, name) {
  const v = stats.get(name);
  return v === undefined ? null : Number(v);
}

async function measure(target) {
  const server = await startServer(target, { memoryMiB });
  let probe;
  try {
    await roundTrip(server.port, 'version\r\n', '\r\n');
    probe = await startLatencyProbe(server.port, { intervalMs: probeMs });
    const rssBefore = readRssBytes(server.pid);
    let rssMax = rssBefore;
    const samples = [];
    const t0 = performance.now();
    const sampler = setInterval(() => {
      const rss = readRssBytes(server.pid);
      rssMax = Math.max(rssMax, rss);
      samples.push([Math.round(performance.now() - t0), rss]);
    }, sampleMs);
    let load;
    // Wall-clock bounds of each phase, to line up with server-side traces (RAT_NODE_FLAGS).
    const phases = { loadStartMs: Date.now() };
    try {
      load = await bulkLoad({ port: server.port, items, valueBytes });
      phases.loadEndMs = Date.now();
    } finally {
      clearInterval(sampler);
    }
    const loadProbe = await probe.take();
    const loadStats = await readStats(server.port);
    const rssAfter = readRssBytes(server.pid);
    rssMax = Math.max(rssMax, rssAfter);

    // A spread-out sample of keys; in rss-bound most of them have been evicted by design.
    const random = makeRandom(7);
    const sample = Array.from({ length: Math.min(SAMPLE_GETS, items) }, () =>
      keyName(Math.floor(random() * items)),
    );
    const hits = await countHits(server.port, sample);
    const stats = await readStats(server.port);
    let serve = null;
    if (serveSeconds > 0) {
      // A fresh maximum for the read load alone.
      await roundTrip(server.port, 'stats reset\r\n', '\r\n');
      await probe.take();
      phases.serveStartMs = Date.now();
      const reads = await readLoad({ port: server.port, items, seconds: serveSeconds });
      phases.serveEndMs = Date.now();
      const serveProbe = await probe.take();
      serve = {
        getsPerSec: reads.gets / reads.seconds,
        hitRatio: reads.gets === 0 ? 0 : reads.hits / reads.gets,
        eventLoopMaxDelayMs: stat(await readStats(server.port), 'event_loop_max_delay_ms'),
        probe: serveProbe,
      };
    }
    const rssAfterServe = readRssBytes(server.pid);
    return {
      target: server.label,
      version: stats.get('version') ?? null,
      items,
      valueBytes,
      memoryMiB,
      loadSeconds: load.seconds,
      loadItemsPerSec: items / load.seconds,
      rssBefore,
      rssAfter,
      rssAfterServe,
      rssMax,
      bytesPerItem: (rssAfter - rssBefore) / items,
      currItems: stat(stats, 'curr_items'),
      evictions: stat(stats, 'evictions'),
      sampleGets: sample.length,
      sampleHits: hits,
      eventLoopMaxDelayMs: stat(loadStats, 'event_loop_max_delay_ms'),
      loadProbe,
      serve,
      phases,
      rssSamples: samples,
    };
  } finally {
    await probe?.stop();
    await server.stop();
  }
}

const results = [];
for (const t of targets) {
  log(
    `${scenario}: ${t.label}: -m ${memoryMiB}, ${items.toLocaleString('en-US')} items of ${valueBytes} B ...`,
  );
  const r = await measure(t);
  results.push(r);
  log(
    `  loaded in ${r.loadSeconds.toFixed(1)} s, RSS ${mib(r.rssBefore)} -> ${mib(r.rssAfter)} MiB (max ${mib(r.rssMax)}), ` +
      `curr_items ${r.currItems}, sample hits ${r.sampleHits}/${r.sampleGets}`,
  );
}

const fmtDelay = (r) => (r.target.startsWith('rat') ? (r.eventLoopMaxDelayMs ?? 'n/a') : '');
const fmtServeDelay = (r) => (r.target.startsWith('rat') ? (r.serve?.eventLoopMaxDelayMs ?? 'n/a') : '');
const ms = (x) => (x === undefined ? 'n/a' : x.toFixed(1));
const [a, b] = results;
if (scenario === 'items') {
  console.log(
    '| target | RSS before MiB | RSS after MiB | bytes/item | curr_items | sample hits | load items/s | event-loop max delay ms |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(
      `| ${r.target} | ${mib(r.rssBefore)} | ${mib(r.rssAfter)} | ${r.bytesPerItem.toFixed(1)} | ${r.currItems ?? 'n/a'} | ${r.sampleHits}/${r.sampleGets} | ${Math.round(r.loadItemsPerSec).toLocaleString('en-US')} | ${fmtDelay(r)} |`,
    );
  }
  console.log(
    '\n| target | phase | event-loop max delay ms | probe worst RTT ms | probe p99 ms | probe median ms | probes | gets/s |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const p = r.loadProbe;
    console.log(
      `| ${r.target} | load | ${fmtDelay(r)} | ${ms(p.worstMs)} | ${ms(p.p99Ms)} | ${ms(p.medianMs)} | ${p.count} | |`,
    );
    if (r.serve === null) continue;
    const q = r.serve.probe;
    console.log(
      `| ${r.target} | read load | ${fmtServeDelay(r)} | ${ms(q.worstMs)} | ${ms(q.p99Ms)} | ${ms(q.medianMs)} | ${q.count} | ${Math.round(r.serve.getsPerSec).toLocaleString('en-US')} |`,
    );
  }
  if (a !== undefined && b !== undefined)
    console.log(
      `\nbytes/item ratio ${a.target}/${b.target}: ${(a.bytesPerItem / b.bytesPerItem).toFixed(2)}`,
    );
  for (const r of results) {
    if (r.currItems !== null && r.currItems !== items)
      console.log(`warning: ${r.target} holds ${r.currItems} of ${items} items`);
  }
} else {
  console.log(
    `| target | -m MiB | written MiB | baseline RSS MiB | max RSS MiB | final RSS MiB | curr_items | evictions | event-loop max delay ms | probe worst RTT ms |`,
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(
      `| ${r.target} | ${r.memoryMiB} | ${mib(r.items * r.valueBytes)} | ${mib(r.rssBefore)} | ${mib(r.rssMax)} | ${mib(r.rssAfterServe)} | ${r.currItems ?? 'n/a'} | ${r.evictions ?? 'n/a'} | ${fmtDelay(r)} | ${ms(r.loadProbe.worstMs)} |`,
    );
  }
  if (a !== undefined && b !== undefined)
    console.log(`\nmax RSS ratio ${a.target}/${b.target}: ${(a.rssMax / b.rssMax).toFixed(2)}`);
}

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const outDir = path.join(HERE, 'results');
mkdirSync(outDir, { recursive: true });
const outFile = path.join(outDir, `memory-${scenario}-${stamp}.json`);
writeFileSync(outFile, `${JSON.stringify({ kind: 'memory', scenario, results }, null, 2)}\n`);
console.log(`\nJSON: ${path.relative(process.cwd(), outFile)}`);
