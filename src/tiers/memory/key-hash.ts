// Key bytes for the L1 index: 32-bit MurmurHash3 (x86_32) and equality
// against a key stored in a page. Keys stay bytes end to end: turning them
// into strings would allocate per lookup and mangle binary keys.
// The result is signed (int32): an unsigned value >= 2^31 is not a small
// integer to V8 and would be boxed on every call (~8 bytes of garbage per lookup).

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const SEED = 0x9747b28c;

export function keyHash(key: Uint8Array): number {
  return keyHashAt(key, 0, key.length);
}

/** keyHash of buf[start, end), without a view of it. */
export function keyHashAt(key: Uint8Array, start: number, end: number): number {
  const length = end - start;
  const blocks = start + (length & ~3);
  let h = SEED;
  let i = start;
  for (; i < blocks; i += 4) {
    let k = key[i]! | (key[i + 1]! << 8) | (key[i + 2]! << 16) | (key[i + 3]! << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, C2);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = length & 3;
  if (rest > 0) {
    let k = key[i]!;
    if (rest > 1) k |= key[i + 1]! << 8;
    if (rest > 2) k |= key[i + 2]! << 16;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, C2);
  }
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/**
 * buf[keyStart, keyEnd) equals page[start, start + keyEnd - keyStart). A
 * plain loop, not Buffer#compare: for keys of tens of bytes the native call's
 * argument checks cost more than the compare (find ~35% faster, measured).
 */
export function keyEqualsAt(
  buf: Uint8Array,
  keyStart: number,
  keyEnd: number,
  page: Uint8Array,
  start: number,
): boolean {
  const offset = start - keyStart;
  for (let i = keyStart; i < keyEnd; i++) {
    if (buf[i] !== page[offset + i]) return false;
  }
  return true;
}
