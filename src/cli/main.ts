// `rat-memcached [options]`: memcached-compatible flags where memcached has
// them. Flags > config file > preset > defaults. A bad value prints one line
// naming the key and what it accepts, and exits 2.

import { Command, CommanderError, Option } from 'commander';
import { EVICTION_POLICIES, L2_MODES, LOG_LEVELS, PRESETS, SERVER_IO_MODES } from '../config/config.js';
import { loadConfig, type RawSettings } from '../config/load-config.js';
import { RatError } from '../errors.js';
import { createLogger } from '../log/logger.js';
import { RAT_VERSION, SERVER_VERSION } from '../server/cache-server.js';
import { type RunningCache, startCache } from '../start-cache.js';

const EXIT_CONFIG = 2;

interface CliOptions {
  bind?: string;
  port?: string;
  listen?: string;
  memory?: string;
  maxConnections?: string;
  maxItemSize?: string;
  eviction?: string;
  config?: string;
  logLevel?: string;
  verbose: number;
  preset?: string;
  enableShutdown?: boolean;
  /** false with --no-l2 */
  l2: boolean;
  l2Mode?: string;
  io?: string;
  dataDir?: string;
  l2MaxSize?: string;
}

function buildProgram(): Command {
  return new Command('rat-memcached')
    .description('A memcached-compatible two-tier cache server')
    .version(`rat-memcached ${RAT_VERSION} (memcached ${SERVER_VERSION} compatible)`, '-V, --version')
    .option('--bind <host:port>', 'address to listen on (default 127.0.0.1:11211)')
    .option('-p, --port <port>', 'TCP port (memcached -p)')
    .option('-l, --listen <host>', 'interface to listen on (memcached -l)')
    .option('-m, --memory <size>', 'L1 memory budget; bare number = MiB, or 64mb, 1g (memcached -m)')
    .option('-c, --max-connections <n>', 'max simultaneous connections (memcached -c, default 1024)')
    .option('-I, --max-item-size <size>', 'max item size, e.g. 1m (memcached -I)')
    .addOption(new Option('--eviction <policy>', 'L1 eviction policy').choices(EVICTION_POLICIES))
    .option('--config <file>', 'TOML config file (see config.example.toml)')
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS))
    .option(
      '-v, --verbose',
      'more logging; -vv for per-command tracing',
      (_value, previous: number) => previous + 1,
      0,
    )
    .addOption(new Option('--preset <name>', 'defaults for an environment').choices(PRESETS))
    .option('-A, --enable-shutdown', 'allow the shutdown command (memcached -A)')
    .addOption(new Option('--io <mode>', 'socket I/O (default direct)').choices(SERVER_IO_MODES))
    .option('--no-l2', 'memory only: no LevelDB tier')
    .addOption(new Option('--l2-mode <mode>', 'L2 mode (default overflow)').choices(L2_MODES))
    .option('--data-dir <dir>', 'L2 LevelDB directory (default ./data)')
    .option('--l2-max-size <size>', 'L2 byte budget, e.g. 4g (default 4g)')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
}

function toSettings(options: CliOptions): RawSettings {
  const settings: RawSettings = {};
  if (options.bind !== undefined) settings.bind = options.bind;
  if (options.memory !== undefined) settings.memoryBytes = options.memory;
  if (options.maxConnections !== undefined) settings.maxConnections = options.maxConnections;
  if (options.maxItemSize !== undefined) settings.maxItemSize = options.maxItemSize;
  if (options.eviction !== undefined) settings.eviction = options.eviction;
  if (options.preset !== undefined) settings.preset = options.preset;
  if (options.enableShutdown === true) settings.enableShutdown = true;
  if (options.l2 === false) settings.l2Enabled = false;
  if (options.l2Mode !== undefined) settings.l2Mode = options.l2Mode;
  if (options.io !== undefined) settings.io = options.io;
  if (options.dataDir !== undefined) settings.l2DataDir = options.dataDir;
  if (options.l2MaxSize !== undefined) settings.l2MaxBytes = options.l2MaxSize;
  if (options.logLevel !== undefined) settings.logLevel = options.logLevel;
  else if (options.verbose > 0) settings.logLevel = options.verbose > 1 ? 'trace' : 'debug';
  return settings;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    program.parse(argv as string[], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : EXIT_CONFIG;
    }
    throw error;
  }
  const options = program.opts<CliOptions>();
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({
      flags: toSettings(options),
      ...(options.listen === undefined ? {} : { listenHost: options.listen }),
      ...(options.port === undefined ? {} : { port: options.port }),
      ...(options.config === undefined ? {} : { configFile: options.config }),
    });
  } catch (error) {
    if (error instanceof RatError) {
      process.stderr.write(`rat-memcached: ${error.message}\n`);
      return EXIT_CONFIG;
    }
    throw error;
  }

  const logger = createLogger(config.logLevel);
  let stopping = false;
  let running: RunningCache | undefined;
  const stop = async (reason: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'shutting down');
    await running?.close();
    logger.flush();
    process.exit(0);
  };
  // Handlers go in before we listen: a signal that arrives as soon as the
  // "listening" line is out must still shut down gracefully.
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  try {
    running = await startCache(config, {
      logger,
      onShutdownCommand: (graceful) => void stop(graceful ? 'shutdown graceful command' : 'shutdown command'),
    });
  } catch (error) {
    logger.fatal({ err: error }, 'start-up failed');
    process.stderr.write(`rat-memcached: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  return -1;
}
