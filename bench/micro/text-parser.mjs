#!/usr/bin/env node
// Micro bench of text-protocol parsing on pre-built buffers, as a connection parses one read:
// a 1-key and a 10-key get, a set with a 32 B and a 4 KiB data block, 16 gets pipelined in one
// buffer (all parsed), and a set whose data block has only half arrived (parsed again on every
// read until it completes). Imports the build: `npm run build` first.
//
//   node bench/micro/text-parser.mjs [--time-ms 500]
//
// RAT_DIST=/other/checkout/dist runs the same bench against another build (before/after).

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';

const { values: args } = parseArgs({ options: { 'time-ms': { type: 'string', default: '500' } } });
const dist =
  process.env.RAT_DIST || path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');
const { parseTextRequest } = await import(path.join(dist, 'protocol/text/text-parser.js'));
const { DEFAULT_TEXT_PARSER_LIMITS: limits } = await import(path.join(dist, 'protocol/text/text-request.js'));

const key = (i) => `key:${String(i).padStart(10, '0')}`;
const setRequest = (bytes) => Buffer.from(`set ${key(1)} 0 0 ${bytes}\r\n${'v'.repeat(bytes)}\r\n`);
const get1 = Buffer.from(`get ${key(1)}\r\n`);
const get10 = Buffer.from(`get ${Array.from({ length: 10 }, (_, i) => key(i)).join(' ')}\r\n`);
const set32 = setRequest(32);
const set4k = setRequest(4096);
const pipeline = Buffer.from(Array.from({ length: 16 }, (_, i) => `get ${key(i)}\r\n`).join(''));
const partial = set4k.subarray(0, set4k.length >> 1);

let sink = 0;
/** Parses every request in buf, as Connection's loop does; returns how many. */
function parseAll(buf) {
  let offset = 0;
  let requests = 0;
  while (offset < buf.length) {
    const result = parseTextRequest(buf, offset, buf.length, limits);
    if (result.kind !== 'request') break;
    offset += result.consumed;
    requests++;
  }
  return requests;
}
// A build whose parser rejects one of these would otherwise time its error path.
const counts = new Map([
  [get1, 1],
  [get10, 1],
  [set32, 1],
  [set4k, 1],
  [pipeline, 16],
]);
for (const [buf, count] of counts) {
  if (parseAll(buf) !== count) throw new Error(`not ${count} request(s): ${buf.subarray(0, 40)}`);
}
if (parseTextRequest(partial, 0, partial.length, limits).kind !== 'incomplete') {
  throw new Error('the half-arrived set did not parse as incomplete');
}

const bench = new Bench({ time: Number(args['time-ms']) });
bench
  .add('get 1 key', () => {
    sink += parseTextRequest(get1, 0, get1.length, limits).consumed;
  })
  .add('get 10 keys', () => {
    sink += parseTextRequest(get10, 0, get10.length, limits).consumed;
  })
  .add('set 32 B', () => {
    sink += parseTextRequest(set32, 0, set32.length, limits).consumed;
  })
  .add('set 4 KiB', () => {
    sink += parseTextRequest(set4k, 0, set4k.length, limits).consumed;
  })
  .add('pipeline of 16 gets', () => {
    sink += parseAll(pipeline);
  })
  .add('incomplete (set 4 KiB, half its data)', () => {
    sink += parseTextRequest(partial, 0, partial.length, limits).kind.length;
  });
await bench.run();
console.table(bench.table());
if (sink === 0.5) console.log(sink);
