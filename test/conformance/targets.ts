// The two sides of every conformance comparison: the Debian memcached (the oracle) and ours.
// Setting RAT_CONFORMANCE_SELF_CHECK=1 makes "ours" a second memcached process instead: memcached
// against memcached must compare equal, which proves the harness itself (scripts, sentinel, CAS
// normalisation) before any disagreement is blamed on our server.

import { afterAll, beforeAll } from 'vitest';
import {
  type MemcachedProcess,
  memcachedAvailable,
  startMemcached,
  toolAvailable,
} from '../helpers/memcached-process.js';
import type { RawClient } from '../helpers/raw-client.js';

export interface RunningTarget {
  readonly label: string;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export const SELF_CHECK = process.env.RAT_CONFORMANCE_SELF_CHECK === '1';

/** memcached's defaults (-m 64, -I 1m), which every comparison assumes on both sides. */
export const ORACLE_LIMITS = { maxItemSize: 1024 * 1024, memoryBytes: 64 * 1024 * 1024 } as const;

export async function startOracle(): Promise<RunningTarget> {
  const proc: MemcachedProcess = await startMemcached();
  return { label: `memcached pid ${proc.pid}`, host: proc.host, port: proc.port, close: () => proc.stop() };
}

export async function startOurs(): Promise<RunningTarget> {
  if (SELF_CHECK) {
    const proc = await startMemcached();
    return {
      label: `self-check memcached pid ${proc.pid}`,
      host: proc.host,
      port: proc.port,
      close: () => proc.stop(),
    };
  }
  // Imported lazily so the self-check runs even while our server does not build.
  const { startTestServer } = await import('../helpers/test-server.js');
  const server = await startTestServer({ ...ORACLE_LIMITS, eviction: 'lru' });
  return { label: 'rat-memcached', host: server.host, port: server.port, close: () => server.close() };
}

/** Whether suites that need the oracle can run; prints why when they cannot. */
export function oracleAvailable(suite: string): boolean {
  return toolAvailable(suite, memcachedAvailable(), 'memcached');
}

/**
 * Starts the oracle and ours once for the enclosing describe block and closes
 * them (and every client a script opened) after it. `sides()` throws if the
 * servers did not start.
 */
export function useOracleAndOurs(): {
  sides(): [RunningTarget, RunningTarget];
  track(client: RawClient): void;
} {
  let oracle: RunningTarget | undefined;
  let ours: RunningTarget | undefined;
  const clients = new Set<RawClient>();
  beforeAll(async () => {
    [oracle, ours] = await Promise.all([startOracle(), startOurs()]);
  });
  afterAll(async () => {
    await Promise.all([...clients].map((c) => c.close()));
    await Promise.all([ours?.close(), oracle?.close()]);
  });
  return {
    sides() {
      if (oracle === undefined || ours === undefined) throw new Error('servers did not start');
      return [oracle, ours];
    },
    track(client) {
      clients.add(client);
    },
  };
}
