// Scripts for what goes wrong on the wire and for the admin commands: malformed lines, bad data
// blocks, size limits, line-length limits, commands that close the connection. Same rules as
// text-scripts.ts: inputs only; memcached's live reply is the expected output.

import type { Step } from './script-runner.js';
import { ALL_MODES, type Script } from './text-scripts.js';

const step = (name: string, send: Step['send'], extra: { closes?: boolean } = {}): Step => ({
  name,
  send,
  ...extra,
});
const FLUSH = step('start from an empty cache', 'flush_all\r\n');

export const errorsScript: Script = {
  name: 'errors and malformed commands',
  modes: ALL_MODES,
  steps: [
    FLUSH,
    step('unknown command', 'bogus\r\n'),
    step('upper-case GET', 'GET foo\r\n'),
    step('mixed-case get', 'Get foo\r\ngEt foo\r\n'),
    step('upper-case SET (data line parsed as a command)', 'SET a 0 0 1\r\nx\r\n'),
    step('empty line', '\r\n'),
    step('bare LF line', '\n'),
    step('space-only line', ' \r\n'),
    step('CR-only line', '\r\r\n'),
    step('bad data chunk', 'set k 0 0 3\r\nbarx\r\n'),
    step('bad data chunk noreply', 'set k 0 0 1 noreply\r\nxx\r\n'),
    step('short data block then CR LF', 'set k 0 0 2\nab\r\nget k\n'),
    step('length abc (data line not swallowed)', 'set k 0 0 abc\r\nbar\r\n'),
    step('length 1x', 'set k 0 0 1x\r\nx\r\n'),
    step('flags abc', 'set k abc 0 3\r\nbar\r\n'),
    step('flags hex', 'set k 0x10 0 1\r\nx\r\n'),
    step('exptime abc', 'set k 0 abc 1\r\nx\r\n'),
    step('negative length alone', 'set k 0 0 -1\r\n'),
    step('negative length with a data line', 'set k 0 0 -1\r\nx\r\n'),
    step('negative length append', 'append k 0 0 -1\r\n'),
    step('missing length', 'set k 0 0\r\n'),
    step('too many tokens', 'set k 0 0 1 2 3 4\r\nx\r\n'),
    step('noreply token misplaced', 'set a 0 0 1 noreply extra\r\nx\r\n'),
    step('bad length noreply', 'set k 0 0 abc noreply\r\nx\r\n'),
    step('state intact after errors', 'get k\r\n'),
  ],
};

export const adminScript: Script = {
  name: 'admin commands',
  modes: ALL_MODES,
  steps: [
    FLUSH,
    step('version', 'version\r\n'),
    step('version with bare LF', 'version\n'),
    step('version with extra token', 'version extra\r\n'),
    step('verbosity 1', 'verbosity 1\r\n'),
    step('verbosity without level', 'verbosity\r\n'),
    step('verbosity noreply', 'verbosity 1 noreply\r\n'),
    step('verbosity abc', 'verbosity abc\r\n'),
    step('verbosity with too many tokens', 'verbosity 1 2 3\r\n'),
    step('verbosity 0', 'verbosity 0\r\n'),
    step('cache_memlimit abc', 'cache_memlimit abc\r\n'),
    step('cache_memlimit without value', 'cache_memlimit\r\n'),
    step('cache_memlimit below 8m', 'cache_memlimit 1\r\n'),
    step('cache_memlimit 64', 'cache_memlimit 64\r\n'),
    step('cache_memlimit noreply', 'cache_memlimit 64 noreply\r\n'),
    step('shutdown (disabled)', 'shutdown\r\n'),
    step('shutdown graceful (disabled)', 'shutdown graceful\r\n'),
    step('stats nope', 'stats nope\r\n'),
    step('stats reset', 'stats reset\r\n'),
    step('stats sizes', 'stats sizes\r\n'),
    step('stats detail without mode', 'stats detail\r\n'),
    step('stats detail on/dump/off', 'stats detail on\r\nstats detail dump\r\nstats detail off\r\n'),
    step('stats cachedump without args', 'stats cachedump\r\n'),
  ],
};

const BIG_KEY = 'big';
/**
 * memcached 1.6.18 with -I 1m refuses an item whose header (48 bytes) + key + 1 + value + CRLF +
 * CAS (8) exceeds 1048576 bytes, so for the 3-byte key "big" the largest value is 1048514 bytes
 * (found by bisecting a live memcached; the differential run re-checks it every time).
 */
export const LARGEST_VALUE_FOR_BIG_KEY = 1_048_514;

const setBig = (size: number, suffix = ''): string =>
  `set ${BIG_KEY} 0 0 ${size}${suffix}\r\n${'v'.repeat(size)}\r\n`;

export const itemSizeScript: Script = {
  name: 'item size limit',
  modes: ['whole', 'lines', { chunkSize: 7919 }],
  steps: [
    FLUSH,
    step('largest value that fits', `${setBig(LARGEST_VALUE_FOR_BIG_KEY)}get ${BIG_KEY}\r\n`),
    step(
      'one byte past the limit (data swallowed, old item unlinked)',
      `${setBig(LARGEST_VALUE_FOR_BIG_KEY + 1)}get ${BIG_KEY}\r\n`,
    ),
    step('exactly 1 MiB', setBig(1024 * 1024)),
    step('past the limit noreply', `${setBig(LARGEST_VALUE_FOR_BIG_KEY + 1, ' noreply')}get ${BIG_KEY}\r\n`),
    step('much larger than the limit', setBig(2 * 1024 * 1024)),
    step('the connection still works', 'set small 0 0 1\r\nx\r\nget small\r\n'),
  ],
};

/** 400 keys of 7-8 bytes: a get line well past 2048 bytes, which memcached keeps reading. */
const longGetLine = `get ${Array.from({ length: 400 }, (_, i) => `key-${i % 50}`).join(' ')}\r\n`;

export const longGetScript: Script = {
  name: 'long get line',
  modes: ['whole', 'lines', 'bytes', { chunkSize: 100 }],
  steps: [
    FLUSH,
    step('seed some of the keys', 'set key-1 0 0 1\r\n1\r\nset key-7 0 0 1\r\n7\r\n'),
    step('get line over 2048 bytes', longGetLine),
  ],
};

export const longLineScript: Script = {
  name: 'long lines (whole writes: memcached judges 2048 bytes per read)',
  modes: ['whole', 'lines'],
  steps: [
    FLUSH,
    step('3002-byte line with a newline', `${'x'.repeat(3000)}\r\n`),
    step('2048-byte line including CR LF', `${'x'.repeat(2046)}\r\n`),
    step('2049-byte line including CR LF', `${'x'.repeat(2047)}\r\n`),
  ],
};

export const closingScript: Script = {
  name: 'commands that close the connection',
  modes: ['whole', { chunkSize: 512 }],
  steps: [
    FLUSH,
    step('10000 bytes with no newline', 'x'.repeat(10_000), { closes: true }),
    step('HTTP request line', 'GET / HTTP/1.1\r\n', { closes: true }),
    step('quit', 'quit\r\n', { closes: true }),
    step('quit with a token', 'quit extra\r\n', { closes: true }),
    step('pipelined: set runs, quit closes, get is dropped', 'set q 0 0 1\r\nx\r\nquit\r\nget q\r\n', {
      closes: true,
    }),
    step('the set before quit was stored', 'get q\r\n'),
  ],
};
