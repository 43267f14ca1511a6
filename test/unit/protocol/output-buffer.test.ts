import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OutputBuffer } from '../../../src/protocol/output-buffer.js';

// take() hands out views of a shared chunk; these check that a view handed
// out is never written again, whatever is built after it.
describe('OutputBuffer', () => {
  it('renders bytes, latin1, single bytes and decimals in order', () => {
    const out = new OutputBuffer();
    out.writeLatin1('VALUE ');
    out.writeBytes(Buffer.from('k1'));
    out.writeByte(0x20);
    out.writeDecimal(0);
    out.writeByte(0x20);
    out.writeDecimal(9_007_199_254_740_991);
    out.reserve(2).write('\r\n', out.writeOffset, 'latin1');
    out.commit(2);
    expect(out.length).toBe(29);
    expect(out.take().toString('latin1')).toBe('VALUE k1 0 9007199254740991\r\n');
    expect(out.length).toBe(0);
  });

  it('keeps every taken batch intact while later batches are built', () => {
    const out = new OutputBuffer();
    const taken: [Buffer, string][] = [];
    for (let i = 0; i < 5000; i++) {
      const text = `STORED ${i} ${'x'.repeat(i % 97)}\r\n`;
      out.writeLatin1(text);
      taken.push([out.take(), text]);
    }
    for (const [view, text] of taken) expect(view.toString('latin1')).toBe(text);
  });

  it('moves a batch that outgrows its chunk without losing its start', () => {
    const out = new OutputBuffer();
    out.writeLatin1('first\r\n');
    const first = out.take();
    out.writeLatin1('head:');
    const big = Buffer.alloc(300 * 1024, 0x61);
    out.writeBytes(big);
    const second = out.take();
    expect(second.length).toBe(5 + big.length);
    expect(second.subarray(0, 5).toString('latin1')).toBe('head:');
    expect(second.subarray(5).equals(big)).toBe(true);
    out.writeLatin1('third');
    expect(out.take().toString('latin1')).toBe('third');
    expect(first.toString('latin1')).toBe('first\r\n');
    expect(second.subarray(5).equals(big)).toBe(true);
  });

  it('matches a concatenation of the parts for any sequence of writes and takes', () => {
    const part = fc.oneof(
      fc.record({ take: fc.constant(true) }),
      fc.record({ bytes: fc.uint8Array({ maxLength: 70_000 }) }),
      fc.record({ decimal: fc.maxSafeNat() }),
    );
    fc.assert(
      fc.property(fc.array(part, { maxLength: 40 }), (parts) => {
        const out = new OutputBuffer();
        const expected: string[] = [];
        const views: Buffer[] = [];
        let pending = '';
        for (const p of parts) {
          if ('take' in p) {
            views.push(out.take());
            expected.push(pending);
            pending = '';
          } else if ('bytes' in p) {
            out.writeBytes(Buffer.from(p.bytes));
            pending += Buffer.from(p.bytes).toString('latin1');
          } else {
            out.writeDecimal(p.decimal);
            pending += String(p.decimal);
          }
        }
        views.push(out.take());
        expected.push(pending);
        expect(views.map((v) => v.toString('latin1'))).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });
});
