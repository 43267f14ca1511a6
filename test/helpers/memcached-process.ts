// Starts the Debian memcached (/usr/bin/memcached) as the oracle for conformance tests.
// Owns: finding a free loopback port, spawning memcached on it, waiting until it accepts a
// connection (polling connect, never a fixed sleep), and killing it. It knows nothing about
// rat-memcached; suites decide what to compare it with.

import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createConnection, createServer } from 'node:net';

export const MEMCACHED_BIN = '/usr/bin/memcached';
export const MEMCCAPABLE_BIN = '/usr/bin/memccapable';
export const LOOPBACK = '127.0.0.1';

export interface MemcachedProcess {
  readonly host: string;
  readonly port: number;
  readonly pid: number;
  /** Kills the process and resolves once it has exited. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartMemcachedOptions {
  /** Extra command-line arguments, e.g. ['-I', '2m']. */
  readonly extraArgs?: readonly string[];
  /** How long to wait for the first accepted connection before giving up. */
  readonly startTimeoutMs?: number;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function memcachedAvailable(): boolean {
  return isExecutable(MEMCACHED_BIN);
}

export function memccapableAvailable(): boolean {
  return isExecutable(MEMCCAPABLE_BIN);
}

/** Asks the kernel for a free port by listening on port 0; the caller retries if it is taken meanwhile. */
export function freePort(host: string = LOOPBACK): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error(`could not read the port of a probe listener on ${host}`));
      });
    });
  });
}

function tryConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * Polls connect() until the port accepts, `gaveUp()` says the server is gone, or the deadline passes.
 * A refused connect comes back at once on loopback, so the poll yields to the event loop between tries
 * instead of sleeping a fixed start-up delay.
 */
export async function waitUntilAccepting(
  host: string,
  port: number,
  opts: { timeoutMs: number; gaveUp?: () => string | undefined },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let delayMs = 2;
  for (;;) {
    const reason = opts.gaveUp?.();
    if (reason !== undefined) throw new Error(reason);
    if (await tryConnect(host, port)) return;
    if (Date.now() > deadline) throw new Error(`${host}:${port} did not accept within ${opts.timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, delayMs));
    delayMs = Math.min(delayMs * 2, 50);
  }
}

const MAX_PORT_ATTEMPTS = 5;

export async function startMemcached(options: StartMemcachedOptions = {}): Promise<MemcachedProcess> {
  const extraArgs = options.extraArgs ?? [];
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  let lastError: unknown;
  for (let attempt = 0; attempt < MAX_PORT_ATTEMPTS; attempt++) {
    const port = await freePort();
    try {
      return await spawnOn(port, extraArgs, startTimeoutMs);
    } catch (err) {
      lastError = err;
      // Another process grabbed the port between our probe and memcached's bind: pick a new one.
      if (!(err instanceof Error && /Address already in use|EADDRINUSE/.test(err.message))) throw err;
    }
  }
  throw new Error(`memcached could not bind a free port after ${MAX_PORT_ATTEMPTS} attempts`, {
    cause: lastError,
  });
}

async function spawnOn(port: number, extraArgs: readonly string[], startTimeoutMs: number) {
  const args = ['-l', LOOPBACK, '-p', String(port), '-U', '0', '-t', '1'];
  // memcached refuses to run as root without -u (CI containers often are root).
  if (process.getuid?.() === 0) args.push('-u', 'nobody');
  args.push(...extraArgs);
  const child = spawn(MEMCACHED_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let exitReason: string | undefined;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitReason = `memcached ${args.join(' ')} exited (code ${code}, signal ${signal}): ${stderr.trim()}`;
      resolve();
    });
    child.once('error', (err) => {
      exitReason = `memcached could not be spawned: ${err.message}`;
      resolve();
    });
  });
  const stop = async (): Promise<void> => {
    if (exitReason === undefined) child.kill('SIGTERM');
    await exited;
  };
  try {
    await waitUntilAccepting(LOOPBACK, port, { timeoutMs: startTimeoutMs, gaveUp: () => exitReason });
  } catch (err) {
    await stop();
    // The exit may be reported after the poll gave up; prefer its message (it names EADDRINUSE).
    throw exitReason !== undefined ? new Error(exitReason, { cause: err }) : err;
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error('memcached started without a pid');
  return { host: LOOPBACK, port, pid, stop };
}

/**
 * Whether a suite that needs an external tool can run. Off CI a missing tool
 * skips the suite with a visible line; on CI (which installs every tool) it
 * is an error, so a broken install can never pass as skipped tests.
 */
export function toolAvailable(suite: string, available: boolean, install: string): boolean {
  if (available) return true;
  const message = `[${suite}] needs ${install}, which is not installed`;
  if (process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false') {
    throw new Error(`${message}; CI must install it (.ci/run)`);
  }
  console.warn(`${message}: skipped (apt-get install ${install}; CI installs it)`);
  return false;
}
