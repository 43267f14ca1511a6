#!/usr/bin/env node
// Micro bench of each eviction policy on N slots spread over the 44 queues (slab classes) of the
// default 1 MiB page: insert into an empty evictor, access (a hit on a random slot), churn
// (remove + insert of a random slot into its queue, as a same-class overwrite does), and evict as
// MemoryTier does it: the oldest of every class's candidate, removed, its slot inserted again.
// Each sample runs 64 operations (a timer call per ~50 ns operation would measure the timer), so
// latencies are per 64. Imports the build: `npm run build` first.
//
//   node bench/micro/evictors.mjs [--slots 100000] [--policies lru,lfu,fifo,hybrid] [--time-ms 200]
//
// RAT_DIST=/other/checkout/dist runs the same bench against another build (before/after).

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';

const { values: args } = parseArgs({
  options: {
    slots: { type: 'string', default: '100000' },
    policies: { type: 'string', default: 'lru,lfu,fifo,hybrid' },
    'time-ms': { type: 'string', default: '200' },
  },
});
const dist =
  process.env.RAT_DIST || path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');
const { createEvictor } = await import(path.join(dist, 'tiers/memory/evictor.js'));
const { slabChunkSizes } = await import(path.join(dist, 'tiers/memory/slab-classes.js'));

const slots = Number(args.slots);
// MemoryTier's defaults: 1 MiB pages, growth factor 1.25 (memcached's -f).
const queues = slabChunkSizes(1024 * 1024, 1.25).length;
/** Pseudo-random slot numbers (xorshift32, fixed seed), so every policy and build sees the same order. */
const order = new Uint32Array(1 << 16);
for (let i = 0, x = 0x9e3779b9; i < order.length; i++) {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  order[i] = (x >>> 0) % slots;
}
const mask = order.length - 1;
const OPS = 64;

let sink = 0;
const bench = new Bench({ time: Number(args['time-ms']) });
for (const policy of args.policies.split(',')) {
  // The empty evictor the insert task fills; replaced (untimed) once every slot is in.
  let empty = createEvictor(policy, queues, slots);
  let inserted = 0;
  // A full one for the other tasks, which keep it full. lastAccess is MemoryTier's column,
  // which #oldestCandidate compares across classes; `now` ticks once per operation.
  const full = createEvictor(policy, queues, slots);
  const queueOf = new Uint16Array(slots);
  const lastAccess = new Float64Array(slots);
  let now = 0;
  for (let slot = 0; slot < slots; slot++) {
    queueOf[slot] = slot % queues;
    full.insert(slot, queueOf[slot]);
    lastAccess[slot] = now++;
  }
  let i = 0;
  bench
    .add(
      `${policy} insert x${OPS}`,
      () => {
        for (let n = 0; n < OPS; n++, inserted++) empty.insert(inserted, inserted % queues);
      },
      {
        beforeEach() {
          if (inserted + OPS <= slots) return;
          empty = createEvictor(policy, queues, slots);
          inserted = 0;
        },
      },
    )
    .add(`${policy} access x${OPS}`, () => {
      for (let n = 0; n < OPS; n++) {
        const slot = order[i++ & mask];
        full.access(slot);
        lastAccess[slot] = now++;
      }
    })
    .add(`${policy} churn (remove + insert) x${OPS}`, () => {
      for (let n = 0; n < OPS; n++) {
        const slot = order[i++ & mask];
        full.remove(slot);
        full.insert(slot, queueOf[slot]);
        lastAccess[slot] = now++;
      }
    })
    .add(`${policy} evict (oldest of ${queues} candidates) x${OPS}`, () => {
      for (let n = 0; n < OPS; n++) {
        const preferred = i++ % queues;
        let victim = full.candidate(preferred);
        let oldest = victim >= 0 ? lastAccess[victim] : Number.POSITIVE_INFINITY;
        for (let queue = 0; queue < queues; queue++) {
          const candidate = full.candidate(queue);
          if (candidate >= 0 && lastAccess[candidate] < oldest) {
            victim = candidate;
            oldest = lastAccess[candidate];
          }
        }
        full.remove(victim);
        full.insert(victim, preferred);
        queueOf[victim] = preferred;
        lastAccess[victim] = now++;
        sink += victim;
      }
    });
}
await bench.run();
console.table(bench.table());
if (sink === 0.5) console.log(sink);
