// Framing: pipelines, binary values, large values, lines that never end,
// multigets past memcached's 24-token window, and the data-block swallow.
// Behaviour notes quote memcached 1.6.18 replays ("mc:").

import { describe, expect, it } from 'vitest';
import { retrievalKeys } from '../../../src/protocol/text/retrieval-keys.js';
import { parseTextRequest } from '../../../src/protocol/text/text-parser.js';
import type { TextParseResult, TextRequest } from '../../../src/protocol/text/text-request.js';
import { bytes, LIMITS, parseAll, parseEveryWay, plain } from './parse-helpers.js';

function requestOf(result: TextParseResult | undefined): TextRequest {
  if (result?.kind !== 'request') throw new Error(`expected a request, got ${JSON.stringify(plain(result))}`);
  return result.request;
}

describe('pipelined requests', () => {
  it('advances consumed through a mixed pipeline, errors included', () => {
    const input = bytes(
      'set a 0 0 1\r\n1\r\nget a b\r\nbogus\r\nset k 0 0 abc\r\nbar\r\nincr n 5 noreply\r\nset k 0 0 3\r\nbarx\r\nversion\n',
    );
    const results = parseAll(input).map(plain);
    expect(results).toEqual([
      {
        kind: 'request',
        consumed: 16,
        swallow: 0,
        request: {
          type: 'storage',
          command: 'set',
          key: 'a',
          flags: 0,
          exptime: 0,
          value: '1',
          casUnique: 0n,
          noreply: false,
        },
      },
      {
        kind: 'request',
        consumed: 9,
        swallow: 0,
        request: { type: 'retrieval', command: 'get', keys: ['a', 'b'], exptime: 0 },
      },
      { kind: 'error', reply: 'ERROR', consumed: 7, close: false },
      // mc: CLIENT_ERROR bad command line format, then ERROR for the unswallowed data line.
      { kind: 'error', reply: 'CLIENT_ERROR bad command line format', consumed: 15, close: false },
      { kind: 'error', reply: 'ERROR', consumed: 5, close: false },
      {
        kind: 'request',
        consumed: 18,
        swallow: 0,
        request: { type: 'arithmetic', command: 'incr', key: 'n', delta: 5n, noreply: true },
      },
      // mc: CLIENT_ERROR bad data chunk, then ERROR for the lone "\n".
      { kind: 'error', reply: 'CLIENT_ERROR bad data chunk', consumed: 18, close: false },
      { kind: 'error', reply: 'ERROR', consumed: 1, close: false },
      { kind: 'request', consumed: 8, swallow: 0, request: { type: 'version' } },
    ]);
    expect(
      results.reduce<number>((sum, r) => sum + Number((r as { consumed?: number }).consumed ?? 0), 0),
    ).toBe(input.length);
  });

  it('swallows a too-large data block by count, whatever it contains (mc: SERVER_ERROR, then ERROR for "000version")', () => {
    const limits = { ...LIMITS, maxItemSize: 1024 };
    const data = `${'a'.repeat(990)}\r\nversion\r\n0`; // 1002 bytes: the block is 1000 + 2
    const input = bytes(`set k 0 0 1000\r\n${data}00version\r\n`);
    const results = parseAll(input, limits).map(plain);
    expect(results).toEqual([
      {
        kind: 'request',
        consumed: 16,
        swallow: 1002,
        request: { type: 'too_large', command: 'set', key: 'k', noreply: false },
      },
      { kind: 'error', reply: 'ERROR', consumed: 11, close: false },
    ]);
  });
});

describe('values', () => {
  it('keeps binary values with embedded \\r\\n, NUL and high bytes intact', () => {
    const value = Buffer.from([0x0d, 0x0a, 0x00, 0xff, 0x20, 0x0a, 0x0d, 0x0d, 0x0a, 0x80]);
    const input = Buffer.concat([bytes(`set bin 7 0 ${value.length}\r\n`), value, bytes('\r\n')]);
    const result = parseEveryWay(input) as { request: { value: string } };
    expect(Buffer.from(result.request.value, 'latin1')).toEqual(value);
  });

  it('leaves the key and the value in the input, not copies', () => {
    const input = bytes('set k 0 0 3\r\nabc\r\n');
    const request = requestOf(parseTextRequest(input, 0, input.length, LIMITS));
    if (request.type !== 'storage') throw new Error('expected storage');
    expect(request.buf).toBe(input);
    expect([request.keyStart, request.keyEnd, request.valueStart, request.valueEnd]).toEqual([4, 5, 13, 16]);
  });

  it('parses the largest value memcached -I 1m accepts, and waits for all of it', () => {
    const length = 1048516; // mc: STORED for key "k", flags 0; 1048517 is too large
    const input = Buffer.alloc(`set k 0 0 ${length}\r\n`.length + length + 2, 0x76);
    bytes(`set k 0 0 ${length}\r\n`).copy(input);
    input.write('\r\n', input.length - 2, 'latin1');
    expect(parseTextRequest(input, 0, input.length - 1, LIMITS)).toEqual({ kind: 'incomplete' });
    const request = requestOf(parseTextRequest(input, 0, input.length, LIMITS));
    expect(request.type === 'storage' && request.valueEnd - request.valueStart).toBe(length);
  });
});

describe('lines without a newline', () => {
  const close = { kind: 'error', reply: '', consumed: 0, close: true };

  it('waits up to 2048 bytes, then closes (mc: 2048 bytes open, 2049 closed)', () => {
    expect(parseTextRequest(bytes('x'.repeat(2048)), 0, 2048, LIMITS)).toEqual({ kind: 'incomplete' });
    expect(parseTextRequest(bytes('x'.repeat(2049)), 0, 2049, LIMITS)).toEqual(close);
  });

  it('keeps waiting for get/gets lines, after up to 100 leading spaces (mc: 101 closes)', () => {
    const keys = 'a '.repeat(1500);
    for (const prefix of ['get ', 'gets ', `${' '.repeat(100)}get `]) {
      const input = bytes(prefix + keys);
      expect(parseTextRequest(input, 0, input.length, LIMITS), prefix).toEqual({ kind: 'incomplete' });
    }
    for (const prefix of ['gat 0 ', 'get\t', `${' '.repeat(101)}get `]) {
      const input = bytes(prefix + keys);
      expect(parseTextRequest(input, 0, input.length, LIMITS), prefix).toEqual(close);
    }
  });

  it('stops waiting for a get line at maxGetLineLength (memcached has no bound)', () => {
    const limits = { ...LIMITS, maxGetLineLength: 4096 };
    const input = bytes(`get ${'a '.repeat(3000)}`);
    expect(parseTextRequest(input, 0, 4096, limits)).toEqual({ kind: 'incomplete' });
    expect(parseTextRequest(input, 0, 4097, limits)).toEqual(close);
  });

  it('parses a long line that arrived whole (mc: 10000 x + \\r\\n in one write -> ERROR)', () => {
    expect(plain(parseTextRequest(bytes(`${'x'.repeat(10000)}\r\n`), 0, 10002, LIMITS))).toEqual({
      kind: 'error',
      reply: 'ERROR',
      consumed: 10002,
      close: false,
    });
  });

  it("closes on a line that cannot fit memcached's 16 KiB read buffer (mc: 16383 x + \\n -> ERROR, 16384 -> closed)", () => {
    expect(parseAll(bytes(`${'x'.repeat(16383)}\n`)).map(plain)).toEqual([
      { kind: 'error', reply: 'ERROR', consumed: 16384, close: false },
    ]);
    expect(parseAll(bytes(`${'x'.repeat(16384)}\n`)).map(plain)).toEqual([close]);
    // A rejected storage line leaves its 1 MB data block to be read as a line: closed, as in memcached.
    expect(parseAll(bytes(`set k 0 0 abc\r\n${'v'.repeat(1048516)}\r\n`)).map(plain)).toEqual([
      { kind: 'error', reply: 'CLIENT_ERROR bad command line format', consumed: 15, close: false },
      close,
    ]);
    // Multigets are exempt (mc: a 20000-byte get line -> END).
    const get = `get ${'a '.repeat(10000)}\n`;
    expect(parseAll(bytes(get)).map((r) => r.kind)).toEqual(['request']);
  });
});

describe('multigets past the 23-token window', () => {
  it('returns all keys of a 150-key get (mc: 150 VALUEs)', () => {
    const keys = Array.from({ length: 150 }, (_, i) => `key:${i}`);
    const result = parseEveryWay(bytes(`get ${keys.join(' ')}\r\n`)) as { request: { keys: string[] } };
    expect(result.request.keys).toEqual(keys);
  });

  it('handles every key count around the window, with runs of spaces and trailing spaces', () => {
    for (let n = 19; n <= 50; n++) {
      const keys = Array.from({ length: n }, (_, i) => `k${i}`);
      for (const line of [`gets ${keys.join(' ')}`, `gets  ${keys.join('   ')}   `]) {
        const request = requestOf(parseTextRequest(bytes(`${line}\r\n`), 0, line.length + 2, LIMITS));
        expect(plain(request), line).toEqual({ type: 'retrieval', command: 'gets', keys, exptime: 0 });
      }
    }
  });

  it('rejects a too-long key after the first window (mc: only CLIENT_ERROR)', () => {
    const line = `get ${'a '.repeat(30)}${'k'.repeat(251)} b\r\n`;
    expect(plain(parseTextRequest(bytes(line), 0, line.length, LIMITS))).toEqual({
      kind: 'error',
      reply: 'CLIENT_ERROR bad command line format',
      consumed: line.length,
      close: false,
    });
  });

  it('stops at a NUL after the first window', () => {
    const line = `gat 5 ${'a '.repeat(30)}b\x00c d\r\n`;
    const request = requestOf(parseTextRequest(bytes(line), 0, line.length, LIMITS));
    expect(request.type === 'retrieval' && retrievalKeys(request).map(String)).toEqual([
      ...Array(30).fill('a'),
      'b',
    ]);
  });

  it('sees only 23 tokens for other commands (mc: 24+ tokens -> ERROR; HTTP probe reads token 23)', () => {
    const delete24 = `delete ${'k '.repeat(23)}\r\n`;
    expect(parseAll(bytes(delete24)).map(plain)).toEqual([
      { kind: 'error', reply: 'ERROR', consumed: delete24.length, close: false },
    ]);
    const probe23 = `foo ${'x '.repeat(21)}HTTP/1.1 more\r\n`;
    expect(parseAll(bytes(probe23)).map(plain)).toEqual([
      { kind: 'error', reply: '', consumed: probe23.length, close: true },
    ]);
    const probe24 = `foo ${'x '.repeat(22)}HTTP/1.1\r\n`;
    expect(parseAll(bytes(probe24)).map(plain)).toEqual([
      { kind: 'error', reply: 'ERROR', consumed: probe24.length, close: false },
    ]);
  });
});

describe('buffer bounds', () => {
  it('returns incomplete for an empty range', () => {
    expect(parseTextRequest(bytes('version\r\n'), 9, 9, LIMITS)).toEqual({ kind: 'incomplete' });
  });

  it('does not read a newline past end', () => {
    const buf = bytes('version\r\nget a\r\n');
    expect(parseTextRequest(buf, 9, 14, LIMITS)).toEqual({ kind: 'incomplete' });
  });
});
