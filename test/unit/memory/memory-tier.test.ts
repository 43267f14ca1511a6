import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import {
  ITEM_HEADER_BYTES,
  MemoryTier,
  type MemoryTierOptions,
  NO_MEMORY,
  TOO_LARGE,
} from '../../../src/tiers/memory/memory-tier.js';

const KIB = 1024;
const MIB = 1024 * KIB;
const NOW = 1_700_000_000;

function tier(options: Partial<MemoryTierOptions> = {}): MemoryTier {
  return new MemoryTier({ maxBytes: 16 * MIB, maxItemSize: MIB, eviction: 'lru', ...options });
}

function key(i: number): Buffer {
  return Buffer.from(`key:${String(i).padStart(10, '0')}`);
}

function storedValue(t: MemoryTier, slot: number): Buffer {
  return Buffer.from(t.valueView(slot));
}

describe('MemoryTier round trips', () => {
  it('stores binary values byte for byte with their metadata', () => {
    const t = tier();
    const value = Buffer.from([0, 13, 10, 0, 255, 13, 10, 13, 10, 0, 1]);
    const slot = t.put(Buffer.from('bin'), value, 0xffffffff, 1_700_000_123, 2 ** 53 - 1, NOW);
    expect(slot).toBeGreaterThanOrEqual(0);
    expect(t.find(Buffer.from('bin'))).toBe(slot);
    expect(storedValue(t, slot)).toEqual(value);
    expect(t.valueLength(slot)).toBe(value.length);
    expect(t.keyLength(slot)).toBe(3);
    expect(t.flags(slot)).toBe(0xffffffff);
    expect(t.exptime(slot)).toBe(1_700_000_123);
    expect(t.cas(slot)).toBe(2 ** 53 - 1);
    expect(t.lastAccess(slot)).toBe(NOW);
    const target = Buffer.alloc(20, 0xee);
    expect(t.copyValue(slot, target, 5)).toBe(value.length);
    expect(target.subarray(5, 5 + value.length)).toEqual(value);
    expect(target[4]).toBe(0xee);
    expect(t.copyKey(slot, target, 0)).toBe(3);
    expect(target.subarray(0, 3).toString()).toBe('bin');
    expect(t.itemCount).toBe(1);
    expect(t.itemBytes).toBe(ITEM_HEADER_BYTES + 3 + value.length);
  });

  it('stores a key and a value read in place from larger buffers, on both sides of the copy-loop limit', () => {
    const t = tier();
    // A pooled Buffer (byteOffset > 0) and a view into the middle of another: the offsets of
    // putAt and copyValue are relative to the Buffer, not to its ArrayBuffer.
    const input = Buffer.alloc(64).subarray(17);
    input.write('junk set k:1 0 0 tail', 'latin1');
    for (const length of [0, 1, 63, 64, 65, 4096, 100_000]) {
      const value = Buffer.alloc(length);
      for (let i = 0; i < length; i++) value[i] = (i * 31 + length) & 0xff;
      const framed = Buffer.concat([Buffer.from('abc'), value, Buffer.from('\r\n')]).subarray(1);
      const slot = t.putAt(input, 9, 12, framed, 2, 2 + length, 7, 0, length + 1, NOW);
      expect(slot, `${length} bytes`).toBeGreaterThanOrEqual(0);
      expect(t.find(Buffer.from('k:1'))).toBe(slot);
      expect(storedValue(t, slot).equals(value), `${length} bytes`).toBe(true);
      const target = Buffer.alloc(length + 20, 0xee).subarray(3);
      expect(t.copyValue(slot, target, 5)).toBe(length);
      expect(target.subarray(5, 5 + length).equals(value), `${length} bytes copied out`).toBe(true);
      expect([target[4], target[5 + length]]).toEqual([0xee, 0xee]);
    }
  });

  it('stores empty values', () => {
    const t = tier();
    const slot = t.put(Buffer.from('e'), Buffer.alloc(0), 0, 0, 1, NOW);
    expect(t.find(Buffer.from('e'))).toBe(slot);
    expect(t.valueLength(slot)).toBe(0);
    expect(storedValue(t, slot).length).toBe(0);
  });

  it('takes keys of 1 to 250 bytes, binary ones too, and refuses 251', () => {
    const t = tier();
    const keys = [
      Buffer.from('k'),
      Buffer.alloc(250, 0x41),
      Buffer.from([0, 13, 10, 255]),
      Buffer.alloc(249, 0x41),
    ];
    const slots = keys.map((k, i) => t.put(k, Buffer.from(`v${i}`), 0, 0, i, NOW));
    keys.forEach((k, i) => {
      expect(t.find(k)).toBe(slots[i]);
      expect(storedValue(t, slots[i]!).toString()).toBe(`v${i}`);
    });
    expect(t.put(Buffer.alloc(251, 0x41), Buffer.from('x'), 0, 0, 9, NOW)).toBe(TOO_LARGE);
    expect(t.find(Buffer.alloc(251, 0x41))).toBe(-1);
    expect(t.find(Buffer.from('kk'))).toBe(-1);
    expect(t.find(Buffer.alloc(248, 0x41))).toBe(-1);
  });

  it('stores an item of exactly the largest size and refuses one byte more', () => {
    const t = tier({ pageSize: 64 * KIB, maxItemSize: 64 * KIB });
    const k = Buffer.from('big');
    const largest = 64 * KIB - ITEM_HEADER_BYTES - k.length;
    const value = Buffer.alloc(largest, 0x5a);
    value[largest - 1] = 0x01;
    const slot = t.put(k, value, 0, 0, 1, NOW);
    expect(slot).toBeGreaterThanOrEqual(0);
    expect(storedValue(t, slot)).toEqual(value);
    expect(t.classStats().at(-1)).toMatchObject({ chunkSize: 64 * KIB, pages: 1, usedChunks: 1 });
    expect(t.put(Buffer.from('big2'), Buffer.alloc(largest), 0, 0, 2, NOW)).toBe(TOO_LARGE);
  });

  it('draws the 1 MiB item limit where memcached does', () => {
    const t = tier({ maxBytes: 8 * MIB });
    expect(t.pageSize).toBe(MIB);
    expect(t.put(key(1), Buffer.alloc(1_048_000), 0, 0, 1, NOW)).toBeGreaterThanOrEqual(0);
    expect(t.put(key(2), Buffer.alloc(1_048_576), 0, 0, 2, NOW)).toBe(TOO_LARGE);
  });

  it('replaces a value of the same class in place and of another class elsewhere', () => {
    const t = tier();
    const k = Buffer.from('replace-me');
    const first = t.put(k, Buffer.from('aaaa'), 1, 0, 1, NOW);
    const second = t.put(k, Buffer.from('bbbbbb'), 2, 0, 2, NOW + 1);
    expect(second).toBe(first);
    expect(storedValue(t, second).toString()).toBe('bbbbbb');
    expect(t.flags(second)).toBe(2);
    expect(t.lastAccess(second)).toBe(NOW + 1);
    const third = t.put(k, Buffer.alloc(5000, 0x63), 3, 0, 3, NOW);
    expect(t.find(k)).toBe(third);
    expect(storedValue(t, third)).toEqual(Buffer.alloc(5000, 0x63));
    expect(t.itemCount).toBe(1);
    expect(t.itemBytes).toBe(ITEM_HEADER_BYTES + k.length + 5000);
    expect(t.classStats().reduce((sum, c) => sum + c.usedChunks, 0)).toBe(1);
  });

  it('removes items and reuses their slots and chunks', () => {
    const t = tier();
    const slot = t.put(key(1), Buffer.from('one'), 0, 0, 1, NOW);
    t.remove(slot);
    expect(t.find(key(1))).toBe(-1);
    expect(t.itemCount).toBe(0);
    expect(t.itemBytes).toBe(0);
    expect(t.put(key(2), Buffer.from('two'), 0, 0, 2, NOW)).toBe(slot);
    expect(t.find(key(2))).toBe(slot);
  });

  it('keeps thousands of keys apart through hash-index growth', () => {
    const t = tier({ maxBytes: 64 * MIB });
    const n = 20_000;
    for (let i = 0; i < n; i++) t.put(key(i), Buffer.from(`value-${i}`), i, 0, i, NOW);
    expect(t.itemCount).toBe(n);
    for (let i = 0; i < n; i += 1) {
      const slot = t.find(key(i));
      expect(slot).toBeGreaterThanOrEqual(0);
      expect(t.flags(slot)).toBe(i);
    }
    for (let i = 0; i < n; i += 2) t.remove(t.find(key(i)));
    for (let i = 0; i < n; i++) expect(t.find(key(i)) >= 0).toBe(i % 2 === 1);
    expect(t.find(key(n))).toBe(-1);
  });

  it('updates metadata and rewrites a value in place', () => {
    const t = tier();
    const slot = t.put(Buffer.from('n'), Buffer.from('10'), 0, 0, 5, NOW);
    t.setExptime(slot, NOW + 60);
    t.setCas(slot, 6);
    t.access(slot, NOW + 7);
    t.overwriteValue(slot, Buffer.from('7 '));
    expect([t.exptime(slot), t.cas(slot), t.lastAccess(slot)]).toEqual([NOW + 60, 6, NOW + 7]);
    expect(storedValue(t, slot).toString()).toBe('7 ');
    expect(() => t.overwriteValue(slot, Buffer.from('100'))).toThrow(RangeError);
  });

  it('visits every live slot, and allows removing the visited slot', () => {
    const t = tier();
    const slots = new Set([1, 2, 3, 4, 5].map((i) => t.put(key(i), Buffer.from('v'), 0, 0, i, NOW)));
    t.remove(t.find(key(3)));
    const seen: number[] = [];
    t.forEachSlot((slot) => {
      seen.push(slot);
      t.remove(slot);
    });
    expect(seen.length).toBe(4);
    for (const slot of seen) expect(slots.has(slot)).toBe(true);
    expect(t.itemCount).toBe(0);
  });

  it('clear drops everything and the tier stays usable', () => {
    const t = tier();
    for (let i = 0; i < 100; i++) t.put(key(i), Buffer.alloc(i * 50), 0, 0, i, NOW);
    const before = t.allocatedBytes;
    t.clear();
    expect(t.itemCount).toBe(0);
    expect(t.itemBytes).toBe(0);
    expect(t.allocatedBytes).toBeLessThan(before);
    expect(t.find(key(5))).toBe(-1);
    expect(t.classStats().every((c) => c.pages === 0 && c.usedChunks === 0)).toBe(true);
    const slot = t.put(key(5), Buffer.from('back'), 0, 0, 1, NOW);
    expect(storedValue(t, slot).toString()).toBe('back');
  });

  it('reports memcached-style slab classes', () => {
    const t = tier();
    // Footprints 4 + key + value: 15 and 64 fit 64-byte chunks, 65 needs the 80-byte class.
    t.put(Buffer.from('a'), Buffer.alloc(10), 0, 0, 1, NOW);
    t.put(Buffer.from('b'), Buffer.alloc(59), 0, 0, 2, NOW + 5);
    t.put(Buffer.from('c'), Buffer.alloc(60), 0, 0, 3, NOW + 9);
    const stats = t.classStats();
    expect(stats.map((c) => [c.id, c.chunkSize, c.pages, c.usedChunks])).toEqual([
      [1, 64, 1, 2],
      [2, 80, 1, 1],
    ]);
    expect(stats[0]!.freeChunks).toBe(MIB / 64 - 2);
    expect(stats[0]!.oldestAccess).toBe(NOW);
    expect(stats[1]!.oldestAccess).toBe(NOW + 9);
    expect(stats.slice(2).length).toBe(0);
  });

  it('refuses impossible options with config errors', () => {
    expect(() => tier({ growthFactor: 1 })).toThrow(ConfigError);
    expect(() => tier({ maxBytes: 100 })).toThrow(ConfigError);
    expect(() => tier({ pageSize: 1000 + 4 })).toThrow(ConfigError);
    expect(() => tier().setMaxBytes(10)).toThrow(ConfigError);
  });

  it('answers NO_MEMORY when the budget cannot hold a single page', () => {
    const probe = tier();
    const t = tier({ maxBytes: probe.allocatedBytes + 1000 });
    expect(t.put(key(1), Buffer.from('v'), 0, 0, 1, NOW)).toBe(NO_MEMORY);
    expect(t.allocatedBytes).toBeLessThanOrEqual(t.maxBytes);
    expect(t.itemCount).toBe(0);
  });
});
