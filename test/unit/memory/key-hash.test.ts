import { describe, expect, it } from 'vitest';
import { keyHash } from '../../../src/tiers/memory/key-hash.js';
import { MemoryTier } from '../../../src/tiers/memory/memory-tier.js';
import { classForBytes, slabChunkSizes } from '../../../src/tiers/memory/slab-classes.js';

describe('keyHash', () => {
  it('is MurmurHash3 x86_32 with seed 0x9747b28c (vectors from the C reference)', () => {
    const vectors: Array<[string | Buffer, number]> = [
      ['', 0xebb6c228],
      ['a', 0x7fa09ea6],
      ['ab', 0x74875592],
      ['abc', 0xc84a62dd],
      ['abcd', 0xf0478627],
      ['key:0000000001', 0x22afa4c6],
      ['Hello, world!', 0x24884cba],
      ['The quick brown fox jumps over the lazy dog', 0x2fa826cd],
      [Buffer.from([0xff, 0x00, 0x80, 0x0d, 0x0a]), 0x06538bb9],
    ];
    for (const [input, expected] of vectors) expect(keyHash(Buffer.from(input)) >>> 0).toBe(expected);
  });
});

describe('hash collisions in the tier', () => {
  // Two keys of equal length with the same 32-bit hash (found by brute force):
  // only the byte compare can tell them apart.
  const a = Buffer.from('key:0000161314');
  const b = Buffer.from('key:0000329243');

  it('the pair really collides', () => {
    expect(keyHash(a) >>> 0).toBe(0x0888a920);
    expect(keyHash(b)).toBe(keyHash(a));
  });

  it('keeps colliding keys apart', () => {
    const tier = new MemoryTier({ maxBytes: 8 * 1024 * 1024, maxItemSize: 1024 * 1024, eviction: 'lru' });
    expect(tier.find(b)).toBe(-1);
    const slotA = tier.put(a, Buffer.from('A'), 0, 0, 1, 1);
    expect(tier.find(b)).toBe(-1);
    const slotB = tier.put(b, Buffer.from('B'), 0, 0, 2, 1);
    expect(slotB).not.toBe(slotA);
    expect(tier.find(a)).toBe(slotA);
    expect(tier.find(b)).toBe(slotB);
    tier.remove(slotB);
    expect(tier.find(a)).toBe(slotA);
    expect(tier.find(b)).toBe(-1);
    tier.put(b, Buffer.from('B2'), 0, 0, 3, 1);
    tier.remove(slotA);
    expect(tier.find(a)).toBe(-1);
    expect(tier.valueView(tier.find(b)).toString()).toBe('B2');
  });
});

describe('slab classes', () => {
  it('grow by the factor from 64 bytes, 8-byte aligned, up to a whole page', () => {
    const sizes = [...slabChunkSizes(1024 * 1024, 1.25)];
    expect(sizes.slice(0, 6)).toEqual([64, 80, 104, 136, 176, 224]);
    expect(sizes.at(-1)).toBe(1024 * 1024);
    for (const size of sizes) expect(size % 8).toBe(0);
    for (let i = 1; i < sizes.length; i++) expect(sizes[i]!).toBeGreaterThan(sizes[i - 1]!);
  });

  it('cap the number of classes like memcached, keeping the page-sized class', () => {
    const sizes = slabChunkSizes(64 * 1024 * 1024, 1.01);
    expect(sizes.length).toBe(64);
    expect(sizes.at(-1)).toBe(64 * 1024 * 1024);
  });

  it('map a footprint to the smallest class that holds it', () => {
    const sizes = slabChunkSizes(1024 * 1024, 1.25);
    expect(classForBytes(sizes, 1)).toBe(0);
    expect(classForBytes(sizes, 64)).toBe(0);
    expect(classForBytes(sizes, 65)).toBe(1);
    expect(classForBytes(sizes, 104)).toBe(2);
    expect(classForBytes(sizes, 1024 * 1024)).toBe(sizes.length - 1);
    expect(classForBytes(sizes, 1024 * 1024 + 1)).toBe(-1);
  });
});
