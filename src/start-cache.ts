// The wiring: which protocol, which tiers, which clock. Everything else is
// in its layer; this file only puts them together (and owns the L2 lifecycle:
// open, background key scan, graceful persist-and-close).

import type { AddressInfo } from 'node:net';
import type { Config } from './config/config.js';
import { CacheCore } from './core/cache-core.js';
import { type Clock, systemClock } from './core/clock.js';
import { CAS_RESERVED, decodeU64, FLUSHED_BELOW_CAS, L2Bridge } from './core/l2-bridge.js';
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
  /** Stops serving; with L2, writes L1's items to it and closes LevelDB cleanly. */
  close(): Promise<void>;
}

/** A memory-only core (no L2). */
export function createCore(config: Config, clock: Clock = systemClock): CacheCore {
  const memory = new MemoryTier({
    maxBytes: config.memoryBytes,
    maxItemSize: config.maxItemSize,
    eviction: config.eviction,
  });
  return new CacheCore({ memory, clock });
}

/** Bytes an average L2 entry is assumed to take, to size the Bloom filter. */
const BLOOM_BYTES_PER_KEY_GUESS = 512;
/** Batches that must land in a row before failing L2 writes are logged as recovered. */
const RECOVERED_AFTER_BATCHES = 3;

/**
 * Opens L2 and builds a core over both tiers. Throws LevelOpenError (one
 * clear line) when the directory is locked or not ours.
 */
export async function createTieredCore(config: Config, clock: Clock, logger: Logger): Promise<CacheCore> {
  const startedMs = Date.now();
  // Loaded here, not at the top: a memory-only server never maps LevelDB's
  // and LZ4's native code (about 8 MiB of RSS).
  const { ItemStore } = await import('./tiers/level/item-store.js');
  let failing = false;
  let landedSinceFailure = 0;
  let corruptLogged = false;
  const store = await ItemStore.open(config.l2DataDir, {
    maxBytes: config.l2MaxBytes,
    flushIntervalMs: config.l2FlushIntervalMs,
    clearOnOpen: config.l2ClearOnStartup,
    compressMinBytes: config.l2CompressMinBytes,
    ...(config.l2CompactWhenQuiet ? {} : { compactAfterBytes: 0 }),
    pointerCacheBytes: config.l2PointerCacheBytes,
    onWriteError: (error) => {
      landedSinceFailure = 0;
      if (failing) return;
      failing = true;
      logger.error(
        { err: error, dir: config.l2DataDir },
        'L2 writes failing; serving from L1 until they recover',
      );
    },
    onWriteOk: () => {
      // On a nearly full disk a small batch can fit between failing ones;
      // that is the same episode, not a recovery to announce.
      if (!failing || ++landedSinceFailure < RECOVERED_AFTER_BATCHES) return;
      failing = false;
      logger.info({ dir: config.l2DataDir }, 'L2 writes recovered');
    },
    onCorrupt: (key, error) => {
      if (corruptLogged) return;
      corruptLogged = true;
      logger.error(
        { err: error, key: key.toString('latin1') },
        'L2 record corrupt: deleted, served as a miss',
      );
    },
  });
  const initialCas = decodeU64(await store.store.getAux(CAS_RESERVED));
  const flushedBelowCas = decodeU64(await store.store.getAux(FLUSHED_BELOW_CAS));
  let bridge: L2Bridge | undefined;
  const memory = new MemoryTier({
    maxBytes: config.memoryBytes,
    maxItemSize: config.maxItemSize,
    eviction: config.eviction,
    onEvict: (slot) => bridge?.demote(slot),
  });
  bridge = new L2Bridge({
    store,
    memory,
    mode: config.l2Mode,
    expectedKeys: Math.ceil(config.l2MaxBytes / BLOOM_BYTES_PER_KEY_GUESS),
    maxPendingBytes: config.l2MaxPendingBytes,
    readMode: config.l2ReadMode,
    promotion: config.l2Promotion,
    writeWhenIdle: config.l2WriteWhenIdle,
    reclaimIntervalSeconds: config.l2ReclaimIntervalSeconds,
    onReclaimError: (error) =>
      logger.error({ err: error }, 'L2 expiry reclaim failed; retried next interval'),
  });
  const core = new CacheCore({ memory, clock, l2: bridge, initialCas, flushedBelowCas });
  const l2Stats = store.store.stats();
  logger.info(
    {
      dir: config.l2DataDir,
      mode: config.l2Mode,
      items: l2Stats.items,
      bytes: l2Stats.bytes,
      openMs: Date.now() - startedMs,
    },
    'L2 opened',
  );
  const scanStartMs = Date.now();
  bridge.scanKeys().then(
    (keys) => logger.info({ keys, scanMs: Date.now() - scanStartMs }, 'L2 key scan done'),
    (error: unknown) => logger.error({ err: error }, 'L2 key scan failed; every L1 miss reads L2'),
  );
  return core;
}

export async function startCache(config: Config, options: StartOptions = {}): Promise<RunningCache> {
  const logger = options.logger ?? silentLogger();
  const clock = options.clock ?? systemClock;
  const core = config.l2Enabled ? await createTieredCore(config, clock, logger) : createCore(config, clock);
  const server = new CacheServer({
    config,
    core,
    logger,
    ...(options.onShutdownCommand === undefined ? {} : { onShutdownCommand: options.onShutdownCommand }),
  });
  let address: AddressInfo;
  try {
    address = await server.listen();
  } catch (error) {
    await core.l2?.store.close();
    throw error;
  }
  const expiry = new ExpiryDriver({
    clock: core.clock,
    tick: () => {
      try {
        // L1 expiry, the post-flush sweep and (when due) an L2 pass; the
        // first tick's L2 pass clears what expired while the server was down.
        core.tickExpiry();
      } catch (error) {
        logger.error({ err: error }, 'expiry reclaim failed');
      }
    },
  });
  expiry.start();
  let closing: Promise<void> | undefined;
  return {
    address,
    core,
    server,
    close: () => {
      closing ??= (async () => {
        expiry.stop();
        await server.close();
        const l2 = core.l2;
        if (l2 === undefined) return;
        await l2.reclaimer.stop();
        await l2.stopIdleWrites();
        const startedMs = Date.now();
        const written = l2.persistAll();
        try {
          await l2.store.close();
        } catch (error) {
          // A full or failing disk must not turn a graceful stop into a crash:
          // what could not be written is counted, logged, and the process exits.
          logger.error(
            { err: error, written, writesDropped: l2.store.counters.writesDropped },
            'L2 close failed',
          );
          return;
        }
        const stats = l2.store.store.stats();
        logger.info(
          { written, items: stats.items, bytes: stats.bytes, closeMs: Date.now() - startedMs },
          'L2 closed',
        );
      })();
      return closing;
    },
  };
}
