// incr/decr read the stored value the way memcached's safe_strtoull does:
// leading white space, at least one digit, then white space or the end of
// the value (memcached's data always ends in "\r\n", which counts as white
// space). A value like "7 " (left by an in-place decr) is still a number; a
// value of white space only is not (checked against memcached 1.6.18).

const U64_MAX = 0xffff_ffff_ffff_ffffn;
const U64_MOD = 0x1_0000_0000_0000_0000n;

function isSpace(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);
}

/** The counter in `value`, or undefined when memcached would call it non-numeric. */
export function readCounter(value: Buffer): bigint | undefined {
  const end = value.length;
  if (end === 0) return undefined;
  let i = 0;
  while (i < end && isSpace(value[i]!)) i++;
  let negative = false;
  if (i < end && (value[i] === 0x2b || value[i] === 0x2d)) {
    negative = value[i] === 0x2d;
    i++;
  }
  const digitsStart = i;
  let result = 0n;
  while (i < end) {
    const byte = value[i]!;
    if (byte < 0x30 || byte > 0x39) break;
    result = result * 10n + BigInt(byte - 0x30);
    if (result > U64_MAX) return undefined; // strtoull: ERANGE
    i++;
  }
  // strtoull converted nothing (endptr == str): safe_strtoull says non-numeric.
  if (i === digitsStart) return undefined;
  if (i < end && !isSpace(value[i]!)) return undefined;
  if (negative) {
    // strtoull negates; safe_strtoull rejects a '-' that yields a "negative" number.
    const negated = (U64_MOD - result) % U64_MOD;
    if (negated > 0x7fff_ffff_ffff_ffffn) return undefined;
    return negated;
  }
  return result;
}

export function applyDelta(current: bigint, delta: bigint, increment: boolean): bigint {
  if (increment) return (current + delta) % U64_MOD;
  return current < delta ? 0n : current - delta;
}
