// The wiring: which protocol, which tiers, which clock. Everything else is
// in its layer; this file only puts them together.

import type { AddressInfo } from 'node:net';
import type { Config } from './config/config.js';
import { CacheCore } from './core/cache-core.js';
import { type Clock, systemClock } from './core/clock.js';
import { type Logger, silentLogger } from './log/logger.js';
import { CacheServer } from './server/cache-server.js';
import { MemoryTier } from './tiers/memory/memory-tier.js';
import { ExpiryDriver } from './ttl/expiry-driver.js';

export interface StartOptions {
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly onShutdownCommand?: (graceful: boolean) => void;
}

export interface RunningCache {
  readonly address: AddressInfo;
  readonly core: CacheCore;
  readonly server: CacheServer;
  close(): Promise<void>;
}

export function createCore(config: Config, clock: Clock = systemClock): CacheCore {
  const memory = new MemoryTier({
    maxBytes: config.memoryBytes,
    maxItemSize: config.maxItemSize,
    eviction: config.eviction,
  });
  return new CacheCore({ memory, clock });
}

export async function startCache(config: Config, options: StartOptions = {}): Promise<RunningCache> {
  const logger = options.logger ?? silentLogger();
  const core = createCore(config, options.clock);
  const server = new CacheServer({
    config,
    core,
    logger,
    ...(options.onShutdownCommand === undefined ? {} : { onShutdownCommand: options.onShutdownCommand }),
  });
  const address = await server.listen();
  const expiry = new ExpiryDriver({
    clock: core.clock,
    tick: () => {
      try {
        core.reclaimExpired();
      } catch (error) {
        logger.error({ err: error }, 'expiry reclaim failed');
      }
    },
  });
  expiry.start();
  return {
    address,
    core,
    server,
    close: async () => {
      expiry.stop();
      await server.close();
    },
  };
}
