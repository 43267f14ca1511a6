// A closed-loop read load for memory.mjs: `connections` sockets each keep `depth` single-key
// gets of uniformly random loaded keys in flight (a batch is written once the previous one is
// answered) for `seconds`. Requests come from one pre-built buffer, so the loader does no
// per-request formatting while it runs.

import net from 'node:net';
import { keyName, makeRandom } from './request-pool.mjs';
import { HOST } from './servers.mjs';
import { TextReplyScanner } from './text-reply-scanner.mjs';

const POOL_REQUESTS = 65_536;

/**
 * @param {{ port: number, items: number, seconds: number, connections?: number, depth?: number }} opts
 * @returns {Promise<{ gets: number, hits: number, seconds: number }>}
 */
export async function readLoad(opts) {
  const connections = opts.connections ?? 4;
  const depth = opts.depth ?? 16;
  const random = makeRandom(11);
  const lines = Array.from(
    { length: POOL_REQUESTS },
    () => `get ${keyName(Math.floor(random() * opts.items))}\r\n`,
  );
  const pool = Buffer.from(lines.join(''), 'latin1');
  // Every request has the same length (keys are key:%010d).
  const requestBytes = lines[0].length;
  const batches = Math.floor(POOL_REQUESTS / depth);

  let gets = 0;
  let hits = 0;
  let stopping = false;
  const started = performance.now();
  const deadline = started + opts.seconds * 1000;
  const runOne = (index) =>
    new Promise((resolve, reject) => {
      const scanner = new TextReplyScanner();
      const socket = net.connect({ host: HOST, port: opts.port, noDelay: true });
      let batch = index * 997;
      let pending = 0;
      const sendBatch = () => {
        const at = (batch++ % batches) * depth * requestBytes;
        pending = depth;
        socket.write(pool.subarray(at, at + depth * requestBytes));
      };
      socket.once('connect', sendBatch);
      socket.once('error', reject);
      socket.on('data', (d) => {
        const before = scanner.values;
        const done = scanner.feed(d);
        hits += scanner.values - before;
        gets += done;
        pending -= done;
        if (pending > 0) return;
        if (stopping || performance.now() >= deadline) {
          stopping = true;
          socket.destroy();
          resolve();
        } else {
          sendBatch();
        }
      });
    });
  await Promise.all(Array.from({ length: connections }, (_, i) => runOne(i)));
  return { gets, hits, seconds: (performance.now() - started) / 1000 };
}
