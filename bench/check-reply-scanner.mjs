#!/usr/bin/env node
// Self-check for lib/text-reply-scanner.mjs, the piece of the load generator whose mistakes would
// silently skew every number (replies matched to the wrong requests). Each reply stream is fed
// whole, byte by byte, and split at every boundary, as the parser tests in test/ do; exits 1 on
// a mismatch. Run: node bench/check-reply-scanner.mjs

import assert from 'node:assert/strict';
import { TextReplyScanner } from './lib/text-reply-scanner.mjs';

const cases = [
  { name: 'get hit', wire: 'VALUE key:1 0 3\r\nabc\r\nEND\r\n', replies: 1, values: 1 },
  { name: 'get miss', wire: 'END\r\n', replies: 1, values: 0 },
  { name: 'set', wire: 'STORED\r\n', replies: 1, values: 0 },
  {
    name: 'multi-get with a miss',
    wire: 'VALUE a 0 1\r\nx\r\nVALUE b 5 2\r\nyz\r\nEND\r\n',
    replies: 1,
    values: 2,
  },
  {
    // Data that looks like framing must be skipped by length, never scanned.
    name: 'value containing CRLF END CRLF',
    wire: 'VALUE k 0 12\r\nEND\r\nSTORED\r\nEND\r\n',
    replies: 1,
    values: 1,
  },
  { name: 'gets with cas', wire: 'VALUE k 0 2 99\r\nhi\r\nEND\r\n', replies: 1, values: 1 },
  { name: 'empty value', wire: 'VALUE k 0 0\r\n\r\nEND\r\n', replies: 1, values: 1 },
  {
    name: 'pipelined mix',
    wire: 'STORED\r\nVALUE a 0 4\r\n1234\r\nEND\r\nEND\r\nNOT_STORED\r\nSERVER_ERROR out of memory\r\nVERSION 1.6.18\r\n',
    replies: 6,
    values: 1,
  },
  {
    name: '4 KiB value',
    wire: `VALUE big 0 4096\r\n${'\n'.repeat(4096)}\r\nEND\r\n`,
    replies: 1,
    values: 1,
  },
];

function feedAll(chunks) {
  const s = new TextReplyScanner();
  let replies = 0;
  for (const c of chunks) replies += s.feed(c);
  return { replies, values: s.values };
}

let checks = 0;
for (const c of cases) {
  const buf = Buffer.from(c.wire, 'latin1');
  const expected = { replies: c.replies, values: c.values };
  assert.deepEqual(feedAll([buf]), expected, `${c.name}: whole`);
  const bytes = [];
  for (let i = 0; i < buf.length; i++) bytes.push(buf.subarray(i, i + 1));
  assert.deepEqual(feedAll(bytes), expected, `${c.name}: byte by byte`);
  for (let cut = 1; cut < buf.length; cut++) {
    assert.deepEqual(
      feedAll([buf.subarray(0, cut), buf.subarray(cut)]),
      expected,
      `${c.name}: split at ${cut}`,
    );
  }
  checks += 2 + Math.max(0, buf.length - 1);
}
console.log(`text-reply-scanner: ${cases.length} streams, ${checks} feeds, all ok`);
