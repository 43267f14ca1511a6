// One measured round of closed-loop load against one server: N raw sockets, each sending `depth`
// requests from a pre-built pool (request-pool.mjs) as one zero-copy write and the next `depth`
// once all their replies are in, as redis-benchmark's -P does. (Refilling each reply as it
// lands was tried first: the batches then decay to ~2.6 requests per read at depth 16, so the
// server never sees a real pipeline.) Latency is per request, from the write of its batch to
// the read that completed it, in microseconds, in an HDR histogram.
//
// Why our own generator and not memcaslap (installed alongside memcached): memcaslap cannot
// express a fixed key set pre-loaded with a get/set mix at a set pipeline depth, reports
// average latency only (no p99/p99.9), and prints text we would have to scrape; its multi-get
// and binary modes drive different request mixes. This generator sends the exact same request
// sequence to both servers and measures both the same way. It is one Node process on one
// core, so it can be the bottleneck: every round reports its CPU share and the server's, and
// load.mjs flags rounds where the server was not the busier of the two.
//
// To leave the server the bottleneck, the generator spends as little per request as Node allows:
// replies land in one buffer per connection (net's `onread`, no stream machinery), requests go
// to the socket's libuv handle as pre-made views of the pool (no Writable, no view per write),
// and the scanner reads the buffer in place. Even so, at depth 1 a request costs the generator
// a read and a write, as it costs the server, and the kernel's part of those is most of either
// side's cost: against memcached in s1 the generator still runs at 96-97% of its core (98%
// before this), so memcached's s1 figures are partly the generator's limit.

import net from 'node:net';
import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import { loadDirectIo } from '../../dist/server/direct-transport.js';
import { GET } from './request-pool.mjs';
import { HOST, readCpuSeconds, readHostBusySeconds } from './servers.mjs';
import { TextReplyScanner } from './text-reply-scanner.mjs';

const READ_BUFFER_BYTES = 256 * 1024;
const DRAIN_TIMEOUT_MS = 5_000;

// The layer under net.Socket, as the server's direct transport loads it (shape-checked once;
// null where this Node lacks it, and then the generator writes through net.Socket): a write the
// kernel takes whole finishes inside writeBuffer, with nothing to clean up afterwards.
const io = loadDirectIo();

function makeScanner(protocol) {
  switch (protocol) {
    case 'text':
      return new TextReplyScanner();
    default:
      throw new Error(`no reply scanner for protocol ${String(protocol)}`);
  }
}

/**
 * @param {{ port: number, pid: number, scenario: import('./scenarios.mjs').Scenario,
 *   pool: ReturnType<typeof import('./request-pool.mjs').buildPool>,
 *   warmupMs: number, durationMs: number, seed: number }} opts
 */
export async function runRound(opts) {
  const { scenario, pool } = opts;
  const histogram = hdr.build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 });
  const m = {
    measuring: false,
    stopping: false,
    ops: 0,
    reads: 0,
    writes: 0,
    sets: 0,
    getKeys: 0,
    hits: 0,
    inflight: 0,
  };
  let failure = null;
  let onIdle = null;
  const conns = [];

  // Spread the connections over the pool so they do not send the same keys in lock-step.
  const step = Math.floor(pool.count / scenario.connections);
  for (let c = 0; c < scenario.connections; c++) {
    conns.push(openConnection((c * step + opts.seed) % pool.count));
  }
  try {
    await Promise.all(conns.map((c) => c.ready));
  } catch (err) {
    m.stopping = true;
    for (const c of conns) c.socket.destroy();
    throw err;
  }

  function openConnection(startIdx) {
    const depth = scenario.depth;
    const sentAt = new Float64Array(depth);
    const scanner = makeScanner(scenario.protocol);
    let sendIdx = startIdx;
    let ackIdx = startIdx;
    let ringHead = 0; // next slot to fill on send
    let ringTail = 0; // oldest request still waiting for its reply
    let inflight = 0;

    const socket = net.connect({
      host: HOST,
      port: opts.port,
      noDelay: true,
      onread: { buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES), callback: onRead },
    });
    const ready = new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.on('error', (err) => fail(err));
    socket.on('close', () => {
      if (!m.stopping) fail(new Error('server closed a connection mid-round'));
    });

    /** Requests [from, from + n) of the pool as one view, made once per pool position and count. */
    function requestsView(from, n) {
      let views = pool.views.get(n);
      if (views === undefined) {
        views = new Array(pool.count);
        pool.views.set(n, views);
      }
      let view = views[from];
      if (view === undefined) {
        view = pool.buf.subarray(pool.offsets[from], pool.offsets[from + n]);
        views[from] = view;
      }
      return view;
    }

    let spareRequest = null;
    function writeRaw(data) {
      const handle = socket._handle;
      if (io === null || handle === null) {
        socket.write(data);
        return;
      }
      const request = spareRequest ?? new io.WriteWrap();
      spareRequest = null;
      request.handle = handle;
      const status = handle.writeBuffer(request, data);
      if (status !== 0) {
        fail(new Error(`write failed with status ${status}`));
        return;
      }
      if (io.state[io.lastWriteAsyncIndex] === 0) {
        spareRequest = request;
        return;
      }
      // The kernel queue was full: libuv holds the rest until oncomplete (the pool never changes).
      request.buffer = data;
      request.oncomplete = (completion) => {
        if (completion !== 0 && !m.stopping) fail(new Error(`write failed with status ${completion}`));
      };
    }

    function send(k) {
      const now = performance.now();
      let left = k;
      while (left > 0) {
        const n = Math.min(left, pool.count - sendIdx);
        writeRaw(requestsView(sendIdx, n));
        if (m.measuring) m.writes++;
        sendIdx = (sendIdx + n) % pool.count;
        left -= n;
      }
      for (let i = 0; i < k; i++) {
        sentAt[ringHead] = now;
        ringHead = ringHead + 1 === depth ? 0 : ringHead + 1;
      }
      inflight += k;
      m.inflight += k;
    }

    function onRead(nread, buf) {
      const now = performance.now();
      const valuesBefore = scanner.values;
      const done = scanner.feed(buf, nread);
      if (m.measuring) m.reads++;
      if (done === 0) return;
      if (done > inflight) {
        fail(new Error(`${done} replies for ${inflight} requests: unexpected reply framing`));
        return;
      }
      const measuring = m.measuring;
      for (let i = 0; i < done; i++) {
        if (measuring) {
          histogram.recordValue(Math.max(1, Math.round((now - sentAt[ringTail]) * 1000)));
          m.ops++;
          if (pool.kinds[ackIdx] === GET) m.getKeys += pool.keys[ackIdx];
          else m.sets++;
        }
        ringTail = ringTail + 1 === depth ? 0 : ringTail + 1;
        ackIdx = ackIdx + 1 === pool.count ? 0 : ackIdx + 1;
      }
      if (measuring) m.hits += scanner.values - valuesBefore;
      inflight -= done;
      m.inflight -= done;
      if (!m.stopping) {
        if (inflight === 0) send(depth);
      } else if (m.inflight === 0 && onIdle !== null) onIdle();
    }

    return { socket, ready, start: () => send(depth) };
  }

  function fail(err) {
    if (failure === null) failure = err;
    if (onIdle !== null) onIdle();
  }

  for (const c of conns) c.start();
  await sleep(opts.warmupMs);
  const cpu0 = process.cpuUsage();
  const srv0 = readCpuSeconds(opts.pid);
  const host0 = readHostBusySeconds();
  const t0 = performance.now();
  m.measuring = true;
  await sleep(opts.durationMs);
  m.measuring = false;
  const t1 = performance.now();
  const cpu1 = process.cpuUsage(cpu0);
  const srv1 = readCpuSeconds(opts.pid);
  const host1 = readHostBusySeconds();
  m.stopping = true;
  // Let the in-flight requests finish so the next round starts against an idle server.
  await new Promise((resolve) => {
    const t = setTimeout(resolve, DRAIN_TIMEOUT_MS);
    onIdle = () => {
      clearTimeout(t);
      resolve();
    };
    if (m.inflight === 0 || failure !== null) onIdle();
  });
  for (const c of conns) c.socket.destroy();
  if (failure !== null) throw failure;

  const seconds = (t1 - t0) / 1000;
  return {
    opsPerSec: m.ops / seconds,
    keysPerSec: (m.getKeys + m.sets) / seconds,
    p50Us: histogram.getValueAtPercentile(50),
    p99Us: histogram.getValueAtPercentile(99),
    p999Us: histogram.getValueAtPercentile(99.9),
    maxUs: histogram.maxValue,
    hitRatio: m.getKeys === 0 ? null : m.hits / m.getKeys,
    generatorCpu: (cpu1.user + cpu1.system) / 1e6 / seconds,
    serverCpu: (srv1 - srv0) / seconds,
    // Whatever else ran on the machine meanwhile (other processes, steal), in cores.
    otherCpu: Math.max(
      0,
      (host1 - host0 - (srv1 - srv0)) / seconds - (cpu1.user + cpu1.system) / 1e6 / seconds,
    ),
    ops: m.ops,
    // How much batching actually happened on the wire: replies per read, requests per write.
    repliesPerRead: m.reads === 0 ? null : m.ops / m.reads,
    requestsPerWrite: m.writes === 0 ? null : m.ops / m.writes,
    seconds,
  };
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
