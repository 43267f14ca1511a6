// Pre-built request streams for the load generator. A pool is one contiguous buffer holding
// `count` requests back to back, with an offsets column, so sending the next k requests of a
// connection is one zero-copy `subarray` and one socket write. The sequence comes from a seeded
// PRNG, so every target in a run sees the same requests in the same order.

export const GET = 0;
export const SET = 1;

/** Keys look like memcached's own benchmarks' and bench/memory.mjs's: `key:0000000042`. */
export function keyName(i) {
  return `key:${String(i).padStart(10, '0')}`;
}

/** mulberry32: tiny, fast and good enough to pick keys. */
export function makeRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const POOL_MAX_BYTES = 32 * 1024 * 1024;
const POOL_MAX_REQUESTS = 65_536;
const CRLF = Buffer.from('\r\n');

/**
 * @param {import('./scenarios.mjs').Scenario} scenario
 * @returns {{ buf: Buffer, offsets: Int32Array, kinds: Uint8Array, keys: Uint8Array, count: number, views: Map<number, Buffer[]> }}
 *   kinds[i] is GET or SET; keys[i] the number of keys a get asks for (0 for a set).
 */
export function buildPool(scenario, seed = 1) {
  const protocol = scenario.protocol;
  switch (protocol) {
    case 'text':
      return buildTextPool(scenario, seed);
    default:
      throw new Error(`no request builder for protocol ${String(protocol)}`);
  }
}

function buildTextPool(scenario, seed) {
  const random = makeRandom(seed);
  const value = Buffer.alloc(scenario.valueBytes, 'x');
  const setBytes = `set ${keyName(0)} 0 0 ${scenario.valueBytes}\r\n`.length + scenario.valueBytes + 2;
  const getBytes = 4 + scenario.keysPerGet * (keyName(0).length + 1) + 2;
  const meanBytes = scenario.getFraction * getBytes + (1 - scenario.getFraction) * setBytes;
  // At least one request per key where the byte cap allows: a uniform read over s6's 262,144 keys
  // must not shrink to a read over a 65,536-request subset of them.
  const maxRequests = Math.max(POOL_MAX_REQUESTS, scenario.keyCount);
  const count = Math.max(1024, Math.min(maxRequests, Math.floor(POOL_MAX_BYTES / meanBytes)));
  const parts = [];
  const offsets = new Int32Array(count + 1);
  const kinds = new Uint8Array(count);
  const keys = new Uint8Array(count);
  let at = 0;
  const pick = () => keyName(Math.floor(random() * scenario.keyCount));
  for (let i = 0; i < count; i++) {
    offsets[i] = at;
    let req;
    if (random() < scenario.getFraction) {
      let line = 'get';
      for (let k = 0; k < scenario.keysPerGet; k++) line += ` ${pick()}`;
      req = Buffer.from(`${line}\r\n`);
      kinds[i] = GET;
      keys[i] = scenario.keysPerGet;
    } else {
      req = Buffer.concat([Buffer.from(`set ${pick()} 0 0 ${scenario.valueBytes}\r\n`), value, CRLF]);
      kinds[i] = SET;
    }
    parts.push(req);
    at += req.length;
  }
  offsets[count] = at;
  // views: the generator's cache of request runs as Buffers, filled as it sends them.
  return { buf: Buffer.concat(parts, at), offsets, kinds, keys, count, views: new Map() };
}
