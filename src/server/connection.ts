// One client connection: buffers input, runs the parser over it, executes
// requests in order and writes each batch of replies with a single write.
//
// Input: while nothing is buffered, requests are parsed straight out of the
// socket's chunk (no copy); only a partial request left at the end of a chunk
// is copied into the connection's own growable buffer.
// Backpressure: when the socket holds more unsent output than the high-water
// mark, we stop reading (socket.pause) until it drains, so a client that
// sends without reading cannot grow our memory without bound.
// Async requests (the key may be in L2): processing stops at that request,
// the rest of the input is kept, and it resumes when the reply is rendered,
// so replies stay in request order; other connections go on meanwhile.
// L2 write backlog over its limit: a connection stops reading after its
// current batch until the backlog drains (the writers are the ones slowed).
// Transient chunks (the direct transport reuses one read buffer): requests
// are still parsed in place, since without L2 every request is answered
// before the chunk's memory is reused; with L2 a request may wait on a
// LevelDB read holding views of its input, so input is copied first.

import type { CacheCore } from '../core/cache-core.js';
import { OutputBuffer } from '../protocol/output-buffer.js';
import { parseTextRequest } from '../protocol/text/text-parser.js';
import type { TextParserLimits } from '../protocol/text/text-request.js';
import { handleTextRequest, type ServerHooks } from './text-session.js';
import type { Transport, TransportSink } from './transport.js';

/** Unsent bytes above which we stop reading from the client. */
const OUTPUT_HIGH_WATER_BYTES = 4 * 1024 * 1024;
/**
 * Input after which a connection stops reading until the rest of the event
 * loop has had a turn. libuv reads a busy socket up to 32 x 64 KiB per
 * wakeup, and running 2 MiB of pipelined requests at once stalled everyone
 * else for 20-45 ms (bench/memory.mjs load); memcached yields the same way
 * (reqs_per_event). 64 KiB is thousands of small requests.
 */
const READ_YIELD_BYTES = 64 * 1024;
/** Rendered-but-unwritten bytes after which we write mid-batch. */
const BATCH_FLUSH_BYTES = 1024 * 1024;
const CRLF = Buffer.from('\r\n', 'latin1');

export interface ConnectionCounters {
  bytesRead: number;
  bytesWritten: number;
}

export interface ConnectionOptions {
  readonly core: CacheCore;
  readonly hooks: ServerHooks;
  readonly limits: TextParserLimits;
  readonly counters: ConnectionCounters;
  readonly onTrace?: ((line: string) => void) | undefined;
  /** The connection failed (reset, write error): for the log. */
  readonly onError: (error: Error) => void;
  readonly onClose: () => void;
}

export class Connection implements TransportSink {
  readonly transport: Transport;
  readonly id: number;
  readonly openedAtMs: number;
  readonly #options: ConnectionOptions;
  readonly #out = new OutputBuffer();
  /** Bytes of a partial request carried over between chunks. */
  #pending: Buffer = Buffer.alloc(0);
  #pendingStart = 0;
  #pendingEnd = 0;
  /** Data of a refused (too large) value still to discard as it arrives. */
  #swallow = 0;
  #closing = false;
  #paused = false;
  /** An async request is in progress; nothing else of this connection runs until it is rendered. */
  #waiting = false;
  /** Stopped reading because the L2 write backlog is over its limit. */
  #throttled = false;
  /** Input of this read burst (see Transport.fullReadBytes), and whether a yield is under way. */
  #readSinceYield = 0;
  #yielding = false;
  readonly #copyInput: boolean;

  constructor(transport: Transport, id: number, openedAtMs: number, options: ConnectionOptions) {
    this.transport = transport;
    this.id = id;
    this.openedAtMs = openedAtMs;
    this.#options = options;
    // Input must be copied before parsing when a request may outlive its chunk (see the top).
    this.#copyInput = transport.transientChunks && options.core.l2 !== undefined;
    transport.start(this);
  }

  get state(): string {
    if (this.#closing) return 'closing';
    if (this.#waiting || this.#throttled) return 'conn_waiting';
    if (this.#yielding) return 'conn_new_cmd';
    return this.#paused ? 'conn_mwrite' : 'conn_parse_cmd';
  }

  onData(chunk: Buffer, length: number): void {
    this.#options.counters.bytesRead += length;
    let start = 0;
    if (this.#swallow > 0) {
      const skipped = Math.min(this.#swallow, length);
      this.#swallow -= skipped;
      start = skipped;
      if (start === length) return;
    }
    if (this.#pendingStart === this.#pendingEnd && !this.#waiting && !this.#throttled && !this.#copyInput) {
      const consumed = this.#process(chunk, start, length);
      if (!this.#closing && consumed < length) this.#keep(chunk, consumed, length);
    } else {
      this.#keep(chunk, start, length);
      this.#drainPending();
    }
    this.#flush();
    this.#throttleIfL2Busy();
    // Only back-to-back full reads count (see Transport.fullReadBytes): counted
    // across wakeups, a client sending 4 KiB values without pipelining was made
    // to yield every 16 requests (a readStop, a readStart and a loop turn's wait).
    if (length < this.transport.fullReadBytes) {
      this.#readSinceYield = 0;
      return;
    }
    this.#readSinceYield += length;
    if (this.#readSinceYield >= READ_YIELD_BYTES) this.#yieldTurn();
  }

  #yieldTurn(): void {
    if (this.#yielding || this.#closing) return;
    this.#yielding = true;
    this.transport.pause();
    setImmediate(() => {
      this.#readSinceYield = 0;
      this.#yielding = false;
      this.#resume();
    });
  }

  onDrain(): void {
    if (!this.#paused || this.#closing) return;
    this.#paused = false;
    this.#resume();
  }

  /** memcached closes on EOF; what is already rendered still goes out. */
  onEnd(error: Error | undefined): void {
    if (error !== undefined) this.#options.onError(error);
    this.end();
  }

  onClose(): void {
    this.#options.onClose();
  }

  /** Reads again (and runs what is buffered) once nothing holds this connection back. */
  #resume(): void {
    if (this.#paused || this.#waiting || this.#throttled || this.#closing || this.#yielding) return;
    this.transport.resume();
    this.#drainPending();
    this.#flush();
    this.#throttleIfL2Busy();
  }

  #throttleIfL2Busy(): void {
    const l2 = this.#options.core.l2;
    if (l2 === undefined || this.#throttled || this.#closing || !l2.throttled) return;
    this.#throttled = true;
    l2.stats.l2Throttled++;
    this.transport.pause();
    void l2.drained().then(() => {
      this.#throttled = false;
      this.#resume();
    });
  }

  #onAsyncDone(action: 'continue' | 'close'): void {
    this.#waiting = false;
    if (action === 'close') this.#close();
    this.#flush();
    this.#resume();
  }

  #drainPending(): void {
    if (this.#waiting) return;
    const consumed = this.#process(this.#pending, this.#pendingStart, this.#pendingEnd);
    if (this.#waiting) {
      // The async request holds views into this buffer; later input must not
      // overwrite them, so the rest moves to a buffer of its own.
      const rest = this.#pending.subarray(consumed, this.#pendingEnd);
      this.#pending = Buffer.from(rest);
      this.#pendingStart = 0;
      this.#pendingEnd = rest.length;
      return;
    }
    this.#pendingStart = consumed;
    if (this.#pendingStart === this.#pendingEnd) {
      this.#pendingStart = 0;
      this.#pendingEnd = 0;
      if (this.#pending.length > 64 * 1024) this.#pending = Buffer.alloc(0);
    }
  }

  /** Appends bytes to the carried-over input, compacting or growing as needed. */
  #keep(source: Buffer, start: number, end: number): void {
    const length = end - start;
    const held = this.#pendingEnd - this.#pendingStart;
    if (this.#pendingEnd + length > this.#pending.length) {
      const target =
        held + length > this.#pending.length
          ? Buffer.allocUnsafe(Math.max(held + length, this.#pending.length * 2, 4096))
          : this.#pending;
      this.#pending.copy(target, 0, this.#pendingStart, this.#pendingEnd);
      this.#pending = target;
      this.#pendingStart = 0;
      this.#pendingEnd = held;
    }
    source.copy(this.#pending, this.#pendingEnd, start, end);
    this.#pendingEnd += length;
  }

  /** Runs every complete request in buffer[start, end); returns the offset reached. */
  #process(buffer: Buffer, start: number, end: number): number {
    const core = this.#options.core;
    core.pinClock();
    try {
      return this.#processBatch(buffer, start, end);
    } finally {
      core.unpinClock();
    }
  }

  #processBatch(buffer: Buffer, start: number, end: number): number {
    const { core, hooks, limits, onTrace } = this.#options;
    const out = this.#out;
    let offset = start;
    while (offset < end && !this.#closing && !this.#paused && !this.#waiting) {
      const result = parseTextRequest(buffer, offset, end, limits);
      if (result.kind === 'incomplete') break;
      if (result.kind === 'error') {
        offset += result.consumed;
        if (result.reply !== '') {
          out.writeLatin1(result.reply);
          out.writeBytes(CRLF);
        }
        if (result.close) this.#close();
        continue;
      }
      offset += result.consumed;
      if (onTrace !== undefined) onTrace(result.request.type);
      if (result.swallow > 0) {
        const available = Math.min(result.swallow, end - offset);
        offset += available;
        this.#swallow = result.swallow - available;
      }
      const action = handleTextRequest(result.request, core, hooks, out);
      if (action instanceof Promise) {
        this.#waiting = true;
        this.transport.pause();
        action.then(
          (done) => this.#onAsyncDone(done),
          () => this.#onAsyncDone('close'),
        );
        break;
      }
      if (action === 'close') this.#close();
      if (out.length >= BATCH_FLUSH_BYTES) this.#flush();
    }
    return offset;
  }

  #flush(): void {
    const out = this.#out;
    const transport = this.transport;
    if (out.length > 0 && !transport.closed) {
      this.#options.counters.bytesWritten += out.length;
      // Taken whole by the kernel: the next batch may reuse the same bytes.
      if (transport.write(out.take())) out.reuseTaken();
      if (!this.#paused && transport.pendingBytes > OUTPUT_HIGH_WATER_BYTES) {
        this.#paused = true;
        transport.pause();
      }
    }
    if (this.#closing) transport.end();
  }

  #close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.transport.pause();
  }

  /** Ends the connection after replies already rendered are written. */
  end(): void {
    this.#close();
    this.#flush();
  }
}
