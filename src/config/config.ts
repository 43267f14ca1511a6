// The resolved configuration: one frozen object, validated once at start-up.

export const EVICTION_POLICIES = ['lru', 'lfu', 'fifo', 'hybrid'] as const;
export type EvictionPolicyName = (typeof EVICTION_POLICIES)[number];

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const PRESETS = ['development', 'production'] as const;
export type PresetName = (typeof PRESETS)[number];

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly maxConnections: number;
  readonly enableShutdown: boolean;
  readonly memoryBytes: number;
  readonly maxItemSize: number;
  readonly eviction: EvictionPolicyName;
  readonly logLevel: LogLevel;
}
