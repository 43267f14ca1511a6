// flush_all with L2: what was stored before it is gone from both tiers, and
// what is stored after it stays, even when it is written to L2 while the
// flush's background clear of L2 still waits for the watermark's write.

import { describe, expect, it } from 'vitest';
import type { CacheCore } from '../../../src/core/cache-core.js';
import { ManualClock } from '../../../src/core/clock.js';
import { pushOutOfL1, tieredCore } from './tiered-core.js';

async function storedValue(core: CacheCore, key: Buffer): Promise<string | undefined> {
  const found = await core.get(key);
  if (typeof found !== 'number') return found?.value.toString();
  if (found < 0) return undefined;
  const value = Buffer.alloc(core.items.valueLength(found));
  core.items.copyValue(found, value, 0);
  return value.toString();
}

describe('flush_all over L1 + L2', () => {
  it('keeps an item stored after the flush and evicted to L2 before the clear has run', async () => {
    const { core, store } = await tieredCore(new ManualClock(), 'overflow', {
      readMode: 'sync',
      promotion: 'second-hit',
    });
    try {
      const before = Buffer.from('before');
      const after = Buffer.from('after');
      core.store('set', before, Buffer.from('dead'), 0, 0, 0n);
      pushOutOfL1(core, [before]);
      await store.flush();
      core.flushAll(0);
      core.store('set', after, Buffer.from('alive'), 0, 0, 0n);
      pushOutOfL1(core, [after]);
      await store.flush();
      expect(await storedValue(core, before)).toBeUndefined();
      expect(await storedValue(core, after)).toBe('alive');
    } finally {
      await store.close();
    }
  });
});
