// The TCP server: accepts connections, enforces max connections, owns the
// server-wide counters and shuts down gracefully (stop accepting, let
// in-flight replies go out, then close). net.Server listens; once it does,
// accepted connections come as bare TCP handles (direct-transport.ts) unless
// `server.io` is "stream" or this Node lacks the bindings for it.

import { type AddressInfo, createServer, type Server } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Config, ServerIoMode } from '../config/config.js';
import type { CacheCore } from '../core/cache-core.js';
import { ServerError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { OutputBuffer } from '../protocol/output-buffer.js';
import { TEXT_REPLY } from '../protocol/text/text-response.js';
import { Connection } from './connection.js';
import { acceptDirect, DirectTransport, loadDirectIo } from './direct-transport.js';
import { StreamTransport } from './stream-transport.js';
import type { Transport, TransportSink } from './transport.js';

export { RAT_VERSION } from './rat-version.js';

import { type ServerCounters, type StatsSource, writeStatsReply } from './stats-report.js';
import type { ServerHooks } from './text-session.js';

/**
 * What `version` answers: the memcached release whose behaviour we match.
 * Clients and tools feature-detect on it, so it is memcached's number; our
 * own release is RAT_VERSION (also in `stats` as rat_version).
 */
export const SERVER_VERSION = '1.6.18';

/** memcached stops waiting for a newline after 2048 bytes. */
const MAX_LINE_BYTES = 2048;
const MAX_KEY_BYTES = 250;

/**
 * monitorEventLoopDelay records the interval between ticks of its timer, so
 * its max is the worst stall plus one resolution; subtracting it gives the
 * stall itself, to the timer's slack of 1-2 ms (an idle server reads ~2 ms).
 * Not finer: a 1 ms timer woke an idle server 1,000 times a second and took
 * 4% of a core, time it stole from whatever shared the core (in the benches,
 * memcached).
 */
const LOOP_DELAY_RESOLUTION_MS = 10;

/** A refused connection hears one line and is closed; what it sends is ignored. */
const IGNORE_ALL: TransportSink = {
  onData() {},
  onDrain() {},
  onEnd() {},
  onClose() {},
};

export interface CacheServerOptions {
  readonly config: Config;
  readonly core: CacheCore;
  readonly logger: Logger;
  /** Called when a client sends an enabled `shutdown`. */
  readonly onShutdownCommand?: (graceful: boolean) => void;
}

export class CacheServer implements ServerHooks, StatsSource {
  readonly config: Config;
  readonly core: CacheCore;
  readonly version = SERVER_VERSION;
  readonly startedAtMs: number;
  readonly counters: ServerCounters = {
    currConnections: 0,
    totalConnections: 0,
    rejectedConnections: 0,
    bytesRead: 0,
    bytesWritten: 0,
  };
  verbosity = 0;
  readonly #logger: Logger;
  readonly #server: Server;
  readonly #connections = new Set<Connection>();
  readonly #loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  readonly #onShutdownCommand: ((graceful: boolean) => void) | undefined;
  #nextConnectionId = 1;
  #io: ServerIoMode = 'stream';
  /** Set by close(): told when the last connection has closed. */
  #onLastClose: (() => void) | undefined;

  constructor(options: CacheServerOptions) {
    this.config = options.config;
    this.core = options.core;
    this.#logger = options.logger;
    this.#onShutdownCommand = options.onShutdownCommand;
    this.startedAtMs = options.core.clock.nowMs();
    this.#server = createServer({ noDelay: true }, (socket) => this.#accept(new StreamTransport(socket)));
    this.#server.on('error', (error) => this.#logger.error({ err: error }, 'server error'));
  }

  get shutdownEnabled(): boolean {
    return this.config.enableShutdown;
  }

  listen(): Promise<AddressInfo> {
    const { host, port } = this.config;
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        reject(new ServerError(`cannot listen on ${host}:${port}: ${error.message}`, { cause: error }));
      };
      this.#server.once('error', onError);
      this.#server.listen({ host, port, backlog: 1024 }, () => {
        this.#server.off('error', onError);
        this.#io = this.#chooseIo();
        this.#loopDelay.enable();
        const address = this.#server.address() as AddressInfo;
        this.#logger.info({ host: address.address, port: address.port, io: this.#io }, 'listening');
        resolve(address);
      });
    });
  }

  /** The I/O path in use: set once listening. */
  get io(): ServerIoMode {
    return this.#io;
  }

  #chooseIo(): ServerIoMode {
    if (this.config.io === 'stream') return 'stream';
    const io = loadDirectIo();
    if (
      io !== null &&
      acceptDirect(this.#server, (handle) => this.#accept(new DirectTransport(io, handle)))
    ) {
      return 'direct';
    }
    this.#logger.warn('direct socket I/O is not available in this Node.js; using net.Socket streams');
    return 'stream';
  }

  #accept(transport: Transport): void {
    const counters = this.counters;
    if (counters.currConnections >= this.config.maxConnections) {
      counters.rejectedConnections++;
      transport.start(IGNORE_ALL);
      transport.write(TEXT_REPLY.tooManyConnections);
      transport.end();
      return;
    }
    counters.currConnections++;
    counters.totalConnections++;
    const trace = this.#logger.isLevelEnabled('trace')
      ? (command: string) => this.#logger.trace({ conn: id, command }, 'command')
      : undefined;
    const id = this.#nextConnectionId++;
    const connection = new Connection(transport, id, this.core.clock.nowMs(), {
      core: this.core,
      hooks: this,
      limits: {
        maxKeyLength: MAX_KEY_BYTES,
        maxLineLength: MAX_LINE_BYTES,
        maxItemSize: this.config.maxItemSize,
      },
      counters,
      onTrace: trace,
      onError: (error) => this.#logger.debug({ conn: id, err: error.message }, 'connection error'),
      onClose: () => {
        this.#connections.delete(connection);
        counters.currConnections--;
        if (this.#connections.size === 0) this.#onLastClose?.();
      },
    });
    this.#connections.add(connection);
  }

  writeStats(args: readonly string[], out: OutputBuffer): boolean {
    return writeStatsReply(this, args, out);
  }

  setVerbosity(level: number): void {
    this.verbosity = level;
  }

  shutdown(graceful: boolean): void {
    this.#logger.info({ graceful }, 'shutdown command received');
    this.#onShutdownCommand?.(graceful);
  }

  eventLoopMaxDelayMs(): number {
    return Math.max(0, this.#loopDelay.max / 1e6 - LOOP_DELAY_RESOLUTION_MS);
  }

  *connections(): Iterable<{ id: number; remote: string; state: string; openedAtMs: number }> {
    for (const connection of this.#connections) {
      yield {
        id: connection.id,
        remote: connection.transport.remoteAddress,
        state: connection.state,
        openedAtMs: connection.openedAtMs,
      };
    }
  }

  resetCounters(): void {
    this.core.stats.reset();
    this.counters.totalConnections = 0;
    this.counters.rejectedConnections = 0;
    this.counters.bytesRead = 0;
    this.counters.bytesWritten = 0;
    this.#loopDelay.reset();
  }

  /**
   * Stop accepting, flush what each connection has rendered, close them all;
   * resolves once every connection is closed (those still open after 2 s are
   * destroyed). Direct connections are not counted by net.Server, so its
   * close callback alone would not wait for them.
   */
  async close(): Promise<void> {
    const listenerClosed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    const connectionsClosed = new Promise<void>((resolve) => {
      this.#onLastClose = resolve;
      if (this.#connections.size === 0) resolve();
    });
    for (const connection of this.#connections) connection.end();
    const deadline = setTimeout(() => {
      for (const connection of this.#connections) connection.transport.destroy();
    }, 2000);
    deadline.unref();
    await Promise.all([listenerClosed, connectionsClosed]);
    clearTimeout(deadline);
    this.#loopDelay.disable();
    this.#logger.info('closed');
  }
}
