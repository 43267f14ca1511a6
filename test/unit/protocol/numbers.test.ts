// memcached's safe_strto* readers, edge by edge. Accept/reject and the wrapped
// values were observed through memcached 1.6.18 (flags via `set` + `get`,
// lengths via `set`, exptimes via `touch`/`gat`, u64 via `incr` and `cas`).

import { describe, expect, it } from 'vitest';
import { parseI32, parseU32, parseU64 } from '../../../src/protocol/text/numbers.js';

const on = (text: string): [Buffer, number, number] => {
  // Embed the token so the readers must respect their bounds.
  const buf = Buffer.from(`xx${text}yy`, 'latin1');
  return [buf, 2, 2 + text.length];
};

describe('parseU32 (safe_strtoul into uint32_t)', () => {
  it.each<[string, number | undefined]>([
    ['0', 0],
    ['123456789', 123456789],
    ['4294967295', 4294967295],
    ['4294967296', 0],
    ['4294967297', 1],
    ['18446744073709551615', 4294967295],
    ['18446744073709551616', undefined],
    ['-0', 0],
    ['-1', undefined],
    ['-9223372036854775808', undefined],
    ['-9223372036854775809', 4294967295],
    ['+5', 5],
    ['007', 7],
    ['\t5', 5],
    ['\x0b1', 1],
    ['5\t', 5],
    ['5\tjunk', 5],
    ['5\r', 5],
    ['0x10', undefined],
    ['abc', undefined],
    ['', undefined],
    ['+', undefined],
    ['+-5', undefined],
    ['\t', undefined],
    ['1.5', undefined],
  ])('%j -> %s', (text, expected) => {
    expect(parseU32(...on(text))).toBe(expected);
  });
});

describe('parseI32 (safe_strtol into int32_t)', () => {
  it.each<[string, number | undefined]>([
    ['0', 0],
    ['-1', -1],
    ['2147483647', 2147483647],
    ['2147483648', -2147483648],
    ['4294967297', 1],
    ['-2147483649', 2147483647],
    ['9223372036854775807', -1],
    ['9223372036854775808', undefined],
    ['-9223372036854775808', 0],
    ['-9223372036854775809', undefined],
    ['+1', 1],
    ['\t1', 1],
    ['1\t', 1],
    ['01', 1],
    ['0x1', undefined],
    ['abc', undefined],
    ['-', undefined],
  ])('%j -> %s', (text, expected) => {
    expect(parseI32(...on(text))).toBe(expected);
  });
});

describe('parseU64 (safe_strtoull)', () => {
  it.each<[string, bigint | undefined]>([
    ['0', 0n],
    ['1', 1n],
    ['999999999999999', 999999999999999n],
    ['18446744073709551615', 18446744073709551615n],
    ['18446744073709551616', undefined],
    ['-0', 0n],
    ['-1', undefined],
    ['-9223372036854775809', 9223372036854775807n],
    ['\t5', 5n],
    ['abc', undefined],
    ['1a', undefined],
  ])('%j -> %s', (text, expected) => {
    expect(parseU64(...on(text))).toBe(expected);
  });
});
