// Micro bench of the timing wheel alone: schedule / reschedule / cancel /
// advance throughput over N slots, the worst single schedule() call while the
// pool grows (reserved as L1 reserves it, and not), and allocatedBytes per
// scheduled entry, dense (slots 0..N-1) and sparse (slots N..2N-1, as when N
// items without a TTL sit below them).
// Each figure is the median of --runs fresh wheels.
//
//   npm run build && node bench/ttl-wheel.mjs [--items 1000000] [--runs 5]
//     [--module ./dist/ttl/timing-wheel.js]   (another build of the wheel, to compare)

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    items: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '5' },
    module: { type: 'string', default: './dist/ttl/timing-wheel.js' },
  },
});
const N = Number(args.items);
const RUNS = Number(args.runs);
const { TimingWheel } = await import(pathToFileURL(path.resolve(args.module)).href);
const T0 = 1_700_000_000;

/** Schedules slot, growing first if this build of the wheel still needs grow(). */
function schedule(wheel, slot, t) {
  if (typeof wheel.grow === 'function' && slot >= wheel.capacity) wheel.grow(slot + 1);
  wheel.schedule(slot, t);
}

function worstSchedule(options) {
  const wheel = new TimingWheel({ nowSeconds: T0, initialCapacity: 0, ...options });
  let worst = 0;
  for (let i = 0; i < N; i++) {
    const a = process.hrtime.bigint();
    schedule(wheel, i, T0 + 1 + (i % 100_000));
    const d = Number(process.hrtime.bigint() - a);
    if (d > worst) worst = d;
  }
  return worst;
}

const mops = (count, ns) => (count / (Number(ns) / 1e3)).toFixed(2);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function once() {
  const r = {};
  let wheel = new TimingWheel({ nowSeconds: T0, initialCapacity: 0 });
  let t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) schedule(wheel, i, T0 + 1 + (i % 100_000));
  r.schedule = Number(process.hrtime.bigint() - t);
  r.denseBytes = wheel.allocatedBytes / N;
  t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) wheel.schedule(i, T0 + 200_000 + (i % 50_000));
  r.reschedule = Number(process.hrtime.bigint() - t);
  t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) wheel.cancel(i);
  r.cancel = Number(process.hrtime.bigint() - t);
  for (let i = 0; i < N; i++) wheel.schedule(i, T0 + 1 + (i % 30));
  let expired = 0;
  t = process.hrtime.bigint();
  for (let s = 1; s <= 31; s++) expired += wheel.advance(T0 + s, () => {});
  r.advance = Number(process.hrtime.bigint() - t);
  if (expired !== N) throw new Error(`advance expired ${expired} of ${N}`);

  // Worst single call while scheduling N entries into an empty wheel: with the
  // pool reserved for N (as L1 reserves it for its slots), and without a reserve.
  r.worstPause = worstSchedule({ reserve: N });
  r.worstPauseUnreserved = worstSchedule({});

  wheel = new TimingWheel({ nowSeconds: T0, initialCapacity: 0 });
  for (let i = N; i < 2 * N; i++) schedule(wheel, i, T0 + 1 + (i % 100_000));
  r.sparseBytes = wheel.allocatedBytes / N;
  return r;
}

const results = [];
for (let i = 0; i < RUNS; i++) results.push(once());
const m = (k) => median(results.map((r) => r[k]));
console.log(`wheel ${args.module}, ${N} entries, median of ${RUNS}:`);
console.log(
  `  schedule ${mops(N, m('schedule'))} M/s, reschedule ${mops(N, m('reschedule'))} M/s, ` +
    `cancel ${mops(N, m('cancel'))} M/s, advance (expire) ${mops(N, m('advance'))} M/s`,
);
console.log(
  `  worst single schedule() call: ${(m('worstPause') / 1e6).toFixed(2)} ms with the pool reserved, ` +
    `${(m('worstPauseUnreserved') / 1e6).toFixed(2)} ms without`,
);
console.log(
  `  allocatedBytes / entries: slots 0..N-1 ${m('denseBytes').toFixed(1)} B, ` +
    `slots N..2N-1 ${m('sparseBytes').toFixed(1)} B`,
);
