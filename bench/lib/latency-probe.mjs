// What a client sees of a server's stalls: a worker thread keeps one `version` round trip in
// flight on its own connection, one every `intervalMs`, and records each round trip. A stalled
// event loop (blocked, or descheduled by the OS) answers late, whichever the cause. The probe
// lives in a worker so the bench's own loader, on the main thread, cannot delay its timestamps
// (both still share the bench's core; a memcached run under the same probe is the control).
// This file is also the worker's script.

import net from 'node:net';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

/**
 * @param {number} port
 * @param {{ host?: string, intervalMs?: number }} [opts]
 * @returns {Promise<{ take(): Promise<{ count: number, worstMs: number, p99Ms: number, medianMs: number }>,
 *   stop(): Promise<void> }>}
 */
export async function startLatencyProbe(port, opts = {}) {
  const worker = new Worker(new URL(import.meta.url), {
    workerData: { host: opts.host ?? '127.0.0.1', port, intervalMs: opts.intervalMs ?? 2 },
  });
  const next = () =>
    new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  await next(); // connected
  return {
    /** Round trips completed since the last take (or the start), then starts a new phase. */
    async take() {
      const reply = next();
      worker.postMessage('take');
      return reply;
    },
    async stop() {
      await worker.terminate();
    },
  };
}

if (!isMainThread) {
  const { host, port, intervalMs } = workerData;
  const socket = net.connect({ host, port, noDelay: true });
  let rtts = [];
  let sentAt = 0;
  let text = '';
  const send = () => {
    sentAt = performance.now();
    socket.write('version\r\n');
  };
  socket.on('data', (d) => {
    const now = performance.now();
    text += d.toString('latin1');
    if (!text.endsWith('\r\n')) return;
    text = '';
    rtts.push(now - sentAt);
    setTimeout(send, Math.max(0, sentAt + intervalMs - now));
  });
  socket.once('connect', () => {
    parentPort.postMessage('connected');
    send();
  });
  socket.on('error', (e) => {
    throw e;
  });
  parentPort.on('message', () => {
    const sorted = Float64Array.from(rtts).sort();
    const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    parentPort.postMessage({
      count: sorted.length,
      worstMs: sorted.at(-1) ?? 0,
      p99Ms: at(0.99),
      medianMs: at(0.5),
    });
    rtts = [];
  });
}
