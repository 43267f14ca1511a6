// The key spaces LevelStore keeps in one LevelDB, and the small fixed headers
// of their values. One DB, so a single atomic batch updates a record, both of
// its indexes and the totals together; a crash can never leave them apart.
//
//   0x00 "meta"                      -> meta (version, nextSeq, items, bytes, evictFromSeq)
//   0x00 "aux:" name                 -> a caller's small value (not counted, not evicted)
//   0x01 key                         -> seq u64, exptime u32, segment u32, offset u32, record length u32
//   0x02 seq u64 BE                  -> size u32, exptime u32, segment u32, key
//   0x03 exptime u32 BE, key         -> (empty)
//   0x04 segment u32 BE              -> written u64, live u64 (value-log usage)
// Big-endian so LevelDB's bytewise order is numeric order: the order index
// iterates oldest first, the expiry index soonest first. `size` is what the
// byte budget counts for the entry: key length + record length. The record
// itself is in the value log (value-log.ts) at segment/offset; `live` and
// `written` count whole log entries (LOG_ENTRY_HEADER_BYTES + size).

export const DATA_PREFIX = 0x01;
export const ORDER_PREFIX = 0x02;
export const EXPIRY_PREFIX = 0x03;
export const SEGMENT_PREFIX = 0x04;

export const META_KEY = Buffer.from([0x00, 0x6d, 0x65, 0x74, 0x61]);
/** Small named values outside the byte budget (callers' watermarks); clear() keeps them. */
export function auxKey(name: string): Buffer {
  return Buffer.concat([Buffer.from([0x00]), Buffer.from(`aux:${name}`, 'latin1')]);
}
export const DATA_START = Buffer.from([DATA_PREFIX]);
export const DATA_END = Buffer.from([DATA_PREFIX + 1]);
export const DATA_ENTRY_BYTES = 24;
const ORDER_HEADER_BYTES = 12;
const SEGMENT_USAGE_BYTES = 16;
// 2: records moved out of LevelDB into the value log.
export const META_VERSION = 2;
const META_BYTES = 33;
const TWO_32 = 0x1_0000_0000;
const U32_MAX = 0xffff_ffff;

/** Exclusive upper bound of the order index, for range reads. */
export const ORDER_END = Buffer.from([ORDER_PREFIX + 1]);
export const EXPIRY_START = Buffer.from([EXPIRY_PREFIX]);
export const SEGMENT_START = Buffer.from([SEGMENT_PREFIX]);
export const SEGMENT_END = Buffer.from([SEGMENT_PREFIX + 1]);

export interface StoreMeta {
  nextSeq: number;
  items: number;
  bytes: number;
  /** Every order entry below this seq is known to be gone; eviction starts here. */
  evictFromSeq: number;
}

/** Where a key's current record is, and what the indexes know of it. */
export interface DataEntry {
  seq: number;
  exptime: number;
  segment: number;
  /** Offset of the record in the segment file. */
  offset: number;
  recordLength: number;
}

export interface OrderEntry {
  size: number;
  exptime: number;
  segment: number;
  key: Buffer;
}

export interface SegmentUsage {
  /** Bytes of entries written to the segment. */
  written: number;
  /** Bytes of the entries the index points at. */
  live: number;
}

export function dataKey(key: Buffer): Buffer {
  const out = Buffer.allocUnsafe(1 + key.length);
  out[0] = DATA_PREFIX;
  key.copy(out, 1);
  return out;
}

export function orderKey(seq: number): Buffer {
  const out = Buffer.allocUnsafe(9);
  out[0] = ORDER_PREFIX;
  writeU64BE(out, seq, 1);
  return out;
}

export function seqOfOrderKey(orderKeyBytes: Buffer): number {
  return readU64BE(orderKeyBytes, 1);
}

export function expiryKey(exptime: number, key: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + key.length);
  out[0] = EXPIRY_PREFIX;
  out.writeUInt32BE(exptime, 1);
  key.copy(out, 5);
  return out;
}

/** Exclusive upper bound of expiry entries with exptime <= nowSeconds. */
export function expiryBoundAfter(nowSeconds: number): Buffer {
  if (nowSeconds >= U32_MAX) return Buffer.from([EXPIRY_PREFIX + 1]);
  const out = Buffer.allocUnsafe(5);
  out[0] = EXPIRY_PREFIX;
  out.writeUInt32BE(Math.max(0, Math.floor(nowSeconds)) + 1, 1);
  return out;
}

export function parseExpiryKey(bytes: Buffer): { exptime: number; key: Buffer } {
  return { exptime: bytes.readUInt32BE(1), key: bytes.subarray(5) };
}

export function segmentKey(segment: number): Buffer {
  const out = Buffer.allocUnsafe(5);
  out[0] = SEGMENT_PREFIX;
  out.writeUInt32BE(segment, 1);
  return out;
}

export function segmentOfKey(bytes: Buffer): number {
  return bytes.readUInt32BE(1);
}

export function encodeDataEntry(entry: DataEntry): Buffer {
  const out = Buffer.allocUnsafe(DATA_ENTRY_BYTES);
  writeU64BE(out, entry.seq, 0);
  out.writeUInt32BE(entry.exptime, 8);
  out.writeUInt32BE(entry.segment, 12);
  out.writeUInt32BE(entry.offset, 16);
  out.writeUInt32BE(entry.recordLength, 20);
  return out;
}

/** Undefined when the entry is not a data entry's size (damaged on disk). */
export function decodeDataEntry(entry: Buffer): DataEntry | undefined {
  if (entry.length !== DATA_ENTRY_BYTES) return undefined;
  return {
    seq: readU64BE(entry, 0),
    exptime: entry.readUInt32BE(8),
    segment: entry.readUInt32BE(12),
    offset: entry.readUInt32BE(16),
    recordLength: entry.readUInt32BE(20),
  };
}

export function encodeOrderEntry(size: number, exptime: number, segment: number, key: Buffer): Buffer {
  const out = Buffer.allocUnsafe(ORDER_HEADER_BYTES + key.length);
  out.writeUInt32BE(size, 0);
  out.writeUInt32BE(exptime, 4);
  out.writeUInt32BE(segment, 8);
  key.copy(out, ORDER_HEADER_BYTES);
  return out;
}

export function decodeOrderEntry(value: Buffer): OrderEntry | undefined {
  if (value.length < ORDER_HEADER_BYTES) return undefined;
  return {
    size: value.readUInt32BE(0),
    exptime: value.readUInt32BE(4),
    segment: value.readUInt32BE(8),
    key: value.subarray(ORDER_HEADER_BYTES),
  };
}

export function encodeSegmentUsage(usage: SegmentUsage): Buffer {
  const out = Buffer.allocUnsafe(SEGMENT_USAGE_BYTES);
  writeU64BE(out, usage.written, 0);
  writeU64BE(out, usage.live, 8);
  return out;
}

export function decodeSegmentUsage(value: Buffer): SegmentUsage | undefined {
  if (value.length !== SEGMENT_USAGE_BYTES) return undefined;
  return { written: readU64BE(value, 0), live: readU64BE(value, 8) };
}

export function encodeMeta(meta: StoreMeta): Buffer {
  const out = Buffer.allocUnsafe(META_BYTES);
  out[0] = META_VERSION;
  writeU64BE(out, meta.nextSeq, 1);
  writeU64BE(out, meta.items, 9);
  writeU64BE(out, meta.bytes, 17);
  writeU64BE(out, meta.evictFromSeq, 25);
  return out;
}

/** The format version a meta record was written with, or undefined when it is not one. */
export function metaVersion(bytes: Buffer): number | undefined {
  return bytes.length === META_BYTES ? bytes[0] : undefined;
}

/**
 * Undefined when the bytes are not a meta record this version can read.
 * `olderToo` also reads version 1 (records inside LevelDB), whose meta has
 * the same layout: enough to clear such a store while keeping seqs rising.
 */
export function decodeMeta(bytes: Buffer, olderToo = false): StoreMeta | undefined {
  const version = metaVersion(bytes);
  if (version !== META_VERSION && !(olderToo && version === 1)) return undefined;
  return {
    nextSeq: readU64BE(bytes, 1),
    items: readU64BE(bytes, 9),
    bytes: readU64BE(bytes, 17),
    evictFromSeq: readU64BE(bytes, 25),
  };
}

// Numbers, not bigint: seqs and byte totals stay far below 2^53 and plain
// numbers keep the per-write path free of BigInt allocation.
function writeU64BE(out: Buffer, n: number, offset: number): void {
  out.writeUInt32BE(Math.floor(n / TWO_32), offset);
  out.writeUInt32BE(n >>> 0, offset + 4);
}

function readU64BE(bytes: Buffer, offset: number): number {
  return bytes.readUInt32BE(offset) * TWO_32 + bytes.readUInt32BE(offset + 4);
}
