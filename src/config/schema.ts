// Every configuration key, its default and its validation, in one table.
// config.example.toml must document exactly these keys (a test checks it).

import { ConfigError } from '../errors.js';
import {
  type Config,
  EVICTION_POLICIES,
  type EvictionPolicyName,
  L2_MODES,
  L2_PROMOTIONS,
  L2_READ_MODES,
  type L2Mode,
  type L2Promotion,
  type L2ReadMode,
  LOG_LEVELS,
  type LogLevel,
  PRESETS,
  SERVER_IO_MODES,
  type ServerIoMode,
} from './config.js';
import { formatSize, parseSize } from './size.js';

const MIB = 1024 * 1024;

export interface KeySpec<T> {
  /** Dotted TOML path, e.g. `memory.limit`. */
  readonly key: string;
  readonly defaultValue: T;
  readonly describe: string;
  parse(raw: unknown, source: string): T;
}

function fail(key: string, source: string, raw: unknown, accepted: string): never {
  throw new ConfigError(key, `invalid ${key}=${JSON.stringify(raw)} (from ${source}): expected ${accepted}`);
}

function integer(
  key: string,
  min: number,
  max: number,
  defaultValue: number,
  describe: string,
): KeySpec<number> {
  return {
    key,
    defaultValue,
    describe,
    parse(raw, source) {
      const value = typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : raw;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
        fail(key, source, raw, `an integer from ${min} to ${max}`);
      }
      return value;
    },
  };
}

function size(
  key: string,
  bareUnitBytes: number,
  min: number,
  max: number,
  defaultValue: number,
  describe: string,
): KeySpec<number> {
  return {
    key,
    defaultValue,
    describe,
    parse(raw, source) {
      const bytes =
        typeof raw === 'string' || typeof raw === 'number' ? parseSize(raw, bareUnitBytes) : undefined;
      if (bytes === undefined || bytes < min || bytes > max) {
        const unit = bareUnitBytes === MIB ? 'MiB' : 'bytes';
        fail(
          key,
          source,
          raw,
          `a size from ${formatSize(min)} to ${formatSize(max)} (bare number = ${unit})`,
        );
      }
      return bytes;
    },
  };
}

function oneOf<T extends string>(
  key: string,
  values: readonly T[],
  defaultValue: T,
  describe: string,
): KeySpec<T> {
  return {
    key,
    defaultValue,
    describe,
    parse(raw, source) {
      if (typeof raw !== 'string' || !(values as readonly string[]).includes(raw)) {
        fail(key, source, raw, `one of ${values.join(', ')}`);
      }
      return raw as T;
    },
  };
}

function boolean(key: string, defaultValue: boolean, describe: string): KeySpec<boolean> {
  return {
    key,
    defaultValue,
    describe,
    parse(raw, source) {
      if (raw === true || raw === 'true') return true;
      if (raw === false || raw === 'false') return false;
      return fail(key, source, raw, 'true or false');
    },
  };
}

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export function parseEndpoint(key: string, raw: unknown, source: string): Endpoint {
  const text = typeof raw === 'string' ? raw : '';
  const match = /^(\[[^\]]+\]|[^:]+|[^\]]*:[^\]]*):(\d{1,5})$/.exec(text);
  const port = match === null ? Number.NaN : Number(match[2]);
  if (match === null || port > 65535) fail(key, source, raw, 'host:port, e.g. 127.0.0.1:11211');
  return { host: (match[1] ?? '').replace(/^\[(.*)\]$/, '$1'), port };
}

export const SCHEMA = {
  preset: {
    key: 'preset',
    defaultValue: 'none',
    describe: 'defaults for an environment: development (debug logs) or production',
    parse(raw: unknown, source: string) {
      if (raw === 'none') return 'none';
      if (typeof raw !== 'string' || !(PRESETS as readonly string[]).includes(raw)) {
        fail('preset', source, raw, `one of ${PRESETS.join(', ')}`);
      }
      return raw;
    },
  } satisfies KeySpec<string>,
  bind: {
    key: 'server.bind',
    defaultValue: '127.0.0.1:11211',
    describe: 'address and port to listen on',
    parse(raw: unknown, source: string) {
      parseEndpoint('server.bind', raw, source);
      return raw as string;
    },
  } satisfies KeySpec<string>,
  maxConnections: integer('server.max_connections', 1, 1_000_000, 1024, 'simultaneous client connections'),
  enableShutdown: boolean('server.enable_shutdown', false, 'allow the `shutdown` command (memcached -A)'),
  io: oneOf<ServerIoMode>(
    'server.io',
    SERVER_IO_MODES,
    'direct',
    'socket I/O: direct (libuv TCP handles, falls back to stream where unavailable) or stream (net.Socket)',
  ),
  memoryBytes: size('memory.limit', MIB, 2 * MIB, 2 ** 46, 64 * MIB, 'L1 byte budget (memcached -m)'),
  maxItemSize: size('memory.max_item_size', 1, 1024, 1024 * MIB, MIB, 'largest item (memcached -I)'),
  eviction: oneOf<EvictionPolicyName>('memory.eviction', EVICTION_POLICIES, 'lru', 'L1 eviction policy'),
  logLevel: oneOf<LogLevel>('log.level', LOG_LEVELS, 'info', 'pino log level'),
  l2Enabled: boolean('l2.enabled', true, 'second tier on disk (LevelDB + LZ4); false = memory only'),
  l2Mode: oneOf<L2Mode>('l2.mode', L2_MODES, 'overflow', 'overflow (L1 evictions go to L2) or write-through'),
  l2DataDir: {
    key: 'l2.data_dir',
    defaultValue: './data',
    describe: 'directory of the L2 LevelDB',
    parse(raw: unknown, source: string) {
      if (typeof raw !== 'string' || raw.trim() === '') fail('l2.data_dir', source, raw, 'a directory path');
      return raw;
    },
  } satisfies KeySpec<string>,
  l2MaxBytes: size(
    'l2.max_size',
    MIB,
    16 * MIB,
    2 ** 50,
    4 * 1024 * MIB,
    'L2 byte budget; oldest items go first',
  ),
  l2CompressMinBytes: integer(
    'l2.compress_min_bytes',
    0,
    2 ** 30,
    512,
    'values from this size are LZ4-compressed',
  ),
  l2FlushIntervalMs: integer('l2.flush_interval_ms', 1, 60_000, 5, 'longest an L2 write waits for its batch'),
  l2ReclaimIntervalSeconds: integer(
    'l2.reclaim_interval_seconds',
    1,
    60,
    10,
    'seconds between passes that delete expired L2 records',
  ),
  l2ClearOnStartup: boolean('l2.clear_on_startup', false, 'start with an empty L2'),
  l2MaxPendingBytes: size(
    'l2.max_pending_bytes',
    MIB,
    MIB,
    2 ** 40,
    64 * MIB,
    'L2 write backlog above which writing connections are throttled',
  ),
  l2ReadMode: oneOf<L2ReadMode>(
    'l2.read_mode',
    L2_READ_MODES,
    'auto',
    "where a get's L2 read runs: auto (on the event loop while reads come from the page cache), sync or async (libuv pool)",
  ),
  l2Promotion: oneOf<L2Promotion>(
    'l2.promotion',
    L2_PROMOTIONS,
    'second-hit',
    'which L2 hits of a get move the item into L1: second-hit (read twice within an L1 lifetime) or every-hit',
  ),
  l2PointerCacheBytes: size(
    'l2.pointer_cache_size',
    MIB,
    0,
    2 ** 34,
    16 * MIB,
    "RAM for recent L2 pointers, so an L2 hit of a get usually skips LevelDB's lookup (0 = off)",
  ),
  l2CompactWhenQuiet: boolean(
    'l2.compact_when_quiet',
    true,
    'compact L2 in the background a second after a burst of writes (a quarter of L2, at least 64 MiB) stops',
  ),
  l2WriteWhenIdle: boolean(
    'l2.write_when_idle',
    true,
    'overflow mode: copy the L1 items L2 lacks to L2 while no command arrives, so evicting them later costs no write',
  ),
} as const;

export type SchemaField = keyof typeof SCHEMA;
export const SCHEMA_KEYS: readonly string[] = Object.values(SCHEMA).map((spec) => spec.key);

/** Cross-key rules that one key's parser cannot see. */
export function checkConfig(config: Config): Config {
  if (config.maxItemSize > config.memoryBytes / 2) {
    throw new ConfigError(
      'memory.max_item_size',
      `invalid memory.max_item_size=${formatSize(config.maxItemSize)}: must be at most half of memory.limit (${formatSize(config.memoryBytes)}), as in memcached`,
    );
  }
  return config;
}
