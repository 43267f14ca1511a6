// Streams a large number of `set ... noreply` commands into one server connection, for
// memory.mjs, l2-hit-ratio.mjs and load.mjs's pre-load. Memory stays bounded on both sides: commands are generated chunk by chunk, the
// socket's backpressure is honoured, and every `syncEveryBytes` a `version` is sent whose reply
// proves the server consumed everything before it; at most `maxSyncsInFlight` may be
// outstanding, which caps unprocessed data at roughly that many sync intervals.

import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { keyName } from './request-pool.mjs';
import { HOST } from './servers.mjs';
import { TextReplyScanner } from './text-reply-scanner.mjs';

/**
 * The bytes of item i's value, for a value set: `constant` (every value the same byte, what LZ4
 * shrinks to almost nothing), `compressible` (a repeated 64-byte sentence at a shifting offset)
 * or `incompressible` (windows of random bytes, so LZ4 saves nothing). Each returns views into one
 * shared buffer: no allocation per item.
 * @param {'constant' | 'compressible' | 'incompressible'} name
 * @param {number} valueBytes
 * @returns {(i: number) => Buffer}
 */
export function valueSet(name, valueBytes) {
  switch (name) {
    case 'constant': {
      const value = Buffer.alloc(valueBytes, 'v');
      return () => value;
    }
    case 'compressible': {
      const unit = Buffer.from('the quick brown fox jumps over the lazy dog 0123456789 abcdefgh\n');
      const block = Buffer.alloc(valueBytes + 64);
      for (let at = 0; at < block.length; at += unit.length) unit.copy(block, at);
      return (i) => block.subarray(i % 64, (i % 64) + valueBytes);
    }
    case 'incompressible': {
      const pool = randomBytes(Math.max(8 * 1024 * 1024, 2 * valueBytes));
      return (i) => {
        const at = (i * 4099) % (pool.length - valueBytes);
        return pool.subarray(at, at + valueBytes);
      };
    }
    default:
      throw new Error(`unknown value set ${String(name)}; use constant, compressible or incompressible`);
  }
}

/** One `set <key> 0 0 <n> noreply` per item, keys key:0000000000 upward. */
export function setNoreplyChunk(first, count, valueAt) {
  const parts = [];
  const tail = Buffer.from('\r\n');
  for (let i = first; i < first + count; i++) {
    const value = valueAt(i);
    parts.push(Buffer.from(`set ${keyName(i)} 0 0 ${value.length} noreply\r\n`), value, tail);
  }
  return Buffer.concat(parts);
}

/**
 * @param {{ port: number, items: number, valueBytes: number,
 *   values?: 'constant' | 'compressible' | 'incompressible', itemsPerChunk?: number,
 *   syncEveryBytes?: number, maxSyncsInFlight?: number, syncPauseMs?: number }} opts
 *   values: see valueSet (constant). syncPauseMs: after each sync, wait for every reply and then
 *   this long, so a server that stores asynchronously (memcached's extstore flusher) keeps up
 * @returns {Promise<{ seconds: number, bytesSent: number }>}
 */
export async function bulkLoad(opts) {
  const itemsPerChunk = opts.itemsPerChunk ?? 1000;
  const syncEveryBytes = opts.syncEveryBytes ?? 4 * 1024 * 1024;
  const maxSyncsInFlight = opts.maxSyncsInFlight ?? 4;
  const syncPauseMs = opts.syncPauseMs ?? 0;
  const valueAt = valueSet(opts.values ?? 'constant', opts.valueBytes);
  const socket = net.connect({ host: HOST, port: opts.port, noDelay: true });
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });

  let acked = 0;
  let sent = 0;
  let text = '';
  let wake = null;
  let failure = null;
  socket.on('data', (d) => {
    text += d.toString('latin1');
    let nl = text.indexOf('\n');
    while (nl >= 0) {
      const line = text.slice(0, nl + 1);
      text = text.slice(nl + 1);
      // noreply silences STORED; anything else but VERSION (e.g. SERVER_ERROR out of memory) is
      // something the report must show rather than a count to skew.
      if (line.startsWith('VERSION')) acked++;
      else failure ??= new Error(`unexpected reply while loading: ${line.trim()}`);
      nl = text.indexOf('\n');
    }
    wake?.();
  });
  socket.on('drain', () => wake?.());
  socket.on('error', (e) => {
    failure ??= e;
    wake?.();
  });
  const waitUntil = async (cond) => {
    while (!cond() && failure === null) {
      await new Promise((resolve) => {
        wake = resolve;
      });
      wake = null;
    }
    if (failure !== null) throw failure;
  };

  const started = performance.now();
  let bytesSent = 0;
  let sinceSync = 0;
  for (let first = 0; first < opts.items; first += itemsPerChunk) {
    const chunk = setNoreplyChunk(first, Math.min(itemsPerChunk, opts.items - first), valueAt);
    bytesSent += chunk.length;
    sinceSync += chunk.length;
    const more = socket.write(chunk);
    if (sinceSync >= syncEveryBytes) {
      socket.write('version\r\n');
      sent++;
      sinceSync = 0;
      if (syncPauseMs > 0) {
        await waitUntil(() => acked === sent);
        await new Promise((resolve) => setTimeout(resolve, syncPauseMs));
      } else {
        await waitUntil(() => sent - acked < maxSyncsInFlight);
      }
    }
    if (!more) await waitUntil(() => !socket.writableNeedDrain);
  }
  socket.write('version\r\n');
  sent++;
  await waitUntil(() => acked === sent);
  const seconds = (performance.now() - started) / 1000;
  socket.destroy();
  return { seconds, bytesSent };
}

/**
 * Pipelines one `get` per key and counts the VALUE replies: how many of `keys` the server holds.
 * @param {number} port
 * @param {string[]} keys
 */
export async function countHits(port, keys) {
  const scanner = new TextReplyScanner();
  const socket = net.connect({ host: HOST, port, noDelay: true });
  let replies = 0;
  await new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.on('data', (d) => {
      replies += scanner.feed(d);
      if (replies >= keys.length) resolve();
    });
    socket.write(keys.map((k) => `get ${k}\r\n`).join(''));
  });
  socket.destroy();
  return scanner.values;
}
