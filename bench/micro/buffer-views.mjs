#!/usr/bin/env node
// Micro bench of what a request pays to reach a range of a Buffer, behind how a set's key and value
// reach L1 (MemoryTier.putAt: no view for the key, none for a value up to 64 B) and behind the
// cache's coarse clock (core/clock.ts): a Buffer view (`subarray`), a plain Uint8Array view of the
// same ArrayBuffer, a byte loop, Buffer#copy from an offset, TypedArray#set of a view, Date.now().
// Each task makes INNER operations per call, so tinybench's own cost per call (~50 ns) does not
// drown them; the table gives ns per operation. Needs no build.
//
//   node bench/micro/buffer-views.mjs [--time-ms 500]

import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';

const { values: args } = parseArgs({ options: { 'time-ms': { type: 'string', default: '500' } } });

/** Operations per measured call. */
const INNER = 256;
// Like the direct transport's shared read buffer and an L1 page: large, so not from Node's pool.
const source = Buffer.allocUnsafe(1024 * 1024).fill(7);
const target = Buffer.allocUnsafe(1024 * 1024);
let sink = 0;
/** Successive ranges 4160 bytes apart, as successive requests' values would be. */
const offsetOf = (i) => (i & 127) * 4160;

// Each task has its own loop, so each call site stays monomorphic and is inlined as in the server;
// one loop calling the tasks through a parameter measured the megamorphic call instead.
const tasks = {
  'Buffer#subarray, 14 B (a key view)': () => {
    for (let i = 0; i < INNER; i++) {
      const at = offsetOf(i);
      sink += source.subarray(at, at + 14).length;
    }
  },
  'new Uint8Array(source.buffer, ...), 14 B': () => {
    for (let i = 0; i < INNER; i++) {
      const at = offsetOf(i);
      sink += new Uint8Array(source.buffer, source.byteOffset + at, 14).length;
    }
  },
  'byte loop, 32 B': () => {
    for (let i = 0; i < INNER; i++) {
      const at = offsetOf(i);
      for (let j = 0; j < 32; j++) target[100 + j] = source[at + j];
      sink += target[100];
    }
  },
  'Buffer#copy from an offset, 4 KiB': () => {
    for (let i = 0; i < INNER; i++) {
      const at = offsetOf(i);
      sink += source.copy(target, 100, at, at + 4096);
    }
  },
  'TypedArray#set of a Uint8Array view, 4 KiB': () => {
    for (let i = 0; i < INNER; i++) {
      const at = offsetOf(i);
      target.set(new Uint8Array(source.buffer, source.byteOffset + at, 4096), 100);
      sink += target[100];
    }
  },
  'TypedArray#set of Buffer#subarray, 4 KiB': () => {
    for (let i = 0; i < INNER; i++) {
      const at = offsetOf(i);
      target.set(source.subarray(at, at + 4096), 100);
      sink += target[100];
    }
  },
  'Date.now()': () => {
    for (let i = 0; i < INNER; i++) sink += Date.now() & 1;
  },
};

const bench = new Bench({ time: Number(args['time-ms']) });
for (const [name, run] of Object.entries(tasks)) bench.add(name, run);
await bench.run();
console.table(
  bench.tasks.map((task) => ({
    task: task.name,
    'ns per operation': (((task.result?.latency?.mean ?? Number.NaN) * 1e6) / INNER).toFixed(1),
  })),
);
if (sink === 0) throw new Error('nothing was measured');
