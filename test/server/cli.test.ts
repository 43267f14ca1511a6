// The executable as an operator runs it: flags, config errors (exit 2),
// lifecycle logs, and a graceful exit on SIGTERM/SIGINT.
// Runs the compiled bin (npm test builds first).

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, useCleanups } from '../helpers/cleanups.js';
import { RawClient } from '../helpers/raw-client.js';

const BIN = fileURLToPath(new URL('../../bin/rat-memcached', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const children: ChildProcess[] = [];

const cleanups = useCleanups();

/** Each server gets its own L2 directory, never the repository's ./data; removed after the test. */
function dataDir(): string {
  return makeTempDir(cleanups, 'rat-cli-');
}

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

beforeAll(() => {
  if (!existsSync(DIST)) throw new Error('dist/ is missing: run `npm run build` (npm test does it)');
});

interface Started {
  child: ChildProcess;
  port: number;
  logs: Array<Record<string, unknown>>;
}

/** `direct`: exec the launcher itself, so its `#!/usr/bin/env -S node ...` line picks the flags. */
function start(args: string[], direct = false): Promise<Started> {
  const argv = [BIN, '--port', '0', '--data-dir', dataDir(), ...args];
  const child = direct
    ? spawn(BIN, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const logs: Array<Record<string, unknown>> = [];
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (entry.msg === 'listening') resolve({ child, port: entry.port as number, logs });
    });
  });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

describe('rat-memcached executable', () => {
  it('serves, logs JSON lifecycle lines, and exits 0 on SIGTERM', async () => {
    const { child, port, logs } = await start(['-m', '16', '--eviction', 'lfu']);
    const client = await RawClient.connect('127.0.0.1', port);
    await client.send('set k 0 0 1\r\nv\r\nget k\r\nstats settings\r\n');
    const reply = (await client.readUntil('END\r\nSTAT')).data.toString();
    expect(reply.startsWith('STORED\r\nVALUE k 0 1\r\nv\r\nEND\r\n')).toBe(true);
    await client.close();
    child.kill('SIGTERM');
    expect(await exitOf(child)).toBe(0);
    expect(logs.map((entry) => entry.msg)).toEqual(expect.arrayContaining(['listening', 'shutting down']));
    expect(logs.every((entry) => typeof entry.level === 'number' && typeof entry.time === 'number')).toBe(
      true,
    );
  });

  it('exits 0 on SIGINT too', async () => {
    const { child } = await start([]);
    child.kill('SIGINT');
    expect(await exitOf(child)).toBe(0);
  });

  it('lets an enabled shutdown command stop it', async () => {
    const { child, port } = await start(['-A']);
    const client = await RawClient.connect('127.0.0.1', port);
    await client.send('shutdown\r\n');
    expect(await exitOf(child)).toBe(0);
    await client.close();
  });

  it.each([
    [['--eviction', 'random'], /eviction/],
    [['-m', 'lots'], /memory\.limit/],
    [['--bind', 'nohost'], /server\.bind/],
    [['--no-such-flag'], /unknown option/],
    [['--config', '/nonexistent.toml'], /cannot read config file/],
  ])('refuses %j with one line and exit code 2', (args, message) => {
    const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it("run as itself, runs node with the launcher's V8 flags and serves", async () => {
    const { child, port } = await start(['--no-l2'], true);
    // env execs node in place: the pid is node's, and its argv carries the flags.
    const argv = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
    expect(argv).toEqual(expect.arrayContaining(['--v8-pool-size=1', '--single-threaded-gc', BIN]));
    const client = await RawClient.connect('127.0.0.1', port);
    await client.send('set k 0 0 1\r\nv\r\nget k\r\n');
    expect((await client.readUntil('END\r\n')).data.toString()).toBe('STORED\r\nVALUE k 0 1\r\nv\r\nEND\r\n');
    await client.close();
    child.kill('SIGTERM');
    expect(await exitOf(child)).toBe(0);
  });

  it('prints its version', () => {
    const result = spawnSync(process.execPath, [BIN, '--version'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^rat-memcached \d+\.\d+\.\d+ \(memcached 1\.6\.18 compatible\)/);
  });
});
