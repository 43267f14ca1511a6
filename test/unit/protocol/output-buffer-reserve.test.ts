// The connection-level fast paths of OutputBuffer that text-session relies on:
// reserve/commit (a value copied straight from a cache page, no closure per
// value) and writeBytes' byte-loop path for short sources. Checked against a
// plain concatenation, across chunk growth and take() boundaries.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OutputBuffer } from '../../../src/protocol/output-buffer.js';

describe('OutputBuffer reserve/commit and short writes', () => {
  it('reserve/commit appends exactly the committed bytes after what came before', () => {
    const out = new OutputBuffer();
    out.writeBytes(Buffer.from('VALUE k 0 5\r\n'));
    const value = Buffer.from('hello');
    value.copy(out.reserve(value.length), out.writeOffset);
    out.commit(value.length);
    out.writeBytes(Buffer.from('\r\nEND\r\n'));
    expect(out.take().toString('latin1')).toBe('VALUE k 0 5\r\nhello\r\nEND\r\n');
  });

  it('a reserve that outgrows the chunk keeps the batch so far', () => {
    const out = new OutputBuffer();
    out.writeBytes(Buffer.from('head:'));
    const big = Buffer.alloc(200 * 1024, 0x62);
    big.copy(out.reserve(big.length), out.writeOffset);
    out.commit(big.length);
    const batch = out.take();
    expect(batch.length).toBe(5 + big.length);
    expect(batch.subarray(0, 5).toString('latin1')).toBe('head:');
    expect(batch.subarray(5).equals(big)).toBe(true);
  });

  it('any mix of short, long and reserved writes equals their concatenation', () => {
    const piece = fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 40 }),
      fc.uint8Array({ minLength: 30, maxLength: 3000 }),
    );
    const step = fc.record({ bytes: piece, reserved: fc.boolean(), takeAfter: fc.boolean() });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
        const out = new OutputBuffer();
        const taken: Buffer[] = [];
        const expected: Buffer[] = [];
        for (const { bytes, reserved, takeAfter } of steps) {
          const source = Buffer.from(bytes);
          expected.push(source);
          if (reserved) {
            source.copy(out.reserve(source.length), out.writeOffset);
            out.commit(source.length);
          } else {
            out.writeBytes(source);
          }
          if (takeAfter) taken.push(out.take());
        }
        taken.push(out.take());
        expect(Buffer.concat(taken).equals(Buffer.concat(expected))).toBe(true);
      }),
    );
  });
});
