// The idle pass (L2Bridge.idleTick): while no command arrives between two
// expiry ticks, overflow mode copies the L1 items L2 lacks into L2 and marks
// them clean, so evicting them later writes nothing. A clean item changed in
// any way must be written again when evicted, with what it holds now.

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CacheCore } from '../../../src/core/cache-core.js';
import { ManualClock } from '../../../src/core/clock.js';
import type { ItemStore } from '../../../src/tiers/level/item-store.js';
import { pushOutOfL1, type ReadPolicy, tieredCore } from './tiered-core.js';

const SYNC: ReadPolicy = { readMode: 'sync', promotion: 'second-hit' };

/** Two ticks with no command between them (the second starts a pass), then the pass's end. */
async function idle(core: CacheCore): Promise<void> {
  core.tickExpiry();
  core.tickExpiry();
  await core.l2?.idlePass;
}

/** Records which keys L2 is asked to write. */
function recordWrites(store: ItemStore): string[] {
  const written: string[] = [];
  const write = store.write.bind(store);
  store.write = (key, item) => {
    written.push(key.toString());
    write(key, item);
  };
  return written;
}

async function storedValue(core: CacheCore, key: Buffer): Promise<Buffer | undefined> {
  const found = await core.get(key);
  if (typeof found !== 'number') return found?.value;
  if (found < 0) return undefined;
  const value = Buffer.alloc(core.items.valueLength(found));
  core.items.copyValue(found, value, 0);
  return value;
}

const keysOf = (n: number, prefix = 'k') => Array.from({ length: n }, (_, i) => Buffer.from(`${prefix}${i}`));

describe('L2 idle writes (overflow mode)', () => {
  it('copies the items only L1 holds, and their eviction then writes nothing', async () => {
    const { core, store, bridge } = await tieredCore(new ManualClock(), 'overflow', SYNC);
    try {
      const keys = keysOf(20);
      const values = keys.map(() => randomBytes(4000));
      for (const [i, key] of keys.entries()) core.store('set', key, values[i]!, 3, 0, 0n);
      await store.flush();
      expect(store.store.stats().items).toBe(0);
      await idle(core);
      expect(bridge.stats.l2IdleWrites).toBe(20);
      expect(store.store.stats().items).toBe(20);
      for (const key of keys) expect(core.memory.isClean(core.memory.find(key))).toBe(true);

      const written = recordWrites(store);
      pushOutOfL1(core, keys);
      await store.flush();
      expect(written.filter((k) => k.startsWith('k'))).toEqual([]);
      for (const [i, key] of keys.entries())
        expect((await storedValue(core, key))?.equals(values[i]!), `k${i}`).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('a set, append, incr or touch after the copy makes the eviction write what the item holds now', async () => {
    const clock = new ManualClock();
    const { core, store } = await tieredCore(clock, 'overflow', SYNC);
    try {
      const [setKey, appendKey, counter, touched] = keysOf(4) as [Buffer, Buffer, Buffer, Buffer];
      core.store('set', setKey, Buffer.from('old'), 0, 0, 0n);
      core.store('set', appendKey, Buffer.from('head'), 0, 0, 0n);
      core.store('set', counter, Buffer.from('5'), 0, 0, 0n);
      core.store('set', touched, Buffer.from('t'), 0, 0, 0n);
      await idle(core);
      for (const key of [setKey, appendKey, counter, touched]) {
        expect(core.memory.isClean(core.memory.find(key))).toBe(true);
      }

      core.store('set', setKey, Buffer.from('new'), 0, 0, 0n);
      core.store('append', appendKey, Buffer.from('+tail'), 0, 0, 0n);
      expect(await core.arithmetic(counter, 3n, true)).toBe(8n);
      expect(await core.touch(touched, 100)).toBe(true);
      for (const key of [setKey, appendKey, counter, touched]) {
        expect(core.memory.isClean(core.memory.find(key)), key.toString()).toBe(false);
      }

      const written = recordWrites(store);
      pushOutOfL1(core, [setKey, appendKey, counter, touched]);
      await store.flush();
      expect(written.filter((k) => k.length === 2).sort()).toEqual(['k0', 'k1', 'k2', 'k3']);
      expect((await store.read(touched))?.exptime).toBe(clock.nowSeconds() + 100);
      expect((await storedValue(core, setKey))?.toString()).toBe('new');
      expect((await storedValue(core, appendKey))?.toString()).toBe('head+tail');
      expect((await storedValue(core, counter))?.toString()).toBe('8');
    } finally {
      await store.close();
    }
  });

  it('runs no pass while commands keep arriving, nor when nothing was written', async () => {
    const { core, store, bridge } = await tieredCore(new ManualClock(), 'overflow', SYNC);
    try {
      const [key] = keysOf(1) as [Buffer];
      core.store('set', key, Buffer.from('v'), 0, 0, 0n);
      for (let i = 0; i < 5; i++) {
        core.tickExpiry();
        await core.get(key);
      }
      expect(bridge.idlePass).toBeUndefined();
      expect(bridge.stats.l2IdleWrites).toBe(0);
      await idle(core);
      expect(bridge.stats.l2IdleWrites).toBe(1);
      // Reads only since: nothing new to copy, so no pass.
      await core.get(key);
      core.tickExpiry();
      core.tickExpiry();
      expect(bridge.idlePass).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('stops at the next command and takes the rest at the next idle moment', async () => {
    const { core, store, bridge } = await tieredCore(new ManualClock(), 'overflow', SYNC);
    try {
      // More than one pass step (256 KiB) writes; the first items go to L2 by eviction.
      const keys = keysOf(1200);
      for (const key of keys) core.store('set', key, randomBytes(1000), 0, 0, 0n);
      const inL1 = keys.filter((key) => core.memory.find(key) >= 0);
      expect(inL1.length).toBeGreaterThan(600);
      core.tickExpiry();
      core.tickExpiry();
      const pass = bridge.idlePass;
      expect(pass).toBeDefined();
      // A command while the first step's batch is landing.
      await core.get(keys[0]!);
      await pass;
      const first = bridge.stats.l2IdleWrites;
      expect(first).toBeGreaterThan(0);
      expect(first).toBeLessThan(inL1.length);
      await idle(core);
      expect(bridge.stats.l2IdleWrites).toBe(inL1.length);
      for (const key of inL1) expect(core.memory.isClean(core.memory.find(key))).toBe(true);
      expect(store.store.stats().items).toBe(keys.length);
    } finally {
      await store.close();
    }
  });

  it('is off in write-through mode and when write_when_idle is off', async () => {
    for (const [mode, policy] of [
      ['write-through', SYNC],
      ['overflow', { ...SYNC, writeWhenIdle: false }],
    ] as const) {
      const { core, store, bridge } = await tieredCore(new ManualClock(), mode, policy);
      try {
        core.store('set', Buffer.from('k'), Buffer.from('v'), 0, 0, 0n);
        await idle(core);
        expect(bridge.stats.l2IdleWrites, mode).toBe(0);
      } finally {
        await store.close();
      }
    }
  });

  it('leaves an item dirty when its batch fails to land, and copies it at the next idle moment', async () => {
    const { core, store, bridge } = await tieredCore(new ManualClock(), 'overflow', SYNC);
    try {
      const [key] = keysOf(1) as [Buffer];
      core.store('set', key, Buffer.from('v'), 0, 0, 0n);
      const flush = store.flush.bind(store);
      store.flush = () => Promise.reject(new Error('disk full'));
      await idle(core);
      expect(bridge.stats.l2IdleWrites).toBe(0);
      expect(core.memory.isClean(core.memory.find(key))).toBe(false);
      store.flush = flush;
      await idle(core);
      expect(bridge.stats.l2IdleWrites).toBe(1);
      expect(core.memory.isClean(core.memory.find(key))).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('starts no pass once stopped for shutdown', async () => {
    const { core, store, bridge } = await tieredCore(new ManualClock(), 'overflow', SYNC);
    try {
      core.store('set', Buffer.from('k'), Buffer.from('v'), 0, 0, 0n);
      await bridge.stopIdleWrites();
      await idle(core);
      expect(bridge.stats.l2IdleWrites).toBe(0);
    } finally {
      await store.close();
    }
  });

  it("after flush_all copies only what was stored since, and the flush's clear keeps it", async () => {
    const { core, store, bridge } = await tieredCore(new ManualClock(), 'overflow', SYNC);
    try {
      const [before, after] = keysOf(2) as [Buffer, Buffer];
      core.store('set', before, Buffer.from('dead'), 0, 0, 0n);
      core.flushAll(0);
      core.store('set', after, Buffer.from('alive'), 0, 0, 0n);
      await idle(core);
      expect(bridge.stats.l2IdleWrites).toBe(1);
      pushOutOfL1(core, [after]);
      await store.flush();
      expect(await storedValue(core, before)).toBeUndefined();
      expect((await storedValue(core, after))?.toString()).toBe('alive');
    } finally {
      await store.close();
    }
  });
});
