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

/** `count` keys whose hashes fall in the same set of a cache with `sets` sets. */
function keysInOneSet(count: number, sets: number): Buffer[] {
  const found: Buffer[] = [];
  const want = keyHash(k('seed')) & (sets - 1);
  for (let i = 0; found.length < count; i++) {
    const key = k(`key:${i}`);
    if ((keyHash(key) & (sets - 1)) === want) found.push(key);
  }
  return found;
}

describe('PointerCache sets of four', () => {
  const pointerOf = (cache: PointerCache, key: Buffer): number[] | undefined => {
    const slot = cache.find(keyHash(key));
    return slot < 0 ? undefined : [cache.segment(slot), cache.offset(slot), cache.recordLength(slot)];
  };

  it('keeps four keys of one set, and a fifth replaces exactly one of them', () => {
    const cache = new PointerCache(8 * 16); // 8 slots: 2 sets of 4
    const keys = keysInOneSet(5, 2);
    const four = keys.slice(0, 4);
    for (const [i, key] of four.entries()) cache.set(key, { segment: i, offset: i, recordLength: i });
    for (const [i, key] of four.entries()) expect(pointerOf(cache, key)).toEqual([i, i, i]);
    cache.set(keys[4]!, { segment: 9, offset: 9, recordLength: 9 });
    expect(pointerOf(cache, keys[4]!)).toEqual([9, 9, 9]);
    const kept = four.filter((key) => pointerOf(cache, key) !== undefined);
    expect(kept).toHaveLength(3);
  });

  it("updates a key's own slot even when an earlier way of its set is free, so no stale pointer stays", () => {
    const cache = new PointerCache(8 * 16);
    const [a, b] = keysInOneSet(2, 2) as [Buffer, Buffer];
    cache.set(a, { segment: 1, offset: 1, recordLength: 1 });
    cache.set(b, { segment: 2, offset: 2, recordLength: 2 });
    cache.forget(a); // frees the way before b's
    cache.set(b, { segment: 3, offset: 3, recordLength: 3 });
    expect(pointerOf(cache, b)).toEqual([3, 3, 3]);
    cache.forget(b);
    expect(pointerOf(cache, b)).toBeUndefined();
  });

  it('holds nearly every key of a quarter-full cache (a direct-mapped one lost ~11%)', () => {
    const slots = 1 << 14;
    const cache = new PointerCache(slots * 16);
    const keys = Array.from({ length: slots / 4 }, (_, i) => k(`key:${String(i).padStart(10, '0')}`));
    for (const [i, key] of keys.entries()) cache.set(key, { segment: 0, offset: i, recordLength: 1 });
    const held = keys.filter((key, i) => pointerOf(cache, key)?.[1] === i).length;
    expect(held / keys.length).toBeGreaterThan(0.98);
  });
});
