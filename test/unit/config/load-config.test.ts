import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load-config.js';
import { SCHEMA_KEYS } from '../../../src/config/schema.js';
import { ConfigError } from '../../../src/errors.js';
import { makeTempDir, useCleanups } from '../../helpers/cleanups.js';

const MIB = 1024 * 1024;

const cleanups = useCleanups();

function tomlFile(text: string): string {
  const dir = makeTempDir(cleanups, 'rat-config-');
  const path = join(dir, 'config.toml');
  writeFileSync(path, text);
  return path;
}

function keysOf(table: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(table).flatMap(([name, value]) =>
    value !== null && typeof value === 'object'
      ? keysOf(value as Record<string, unknown>, `${prefix}${name}.`)
      : [`${prefix}${name}`],
  );
}

describe('loadConfig', () => {
  it('has memcached-like defaults', () => {
    const config = loadConfig();
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 11211,
      maxConnections: 1024,
      memoryBytes: 64 * MIB,
      maxItemSize: MIB,
      eviction: 'lru',
      enableShutdown: false,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads sizes the way memcached does: bare -m is MiB, bare -I is bytes', () => {
    expect(loadConfig({ flags: { memoryBytes: '128' } }).memoryBytes).toBe(128 * MIB);
    expect(loadConfig({ flags: { memoryBytes: '1g' } }).memoryBytes).toBe(1024 * MIB);
    expect(loadConfig({ flags: { memoryBytes: '64mb' } }).memoryBytes).toBe(64 * MIB);
    expect(loadConfig({ flags: { maxItemSize: '2048' } }).maxItemSize).toBe(2048);
    expect(loadConfig({ flags: { maxItemSize: '2m' } }).maxItemSize).toBe(2 * MIB);
  });

  it('applies flags > config file > preset > defaults', () => {
    const file = tomlFile('preset = "development"\n[memory]\nlimit = 32\neviction = "lfu"\n');
    const fromFile = loadConfig({ configFile: file });
    expect(fromFile.memoryBytes).toBe(32 * MIB);
    expect(fromFile.eviction).toBe('lfu');
    expect(fromFile.logLevel).toBe('debug');
    const withFlags = loadConfig({ configFile: file, flags: { eviction: 'fifo', logLevel: 'warn' } });
    expect(withFlags.eviction).toBe('fifo');
    expect(withFlags.logLevel).toBe('warn');
    expect(withFlags.memoryBytes).toBe(32 * MIB);
  });

  it('lets -l and -p override one half of the bind address', () => {
    const config = loadConfig({ flags: { bind: '0.0.0.0:1234' }, port: '4321' });
    expect(config.host).toBe('0.0.0.0');
    expect(config.port).toBe(4321);
    expect(loadConfig({ listenHost: '::1' }).host).toBe('::1');
  });

  it('refuses a bad value with one line naming the key and the accepted values', () => {
    const attempt = () => loadConfig({ flags: { eviction: 'random' } });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/memory\.eviction.*one of lru, lfu, fifo, hybrid/);
    expect(() => loadConfig({ flags: { memoryBytes: 'lots' } })).toThrow(/memory\.limit/);
    expect(() => loadConfig({ flags: { bind: 'nohost' } })).toThrow(/server\.bind.*host:port/);
    expect(() => loadConfig({ port: '70000' })).toThrow(/port/);
  });

  it('refuses an unknown key in the file', () => {
    const file = tomlFile('[memory]\nlimt = 32\n');
    expect(() => loadConfig({ configFile: file })).toThrow(/unknown config key memory\.limt/);
  });

  it('refuses an item size above half the memory, as memcached does', () => {
    expect(() => loadConfig({ flags: { memoryBytes: '4', maxItemSize: '3m' } })).toThrow(/max_item_size/);
  });

  it('config.example.toml documents exactly the schema keys, with their defaults', () => {
    const example = parse(readFileSync(new URL('../../../config.example.toml', import.meta.url), 'utf8'));
    expect(keysOf(example as Record<string, unknown>).sort()).toEqual([...SCHEMA_KEYS].sort());
    const path = tomlFile(readFileSync(new URL('../../../config.example.toml', import.meta.url), 'utf8'));
    expect(loadConfig({ configFile: path })).toEqual(loadConfig());
  });
});

describe('loadConfig: l2', () => {
  it('has L2 defaults and reads the [l2] table and flags', () => {
    expect(loadConfig()).toMatchObject({
      l2Enabled: true,
      l2Mode: 'overflow',
      l2DataDir: './data',
      l2MaxBytes: 4 * 1024 * MIB,
      l2CompressMinBytes: 512,
      l2FlushIntervalMs: 5,
      l2ClearOnStartup: false,
      l2MaxPendingBytes: 64 * MIB,
    });
    const file = tomlFile('[l2]\nmode = "write-through"\nmax_size = "1g"\nclear_on_startup = true\n');
    expect(loadConfig({ configFile: file })).toMatchObject({
      l2Mode: 'write-through',
      l2MaxBytes: 1024 * MIB,
      l2ClearOnStartup: true,
    });
    const flagged = loadConfig({ configFile: file, flags: { l2Enabled: false, l2DataDir: '/tmp/x' } });
    expect(flagged.l2Enabled).toBe(false);
    expect(flagged.l2DataDir).toBe('/tmp/x');
  });

  it('refuses a bad L2 mode or size with the key name', () => {
    expect(() => loadConfig({ flags: { l2Mode: 'lazy' } })).toThrow(/l2\.mode.*overflow, write-through/);
    expect(() => loadConfig({ flags: { l2MaxBytes: 'huge' } })).toThrow(/l2\.max_size/);
  });
});
