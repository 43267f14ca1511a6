// Input -> expected result, every case parsed whole, byte by byte and inside a
// larger buffer (parseEveryWay). Each expectation was replayed against
// memcached 1.6.18 (Debian, /usr/bin/memcached -U 0, defaults) on loopback;
// the memcached reply is quoted after each case ("mc:"). A data line that
// memcached then parses as a command shows up there as a second reply.

import { describe, expect, it } from 'vitest';
import { bytes, type Plain, parseEveryWay } from './parse-helpers.js';

/**
 * Where a result stops, derived from the input rather than counted by hand: 'line' = through the
 * first \n, 'line+N' = N bytes of data block after it, 'all' = the whole input.
 */
type Consumed = 'line' | 'all' | `line+${number}`;

const req = (consumed: Consumed, request: Plain, swallow = 0): Expected => ({
  kind: 'request',
  request,
  consumed,
  swallow,
});
const err = (reply: string, consumed: Consumed, close = false): Expected => ({
  kind: 'error',
  reply,
  consumed,
  close,
});
const INCOMPLETE: Expected = { kind: 'incomplete' };

type Expected = { [key: string]: Plain | Consumed };

function resolve(input: string, expected: Expected): Plain {
  const spec = expected.consumed;
  if (spec === undefined) return expected as Plain;
  const line = input.indexOf('\n') + 1;
  const consumed =
    spec === 'all' ? input.length : spec === 'line' ? line : line + Number(String(spec).slice(5));
  return { ...expected, consumed } as Plain;
}

const get = (keys: string[], command = 'get', exptime = 0): Plain => ({
  type: 'retrieval',
  command,
  keys,
  exptime,
});
const set = (
  key: string,
  value: string,
  flags = 0,
  exptime = 0,
  noreply = false,
  command = 'set',
  casUnique = 0n,
): Plain => ({
  type: 'storage',
  command,
  key,
  flags,
  exptime,
  value,
  casUnique,
  noreply,
});

const BAD_FORMAT = 'CLIENT_ERROR bad command line format';
const DELETE_USAGE = 'CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]';
const LONG_KEY = 'k'.repeat(251);

type Case = [input: string, expected: Expected, memcached: string];

const cases: Record<string, Case[]> = {
  'line framing and dispatch': [
    ['version\r\n', req('line', { type: 'version' }), 'VERSION 1.6.18'],
    ['version\n', req('line', { type: 'version' }), 'VERSION 1.6.18'],
    ['  version\r\n', req('line', { type: 'version' }), 'VERSION 1.6.18'],
    ['version \r\n', req('line', { type: 'version' }), 'VERSION 1.6.18'],
    ['version foo bar\r\n', req('line', { type: 'version' }), 'VERSION 1.6.18'],
    ['version\r\r\n', err('ERROR', 'line'), 'ERROR (token is "version\\r")'],
    ['version\x00 garbage\r\n', req('line', { type: 'version' }), 'VERSION 1.6.18 (line ends at NUL)'],
    ['versio\x00n\r\n', err('ERROR', 'line'), 'ERROR'],
    ['quit\r\n', req('line', { type: 'quit' }), '<closed>'],
    ['quit foo\r\n', req('line', { type: 'quit' }), '<closed>'],
    ['bogus\r\n', err('ERROR', 'line'), 'ERROR'],
    ['GET foo\r\n', err('ERROR', 'line'), 'ERROR'],
    ['\r\n', err('ERROR', 'line'), 'ERROR'],
    ['\n', err('ERROR', 'line'), 'ERROR'],
    ['   \r\n', err('ERROR', 'line'), 'ERROR'],
    ['x\r\n', err('ERROR', 'line'), 'ERROR'],
    ['H\r\n', err('ERROR', 'line'), 'ERROR'],
    ['gex k\r\n', err('ERROR', 'line'), 'ERROR'],
    ['mz\r\n', err('ERROR', 'line'), 'ERROR'],
    ['GET / HTTP/1.1\r\n', err('', 'line', true), '<closed>'],
    ['HTTP/1.1\r\n', err('', 'line', true), '<closed>'],
    ['foo HTTP/\r\n', err('', 'line', true), '<closed>'],
    ['foo HTTP/1.1 bar\r\n', err('ERROR', 'line'), 'ERROR'],
    ['gopher HTTP/1.0\r\n', err('ERROR', 'line'), 'ERROR (g* branch answers before the probe check)'],
    ['get / HTTP/1.1\r\n', req('line', get(['/', 'HTTP/1.1'])), 'END'],
  ],
  retrieval: [
    ['get foo\r\n', req('line', get(['foo'])), 'END'],
    ['get foo nope foo\r\n', req('line', get(['foo', 'nope', 'foo'])), 'VALUE foo ... twice'],
    ['gets a b\r\n', req('line', get(['a', 'b'], 'gets')), 'END'],
    ['get   a    b  \r\n', req('line', get(['a', 'b'])), 'END'],
    ['get k\x00 other\r\n', req('line', get(['k'])), 'END'],
    [
      'get ctl\x01key tab\tkey\r\n',
      req('line', get(['ctl\x01key', 'tab\tkey'])),
      'keys are not split on tabs',
    ],
    ['bget k\r\n', req('line', get(['k'])), 'END'],
    ['get\r\n', err('ERROR', 'line'), 'ERROR'],
    ['get \r\n', err('ERROR', 'line'), 'ERROR'],
    ['gets\r\n', err('ERROR', 'line'), 'ERROR'],
    ['gat\r\n', err('ERROR', 'line'), 'ERROR'],
    ['gat 10\r\n', req('line', get([], 'gat', 10)), 'END'],
    ['gat 100 foo nope\r\n', req('line', get(['foo', 'nope'], 'gat', 100)), 'VALUE foo ...'],
    ['gats -1 k\r\n', req('line', get(['k'], 'gats', -1)), 'VALUE k ...'],
    ['gat 4294967297 k\r\n', req('line', get(['k'], 'gat', 1)), 'END'],
    ['gat abc k\r\n', err('CLIENT_ERROR invalid exptime argument', 'line'), 'same'],
    ['gat 9223372036854775808 k\r\n', err('CLIENT_ERROR invalid exptime argument', 'line'), 'same'],
    [`get ${'y'.repeat(250)}\r\n`, req('line', get(['y'.repeat(250)])), 'END'],
    [`get a ${LONG_KEY} b\r\n`, err(BAD_FORMAT, 'line'), 'same, no VALUE for a'],
    [`get ${LONG_KEY} a\r\n`, err(BAD_FORMAT, 'line'), 'same'],
    [`gat 0 a ${LONG_KEY}\r\n`, err(BAD_FORMAT, 'line'), 'same'],
  ],
  storage: [
    ['set foo 5 0 3\r\nbar\r\n', req('all', set('foo', 'bar', 5)), 'STORED'],
    ['set k 0 0 1 foo\r\nx\r\n', req('all', set('k', 'x')), 'STORED (7th token ignored)'],
    ['set k 0 0 1 noreply\r\nx\r\n', req('all', set('k', 'x', 0, 0, true)), ''],
    ['add k 1 2 0\r\n\r\n', req('all', set('k', '', 1, 2, false, 'add')), 'STORED'],
    ['replace k 0 0 1\r\nx\r\n', req('all', set('k', 'x', 0, 0, false, 'replace')), 'NOT_STORED'],
    ['append k 0 0 2\r\nzz\r\n', req('all', set('k', 'zz', 0, 0, false, 'append')), 'NOT_STORED'],
    ['prepend k 0 0 2\r\naa\r\n', req('all', set('k', 'aa', 0, 0, false, 'prepend')), 'NOT_STORED'],
    ['set k 0 0 4\r\na\r\nb\r\n', req('all', set('k', 'a\r\nb')), 'STORED'],
    ['set k 0 0 1\nx\r\n', req('all', set('k', 'x')), 'STORED'],
    ['set k 4294967295 0 1\r\nx\r\n', req('all', set('k', 'x', 4294967295)), 'STORED, flags 4294967295'],
    ['set k 4294967296 0 1\r\nx\r\n', req('all', set('k', 'x', 0)), 'STORED, flags read back 0'],
    [
      'set k 18446744073709551615 0 1\r\nx\r\n',
      req('all', set('k', 'x', 4294967295)),
      'STORED, flags 4294967295',
    ],
    [
      'set k -9223372036854775809 0 1\r\nx\r\n',
      req('all', set('k', 'x', 4294967295)),
      'STORED, flags 4294967295',
    ],
    ['set k +5 0 1\r\nx\r\n', req('all', set('k', 'x', 5)), 'STORED, flags 5'],
    ['set k -0 0 1\r\nx\r\n', req('all', set('k', 'x')), 'STORED'],
    ['set k \x0b1 0 1\r\nx\r\n', req('all', set('k', 'x', 1)), 'STORED, flags 1'],
    ['set k 1\x0b 0 1\r\nx\r\n', req('all', set('k', 'x', 1)), 'STORED, flags 1'],
    ['set k 0 0 01\r\nx\r\n', req('all', set('k', 'x')), 'STORED'],
    ['set k 0 0 +1\r\nx\r\n', req('all', set('k', 'x')), 'STORED'],
    ['set k 0 0 \t1\r\nx\r\n', req('all', set('k', 'x')), 'STORED'],
    ['set k 0 0 1\t\r\nx\r\n', req('all', set('k', 'x')), 'STORED'],
    ['set k 0 0 4294967297\r\nx\r\n', req('all', set('k', 'x')), 'STORED (length wraps to 1)'],
    ['set k 0 -1 1\r\nx\r\n', req('all', set('k', 'x', 0, -1)), 'STORED, then gone'],
    ['set k 0 -2147483649 1\r\nx\r\n', req('all', set('k', 'x', 0, 2147483647)), 'STORED'],
    ['set k 0 9223372036854775807 1\r\nx\r\n', req('all', set('k', 'x', 0, -1)), 'STORED'],
    ['cas k 0 0 1 999\r\nx\r\n', req('all', set('k', 'x', 0, 0, false, 'cas', 999n)), 'NOT_FOUND'],
    [
      'cas k 0 0 1 18446744073709551615\r\nx\r\n',
      req('all', set('k', 'x', 0, 0, false, 'cas', 18446744073709551615n)),
      'NOT_FOUND',
    ],
    [
      'cas k 0 0 1 -9223372036854775809\r\nx\r\n',
      req('all', set('k', 'x', 0, 0, false, 'cas', 9223372036854775807n)),
      'NOT_FOUND',
    ],
    ['cas k 0 0 1 1 noreply\r\nx\r\n', req('all', set('k', 'x', 0, 0, true, 'cas', 1n)), ''],
  ],
  'storage errors': [
    ['set k 0 0\r\n', err('ERROR', 'line'), 'ERROR'],
    ['set k 0 0 1 2 3\r\nx\r\n', err('ERROR', 'line'), 'ERROR ERROR'],
    ['set k 0 0 1 noreply extra\r\nx\r\n', err('ERROR', 'line'), 'ERROR ERROR'],
    ['cas k 0 0 1\r\nx\r\n', err('ERROR', 'line'), 'ERROR ERROR'],
    ['set k 0 0 abc\r\nbar\r\n', err(BAD_FORMAT, 'line'), 'CLIENT_ERROR bad command line format, ERROR'],
    ['set k abc 0 3\r\nbar\r\n', err(BAD_FORMAT, 'line'), 'same, ERROR'],
    ['set k -1 0 1\r\nx\r\n', err(BAD_FORMAT, 'line'), 'same, ERROR'],
    ['set k 0 0 -1\r\n', err(BAD_FORMAT, 'line'), 'same'],
    ['set k 0 0 0x1\r\nx\r\n', err(BAD_FORMAT, 'line'), 'same, ERROR'],
    ['set k 1\x00 0 1\r\nx\r\n', err('ERROR', 'line'), 'ERROR ERROR (NUL ends the line)'],
    ['set k 18446744073709551616 0 1\r\nx\r\n', err(BAD_FORMAT, 'line'), 'same, ERROR'],
    ['set k -9223372036854775808 0 1\r\nx\r\n', err(BAD_FORMAT, 'line'), 'same, ERROR'],
    ['set k 0 9223372036854775808 1\r\nx\r\n', err(BAD_FORMAT, 'line'), 'same, ERROR'],
    ['set k 0 0 2147483648\r\nx\r\n', err(BAD_FORMAT, 'line'), 'same, ERROR (length wraps negative)'],
    ['set k 0 0 2147483646\r\n', err(BAD_FORMAT, 'line'), 'same (> INT_MAX - 2)'],
    ['cas k 0 0 1 -1\r\nx\r\n', err(BAD_FORMAT, 'line'), 'same, ERROR'],
    ['cas k 0 0 1 18446744073709551616\r\nx\r\n', err(BAD_FORMAT, 'line'), 'same, ERROR'],
    [`set ${LONG_KEY} 0 0 1\r\nx\r\n`, err(BAD_FORMAT, 'line'), 'same, ERROR'],
    [`set ${LONG_KEY} 0 0 x\r\n`, err(BAD_FORMAT, 'line'), 'same (key checked first)'],
    ['set k 0 0 3\r\nbarx\r\n', err('CLIENT_ERROR bad data chunk', 'line+5'), 'same, then ERROR for "\\n"'],
    ['set k 0 0 3\r\nbarxyz\r\n', err('CLIENT_ERROR bad data chunk', 'line+5'), 'same, then ERROR'],
    ['set k 0 0 1\r\nx\nversion\r\n', err('CLIENT_ERROR bad data chunk', 'line+3'), 'same, then ERROR'],
    // noreply silences every error raised after the line was read, even bad data chunk.
    ['set k 0 0 noreply\r\nx\r\n', err('', 'line'), 'nothing, then ERROR for "x"'],
    ['set k 0 0 abc noreply\r\n', err('', 'line'), 'nothing'],
    ['cas k 0 0 1 noreply\r\nx\r\n', err('', 'line'), 'nothing, then ERROR'],
    [`set ${LONG_KEY} 0 0 1 noreply\r\nx\r\n`, err('', 'line'), 'nothing, then ERROR'],
    ['set k 0 0 3 noreply\r\nbarx\r\n', err('', 'line+5'), 'nothing, then ERROR'],
  ],
  'too large (-I 1m: 48 + 8 + key + 1 + (flags ? 4 : 0) + bytes + 2 <= 1048576)': [
    ['set k 0 0 1048516\r\n', INCOMPLETE, 'STORED once the data arrives'],
    [
      'set k 0 0 1048517\r\n',
      req('line', { type: 'too_large', command: 'set', key: 'k', noreply: false }, 1048519),
      'SERVER_ERROR object too large for cache',
    ],
    ['set k 1 0 1048512\r\n', INCOMPLETE, 'STORED once the data arrives'],
    [
      'set k 1 0 1048513\r\n',
      req('line', { type: 'too_large', command: 'set', key: 'k', noreply: false }, 1048515),
      'SERVER_ERROR ...',
    ],
    [
      `add ${'k'.repeat(250)} 1 0 1048264 noreply\r\n`,
      req('line', { type: 'too_large', command: 'add', key: 'k'.repeat(250), noreply: true }, 1048266),
      'nothing; max with 250-byte key and flags is 1048263',
    ],
    [
      'set k 0 0 2147483645\r\n',
      req('line', { type: 'too_large', command: 'set', key: 'k', noreply: false }, 2147483647),
      'SERVER_ERROR ..., swallows',
    ],
  ],
  'delete, incr/decr, touch': [
    ['delete k\r\n', req('line', { type: 'delete', key: 'k', noreply: false }), 'NOT_FOUND'],
    ['delete k noreply\r\n', req('line', { type: 'delete', key: 'k', noreply: true }), ''],
    ['delete k 0\r\n', req('line', { type: 'delete', key: 'k', noreply: false }), 'NOT_FOUND'],
    ['delete k 0 noreply\r\n', req('line', { type: 'delete', key: 'k', noreply: true }), ''],
    ['delete noreply noreply\r\n', req('line', { type: 'delete', key: 'noreply', noreply: true }), ''],
    ['delete k 5\r\n', err(DELETE_USAGE, 'line'), 'same'],
    ['delete k noreply 0\r\n', err(DELETE_USAGE, 'line'), 'same'],
    ['delete k 0 0\r\n', err(DELETE_USAGE, 'line'), 'same'],
    ['delete k 5 noreply\r\n', err('', 'line'), 'nothing'],
    ['delete k a b c\r\n', err('ERROR', 'line'), 'ERROR'],
    ['delete\r\n', err('ERROR', 'line'), 'ERROR'],
    [`delete ${LONG_KEY}\r\n`, err(BAD_FORMAT, 'line'), 'same'],
    [`delete ${LONG_KEY} noreply\r\n`, err('', 'line'), 'nothing'],
    [
      'incr n 1\r\n',
      req('line', { type: 'arithmetic', command: 'incr', key: 'n', delta: 1n, noreply: false }),
      'NOT_FOUND',
    ],
    [
      'decr n 18446744073709551615 noreply\r\n',
      req('line', {
        type: 'arithmetic',
        command: 'decr',
        key: 'n',
        delta: 18446744073709551615n,
        noreply: true,
      }),
      '',
    ],
    [
      'incr k 1 2\r\n',
      req('line', { type: 'arithmetic', command: 'incr', key: 'k', delta: 1n, noreply: false }),
      'NOT_FOUND',
    ],
    [
      'incr k -0\r\n',
      req('line', { type: 'arithmetic', command: 'incr', key: 'k', delta: 0n, noreply: false }),
      'NOT_FOUND',
    ],
    [
      'incr k \t5\r\n',
      req('line', { type: 'arithmetic', command: 'incr', key: 'k', delta: 5n, noreply: false }),
      'accepted',
    ],
    ['incr n abc\r\n', err('CLIENT_ERROR invalid numeric delta argument', 'line'), 'same'],
    ['incr n -1\r\n', err('CLIENT_ERROR invalid numeric delta argument', 'line'), 'same'],
    ['incr k 18446744073709551616\r\n', err('CLIENT_ERROR invalid numeric delta argument', 'line'), 'same'],
    ['incr k noreply\r\n', err('', 'line'), 'nothing'],
    ['incr k\r\n', err('ERROR', 'line'), 'ERROR'],
    [`incr ${LONG_KEY} x\r\n`, err(BAD_FORMAT, 'line'), 'same (key checked first)'],
    [
      'touch foo 100\r\n',
      req('line', { type: 'touch', key: 'foo', exptime: 100, noreply: false }),
      'TOUCHED / NOT_FOUND',
    ],
    ['touch k 1 2\r\n', req('line', { type: 'touch', key: 'k', exptime: 1, noreply: false }), 'NOT_FOUND'],
    ['touch k abc\r\n', err('CLIENT_ERROR invalid exptime argument', 'line'), 'same'],
    ['touch k 9223372036854775808\r\n', err('CLIENT_ERROR invalid exptime argument', 'line'), 'same'],
    ['touch k noreply\r\n', err('', 'line'), 'nothing'],
    ['touch k\r\n', err('ERROR', 'line'), 'ERROR'],
    [`touch ${LONG_KEY} x\r\n`, err(BAD_FORMAT, 'line'), 'same'],
  ],
  'admin commands': [
    ['flush_all\r\n', req('line', { type: 'flush_all', delaySeconds: 0, noreply: false }), 'OK'],
    ['flush_all 0\r\n', req('line', { type: 'flush_all', delaySeconds: 0, noreply: false }), 'OK'],
    ['flush_all -1\r\n', req('line', { type: 'flush_all', delaySeconds: -1, noreply: false }), 'OK'],
    ['flush_all 4294967296\r\n', req('line', { type: 'flush_all', delaySeconds: 0, noreply: false }), 'OK'],
    ['flush_all noreply\r\n', req('line', { type: 'flush_all', delaySeconds: 0, noreply: true }), ''],
    ['flush_all 10 foo\r\n', req('line', { type: 'flush_all', delaySeconds: 10, noreply: false }), 'OK'],
    ['flush_all 5 noreply\r\n', req('line', { type: 'flush_all', delaySeconds: 5, noreply: true }), ''],
    ['flush_all abc\r\n', err('CLIENT_ERROR invalid exptime argument', 'line'), 'same'],
    ['flush_all 9223372036854775808\r\n', err('CLIENT_ERROR invalid exptime argument', 'line'), 'same'],
    ['flush_all noreply 5\r\n', err('CLIENT_ERROR invalid exptime argument', 'line'), 'same'],
    ['flush_all foo noreply\r\n', err('', 'line'), 'nothing'],
    ['flush_all 1 2 3\r\n', err('ERROR', 'line'), 'ERROR'],
    ['verbosity 1\r\n', req('line', { type: 'verbosity', level: 1, noreply: false }), 'OK'],
    ['verbosity 1 noreply\r\n', req('line', { type: 'verbosity', level: 1, noreply: true }), ''],
    ['verbosity 1 foo\r\n', req('line', { type: 'verbosity', level: 1, noreply: false }), 'OK'],
    ['verbosity 4294967296\r\n', req('line', { type: 'verbosity', level: 0, noreply: false }), 'OK'],
    ['verbosity\r\n', err('ERROR', 'line'), 'ERROR'],
    ['verbosity 1 2 3\r\n', err('ERROR', 'line'), 'ERROR'],
    ['verbosity -1\r\n', err(BAD_FORMAT, 'line'), 'same'],
    ['verbosity 18446744073709551616\r\n', err(BAD_FORMAT, 'line'), 'same'],
    ['verbosity noreply\r\n', err('', 'line'), 'nothing'],
    ['cache_memlimit 64\r\n', req('line', { type: 'cache_memlimit', megabytes: 64, noreply: false }), 'OK'],
    [
      'cache_memlimit 1\r\n',
      req('line', { type: 'cache_memlimit', megabytes: 1, noreply: false }),
      'MEMLIMIT_TOO_SMALL ...',
    ],
    [
      'cache_memlimit 1 2\r\n',
      req('line', { type: 'cache_memlimit', megabytes: 1, noreply: false }),
      'MEMLIMIT_TOO_SMALL ...',
    ],
    [
      'cache_memlimit 4294967304\r\n',
      req('line', { type: 'cache_memlimit', megabytes: 8, noreply: false }),
      'OK',
    ],
    ['cache_memlimit abc\r\n', err('ERROR', 'line'), 'ERROR'],
    ['cache_memlimit -1\r\n', err('ERROR', 'line'), 'ERROR'],
    ['cache_memlimit abc noreply\r\n', err('', 'line'), 'nothing'],
    ['cache_memlimit\r\n', err('ERROR', 'line'), 'ERROR'],
    ['stats\r\n', req('line', { type: 'stats', args: [] }), 'STAT ... END'],
    ['stats detail dump\r\n', req('line', { type: 'stats', args: ['detail', 'dump'] }), 'END'],
    [
      'stats nope noreply\r\n',
      req('line', { type: 'stats', args: ['nope', 'noreply'] }),
      'ERROR (server decides)',
    ],
    ['stats\x00 detail\r\n', req('line', { type: 'stats', args: [] }), 'STAT ... END'],
    [
      'shutdown\r\n',
      req('line', { type: 'shutdown', graceful: false }),
      'ERROR: shutdown not enabled / with -A: exits',
    ],
    [
      'shutdown graceful\r\n',
      req('line', { type: 'shutdown', graceful: true }),
      'same / with -A: graceful exit',
    ],
    // Divergence: without -A memcached says `ERROR: shutdown not enabled` here; see text-commands.ts.
    ['shutdown foo\r\n', err('CLIENT_ERROR invalid shutdown mode', 'line'), 'with -A: same'],
    ['shutdown graceful x\r\n', err('CLIENT_ERROR invalid shutdown mode', 'line'), 'with -A: same'],
    ['lru_crawler metadump all\r\n', err('ERROR', 'line'), 'unsupported here (memcached streams keys)'],
  ],
};

describe('parseTextRequest cases checked against memcached 1.6.18', () => {
  for (const [group, list] of Object.entries(cases)) {
    describe(group, () => {
      it.each(list)('%j', (input, expected) => {
        expect(parseEveryWay(bytes(input))).toEqual(resolve(input, expected));
      });
    });
  }
});
