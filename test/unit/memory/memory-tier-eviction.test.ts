// Making room: the budget holds after every operation, each policy picks its
// victims inside the tier, pages move between classes, and shrinking works.

import { describe, expect, it } from 'vitest';
import { EVICTION_POLICIES, type EvictionPolicy } from '../../../src/tiers/memory/evictor.js';
import { MemoryTier, type MemoryTierOptions } from '../../../src/tiers/memory/memory-tier.js';

const KIB = 1024;
const MIB = 1024 * KIB;
const NOW = 1_700_000_000;

function key(i: number): Buffer {
  return Buffer.from(`key:${String(i).padStart(10, '0')}`);
}

/** A small tier that records evicted keys (read in onEvict, while the slot is still readable). */
function recordingTier(options: Partial<MemoryTierOptions> = {}): { tier: MemoryTier; evicted: string[] } {
  const evicted: string[] = [];
  const scratch = Buffer.alloc(256);
  const tier: MemoryTier = new MemoryTier({
    maxBytes: 512 * KIB,
    maxItemSize: 32 * KIB,
    pageSize: 32 * KIB,
    eviction: 'lru',
    onEvict: (slot) => {
      evicted.push(scratch.toString('latin1', 0, tier.copyKey(slot, scratch, 0)));
    },
    ...options,
  });
  return { tier, evicted };
}

/** A deterministic generator, so a failure replays. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state / 0x1_0000_0000;
  };
}

/** How many 100-byte items fit before the first eviction. */
function capacityOf(policy: EvictionPolicy): number {
  const { tier } = recordingTier({ eviction: policy });
  let i = 0;
  while (tier.evictions === 0) tier.put(key(i++), Buffer.alloc(100), 0, 0, i, NOW);
  return i - 1;
}

describe('MemoryTier budget', () => {
  for (const policy of EVICTION_POLICIES) {
    it(`never exceeds maxBytes under random mixed puts, removes and hits (${policy})`, () => {
      const next = random(7);
      const { tier } = recordingTier({ eviction: policy });
      let now = NOW;
      for (let op = 0; op < 6000; op++) {
        const k = key(Math.floor(next() * 3000));
        const roll = next();
        if (roll < 0.7) {
          // Mostly small values, some up to the largest item.
          const size = next() < 0.9 ? Math.floor(next() * 600) : Math.floor(next() * (32 * KIB - 64));
          tier.put(k, Buffer.alloc(size, op & 0xff), 0, 0, op, now);
        } else if (roll < 0.85) {
          const slot = tier.find(k);
          if (slot >= 0) tier.access(slot, now);
        } else {
          const slot = tier.find(k);
          if (slot >= 0) tier.remove(slot);
        }
        if (op % 50 === 0) now++;
        expect(tier.allocatedBytes).toBeLessThanOrEqual(tier.maxBytes);
      }
      expect(tier.evictions).toBeGreaterThan(0);
    });
  }
});

describe('MemoryTier eviction order per policy', () => {
  /** Fills the tier to capacity, hits key 0 (`hits` times), then adds one more item. */
  function firstVictimAfterHit(policy: EvictionPolicy, hits: number): string[] {
    const capacity = capacityOf(policy);
    const { tier, evicted } = recordingTier({ eviction: policy });
    for (let i = 0; i < capacity; i++) tier.put(key(i), Buffer.alloc(100), 0, 0, i, NOW);
    expect(evicted).toEqual([]);
    for (let h = 0; h < hits; h++) tier.access(tier.find(key(0)), NOW);
    tier.put(key(capacity), Buffer.alloc(100), 0, 0, capacity, NOW);
    return evicted;
  }

  it('lru evicts the least recently used', () => {
    expect(firstVictimAfterHit('lru', 1)).toEqual([key(1).toString()]);
  });

  /**
   * Fills the tier, hits key 0, key 1, then key 0 again a second `laterBy` seconds after the
   * first hits, and stores until both are evicted; returns them in the order they went.
   */
  function orderAfterRepeatHit(policy: EvictionPolicy, laterBy: number): string[] {
    const capacity = capacityOf(policy);
    const { tier, evicted } = recordingTier({ eviction: policy });
    for (let i = 0; i < capacity; i++) tier.put(key(i), Buffer.alloc(100), 0, 0, i, NOW);
    tier.access(tier.find(key(0)), NOW);
    tier.access(tier.find(key(1)), NOW);
    tier.access(tier.find(key(0)), NOW + laterBy);
    const watched = [key(0).toString(), key(1).toString()];
    for (let i = capacity; evicted.filter((k) => watched.includes(k)).length < 2; i++) {
      tier.put(key(i), Buffer.alloc(100), 0, 0, i, NOW + laterBy);
    }
    return evicted.filter((k) => watched.includes(k));
  }

  it('lru moves a slot hit again in the same second no further, as memcached relinks at most once a minute', () => {
    expect(orderAfterRepeatHit('lru', 0)).toEqual([key(0).toString(), key(1).toString()]);
  });

  it('lru moves a slot hit again in a later second to the end again', () => {
    expect(orderAfterRepeatHit('lru', 1)).toEqual([key(1).toString(), key(0).toString()]);
  });

  it('lfu counts every hit, in the same second too', () => {
    // Two hits against one: key 1 goes first whenever the hits happened.
    expect(orderAfterRepeatHit('lfu', 0)).toEqual([key(1).toString(), key(0).toString()]);
  });

  it('fifo evicts the first stored even if it was hit', () => {
    expect(firstVictimAfterHit('fifo', 1)).toEqual([key(0).toString()]);
  });

  it('lfu keeps the frequently hit item', () => {
    expect(firstVictimAfterHit('lfu', 10)).toEqual([key(1).toString()]);
  });

  it('hybrid keeps a hit item through a scan larger than the cache', () => {
    const capacity = capacityOf('hybrid');
    const { tier, evicted } = recordingTier({ eviction: 'hybrid' });
    for (let i = 0; i < 10; i++) tier.put(key(i), Buffer.alloc(100), 0, 0, i, NOW);
    for (let i = 0; i < 10; i++) tier.access(tier.find(key(i)), NOW);
    for (let i = 1000; i < 1000 + capacity * 3; i++) tier.put(key(i), Buffer.alloc(100), 0, 0, i, NOW);
    expect(evicted.length).toBeGreaterThan(capacity);
    for (let i = 0; i < 10; i++) expect(tier.find(key(i))).toBeGreaterThanOrEqual(0);
  });

  it('picks the class whose candidate was accessed longest ago', () => {
    const { tier, evicted } = recordingTier();
    // Old small items, then newer large ones until the budget is full.
    let i = 0;
    for (; i < 200; i++) tier.put(key(i), Buffer.alloc(100), 0, 0, i, NOW);
    for (let j = 0; tier.evictions === 0; j++)
      tier.put(key(10_000 + j), Buffer.alloc(3000), 0, 0, j, NOW + 100);
    expect(evicted.length).toBeGreaterThan(0);
    // Storing another large item evicted the oldest class's page, not a newer large item.
    expect(evicted.every((k) => Number(k.slice(4)) < 200)).toBe(true);
  });
});

describe('MemoryTier page moves', () => {
  it('moves pages from a class full of small items to large ones', () => {
    const { tier, evicted } = recordingTier();
    let small = 0;
    while (tier.evictions === 0) tier.put(key(small++), Buffer.alloc(50), 0, 0, small, NOW);
    const smallCount = tier.itemCount;
    const large = Buffer.alloc(20 * KIB, 0x4c);
    for (let j = 0; j < 30; j++) {
      const slot = tier.put(Buffer.from(`large:${j}`), large, j, 0, j, NOW + 10);
      expect(slot).toBeGreaterThanOrEqual(0);
      expect(tier.allocatedBytes).toBeLessThanOrEqual(tier.maxBytes);
    }
    for (let j = 0; j < 5; j++) {
      // The newest large items are all still there; older ones may have made room for them.
      const slot = tier.find(Buffer.from(`large:${29 - j}`));
      expect(slot).toBeGreaterThanOrEqual(0);
      expect(Buffer.from(tier.valueView(slot))).toEqual(large);
    }
    expect(tier.itemCount).toBeLessThan(smallCount);
    expect(evicted.some((k) => k.startsWith('key:'))).toBe(true);
    const largeClass = tier.classStats().find((c) => c.chunkSize >= 20 * KIB + 10);
    expect(largeClass?.pages).toBeGreaterThan(0);
  });
});

describe('MemoryTier.setMaxBytes', () => {
  it('shrinking evicts down to fit, keeps the newest items intact, and growing again works', () => {
    const { tier, evicted } = recordingTier({ maxBytes: 4 * MIB });
    const n = 20_000;
    for (let i = 0; i < n; i++) tier.put(key(i), Buffer.from(`v${i}`.padEnd(100, '.')), 0, 0, i, NOW + i);
    const before = tier.itemCount;
    tier.setMaxBytes(2 * MIB);
    expect(tier.maxBytes).toBe(2 * MIB);
    expect(tier.allocatedBytes).toBeLessThanOrEqual(2 * MIB);
    expect(tier.itemCount).toBeGreaterThan(0);
    expect(tier.itemCount).toBeLessThan(before);
    expect(evicted.length).toBe(n - tier.itemCount);
    const last = tier.find(key(n - 1));
    expect(Buffer.from(tier.valueView(last)).toString()).toBe(`v${n - 1}`.padEnd(100, '.'));
    tier.forEachSlot((slot) => {
      const k = Buffer.alloc(tier.keyLength(slot));
      tier.copyKey(slot, k, 0);
      const i = Number(k.toString().slice(4));
      expect(Buffer.from(tier.valueView(slot)).toString()).toBe(`v${i}`.padEnd(100, '.'));
    });
    tier.setMaxBytes(4 * MIB);
    for (let i = n; i < n + 5000; i++) tier.put(key(i), Buffer.alloc(100), 0, 0, i, NOW + i);
    expect(tier.allocatedBytes).toBeLessThanOrEqual(4 * MIB);
    expect(tier.allocatedBytes).toBeGreaterThan(2 * MIB);
  });

  it('shrinking below what the columns take empties the tier but stays within budget', () => {
    const { tier } = recordingTier({ maxBytes: 4 * MIB });
    for (let i = 0; i < 20_000; i++) tier.put(key(i), Buffer.alloc(10), 0, 0, i, NOW);
    tier.setMaxBytes(64 * KIB);
    expect(tier.allocatedBytes).toBeLessThanOrEqual(64 * KIB);
    expect(tier.itemCount).toBe(0);
    expect(tier.put(key(1), Buffer.alloc(10), 0, 0, 1, NOW)).toBeGreaterThanOrEqual(0);
    expect(tier.allocatedBytes).toBeLessThanOrEqual(64 * KIB);
  });
});
