// The compiled bin as a child process, for tests that kill and restart a
// server on the same data directory. Resolves once it logs `listening`.

import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/rat-memcached', import.meta.url));

export interface ChildServer {
  readonly child: ChildProcess;
  readonly port: number;
}

/** Starts `bin/rat-memcached --port 0 --log-level info ...args`; `onSpawn` gets the process (to kill it in cleanup). */
export function startChildServer(
  args: string[],
  onSpawn: (child: ChildProcess) => void,
): Promise<ChildServer> {
  return startListeningScript(BIN, ['--port', '0', '--log-level', 'info', ...args], onSpawn);
}

/**
 * Runs `node script ...args` and resolves once it prints a JSON line `{"msg":"listening","port":N}`
 * (rat's log line; bench/floor-responder.mjs prints the same).
 */
export function startListeningScript(
  script: string,
  args: string[],
  onSpawn: (child: ChildProcess) => void,
): Promise<ChildServer> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  onSpawn(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code, signal) =>
      reject(new Error(`server exited before listening (${code ?? signal}): ${stderr.trim()}`)),
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry.msg === 'listening') resolve({ child, port: entry.port as number });
    });
  });
}

export function killHard(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** For cleanups: SIGKILL unless it already exited. */
export function killIfRunning(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
