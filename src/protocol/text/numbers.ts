// Decimal token readers that accept and reject exactly what memcached 1.6.18's
// safe_strtoul / safe_strtol / safe_strtoull (util.c) do on 64-bit Linux.
// Those wrap C's strtoul/strtol/strtoull, so they inherit C's quirks: leading
// whitespace and a sign are allowed, parsing stops at the first non-digit and
// only whitespace may follow it, and the 64-bit result is then narrowed to
// 32 bits by plain assignment. Observed on the wire (see numbers.test.ts):
// flags `4294967296` -> 0, `-1` -> rejected, `-9223372036854775809` -> 4294967295;
// length `4294967297` -> 1; exptime `9223372036854775807` -> -1.
// The common case (1..9 plain digits) never touches BigInt.

const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const PLUS = 0x2b;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;

const TWO_POW_63 = 1n << 63n;
const TWO_POW_64 = 1n << 64n;

/** C isspace() in the "C" locale: space, \t, \n, \v, \f, \r. */
function isCSpace(c: number): boolean {
  return c === SPACE || (c >= TAB && c <= CR);
}

/** 1..9 plain digits as a number (cannot overflow 32 bits), else -1. */
function plainDigits(buf: Buffer, start: number, end: number): number {
  const length = end - start;
  if (length < 1 || length > 9) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c < ZERO || c > NINE) return -1;
    value = value * 10 + (c - ZERO);
  }
  return value;
}

interface CScan {
  negative: boolean;
  magnitude: bigint;
}

/**
 * The strto*() scan: skip whitespace, optional sign, at least one digit; the byte after the digits
 * must be whitespace or the end of the token (memcached's `xisspace(*endptr)` check).
 */
function scan(buf: Buffer, start: number, end: number): CScan | undefined {
  let i = start;
  while (i < end && isCSpace(buf[i]!)) i++;
  let negative = false;
  if (i < end && (buf[i] === PLUS || buf[i] === MINUS)) {
    negative = buf[i] === MINUS;
    i++;
  }
  const digits = i;
  while (i < end && buf[i]! >= ZERO && buf[i]! <= NINE) i++;
  if (i === digits) return undefined;
  if (i < end && !isCSpace(buf[i]!)) return undefined;
  return { negative, magnitude: BigInt(buf.toString('latin1', digits, i)) };
}

/** strtoull plus safe_strtoull's "looks negative and has a '-'" rejection. */
function unsigned64(buf: Buffer, start: number, end: number): bigint | undefined {
  const scanned = scan(buf, start, end);
  if (scanned === undefined || scanned.magnitude >= TWO_POW_64) return undefined; // ERANGE
  const value = scanned.negative ? (TWO_POW_64 - scanned.magnitude) % TWO_POW_64 : scanned.magnitude;
  // safe_strtoul(l) only looks for a '-' (anywhere in the token) when the value is negative as signed.
  if (value >= TWO_POW_63 && buf.subarray(start, end).includes(MINUS)) return undefined;
  return value;
}

/** safe_strtoul into a uint32_t: 64-bit checks, then truncation. Flags, verbosity, cache_memlimit. */
export function parseU32(buf: Buffer, start: number, end: number): number | undefined {
  const fast = plainDigits(buf, start, end);
  if (fast >= 0) return fast;
  const value = unsigned64(buf, start, end);
  return value === undefined ? undefined : Number(value & 0xffffffffn);
}

/** safe_strtol into an int32_t: a 64-bit range check, then truncation. Exptimes and data lengths. */
export function parseI32(buf: Buffer, start: number, end: number): number | undefined {
  const fast = plainDigits(buf, start, end);
  if (fast >= 0) return fast;
  const scanned = scan(buf, start, end);
  if (scanned === undefined) return undefined;
  const value = scanned.negative ? -scanned.magnitude : scanned.magnitude;
  if (value < -TWO_POW_63 || value >= TWO_POW_63) return undefined; // ERANGE
  return Number(BigInt.asIntN(32, value));
}

/** safe_strtoull: incr/decr deltas and cas uniques. */
export function parseU64(buf: Buffer, start: number, end: number): bigint | undefined {
  const fast = plainDigits(buf, start, end);
  if (fast >= 0) return BigInt(fast);
  return unsigned64(buf, start, end);
}
