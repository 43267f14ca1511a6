// Starts our server in-process on 127.0.0.1 and an ephemeral port, for tests.

import type { Config } from '../../src/config/config.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { CacheCore } from '../../src/core/cache-core.js';
import type { Clock } from '../../src/core/clock.js';
import { startCache } from '../../src/start-cache.js';
import type { Cleanup } from './cleanups.js';
import { RawClient } from './raw-client.js';

export interface TestServer {
  readonly host: string;
  readonly port: number;
  readonly core: CacheCore;
  close(): Promise<void>;
}

export async function startTestServer(
  overrides: Partial<Config> = {},
  options: { clock?: Clock } = {},
): Promise<TestServer> {
  // L2 is off unless a test asks for it (with its own temp data_dir), so tests never write into ./data.
  const config: Config = { ...loadConfig(), host: '127.0.0.1', port: 0, l2Enabled: false, ...overrides };
  const running = await startCache(config, options.clock === undefined ? {} : { clock: options.clock });
  return { host: '127.0.0.1', port: running.address.port, core: running.core, close: () => running.close() };
}

/**
 * A server and one raw client on it, both closed after the test. The returned
 * server's close() may also be called by the test (e.g. to restart on the
 * same data directory); the clean-up then does nothing more.
 */
export async function startServerAndClient(
  cleanups: Cleanup[],
  overrides: Partial<Config>,
  options: { clock?: Clock } = {},
): Promise<{ server: TestServer; client: RawClient }> {
  const started = await startTestServer(overrides, options);
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await started.close();
  };
  cleanups.push(close);
  const client = await RawClient.connect(started.host, started.port);
  cleanups.push(() => client.close());
  return { server: { ...started, close }, client };
}
