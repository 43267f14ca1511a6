// Property tests: any valid request survives serialise -> parse (whole, split
// at a random point, and pipelined), and arbitrary bytes never make the parser
// throw or claim more bytes than it was given.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTextRequest } from '../../../src/protocol/text/text-parser.js';
import type { TextParserLimits, TextRequest } from '../../../src/protocol/text/text-request.js';

/** What the generator builds: a parsed request, but with a get-family request's keys listed and a storage request's key and value as Buffers. */
type GeneratedRequest =
  | Exclude<TextRequest, { type: 'retrieval' | 'storage' }>
  | {
      type: 'storage';
      command: Extract<TextRequest, { type: 'storage' }>['command'];
      key: Buffer;
      flags: number;
      exptime: number;
      value: Buffer;
      casUnique: bigint;
      noreply: boolean;
    }
  | {
      type: 'retrieval';
      command: Extract<TextRequest, { type: 'retrieval' }>['command'];
      keys: Buffer[];
      exptime: number;
    };

import { LIMITS, parseAll, plain } from './parse-helpers.js';

const SPACE = 0x20;
const LF = 0x0a;

/** Bytes memcached keeps inside a token: anything but space, \n and NUL. */
const tokenByte = fc.integer({ min: 1, max: 255 }).filter((b) => b !== SPACE && b !== LF);
const token = (maxLength: number) =>
  fc.array(tokenByte, { minLength: 1, maxLength }).map((b) => Buffer.from(b));
const key = fc.oneof(token(12), token(250));
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const i32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

const request: fc.Arbitrary<GeneratedRequest> = fc.oneof(
  fc.record({
    type: fc.constant('retrieval' as const),
    command: fc.constantFrom('get' as const, 'gets' as const),
    keys: fc.array(key, { minLength: 1, maxLength: 60 }),
    exptime: fc.constant(0),
  }),
  fc.record({
    type: fc.constant('retrieval' as const),
    command: fc.constantFrom('gat' as const, 'gats' as const),
    keys: fc.array(key, { maxLength: 40 }),
    exptime: i32,
  }),
  fc
    .record({
      type: fc.constant('storage' as const),
      command: fc.constantFrom(
        'set' as const,
        'add' as const,
        'replace' as const,
        'append' as const,
        'prepend' as const,
        'cas' as const,
      ),
      key,
      flags: u32,
      exptime: i32,
      value: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
      casUnique: u64,
      noreply: fc.boolean(),
    })
    .map((r) => (r.command === 'cas' ? r : { ...r, casUnique: 0n })),
  fc.record({ type: fc.constant('delete' as const), key, noreply: fc.boolean() }),
  fc.record({
    type: fc.constant('arithmetic' as const),
    command: fc.constantFrom('incr' as const, 'decr' as const),
    key,
    delta: u64,
    noreply: fc.boolean(),
  }),
  fc.record({ type: fc.constant('touch' as const), key, exptime: i32, noreply: fc.boolean() }),
  fc.record({ type: fc.constant('flush_all' as const), delaySeconds: i32, noreply: fc.boolean() }),
  fc.record({ type: fc.constant('verbosity' as const), level: u32, noreply: fc.boolean() }),
  fc.record({ type: fc.constant('cache_memlimit' as const), megabytes: u32, noreply: fc.boolean() }),
  fc.record({
    type: fc.constant('stats' as const),
    args: fc.array(
      token(20).map((b) => b.toString('latin1')),
      { maxLength: 5 },
    ),
  }),
  fc.record({ type: fc.constant('shutdown' as const), graceful: fc.boolean() }),
  fc.constant({ type: 'version' as const }),
  fc.constant({ type: 'quit' as const }),
);

const text = (s: string): Buffer => Buffer.from(s, 'latin1');
const noreplySuffix = (noreply: boolean): string => (noreply ? ' noreply' : '');

function serialise(r: GeneratedRequest): Buffer {
  const line = (...parts: Array<string | Buffer>): Buffer =>
    Buffer.concat([
      ...parts.flatMap((p, i) => [i === 0 ? text('') : text(' '), typeof p === 'string' ? text(p) : p]),
      text('\r\n'),
    ]);
  switch (r.type) {
    case 'retrieval':
      return r.command === 'gat' || r.command === 'gats'
        ? line(r.command, String(r.exptime), ...r.keys)
        : line(r.command, ...r.keys);
    case 'storage': {
      const cas = r.command === 'cas' ? ` ${r.casUnique}` : '';
      const head = line(
        r.command,
        r.key,
        `${r.flags} ${r.exptime} ${r.value.length}${cas}${noreplySuffix(r.noreply)}`,
      );
      return Buffer.concat([head, r.value, text('\r\n')]);
    }
    case 'too_large':
      throw new Error('not generated');
    case 'delete':
      return line('delete', r.key, ...(r.noreply ? ['noreply'] : []));
    case 'arithmetic':
      return line(r.command, r.key, `${r.delta}${noreplySuffix(r.noreply)}`);
    case 'touch':
      return line('touch', r.key, `${r.exptime}${noreplySuffix(r.noreply)}`);
    case 'flush_all':
      return line('flush_all', `${r.delaySeconds}${noreplySuffix(r.noreply)}`);
    case 'verbosity':
      return line('verbosity', `${r.level}${noreplySuffix(r.noreply)}`);
    case 'cache_memlimit':
      return line('cache_memlimit', `${r.megabytes}${noreplySuffix(r.noreply)}`);
    case 'stats':
      return line('stats', ...r.args);
    case 'shutdown':
      return line(r.graceful ? 'shutdown graceful' : 'shutdown');
    case 'version':
    case 'quit':
      return line(r.type);
    default:
      return r satisfies never;
  }
}

describe('serialise -> parse round trip', () => {
  it('parses every valid request back, whole and split at a random point', () => {
    fc.assert(
      fc.property(request, fc.double({ min: 0, max: 1, noNaN: true }), (r, at) => {
        const wire = serialise(r);
        const whole = parseTextRequest(wire, 0, wire.length, LIMITS);
        expect(plain(whole)).toEqual(
          plain({ kind: 'request', request: r, consumed: wire.length, swallow: 0 }),
        );
        const split = Math.floor(at * wire.length);
        if (split < wire.length) {
          // A split inside the line (or its data block) is always incomplete, never a guess.
          expect(parseTextRequest(wire, 0, split, LIMITS)).toEqual({ kind: 'incomplete' });
          const firstChunk = Buffer.from(wire.subarray(0, split));
          expect(parseTextRequest(firstChunk, 0, split, LIMITS)).toEqual({ kind: 'incomplete' });
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('parses a pipeline of requests in order', () => {
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 20 }), (requests) => {
        const wire = Buffer.concat(requests.map(serialise));
        const parsed = parseAll(wire).map((result) => (result.kind === 'request' ? result.request : result));
        expect(plain(parsed)).toEqual(plain(requests));
      }),
      { numRuns: 300 },
    );
  });
});

const interesting = fc.constantFrom(
  ...[
    'get ',
    'gets ',
    'gat ',
    'set ',
    'cas ',
    'delete ',
    'incr ',
    'touch ',
    'flush_all ',
    'verbosity ',
    'stats ',
    'shutdown ',
  ]
    .concat([
      ' ',
      '  ',
      '\r\n',
      '\n',
      '\r',
      '\x00',
      'noreply',
      '0',
      '1',
      '-1',
      '4294967296',
      '18446744073709551616',
      'HTTP/1.1',
      '2000',
    ])
    .map(text),
);
const garbage = fc
  .array(
    fc.oneof(
      interesting,
      fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
    ),
    { maxLength: 80 },
  )
  .map((parts) => Buffer.concat(parts));

describe('garbage', () => {
  const limitsSets: TextParserLimits[] = [
    LIMITS,
    { maxKeyLength: 8, maxLineLength: 64, maxItemSize: 100, maxGetLineLength: 200 },
  ];

  it('never throws, and never consumes more than it was given', () => {
    fc.assert(
      fc.property(garbage, fc.nat(), fc.constantFrom(...limitsSets), (input, startSeed, limits) => {
        const start = input.length === 0 ? 0 : startSeed % input.length;
        let offset = start;
        for (let guard = 0; offset < input.length && guard <= input.length; guard++) {
          const result = parseTextRequest(input, offset, input.length, limits);
          if (result.kind === 'incomplete') break;
          expect(result.consumed).toBeGreaterThanOrEqual(0);
          expect(offset + result.consumed).toBeLessThanOrEqual(input.length);
          if (result.kind === 'error' && result.close) break;
          expect(result.consumed).toBeGreaterThan(0);
          offset += result.consumed + (result.kind === 'request' ? result.swallow : 0);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
