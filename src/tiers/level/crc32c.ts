// CRC32C (Castagnoli), the checksum L2 records carry so a flipped bit on disk
// is caught before a corrupt value reaches a client. Node 20's zlib has no
// crc32 of any kind. Long inputs go to @node-rs/crc32 (SSE4.2 / ARMv8 CRC
// instructions, prebuilt per platform like lz4-napi): ~0.7 us for 4 KiB
// against ~2.8 us here, and every L2 hit checks one value (bench/micro/
// record-codec.mjs). Short ones (the 26-byte record header) stay in JS, where
// the native call's own overhead would cost more than it saves; so does every
// input where the native package could not be loaded.
//
// The JS version is table-driven: slice-by-8 processes eight bytes per step
// with eight 256-entry tables, several times faster in V8 than the one-table
// byte loop and still only 8 KiB of tables. Tables are Int32Array, not
// Uint32Array: values above 2^31 would leave V8's small-integer fast path and
// roughly halve throughput.

import { createRequire } from 'node:module';

type Crc32c = (bytes: Uint8Array, crc?: number) => number;

/** Below this many bytes the JS loop beats a native call (measured: ~180 ns per call, ~55 ns for 26 bytes in JS). */
export const NATIVE_MIN_BYTES = 256;

/** The native implementation, or undefined where its prebuilt binary is missing. */
export const nativeCrc32c: Crc32c | undefined = loadNative();

function loadNative(): Crc32c | undefined {
  try {
    const loaded = createRequire(import.meta.url)('@node-rs/crc32') as { crc32c?: unknown };
    return typeof loaded.crc32c === 'function' ? (loaded.crc32c as Crc32c) : undefined;
  } catch {
    return undefined;
  }
}

const POLY_REFLECTED = 0x82f63b78;

// Module-level bindings, not an array indexed per call: V8 keeps them as
// constants in the hot loop.
const [t0, t1, t2, t3, t4, t5, t6, t7] = buildTables();

type Tables = [
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
];

function buildTables(): Tables {
  const tables = Array.from({ length: 8 }, () => new Int32Array(256));
  const base = tables[0]!;
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY_REFLECTED : c >>> 1;
    base[n] = c;
  }
  // Table k advances a byte's contribution by k further zero bytes.
  for (let k = 1; k < 8; k++) {
    const prev = tables[k - 1]!;
    const cur = tables[k]!;
    for (let n = 0; n < 256; n++) {
      const c = prev[n]!;
      cur[n] = base[c & 0xff]! ^ (c >>> 8);
    }
  }
  return tables as Tables;
}

/**
 * CRC32C of `bytes`. Pass a previous result as `crc` to continue a running
 * checksum over several buffers: crc32c(b, crc32c(a)) === crc32c(a ++ b).
 */
export function crc32c(bytes: Uint8Array, crc = 0): number {
  if (nativeCrc32c !== undefined && bytes.length >= NATIVE_MIN_BYTES) return nativeCrc32c(bytes, crc);
  return crc32cJs(bytes, crc);
}

/**
 * The table-driven implementation (exported for tests and the fallback), of
 * bytes[start, end): a record's 26-byte header is checked in place, without
 * a view of it.
 */
export function crc32cJs(bytes: Uint8Array, crc = 0, start = 0, end = bytes.length): number {
  let c = ~crc;
  let i = start;
  const n = end;
  const end8 = n - ((n - start) & 7);
  while (i < end8) {
    const lo = c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    const hi = bytes[i + 4]! | (bytes[i + 5]! << 8) | (bytes[i + 6]! << 16) | (bytes[i + 7]! << 24);
    c =
      t7[lo & 0xff]! ^
      t6[(lo >>> 8) & 0xff]! ^
      t5[(lo >>> 16) & 0xff]! ^
      t4[lo >>> 24]! ^
      t3[hi & 0xff]! ^
      t2[(hi >>> 8) & 0xff]! ^
      t1[(hi >>> 16) & 0xff]! ^
      t0[hi >>> 24]!;
    i += 8;
  }
  while (i < n) {
    c = t0[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
    i++;
  }
  return ~c >>> 0;
}
