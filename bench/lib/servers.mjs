// Starting, measuring and stopping the servers a bench compares: rat-memcached (our build, run
// as `bin/rat-memcached` runs it: node with the launcher's flags) and the reference memcached.
// Each server is pinned to core 1 and the bench process to core 0 when `taskset` exists and
// there are two cores, so the generator and the server never steal each other's cycles. Only
// loopback addresses are ever used.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HOST = '127.0.0.1';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const RAT_BIN = path.join(ROOT, 'bin', 'rat-memcached');
/** The `floor` target: Node on rat's socket layer with no cache behind it (see the script). */
const FLOOR_SCRIPT = path.join(ROOT, 'bench', 'floor-responder.mjs');
const MEMCACHED_BIN = '/usr/bin/memcached';
const TASKSET = '/usr/bin/taskset';
const START_TIMEOUT_MS = 15_000;
/**
 * Extra node flags for the rat server, e.g. RAT_NODE_FLAGS='--cpu-prof --cpu-prof-dir=/tmp/prof'
 * to profile it under the bench's own load, or '--trace-gc' (its stdout goes to the bench's stderr).
 */
const RAT_NODE_FLAGS = (process.env.RAT_NODE_FLAGS ?? '').split(' ').filter((flag) => flag !== '');
/** The node flags of the launcher's `#!/usr/bin/env -S node ...` line: the server runs as it ships. */
const RAT_SHEBANG_FLAGS = existsSync(RAT_BIN) ? shebangFlags(readFileSync(RAT_BIN, 'utf8')) : [];

function shebangFlags(source) {
  const first = source.slice(0, source.indexOf('\n'));
  const m = /^#!\/usr\/bin\/env (?:-S )?node((?: --[\w=-]+)*)$/.exec(first);
  if (m === null) throw new Error(`${RAT_BIN}: unexpected first line ${JSON.stringify(first)}`);
  return m[1].split(' ').filter((flag) => flag !== '');
}

export const canPin = existsSync(TASKSET) && os.availableParallelism() >= 2;

/** Servers started and not yet exited: killed when the bench exits, however it exits. */
const liveServers = new Set();
let exitHooked = false;

/**
 * A bench that ends (or is interrupted, or loses its terminal or process group) takes its servers
 * with it. memcached ignores SIGHUP (it reopens logs), so without this a bench killed with its
 * process group left its memcached running. SIGKILL because an exit handler cannot wait, and
 * SIGCONT first for a server stopped while another was measured.
 */
function hookExit() {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const child of liveServers) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
  });
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ]) {
    // Only where the bench has no handler of its own (which then calls process.exit itself).
    if (process.listenerCount(signal) === 0) process.once(signal, () => process.exit(code));
  }
}

/** Pins every thread of this process (V8 and libuv threads included) to core 0. */
export function pinSelfToCore0() {
  if (!canPin) return false;
  execFileSync(TASKSET, ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  return true;
}

/** Parses `--targets rat,memcached`; a repeated name gets a suffix so rows stay distinct. */
export function parseTargets(list) {
  const names = list.split(',').map((s) => s.trim());
  for (const n of names) {
    if (n !== 'rat' && n !== 'memcached' && n !== 'floor') {
      throw new Error(`unknown target ${n}; use rat, memcached or floor`);
    }
  }
  return names.map((name, i) => ({
    name,
    label: names.indexOf(name) !== names.lastIndexOf(name) ? `${name}#${i + 1}` : name,
  }));
}

export async function freePort() {
  const srv = net.createServer();
  await new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, HOST, resolve);
  });
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/**
 * @param {{ name: 'rat' | 'memcached' | 'floor', label: string }} target
 * @param {{ memoryMiB: number, eviction?: string | undefined, extraArgs?: string[] }} opts
 */
export async function startServer(target, opts) {
  const port = await freePort();
  let argv;
  switch (target.name) {
    case 'rat':
      if (!existsSync(RAT_BIN)) throw new Error(`${RAT_BIN} not found: run npm run build first`);
      argv = [
        process.execPath,
        ...RAT_SHEBANG_FLAGS,
        ...RAT_NODE_FLAGS,
        RAT_BIN,
        '--port',
        String(port),
        '--memory',
        String(opts.memoryMiB),
      ];
      if (opts.eviction !== undefined) argv.push('--eviction', opts.eviction);
      argv.push('--log-level', 'warn');
      // Memory-only unless the scenario asks for L2 (s6 passes --data-dir):
      // memcached without ext_path is the reference, and a bench must not
      // write into the repository's ./data.
      if (!(opts.extraArgs ?? []).includes('--data-dir')) argv.push('--no-l2');
      break;
    case 'floor':
      // The launcher's node flags too, so the floor runs Node as rat does.
      argv = [process.execPath, ...RAT_SHEBANG_FLAGS, FLOOR_SCRIPT, '--port', String(port), '--host', HOST];
      break;
    case 'memcached':
      argv = [
        MEMCACHED_BIN,
        '-t',
        '1',
        '-U',
        '0',
        '-l',
        HOST,
        '-p',
        String(port),
        '-m',
        String(opts.memoryMiB),
      ];
      // memcached refuses to run as root unless told which user to stay.
      if (process.getuid?.() === 0) argv.push('-u', 'root');
      break;
    default:
      throw new Error(`unknown target ${String(target.name)}`);
  }
  argv.push(...(opts.extraArgs ?? []));
  // taskset execs the server in place, so child.pid is the server's own pid (for /proc reads).
  const cmd = canPin ? [TASKSET, '-c', '1', ...argv] : argv;
  hookExit();
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  liveServers.add(child);
  child.once('exit', () => liveServers.delete(child));
  if (target.name === 'rat' && RAT_NODE_FLAGS.length > 0) child.stdout.pipe(process.stderr);
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise((resolve) => child.once('exit', (code, sig) => resolve({ code, sig })));
  try {
    await Promise.race([
      waitReady(child, port),
      exited.then(({ code, sig }) => {
        throw new Error(`${target.label} exited during start-up (${code ?? sig}): ${stderr.trim()}`);
      }),
    ]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    ...target,
    pid: child.pid,
    port,
    stderrTail: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      // A server stopped (SIGSTOP) while another was measured only acts on SIGTERM once resumed.
      child.kill('SIGCONT');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/**
 * Ready when the server says so (rat logs `{"msg":"listening",...}`) or, for servers that print
 * nothing (memcached without -v), when a connection succeeds. Polling connect is not a sleep
 * guess: it stops the moment the port accepts.
 */
function waitReady(child, port) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (err) reject(err);
      else resolve();
    };
    const deadline = setTimeout(
      () => finish(new Error(`server on ${port} not ready in ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    let buffered = '';
    child.stdout.on('data', (d) => {
      buffered += d.toString();
      if (/"msg"\s*:\s*"listening"/.test(buffered)) finish();
      buffered = buffered.slice(-4000);
    });
    const probe = () => {
      if (settled) return;
      const s = net.connect({ host: HOST, port });
      s.once('connect', () => {
        s.destroy();
        finish();
      });
      s.once('error', () => {
        s.destroy();
        setTimeout(probe, 20);
      });
    };
    probe();
  });
}

export function readRssBytes(pid) {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

let clockTicks;
/** User + system CPU seconds the process has used so far (all its threads). */
export function readCpuSeconds(pid) {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the `(comm)` field, which may itself contain spaces: utime and stime are 14 and 15.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / clockTicks;
}

/** Sends one command and resolves with the reply text up to and including `terminator`. */
export function roundTrip(port, command, terminator) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: HOST, port });
    let text = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no reply to ${command.trim()} within 30 s`));
    }, 30_000);
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.on('data', (d) => {
      text += d.toString('latin1');
      if (text.includes(terminator)) {
        clearTimeout(timer);
        s.destroy();
        resolve(text);
      }
    });
    s.write(command);
  });
}

/** `stats` as a Map of name to string value. */
export async function readStats(port) {
  const text = await roundTrip(port, 'stats\r\n', 'END\r\n');
  const stats = new Map();
  for (const line of text.split('\r\n')) {
    const m = /^STAT (\S+) (.*)$/.exec(line);
    if (m !== null) stats.set(m[1], m[2]);
  }
  return stats;
}

/**
 * CPU seconds the whole machine has spent busy (all cores, steal included). Minus the server's
 * and the generator's own share, it shows how much other work competed during a round: on a
 * shared two-core box that is the main source of noise.
 */
export function readHostBusySeconds() {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice
  // irq and softirq are left out: loopback TCP does much of its work in softirq, charged to no
  // process, so they mostly measure the bench's own traffic (~25% of a core at 140k ops/s).
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[7] ?? 0);
  return busy / clockTicks;
}
