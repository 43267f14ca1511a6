// The resolved configuration: one frozen object, validated once at start-up.

export const EVICTION_POLICIES = ['lru', 'lfu', 'fifo', 'hybrid'] as const;
export type EvictionPolicyName = (typeof EVICTION_POLICIES)[number];

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const L2_MODES = ['overflow', 'write-through'] as const;
export type L2Mode = (typeof L2_MODES)[number];

export const L2_READ_MODES = ['auto', 'sync', 'async'] as const;
export type L2ReadMode = (typeof L2_READ_MODES)[number];

export const L2_PROMOTIONS = ['second-hit', 'every-hit'] as const;
export type L2Promotion = (typeof L2_PROMOTIONS)[number];

export const SERVER_IO_MODES = ['direct', 'stream'] as const;
export type ServerIoMode = (typeof SERVER_IO_MODES)[number];

export const PRESETS = ['development', 'production'] as const;
export type PresetName = (typeof PRESETS)[number];

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly maxConnections: number;
  readonly enableShutdown: boolean;
  /** How connections reach the sockets: libuv's TCP handles directly, or net.Socket streams. */
  readonly io: ServerIoMode;
  readonly memoryBytes: number;
  readonly maxItemSize: number;
  readonly eviction: EvictionPolicyName;
  readonly logLevel: LogLevel;
  /** L2 (LevelDB) tier; false = memory only, like memcached. */
  readonly l2Enabled: boolean;
  readonly l2Mode: L2Mode;
  readonly l2DataDir: string;
  readonly l2MaxBytes: number;
  readonly l2CompressMinBytes: number;
  /** How long an L2 write may wait before its batch goes to LevelDB: the write-through durability window. */
  readonly l2FlushIntervalMs: number;
  /**
   * Seconds between L2 expiry passes; an expired L2 record is deleted within
   * this plus the pass time (under 60 s at the maximum setting).
   */
  readonly l2ReclaimIntervalSeconds: number;
  readonly l2ClearOnStartup: boolean;
  /** L2 write backlog above which connections that write stop being read until it drains. */
  readonly l2MaxPendingBytes: number;
  /** Where a get's L2 read runs: on the event loop while that is fast (auto), always there, or on the pool. */
  readonly l2ReadMode: L2ReadMode;
  /** Which L2 hits of a get are promoted into L1. */
  readonly l2Promotion: L2Promotion;
  /** Compact L2's data in the background once a burst of writes has stopped. */
  readonly l2CompactWhenQuiet: boolean;
  /** Overflow mode: copy L1's items L2 lacks to L2 while no command arrives. */
  readonly l2WriteWhenIdle: boolean;
  /** RAM for L2's cache of recent pointers (LevelStore's PointerCache); 0 = none. */
  readonly l2PointerCacheBytes: number;
}
