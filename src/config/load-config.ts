// Merges defaults -> preset -> TOML file -> flags, validates each key once
// with the name of the source that supplied it, and freezes the result.

import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { ConfigError } from '../errors.js';
import type { Config, PresetName } from './config.js';
import { PRESET_VALUES } from './presets.js';
import { checkConfig, type KeySpec, parseEndpoint, SCHEMA, SCHEMA_KEYS, type SchemaField } from './schema.js';

export type RawSettings = Partial<Record<SchemaField, unknown>>;

export interface ConfigSources {
  /** Values from command-line flags (already mapped to schema fields). */
  readonly flags?: RawSettings;
  /** `-l/--listen` and `-p/--port` override one half of the bind address. */
  readonly listenHost?: string;
  readonly port?: unknown;
  /** Path of a TOML file. */
  readonly configFile?: string;
}

const FIELD_BY_KEY = new Map<string, SchemaField>(
  (Object.keys(SCHEMA) as SchemaField[]).map((field) => [SCHEMA[field].key, field]),
);

function flatten(table: Record<string, unknown>, prefix: string, out: Map<string, unknown>): void {
  for (const [name, value] of Object.entries(table)) {
    const key = prefix === '' ? name : `${prefix}.${name}`;
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date)) {
      flatten(value as Record<string, unknown>, key, out);
    } else {
      out.set(key, value);
    }
  }
}

export function readConfigFile(path: string): RawSettings {
  let table: Record<string, unknown>;
  try {
    table = parseToml(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ConfigError('config', `cannot read config file ${path}: ${reason}`, { cause: error });
  }
  const flat = new Map<string, unknown>();
  flatten(table, '', flat);
  const settings: RawSettings = {};
  for (const [key, value] of flat) {
    const field = FIELD_BY_KEY.get(key);
    if (field === undefined) {
      throw new ConfigError(
        key,
        `unknown config key ${key} in ${path}: known keys are ${SCHEMA_KEYS.join(', ')}`,
      );
    }
    settings[field] = value;
  }
  return settings;
}

function resolve<T>(spec: KeySpec<T>, layers: ReadonlyArray<[string, RawSettings]>, field: SchemaField): T {
  for (const [source, layer] of layers) {
    if (layer[field] !== undefined) return spec.parse(layer[field], source);
  }
  return spec.defaultValue;
}

export function loadConfig(sources: ConfigSources = {}): Config {
  const flags = sources.flags ?? {};
  const file = sources.configFile === undefined ? {} : readConfigFile(sources.configFile);
  const presetName = resolve(
    SCHEMA.preset,
    [
      ['flags', flags],
      ['config file', file],
    ],
    'preset',
  );
  const preset = presetName === 'none' ? {} : PRESET_VALUES[presetName as PresetName];
  const layers: Array<[string, RawSettings]> = [
    ['flags', flags],
    ['config file', file],
    [`preset ${presetName}`, preset],
  ];
  const bind = parseEndpoint('server.bind', resolve(SCHEMA.bind, layers, 'bind'), 'bind');
  const port = sources.port === undefined ? bind.port : SCHEMA_PORT.parse(sources.port, 'flag --port');
  const config: Config = {
    host: sources.listenHost ?? bind.host,
    port,
    maxConnections: resolve(SCHEMA.maxConnections, layers, 'maxConnections'),
    enableShutdown: resolve(SCHEMA.enableShutdown, layers, 'enableShutdown'),
    io: resolve(SCHEMA.io, layers, 'io'),
    memoryBytes: resolve(SCHEMA.memoryBytes, layers, 'memoryBytes'),
    maxItemSize: resolve(SCHEMA.maxItemSize, layers, 'maxItemSize'),
    eviction: resolve(SCHEMA.eviction, layers, 'eviction'),
    logLevel: resolve(SCHEMA.logLevel, layers, 'logLevel'),
    l2Enabled: resolve(SCHEMA.l2Enabled, layers, 'l2Enabled'),
    l2Mode: resolve(SCHEMA.l2Mode, layers, 'l2Mode'),
    l2DataDir: resolve(SCHEMA.l2DataDir, layers, 'l2DataDir'),
    l2MaxBytes: resolve(SCHEMA.l2MaxBytes, layers, 'l2MaxBytes'),
    l2CompressMinBytes: resolve(SCHEMA.l2CompressMinBytes, layers, 'l2CompressMinBytes'),
    l2FlushIntervalMs: resolve(SCHEMA.l2FlushIntervalMs, layers, 'l2FlushIntervalMs'),
    l2ReclaimIntervalSeconds: resolve(SCHEMA.l2ReclaimIntervalSeconds, layers, 'l2ReclaimIntervalSeconds'),
    l2ClearOnStartup: resolve(SCHEMA.l2ClearOnStartup, layers, 'l2ClearOnStartup'),
    l2MaxPendingBytes: resolve(SCHEMA.l2MaxPendingBytes, layers, 'l2MaxPendingBytes'),
    l2ReadMode: resolve(SCHEMA.l2ReadMode, layers, 'l2ReadMode'),
    l2Promotion: resolve(SCHEMA.l2Promotion, layers, 'l2Promotion'),
    l2CompactWhenQuiet: resolve(SCHEMA.l2CompactWhenQuiet, layers, 'l2CompactWhenQuiet'),
    l2WriteWhenIdle: resolve(SCHEMA.l2WriteWhenIdle, layers, 'l2WriteWhenIdle'),
    l2PointerCacheBytes: resolve(SCHEMA.l2PointerCacheBytes, layers, 'l2PointerCacheBytes'),
  };
  return Object.freeze(checkConfig(config));
}

const SCHEMA_PORT: KeySpec<number> = {
  key: 'port',
  defaultValue: 11211,
  describe: 'TCP port',
  parse(raw, source) {
    const value = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) {
      throw new ConfigError(
        'port',
        `invalid port=${JSON.stringify(raw)} (from ${source}): expected 0 to 65535`,
      );
    }
    return value;
  },
};
