// The Bloom filter of keys L2 may hold (bloom-filter.ts): a key added is
// always reported (a false negative would turn an L2 hit into a miss), and
// keys never added are reported rarely enough that a miss seldom reads L2.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BloomFilter } from '../../../src/core/bloom-filter.js';

const key = (name: string): Buffer => Buffer.from(name, 'latin1');

describe('BloomFilter', () => {
  it('reports every key added (property: no false negatives)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.uint8Array({ minLength: 1, maxLength: 250 }), { maxLength: 200 }),
        (keys) => {
          const bloom = new BloomFilter(1_000);
          for (const k of keys) bloom.add(k);
          return keys.every((k) => bloom.mayContain(k));
        },
      ),
    );
  });

  it('reports an empty filter as holding nothing', () => {
    const bloom = new BloomFilter(1_000);
    for (let i = 0; i < 1_000; i++) expect(bloom.mayContain(key(`key:${i}`))).toBe(false);
  });

  it('keeps false positives near 2.5% when filled to its expected count', () => {
    // 2^20 bits hold 131,072 keys at 8 bits each: fill it exactly that far.
    const expected = 131_072;
    const bloom = new BloomFilter(expected);
    for (let i = 0; i < expected; i++) bloom.add(key(`key:${String(i).padStart(10, '0')}`));
    let positives = 0;
    const probes = 100_000;
    for (let i = 0; i < probes; i++) if (bloom.mayContain(key(`other:${i}`))) positives++;
    const rate = positives / probes;
    // 8 bits and 4 probes per key: (1 - e^(-4/8))^4 = 2.4%.
    expect(rate).toBeGreaterThan(0.015);
    expect(rate).toBeLessThan(0.035);
  });

  it('counts what it was given, repeats included', () => {
    const bloom = new BloomFilter(10);
    bloom.add(key('a'));
    bloom.add(key('a'));
    expect(bloom.added).toBe(2);
  });
});
