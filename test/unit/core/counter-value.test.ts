import { describe, expect, it } from 'vitest';
import { applyDelta, readCounter } from '../../../src/core/counter-value.js';

const read = (text: string) => readCounter(Buffer.from(text, 'latin1'));

describe('readCounter (memcached safe_strtoull on the stored value)', () => {
  it('reads plain and space-padded numbers', () => {
    expect(read('10')).toBe(10n);
    expect(read('7 ')).toBe(7n);
    expect(read(' 42')).toBe(42n);
    expect(read('18446744073709551615')).toBe(18446744073709551615n);
  });

  it('refuses what memcached calls non-numeric', () => {
    expect(read('abc')).toBeUndefined();
    expect(read('12abc')).toBeUndefined();
    expect(read('18446744073709551616')).toBeUndefined();
    expect(read('-5')).toBeUndefined();
    expect(read('+')).toBeUndefined();
    expect(read('')).toBeUndefined();
  });

  it('keeps strtoull quirks: "-0" is 0, "+5" is 5, white space alone is not a number', () => {
    expect(read('-0')).toBe(0n);
    expect(read('+5')).toBe(5n);
    expect(read(' ')).toBeUndefined();
    expect(read('\t')).toBeUndefined();
    expect(read('\u0000')).toBeUndefined();
  });

  it('wraps incr at 2^64 and floors decr at 0', () => {
    expect(applyDelta(18446744073709551615n, 1n, true)).toBe(0n);
    expect(applyDelta(3n, 5n, false)).toBe(0n);
    expect(applyDelta(10n, 3n, false)).toBe(7n);
  });
});
