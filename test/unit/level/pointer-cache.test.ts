import { describe, expect, it } from 'vitest';
import { PointerCache } from '../../../src/tiers/level/pointer-cache.js';
import { keyHash } from '../../../src/tiers/memory/key-hash.js';

const k = (s: string): Buffer => Buffer.from(s);

describe('PointerCache', () => {
  it('finds what was set, by the key hash, and forgets it', () => {
    const cache = new PointerCache(1024);
    cache.set(k('a'), { segment: 3, offset: 100, recordLength: 40 });
    const slot = cache.find(keyHash(k('a')));
    expect(slot).toBeGreaterThanOrEqual(0);
    expect([cache.segment(slot), cache.offset(slot), cache.recordLength(slot)]).toEqual([3, 100, 40]);
    expect(cache.find(keyHash(k('b')))).toBe(-1);
    cache.forget(k('a'));
    expect(cache.find(keyHash(k('a')))).toBe(-1);
  });

  it('with one slot, the last key set owns it, and forgetting another key leaves it', () => {
    const cache = new PointerCache(16);
    cache.set(k('a'), { segment: 1, offset: 1, recordLength: 1 });
    cache.set(k('b'), { segment: 2, offset: 2, recordLength: 2 });
    expect(cache.find(keyHash(k('a')))).toBe(-1);
    cache.forget(k('a'));
    const slot = cache.find(keyHash(k('b')));
    expect(cache.segment(slot)).toBe(2);
    cache.clear();
    expect(cache.find(keyHash(k('b')))).toBe(-1);
  });
});
