// The on-disk record format of the L2 tier: a fixed header plus the value,
// LZ4-compressed when that pays. It knows an item's value, flags, exptime and
// cas as plain numbers and bytes; it knows nothing of memcached commands, of
// LevelDB or of how keys are laid out (level-store.ts owns that).
//
// Layout, little-endian, HEADER_BYTES = 30:
//   0 u8  formatVersion (1)      10 u32 cas high 32 bits     26 u32 headerCrc
//   1 u8  compression (0 / 1)    14 u32 cas low 32 bits      30 ... payload
//   2 u32 flags                  18 u32 originalLength
//   6 u32 exptime (unix s, 0)    22 u32 valueCrc
// valueCrc is CRC32C of the ORIGINAL value, so it also checks decompression.
// headerCrc covers bytes 0..25: without it a flipped bit in flags or exptime
// would decode "successfully", and decodeRecordHeader can trust the header
// without touching the payload. An lz4 payload is lz4-napi's block format:
// u32 LE uncompressed size, then the block.

import { compress, compressSync, uncompress, uncompressSync } from 'lz4-napi';
import { crc32c, crc32cJs } from './crc32c.js';
import { RecordCorruptError } from './level-errors.js';

export interface ItemRecord {
  value: Buffer;
  flags: number;
  exptime: number;
  cas: number;
}

export interface RecordHeader {
  formatVersion: number;
  compression: Compression;
  flags: number;
  exptime: number;
  cas: number;
  originalLength: number;
  /** Bytes after the header: the value, or its lz4 block. */
  payloadLength: number;
}

export type Compression = 'none' | 'lz4';

export interface EncodeOptions {
  /** Values shorter than this are stored raw (memcached-sized small values rarely shrink). */
  compressMinBytes: number;
  /**
   * Values at least this long are (de)compressed on the libuv pool. Below it
   * the pool hop (~80 us measured) costs far more than LZ4 itself (~8 us for
   * 4 KiB), so small values are done inline. Default DEFAULT_ASYNC_MIN_BYTES.
   */
  asyncMinBytes?: number;
}

export interface DecodeOptions {
  asyncMinBytes?: number;
}

export const FORMAT_VERSION = 1;
export const HEADER_BYTES = 30;
export const DEFAULT_COMPRESS_MIN_BYTES = 512;
export const DEFAULT_ASYNC_MIN_BYTES = 64 * 1024;

const COMPRESSION_NONE = 0;
const COMPRESSION_LZ4 = 1;
const TWO_32 = 0x1_0000_0000;
const U32_MAX = 0xffff_ffff;
const HEADER_CRC_OFFSET = 26;

export async function encodeRecord(item: ItemRecord, options: EncodeOptions): Promise<Buffer> {
  checkU32(item.flags, 'flags');
  checkU32(item.exptime, 'exptime');
  if (!Number.isSafeInteger(item.cas) || item.cas < 0) {
    throw new RangeError(`cas must be a non-negative safe integer, got ${item.cas}`);
  }
  const value = item.value;
  if (value.length > U32_MAX) throw new RangeError(`value of ${value.length} bytes exceeds the u32 length`);

  let payload = value;
  let compression = COMPRESSION_NONE;
  if (value.length > 0 && value.length >= options.compressMinBytes) {
    const asyncMin = options.asyncMinBytes ?? DEFAULT_ASYNC_MIN_BYTES;
    const packed = value.length >= asyncMin ? await compress(value) : compressSync(value);
    // Only keep lz4 when it is smaller; random or already-compressed bytes grow.
    if (packed.length < value.length) {
      payload = packed;
      compression = COMPRESSION_LZ4;
    }
  }

  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out.writeUInt8(FORMAT_VERSION, 0);
  out.writeUInt8(compression, 1);
  out.writeUInt32LE(item.flags, 2);
  out.writeUInt32LE(item.exptime, 6);
  out.writeUInt32LE(Math.floor(item.cas / TWO_32), 10);
  out.writeUInt32LE(item.cas >>> 0, 14);
  out.writeUInt32LE(value.length, 18);
  out.writeUInt32LE(crc32c(value), 22);
  out.writeUInt32LE(crc32cJs(out, 0, 0, HEADER_CRC_OFFSET), HEADER_CRC_OFFSET);
  payload.copy(out, HEADER_BYTES);
  return out;
}

/**
 * Reads and verifies the header only, without touching the payload: enough to
 * check exptime or cas before paying for decompression. Throws
 * RecordCorruptError when the header cannot be trusted.
 */
export function decodeRecordHeader(bytes: Buffer): RecordHeader {
  if (bytes.length < HEADER_BYTES) {
    throw corrupt(`record of ${bytes.length} bytes is shorter than the ${HEADER_BYTES}-byte header`, {
      length: bytes.length,
    });
  }
  const formatVersion = bytes.readUInt8(0);
  if (formatVersion !== FORMAT_VERSION) {
    throw corrupt(`record format version ${formatVersion} is not ${FORMAT_VERSION}`, { formatVersion });
  }
  const storedCrc = bytes.readUInt32LE(HEADER_CRC_OFFSET);
  const actualCrc = crc32cJs(bytes, 0, 0, HEADER_CRC_OFFSET);
  if (storedCrc !== actualCrc) {
    throw corrupt('record header checksum mismatch', { storedCrc, actualCrc });
  }
  const compressionByte = bytes.readUInt8(1);
  let compression: Compression;
  if (compressionByte === COMPRESSION_NONE) compression = 'none';
  else if (compressionByte === COMPRESSION_LZ4) compression = 'lz4';
  else throw corrupt(`unknown compression ${compressionByte}`, { compression: compressionByte });
  return {
    formatVersion,
    compression,
    flags: bytes.readUInt32LE(2),
    exptime: bytes.readUInt32LE(6),
    cas: bytes.readUInt32LE(10) * TWO_32 + bytes.readUInt32LE(14),
    originalLength: bytes.readUInt32LE(18),
    payloadLength: bytes.length - HEADER_BYTES,
  };
}

/**
 * Verifies and decodes a record. An uncompressed value is returned as a view
 * into `bytes` (no copy), so the caller must not reuse `bytes` afterwards.
 */
export async function decodeRecord(bytes: Buffer, options: DecodeOptions = {}): Promise<ItemRecord> {
  return decodeRecordInline(bytes, options);
}

/**
 * decodeRecord without a promise when none is needed: a raw value, or an lz4
 * one below asyncMinBytes, is decoded on the spot (an L2 hit of a 4 KiB value
 * then costs no microtask here); only a large lz4 value returns a Promise, as
 * it is decompressed on the libuv pool. Throws RecordCorruptError (or
 * rejects with it, for the pool case).
 */
export function decodeRecordInline(
  bytes: Buffer,
  options: DecodeOptions = {},
): ItemRecord | Promise<ItemRecord> {
  const header = decodeRecordHeader(bytes);
  const payload = bytes.subarray(HEADER_BYTES);
  const expected = header.originalLength;
  if (header.compression === 'lz4' && expected >= (options.asyncMinBytes ?? DEFAULT_ASYNC_MIN_BYTES)) {
    checkLz4Prefix(payload, expected);
    return uncompress(payload).then(
      (value) => checkedItem(bytes, header, value),
      (cause: unknown) => {
        throw corrupt('lz4 payload does not decompress', { payloadLength: payload.length }, cause);
      },
    );
  }
  return checkedItem(bytes, header, decodePayloadSync(header, payload));
}

/** decodeRecordInline with an lz4 value of any size decompressed on the spot: never a Promise. */
export function decodeRecordSync(bytes: Buffer): ItemRecord {
  const header = decodeRecordHeader(bytes);
  return checkedItem(bytes, header, decodePayloadSync(header, bytes.subarray(HEADER_BYTES)));
}

function checkedItem(bytes: Buffer, header: RecordHeader, value: Buffer): ItemRecord {
  const expected = header.originalLength;
  if (value.length !== expected) {
    throw corrupt(`lz4 payload inflated to ${value.length} bytes, header says ${expected}`, {
      inflatedLength: value.length,
      originalLength: expected,
    });
  }
  const storedCrc = bytes.readUInt32LE(22);
  const actualCrc = crc32c(value);
  if (storedCrc !== actualCrc) {
    throw corrupt('record value checksum mismatch', { storedCrc, actualCrc, length: value.length });
  }
  return { value, flags: header.flags, exptime: header.exptime, cas: header.cas };
}

function decodePayloadSync(header: RecordHeader, payload: Buffer): Buffer {
  const expected = header.originalLength;
  switch (header.compression) {
    case 'none':
      if (payload.length !== expected) {
        throw corrupt(`raw payload is ${payload.length} bytes, header says ${expected}`, {
          payloadLength: payload.length,
          originalLength: expected,
        });
      }
      return payload;
    case 'lz4':
      checkLz4Prefix(payload, expected);
      try {
        return uncompressSync(payload);
      } catch (cause) {
        throw corrupt('lz4 payload does not decompress', { payloadLength: payload.length }, cause);
      }
    default:
      return assertNever(header.compression);
  }
}

/**
 * lz4's own size prefix must match the header: a corrupt one would make the
 * decompressor allocate up to 4 GiB before failing.
 */
function checkLz4Prefix(payload: Buffer, expected: number): void {
  const prefixed = payload.length >= 4 ? payload.readUInt32LE(0) : -1;
  if (prefixed !== expected) {
    throw corrupt(`lz4 size prefix ${prefixed} does not match original length ${expected}`, {
      prefixed,
      originalLength: expected,
    });
  }
}

function checkU32(n: number, name: string): void {
  if (!Number.isInteger(n) || n < 0 || n > U32_MAX) throw new RangeError(`${name} must be a u32, got ${n}`);
}

function corrupt(message: string, context: Record<string, unknown>, cause?: unknown): RecordCorruptError {
  return new RecordCorruptError(
    `L2 record corrupt: ${message}`,
    context,
    cause === undefined ? undefined : { cause },
  );
}

function assertNever(x: never): never {
  throw new Error(`unhandled compression ${String(x)}`);
}
