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

  it('with reuseTaken after sync writes, every batch reads right when taken and every held one stays intact', () => {
    // A connection answering one request at a time takes batches at offset 0
    // again and again (the same view objects, by length); a write the kernel
    // did not take whole holds its view while later batches are built.
    // Few lengths, so that batches of one length meet in different chunks.
    const step = fc.record({
      length: fc.constantFrom(1, 8, 9, 20_000, 40_000, 70_000, 200_000),
      fill: fc.integer({ min: 0, max: 255 }),
      hold: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => {
        const out = new OutputBuffer();
        const held: [Buffer, Buffer][] = [];
        for (const { length, fill, hold } of steps) {
          const expected = Buffer.alloc(length, fill);
          out.writeBytes(expected);
          const view = out.take();
          expect(view.equals(expected)).toBe(true);
          if (hold) held.push([view, expected]);
          else out.reuseTaken();
        }
        for (const [view, expected] of held) expect(view.equals(expected)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('hands out the same view again for a batch of the same length at the start of the chunk', () => {
    const out = new OutputBuffer();
    out.writeLatin1('STORED\r\n');
    const first = out.take();
    out.reuseTaken();
    out.writeLatin1('EXISTS\r\n');
    const second = out.take();
    expect(second).toBe(first);
    expect(second.toString('latin1')).toBe('EXISTS\r\n');
  });
});
