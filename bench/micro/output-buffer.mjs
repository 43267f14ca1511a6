#!/usr/bin/env node
// Micro bench of reply rendering: one batch built and taken per iteration, as a connection does
// per read, for a small reply (s1's STORED / 32-byte VALUE) and a 4 KiB value (s3), plus a
// 10-key multi-get (s4). Imports the build: `npm run build` first.
//
//   node bench/micro/output-buffer.mjs [--time-ms 500]
//
// RAT_DIST=/other/checkout/dist runs the same bench against another build (before/after).

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';

const { values: args } = parseArgs({ options: { 'time-ms': { type: 'string', default: '500' } } });
const dist =
  process.env.RAT_DIST || path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');
const { OutputBuffer } = await import(path.join(dist, 'protocol/output-buffer.js'));
const { TEXT_REPLY, writeValueHeader, writeCrlf } = await import(
  path.join(dist, 'protocol/text/text-response.js')
);

const out = new OutputBuffer();
const key = Buffer.from('key:0000001234');
const small = Buffer.alloc(32, 'v');
const large = Buffer.alloc(4096, 'v');
const held = [];
let sink = 0;
/** Keeps the last few batches alive, as a socket's write queue would. */
function hand(batch) {
  held.push(batch);
  if (held.length > 8) held.shift();
  sink += batch.length;
}
function value(data) {
  writeValueHeader(out, key, 0, data.length, undefined);
  out.writeBytes(data);
  writeCrlf(out);
}

const bench = new Bench({ time: Number(args['time-ms']) });
bench
  .add('STORED', () => {
    out.writeBytes(TEXT_REPLY.stored);
    hand(out.take());
  })
  .add('get 32 B', () => {
    value(small);
    out.writeBytes(TEXT_REPLY.end);
    hand(out.take());
  })
  .add('get 4 KiB', () => {
    value(large);
    out.writeBytes(TEXT_REPLY.end);
    hand(out.take());
  })
  .add('get 10 keys x 32 B', () => {
    for (let i = 0; i < 10; i++) value(small);
    out.writeBytes(TEXT_REPLY.end);
    hand(out.take());
  });
await bench.run();
console.table(bench.table());
if (sink === 0.5) console.log(sink);
