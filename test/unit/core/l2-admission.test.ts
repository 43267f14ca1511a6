// The admission policy of L2 hits into L1 (l2-admission.ts), on its own:
// a key is admitted on its second hit within a window as long as L1's item
// count, and not otherwise. The table is direct-mapped, so a key hit by
// chance into the same bucket meanwhile is forgotten (a missed admission,
// never a wrong answer); the windows below stay well below its 65,536 buckets.

import { describe, expect, it } from 'vitest';
import { L2Admission } from '../../../src/core/l2-admission.js';

const key = (name: string): Buffer => Buffer.from(name);
const admit = (admission: L2Admission, name: string): boolean => {
  const k = key(name);
  return admission.admit(k, 0, k.length);
};

describe('L2Admission', () => {
  it('admits a key on its second hit, not its first', () => {
    const admission = new L2Admission(() => 10_000);
    expect(admit(admission, 'a')).toBe(false);
    expect(admit(admission, 'a')).toBe(true);
    expect(admit(admission, 'a')).toBe(true);
  });

  it('admits nothing on a scan of distinct keys', () => {
    const admission = new L2Admission(() => 10_000);
    let admitted = 0;
    for (let i = 0; i < 50_000; i++) if (admit(admission, `scan:${i}`)) admitted++;
    // Only a bucket and tag collision (1 in 2^32 per pair within the window) could admit one.
    expect(admitted).toBe(0);
  });

  it('a second hit within the window is admitted, one after two windows is not', () => {
    const l1Items = 4096;
    const admission = new L2Admission(() => l1Items);
    // The first epoch lasts MIN_WINDOW/2 hits; run past it so the window is L1's count.
    for (let i = 0; i < 1024; i++) admit(admission, `warm:${i}`);
    expect(admit(admission, 'near')).toBe(false);
    for (let i = 0; i < l1Items / 4; i++) admit(admission, `other:${i}`);
    expect(admit(admission, 'near')).toBe(true);

    expect(admit(admission, 'far')).toBe(false);
    for (let i = 0; i < 2 * l1Items; i++) admit(admission, `more:${i}`);
    expect(admit(admission, 'far')).toBe(false);
  });

  it('the window follows L1 as it grows', () => {
    let l1Items = 0;
    const admission = new L2Admission(() => l1Items);
    // An empty L1 still gives a window of 1,024 hits.
    expect(admit(admission, 'k')).toBe(false);
    for (let i = 0; i < 300; i++) admit(admission, `small:${i}`);
    expect(admit(admission, 'k')).toBe(true);

    // Far more hits apart than the old window of 1,024, well within the new one.
    l1Items = 40_000;
    for (let i = 0; i < 2048; i++) admit(admission, `grow:${i}`);
    expect(admit(admission, 'g')).toBe(false);
    for (let i = 0; i < 3000; i++) admit(admission, `big:${i}`);
    expect(admit(admission, 'g')).toBe(true);
  });
});
