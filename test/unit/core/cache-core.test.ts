// CacheCore semantics with an injected clock: no sockets, no sleeps.

import { beforeEach, describe, expect, it } from 'vitest';
import { CacheCore } from '../../../src/core/cache-core.js';
import { ManualClock } from '../../../src/core/clock.js';
import { MemoryTier } from '../../../src/tiers/memory/memory-tier.js';

const MIB = 1024 * 1024;
const b = (text: string) => Buffer.from(text, 'latin1');

let clock: ManualClock;
let core: CacheCore;

/** A memory-only core answers every command synchronously; a Promise here is a bug. */
function getSlot(key: Buffer): number {
  const result = core.get(key);
  if (typeof result !== 'number') throw new Error('memory-only get went async');
  return result;
}

function gatSlot(key: Buffer, exptime: number): number {
  const result = core.getAndTouch(key, exptime);
  if (typeof result !== 'number') throw new Error('memory-only gat went async');
  return result;
}

function readValue(key: string): string | undefined {
  const slot = getSlot(b(key));
  if (slot < 0) return undefined;
  const out = Buffer.alloc(core.items.valueLength(slot));
  core.items.copyValue(slot, out, 0);
  return out.toString('latin1');
}

beforeEach(() => {
  clock = new ManualClock(1_700_000_000_500);
  core = new CacheCore({
    memory: new MemoryTier({ maxBytes: 8 * MIB, maxItemSize: MIB, eviction: 'lru' }),
    clock,
  });
});

describe('CacheCore storage commands', () => {
  it('set, add, replace follow memcached', () => {
    expect(core.store('add', b('k'), b('1'), 0, 0, 0n)).toBe('stored');
    expect(core.store('add', b('k'), b('2'), 0, 0, 0n)).toBe('not_stored');
    expect(core.store('replace', b('nope'), b('2'), 0, 0, 0n)).toBe('not_stored');
    expect(core.store('replace', b('k'), b('3'), 5, 0, 0n)).toBe('stored');
    expect(readValue('k')).toBe('3');
    expect(core.items.flags(getSlot(b('k')))).toBe(5);
  });

  it('append and prepend keep the flags and expiry of the stored item', () => {
    core.store('set', b('k'), b('mid'), 42, 100, 0n);
    expect(core.store('append', b('k'), b('>>'), 7, 0, 0n)).toBe('stored');
    expect(core.store('prepend', b('k'), b('<<'), 7, 0, 0n)).toBe('stored');
    const slot = getSlot(b('k'));
    expect(readValue('k')).toBe('<<mid>>');
    expect(core.items.flags(slot)).toBe(42);
    expect(core.items.exptime(slot)).toBe(clock.nowSeconds() + 100);
    expect(core.store('append', b('missing'), b('x'), 0, 0, 0n)).toBe('not_stored');
  });

  it('cas: NOT_FOUND, EXISTS, then STORED with the current unique; uniques never repeat', () => {
    expect(core.store('cas', b('k'), b('x'), 0, 0, 1n)).toBe('not_found');
    core.store('set', b('k'), b('a'), 0, 0, 0n);
    const unique = core.items.cas(getSlot(b('k')));
    expect(core.store('cas', b('k'), b('b'), 0, 0, BigInt(unique + 1000))).toBe('exists');
    expect(core.store('cas', b('k'), b('b'), 0, 0, BigInt(unique))).toBe('stored');
    const next = core.items.cas(getSlot(b('k')));
    expect(next).toBeGreaterThan(unique);
    expect(core.store('cas', b('k'), b('c'), 0, 0, BigInt(unique))).toBe('exists');
    expect(core.stats).toMatchObject({ casMisses: 1, casBadval: 2, casHits: 1 });
  });
});

describe('CacheCore incr/decr', () => {
  it('rewrites a shorter number in place, space padded, and grows a longer one', () => {
    core.store('set', b('n'), b('10'), 3, 0, 0n);
    expect(core.arithmetic(b('n'), 3n, false)).toBe(7n);
    expect(readValue('n')).toBe('7 ');
    expect(core.arithmetic(b('n'), 100n, true)).toBe(107n);
    expect(readValue('n')).toBe('107');
    expect(core.items.flags(getSlot(b('n')))).toBe(3);
  });

  it('wraps at 2^64, floors at 0, refuses non-numbers, misses are NOT_FOUND', () => {
    core.store('set', b('n'), b('18446744073709551615'), 0, 0, 0n);
    expect(core.arithmetic(b('n'), 1n, true)).toBe(0n);
    expect(core.arithmetic(b('n'), 5n, false)).toBe(0n);
    core.store('set', b('s'), b('abc'), 0, 0, 0n);
    expect(core.arithmetic(b('s'), 1n, true)).toBe('non_numeric');
    expect(core.arithmetic(b('nope'), 1n, true)).toBe('not_found');
  });

  it('gives the item a new CAS unique', () => {
    core.store('set', b('n'), b('1'), 0, 0, 0n);
    const before = core.items.cas(getSlot(b('n')));
    core.arithmetic(b('n'), 1n, true);
    expect(core.items.cas(getSlot(b('n')))).toBeGreaterThan(before);
  });
});

describe('CacheCore expiry (memcached exptime rules)', () => {
  it('relative exptime expires once the seconds clock reaches it', () => {
    core.store('set', b('k'), b('v'), 0, 2, 0n);
    clock.advanceMs(1000);
    expect(readValue('k')).toBe('v');
    clock.advanceMs(1000);
    expect(readValue('k')).toBeUndefined();
    expect(core.stats.getExpired).toBe(1);
  });

  it('negative exptime is already expired; 0 never expires', () => {
    core.store('set', b('neg'), b('v'), 0, -1, 0n);
    core.store('set', b('zero'), b('v'), 0, 0, 0n);
    clock.advanceSeconds(10 * 365 * 24 * 3600);
    expect(readValue('neg')).toBeUndefined();
    expect(readValue('zero')).toBe('v');
  });

  it('exptime above 30 days is an absolute unix time', () => {
    const now = clock.nowSeconds();
    core.store('set', b('past'), b('v'), 0, 2_592_001, 0n);
    core.store('set', b('future'), b('v'), 0, now + 5, 0n);
    core.store('set', b('month'), b('v'), 0, 2_592_000, 0n);
    expect(readValue('past')).toBeUndefined();
    expect(readValue('future')).toBe('v');
    expect(core.items.exptime(getSlot(b('month')))).toBe(now + 2_592_000);
    clock.advanceSeconds(5);
    expect(readValue('future')).toBeUndefined();
  });

  it('touch and gat move the expiry', () => {
    core.store('set', b('k'), b('v'), 0, 1, 0n);
    expect(core.touch(b('k'), 100)).toBe(true);
    clock.advanceSeconds(50);
    expect(gatSlot(b('k'), 10)).toBeGreaterThanOrEqual(0);
    clock.advanceSeconds(10);
    expect(readValue('k')).toBeUndefined();
    expect(core.touch(b('k'), 10)).toBe(false);
  });
});

describe('CacheCore flush_all', () => {
  it('invalidates everything that exists now, but not what is stored after', () => {
    core.store('set', b('a'), b('1'), 0, 0, 0n);
    core.flushAll(0);
    core.store('set', b('b'), b('2'), 0, 0, 0n);
    expect(readValue('a')).toBeUndefined();
    expect(readValue('b')).toBe('2');
    expect(core.stats.getFlushed).toBe(1);
  });

  it('with a delay, takes effect at that second and spares later writes', () => {
    core.store('set', b('a'), b('1'), 0, 0, 0n);
    core.flushAll(10);
    clock.advanceSeconds(9);
    expect(readValue('a')).toBe('1');
    clock.advanceSeconds(1);
    core.store('set', b('b'), b('2'), 0, 0, 0n);
    expect(readValue('a')).toBeUndefined();
    expect(readValue('b')).toBe('2');
  });
});

describe('CacheCore limits', () => {
  it('a set refused for memory drops the old value (memcached never serves stale data)', () => {
    core.store('set', b('k'), b('old'), 0, 0, 0n);
    core.refuseTooLarge('set', b('k'));
    expect(readValue('k')).toBeUndefined();
    core.store('set', b('k'), b('old'), 0, 0, 0n);
    core.refuseTooLarge('add', b('k'));
    expect(readValue('k')).toBe('old');
  });

  it('cache_memlimit refuses less than 8 MiB', () => {
    expect(core.setMemoryLimit(7)).toBe('too_small');
    expect(core.setMemoryLimit(16)).toBe('ok');
    expect(core.memory.maxBytes).toBe(16 * MIB);
  });
});

describe('CacheCore active expiry (timing wheel)', () => {
  it('reclaims expired items without a read, and only those', () => {
    for (let i = 0; i < 100; i++) core.store('set', b(`ttl${i}`), b('v'), 0, 1 + (i % 5), 0n);
    core.store('set', b('forever'), b('v'), 0, 0, 0n);
    core.store('set', b('touched'), b('v'), 0, 1, 0n);
    core.touch(b('touched'), 100);
    expect(core.expiryTracking.scheduled).toBe(101);
    clock.advanceSeconds(3);
    expect(core.reclaimExpired()).toBe(60);
    expect(core.memory.itemCount).toBe(42);
    clock.advanceSeconds(2);
    core.reclaimExpired();
    expect(core.memory.itemCount).toBe(2);
    expect(core.stats.reclaimed).toBe(100);
    expect(readValue('forever')).toBe('v');
    expect(readValue('touched')).toBe('v');
  });

  it('forgets deleted, replaced and evicted items, so a reused slot is never reclaimed early', () => {
    core.store('set', b('a'), b('1'), 0, 1, 0n);
    core.delete(b('a'));
    core.store('set', b('b'), b('1'), 0, 1, 0n);
    core.store('set', b('b'), b('2'), 0, 0, 0n); // replaced without a TTL
    core.store('set', b('c'), b('1'), 0, 1, 0n);
    core.store('set', b('c'), b('x'.repeat(5000)), 0, 100, 0n); // another size class, later expiry
    expect(core.expiryTracking.scheduled).toBe(1);
    clock.advanceSeconds(2);
    expect(core.reclaimExpired()).toBe(0);
    expect(readValue('b')).toBe('2');
    expect(readValue('c')).toHaveLength(5000);
  });
});
