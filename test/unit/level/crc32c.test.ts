import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c, crc32cJs, NATIVE_MIN_BYTES, nativeCrc32c } from '../../../src/tiers/level/crc32c.js';

// Reference: the one-table bitwise definition, independent of slice-by-8.
function crc32cBitwise(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe('crc32c', () => {
  it('matches the published check values (RFC 3720 B.4)', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(32, 0x00))).toBe(0x8a9136aa);
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
    expect(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i)))).toBe(0x46dd794e);
    expect(crc32c(Buffer.alloc(0))).toBe(0);
  });

  it('agrees with the bitwise definition at every length and alignment', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(7), (bytes, skip) => {
        const view = bytes.subarray(Math.min(skip, bytes.length));
        expect(crc32c(view)).toBe(crc32cBitwise(view));
      }),
    );
  });

  it('continues a running checksum across splits', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), (bytes, at) => {
        const cut = bytes.length === 0 ? 0 : at % bytes.length;
        expect(crc32c(bytes.subarray(cut), crc32c(bytes.subarray(0, cut)))).toBe(crc32c(bytes));
      }),
    );
  });

  it('checksums a range in place as it would a view of it', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const start = a % (bytes.length + 1);
        const end = start + (b % (bytes.length - start + 1));
        expect(crc32cJs(bytes, 0, start, end)).toBe(crc32cBitwise(bytes.subarray(start, end)));
      }),
    );
  });

  it('loads the native implementation on this platform (else L2 checks values ~4x slower)', () => {
    expect(nativeCrc32c).toBeTypeOf('function');
  });

  it('native and JS agree on both sides of the cut-over, whole and continued', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: NATIVE_MIN_BYTES - 8, maxLength: 3 * NATIVE_MIN_BYTES }),
        fc.nat(),
        fc.nat(7),
        (bytes, at, skip) => {
          const view = bytes.subarray(skip);
          const cut = at % (view.length + 1);
          expect(crc32c(view)).toBe(crc32cJs(view));
          expect(crc32c(view.subarray(cut), crc32c(view.subarray(0, cut)))).toBe(crc32cJs(view));
        },
      ),
    );
  });
});
