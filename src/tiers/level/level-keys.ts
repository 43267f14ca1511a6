// The key spaces LevelStore keeps in one LevelDB, and the small fixed headers
// of their values. One DB, so a single atomic batch updates a record, both of
// its indexes and the totals together; a crash can never leave them apart.
//
//   0x00 "meta"                      -> meta (version, nextSeq, items, bytes, evictFromSeq)
//   0x00 "aux:" name                 -> a caller's small value (not counted, not evicted)
//   0x01 key                         -> seq u64 BE, exptime u32 BE, record bytes
//   0x02 seq u64 BE                  -> size u32 BE, exptime u32 BE, key
//   0x03 exptime u32 BE, key         -> (empty)
// Big-endian so LevelDB's bytewise order is numeric order: the order index
// iterates oldest first, the expiry index soonest first. `size` is what the
// byte budget counts for the entry: key length + record length.

export const DATA_PREFIX = 0x01;
export const ORDER_PREFIX = 0x02;
export const EXPIRY_PREFIX = 0x03;

export const META_KEY = Buffer.from([0x00, 0x6d, 0x65, 0x74, 0x61]);
/** Small named values outside the byte budget (callers' watermarks); clear() keeps them. */
export function auxKey(name: string): Buffer {
  return Buffer.concat([Buffer.from([0x00]), Buffer.from(`aux:${name}`, 'latin1')]);
}
export const DATA_START = Buffer.from([DATA_PREFIX]);
export const DATA_END = Buffer.from([DATA_PREFIX + 1]);
export const DATA_HEADER_BYTES = 12;
const ORDER_HEADER_BYTES = 8;
const META_VERSION = 1;
const META_BYTES = 33;
const TWO_32 = 0x1_0000_0000;
const U32_MAX = 0xffff_ffff;

/** Exclusive upper bound of the order index, for range reads. */
export const ORDER_END = Buffer.from([ORDER_PREFIX + 1]);
export const EXPIRY_START = Buffer.from([EXPIRY_PREFIX]);

export interface StoreMeta {
  nextSeq: number;
  items: number;
  bytes: number;
  /** Every order entry below this seq is known to be gone; eviction starts here. */
  evictFromSeq: number;
}

export interface DataEntryHeader {
  seq: number;
  exptime: number;
  recordLength: number;
}

export interface OrderEntry {
  size: number;
  exptime: number;
  key: Buffer;
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

export function encodeDataEntry(seq: number, exptime: number, record: Buffer): Buffer {
  const out = Buffer.allocUnsafe(DATA_HEADER_BYTES + record.length);
  writeU64BE(out, seq, 0);
  out.writeUInt32BE(exptime, 8);
  record.copy(out, DATA_HEADER_BYTES);
  return out;
}

/** Undefined when the entry is too short to carry a header (damaged on disk). */
export function decodeDataEntryHeader(entry: Buffer): DataEntryHeader | undefined {
  if (entry.length < DATA_HEADER_BYTES) return undefined;
  return {
    seq: readU64BE(entry, 0),
    exptime: entry.readUInt32BE(8),
    recordLength: entry.length - DATA_HEADER_BYTES,
  };
}

export function encodeOrderEntry(size: number, exptime: number, key: Buffer): Buffer {
  const out = Buffer.allocUnsafe(ORDER_HEADER_BYTES + key.length);
  out.writeUInt32BE(size, 0);
  out.writeUInt32BE(exptime, 4);
  key.copy(out, ORDER_HEADER_BYTES);
  return out;
}

export function decodeOrderEntry(value: Buffer): OrderEntry | undefined {
  if (value.length < ORDER_HEADER_BYTES) return undefined;
  return {
    size: value.readUInt32BE(0),
    exptime: value.readUInt32BE(4),
    key: value.subarray(ORDER_HEADER_BYTES),
  };
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

/** Undefined when the bytes are not a meta record this version can read. */
export function decodeMeta(bytes: Buffer): StoreMeta | undefined {
  if (bytes.length !== META_BYTES || bytes[0] !== META_VERSION) return undefined;
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
