// The library entry point: embed the server in another Node program.

export type { Config, EvictionPolicyName, LogLevel } from './config/config.js';
export { loadConfig } from './config/load-config.js';
export { CacheCore } from './core/cache-core.js';
export { type Clock, ManualClock, systemClock } from './core/clock.js';
export { ConfigError, RatError, type RatErrorCode } from './errors.js';
export { CacheServer, SERVER_VERSION } from './server/cache-server.js';
export { createCore, type RunningCache, type StartOptions, startCache } from './start-cache.js';
