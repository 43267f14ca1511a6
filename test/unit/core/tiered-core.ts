// A CacheCore over a tiny L1 (2 MiB) and a real L2 in a temporary directory,
// for the core tests that move items between the tiers. Directories are
// removed after the file's tests.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { CacheCore } from '../../../src/core/cache-core.js';
import type { ManualClock } from '../../../src/core/clock.js';
import { L2Bridge, type L2Mode, type L2Promotion, type L2ReadMode } from '../../../src/core/l2-bridge.js';
import { ItemStore } from '../../../src/tiers/level/item-store.js';
import { MemoryTier } from '../../../src/tiers/memory/memory-tier.js';

const MIB = 1024 * 1024;
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

export interface ReadPolicy {
  readonly readMode: L2ReadMode;
  readonly promotion: L2Promotion;
  /** L2Bridge's idle passes (default on). */
  readonly writeWhenIdle?: boolean;
}

export async function tieredCore(
  clock: ManualClock,
  mode: L2Mode,
  policy: ReadPolicy,
  expectedKeys = 1000,
): Promise<{ core: CacheCore; store: ItemStore; bridge: L2Bridge }> {
  const dir = mkdtempSync(join(tmpdir(), 'rat-l2-core-'));
  dirs.push(dir);
  const store = await ItemStore.open(dir, { maxBytes: 512 * MIB, compressMinBytes: 512, flushIntervalMs: 1 });
  let bridge: L2Bridge | undefined;
  const memory = new MemoryTier({
    maxBytes: 2 * MIB,
    maxItemSize: 64 * 1024,
    eviction: 'lru',
    onEvict: (slot) => bridge?.demote(slot),
  });
  bridge = new L2Bridge({ store, memory, mode, expectedKeys, maxPendingBytes: 64 * MIB, ...policy });
  await bridge.scanKeys();
  return { core: new CacheCore({ memory, clock, l2: bridge }), store, bridge };
}

/** Sets 16 KB fillers until L1 holds none of `keys` (they are then in L2, once the store is flushed). */
export function pushOutOfL1(core: CacheCore, keys: readonly Buffer[]): void {
  for (let i = 0; keys.some((key) => core.memory.find(key) >= 0); i++) {
    core.store('set', Buffer.from(`filler-${i}`), Buffer.alloc(16_000, i), 0, 0, 0n);
  }
}
