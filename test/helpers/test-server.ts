// Starts our server in-process on 127.0.0.1 and an ephemeral port, for tests.

import type { Config } from '../../src/config/config.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { CacheCore } from '../../src/core/cache-core.js';
import type { Clock } from '../../src/core/clock.js';
import { startCache } from '../../src/start-cache.js';

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
