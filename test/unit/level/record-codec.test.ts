import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../../src/tiers/level/crc32c.js';
import { RecordCorruptError } from '../../../src/tiers/level/level-errors.js';
import {
  DEFAULT_COMPRESS_MIN_BYTES,
  decodeRecord,
  decodeRecordHeader,
  encodeRecord,
  HEADER_BYTES,
  type ItemRecord,
} from '../../../src/tiers/level/record-codec.js';

const opts = { compressMinBytes: DEFAULT_COMPRESS_MIN_BYTES };

function jsonLike(bytes: number): Buffer {
  let text = '';
  for (let i = 0; text.length < bytes; i++) {
    text += JSON.stringify({ id: i, user: `user${i}`, email: `user${i}@example.com`, active: i % 3 === 0 });
  }
  return Buffer.from(text.slice(0, bytes));
}

function item(value: Buffer, extra: Partial<ItemRecord> = {}): ItemRecord {
  return { value, flags: 0xdeadbeef, exptime: 1_700_000_123, cas: 2 ** 40 + 7, ...extra };
}

/** After tampering with header fields, re-seal the header so the later checks are reached. */
function resealHeader(bytes: Buffer): void {
  bytes.writeUInt32LE(crc32c(bytes.subarray(0, 26)), 26);
}

async function expectCorrupt(bytes: Buffer, message: RegExp): Promise<RecordCorruptError> {
  const error = await decodeRecord(bytes).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RecordCorruptError);
  const corrupt = error as RecordCorruptError;
  expect(corrupt.code).toBe('RAT_ERR_L2_CORRUPT');
  expect(corrupt.message).toMatch(message);
  return corrupt;
}

describe('record codec round trips', () => {
  const cases: Array<[string, Buffer, 'none' | 'lz4']> = [
    ['empty', Buffer.alloc(0), 'none'],
    ['compressible 4 KiB', jsonLike(4096), 'lz4'],
    ['incompressible 4 KiB', randomBytes(4096), 'none'],
    ['compressible just below the threshold', jsonLike(DEFAULT_COMPRESS_MIN_BYTES - 1), 'none'],
    ['compressible at the threshold', jsonLike(DEFAULT_COMPRESS_MIN_BYTES), 'lz4'],
    ['1 MiB compressible (pool path)', jsonLike(1024 * 1024), 'lz4'],
    ['1 MiB random (pool path, kept raw)', randomBytes(1024 * 1024), 'none'],
  ];
  for (const [name, value, compression] of cases) {
    it(name, async () => {
      const original = item(value);
      const bytes = await encodeRecord(original, opts);
      const header = decodeRecordHeader(bytes);
      expect(header.compression).toBe(compression);
      expect(header.originalLength).toBe(value.length);
      if (compression === 'none') expect(bytes.length).toBe(HEADER_BYTES + value.length);
      else expect(bytes.length).toBeLessThan(HEADER_BYTES + value.length);
      const decoded = await decodeRecord(bytes);
      expect(decoded.value.equals(value)).toBe(true);
      expect(decoded).toMatchObject({ flags: 0xdeadbeef, exptime: 1_700_000_123, cas: 2 ** 40 + 7 });
    });
  }

  it('uses the pool for small values when asyncMinBytes says so', async () => {
    const value = jsonLike(2048);
    const bytes = await encodeRecord(item(value), { compressMinBytes: 1, asyncMinBytes: 1 });
    expect(decodeRecordHeader(bytes).compression).toBe('lz4');
    expect((await decodeRecord(bytes, { asyncMinBytes: 1 })).value.equals(value)).toBe(true);
  });

  it('reads exptime and cas from the header alone', async () => {
    const bytes = await encodeRecord(
      item(jsonLike(3000), { exptime: 42, cas: Number.MAX_SAFE_INTEGER }),
      opts,
    );
    const header = decodeRecordHeader(bytes);
    expect(header).toMatchObject({ formatVersion: 1, exptime: 42, cas: Number.MAX_SAFE_INTEGER });
    expect(header.payloadLength).toBe(bytes.length - HEADER_BYTES);
  });

  it('rejects fields that do not fit the format', async () => {
    const value = Buffer.from('x');
    await expect(encodeRecord(item(value, { flags: 2 ** 32 }), opts)).rejects.toThrow(RangeError);
    await expect(encodeRecord(item(value, { exptime: -1 }), opts)).rejects.toThrow(RangeError);
    await expect(encodeRecord(item(value, { cas: 1.5 }), opts)).rejects.toThrow(RangeError);
    await expect(encodeRecord(item(value, { cas: 2 ** 53 }), opts)).rejects.toThrow(RangeError);
  });

  it('round-trips any item (property)', async () => {
    const valueArb = fc.oneof(
      fc.uint8Array({ maxLength: 3000 }),
      // Repetitive values so the lz4 branch is exercised too.
      fc
        .tuple(fc.string({ minLength: 1, maxLength: 20 }), fc.nat(300))
        .map(([s, n]) => new Uint8Array(Buffer.from(s.repeat(n)))),
    );
    await fc.assert(
      fc.asyncProperty(
        valueArb,
        fc.nat(0xffffffff),
        fc.nat(0xffffffff),
        fc.maxSafeNat(),
        fc.nat(1024),
        async (value, flags, exptime, cas, compressMinBytes) => {
          const original = { value: Buffer.from(value), flags, exptime, cas };
          const decoded = await decodeRecord(await encodeRecord(original, { compressMinBytes }));
          expect(decoded.value.equals(original.value)).toBe(true);
          expect({ ...decoded, value: null }).toEqual({ ...original, value: null });
        },
      ),
    );
  });
});

describe('record codec corruption', () => {
  it('detects a flipped byte at every header offset', async () => {
    for (const value of [jsonLike(2000), randomBytes(100)]) {
      const good = await encodeRecord(item(value), opts);
      for (let offset = 0; offset < HEADER_BYTES; offset++) {
        const bad = Buffer.from(good);
        bad[offset]! ^= 0x01;
        const error = await expectCorrupt(bad, /version|checksum|compression/);
        expect(() => decodeRecordHeader(bad)).toThrow(RecordCorruptError);
        expect(error.context).toBeTypeOf('object');
      }
    }
  });

  it('detects a flipped byte in a raw value', async () => {
    const good = await encodeRecord(item(randomBytes(700)), opts);
    for (const offset of [HEADER_BYTES, HEADER_BYTES + 350, good.length - 1]) {
      const bad = Buffer.from(good);
      bad[offset]! ^= 0x80;
      await expectCorrupt(bad, /value checksum mismatch/);
    }
  });

  it('detects a damaged lz4 payload (never returns a wrong value)', async () => {
    const value = jsonLike(4096);
    const good = await encodeRecord(item(value), opts);
    let detected = 0;
    for (let offset = HEADER_BYTES; offset < good.length; offset++) {
      const bad = Buffer.from(good);
      bad[offset]! ^= 0x55;
      const result = await decodeRecord(bad).then(
        (r) => r,
        (e: unknown) => e,
      );
      if (result instanceof RecordCorruptError) detected++;
      // A flip in an lz4 match can still rebuild identical bytes; anything else must be caught.
      else expect((result as ItemRecord).value.equals(value)).toBe(true);
    }
    expect(detected).toBeGreaterThan((good.length - HEADER_BYTES) * 0.9);
  });

  it('detects a value checksum that does not match (header re-sealed)', async () => {
    const bad = await encodeRecord(item(jsonLike(1000)), opts);
    bad.writeUInt32LE((bad.readUInt32LE(22) ^ 1) >>> 0, 22);
    resealHeader(bad);
    await expectCorrupt(bad, /value checksum mismatch/);
  });

  it('detects a length mismatch (header re-sealed)', async () => {
    const raw = await encodeRecord(item(randomBytes(600)), opts);
    raw.writeUInt32LE(601, 18);
    resealHeader(raw);
    await expectCorrupt(raw, /raw payload is 600 bytes, header says 601/);

    const packed = await encodeRecord(item(jsonLike(4096)), opts);
    packed.writeUInt32LE(4095, 18);
    resealHeader(packed);
    await expectCorrupt(packed, /lz4 size prefix 4096 does not match original length 4095/);
  });

  it('detects an unknown version or compression (header re-sealed)', async () => {
    const version = await encodeRecord(item(Buffer.from('v')), opts);
    version[0] = 2;
    resealHeader(version);
    await expectCorrupt(version, /format version 2/);

    const compression = await encodeRecord(item(Buffer.from('c')), opts);
    compression[1] = 7;
    resealHeader(compression);
    await expectCorrupt(compression, /unknown compression 7/);
  });

  it('detects lz4 that does not decompress, keeping the cause', async () => {
    const bad = await encodeRecord(item(jsonLike(4096)), opts);
    bad.fill(0xff, HEADER_BYTES + 4);
    const error = await expectCorrupt(bad, /lz4 payload does not decompress/);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('detects truncation at every length', async () => {
    for (const value of [jsonLike(1500), randomBytes(64), Buffer.alloc(0)]) {
      const good = await encodeRecord(item(value), opts);
      for (let length = 0; length < good.length; length++) {
        await expectCorrupt(good.subarray(0, length), /shorter than|payload|lz4|checksum/);
      }
    }
  });
});
