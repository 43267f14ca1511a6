// A Transport straight on libuv's TCP handle, without net.Socket's streams.
//
// Why: without pipelining every request is one read and one write, and the
// Readable/Writable layers of net.Socket cost more CPU per request than
// parsing and answering it (measured with a trivial responder under the
// s1 load: 2.6 µs of user time per request through net.Socket, 1.5 µs here,
// memcached 1.3 µs). This path reads into one buffer shared by every
// connection (no allocation per read, the chunk is handed over in place) and
// gives each batch of replies to the handle's writeBuffer: a write the
// kernel takes whole finishes before it returns, with nothing to clean up.
//
// It stands on Node's internal bindings (process.binding('tcp_wrap' and
// 'stream_wrap')), the layer net.Socket itself is built on. loadDirectIo()
// checks their shape once; where they are missing or different the server
// uses stream-transport.ts instead, so the fast path can disappear but never
// break the server.

import type { Server } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { ServerError } from '../errors.js';
import type { Transport, TransportSink } from './transport.js';

/** Shared by all connections: reads land here and are parsed in place. */
const READ_BUFFER_BYTES = 64 * 1024;
/** How long a closing connection waits for the peer's FIN before it is closed anyway. */
const LINGER_MS = 5_000;
/** libuv's UV_EOF. */
const UV_EOF = -4095;

interface WriteRequest {
  handle: TcpHandle | null;
  buffer: Buffer | null;
  oncomplete: ((status: number) => void) | null;
}

interface ShutdownRequest {
  handle: TcpHandle | null;
  oncomplete: ((status: number) => void) | null;
}

/** The part of Node's TCPWrap this file uses. */
export interface TcpHandle {
  /** Must always be a function: Node CHECK-fails (aborts) on anything else. */
  onread: () => void;
  readStart(): number;
  readStop(): number;
  useUserBuffer(buffer: Uint8Array): void;
  writeBuffer(request: WriteRequest, data: Uint8Array): number;
  shutdown(request: ShutdownRequest): number;
  close(callback?: () => void): void;
  setNoDelay(enable: boolean): number;
  getpeername(out: { address?: string; port?: number }): number;
}

interface ListenHandle {
  onconnection: ((status: number, client: TcpHandle | undefined) => void) | null;
}

export interface DirectIo {
  readonly WriteWrap: new () => WriteRequest;
  readonly ShutdownWrap: new () => ShutdownRequest;
  /** Node's streamBaseState: how a handle call tells its result. */
  readonly state: Int32Array;
  readonly readBytesIndex: number;
  readonly lastWriteAsyncIndex: number;
  readonly readBuffer: Buffer;
}

let loaded: DirectIo | null | undefined;

/** The internal bindings, or null where this Node does not have them as expected. */
export function loadDirectIo(): DirectIo | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  try {
    const binding = (process as unknown as { binding(name: string): Record<string, unknown> }).binding;
    const streamWrap = binding('stream_wrap');
    const tcpWrap = binding('tcp_wrap');
    const { WriteWrap, ShutdownWrap, streamBaseState, kReadBytesOrError, kLastWriteWasAsync } = streamWrap;
    const tcp = tcpWrap.TCP as { prototype?: Record<string, unknown> } | undefined;
    const methods = ['readStart', 'readStop', 'useUserBuffer', 'writeBuffer', 'shutdown', 'close'];
    if (
      typeof WriteWrap === 'function' &&
      typeof ShutdownWrap === 'function' &&
      streamBaseState instanceof Int32Array &&
      typeof kReadBytesOrError === 'number' &&
      typeof kLastWriteWasAsync === 'number' &&
      tcp?.prototype !== undefined &&
      methods.every((name) => typeof tcp.prototype?.[name] === 'function')
    ) {
      loaded = {
        WriteWrap: WriteWrap as new () => WriteRequest,
        ShutdownWrap: ShutdownWrap as new () => ShutdownRequest,
        state: streamBaseState,
        readBytesIndex: kReadBytesOrError,
        lastWriteAsyncIndex: kLastWriteWasAsync,
        readBuffer: Buffer.allocUnsafe(READ_BUFFER_BYTES),
      };
    }
  } catch {
    loaded = null;
  }
  return loaded;
}

/**
 * Takes over accepting on a listening net.Server: new connections arrive as
 * bare TCP handles instead of net.Sockets. The server keeps listening,
 * address() and close() as before. Returns false (nothing changed) where the
 * server's handle is not what this expects.
 */
export function acceptDirect(server: Server, onHandle: (handle: TcpHandle) => void): boolean {
  const handle = (server as unknown as { _handle?: ListenHandle | null })._handle;
  if (handle === undefined || handle === null || typeof handle.onconnection !== 'function') return false;
  handle.onconnection = (status, client) => {
    // A failed accept (EMFILE...) leaves nothing to close; the listener goes on.
    if (status === 0 && client !== undefined) onHandle(client);
  };
  return true;
}

function ignoreRead(): void {}

function uvError(operation: string, status: number): ServerError {
  let name: string;
  try {
    name = getSystemErrorName(status);
  } catch {
    name = `code ${status}`;
  }
  return new ServerError(`${operation} failed: ${name}`);
}

export class DirectTransport implements Transport {
  readonly transientChunks = true;
  readonly fullReadBytes = READ_BUFFER_BYTES;
  readonly #io: DirectIo;
  readonly #handle: TcpHandle;
  #sink: TransportSink | undefined;
  #pendingBytes = 0;
  /** Reused for every write the kernel takes at once; an async write keeps its own. */
  #spareRequest: WriteRequest | null = null;
  #reading = false;
  /** end() or destroy() was called, or the connection failed. */
  #closed = false;
  /** The peer sent FIN. */
  #peerEnded = false;
  #released = false;
  #linger: NodeJS.Timeout | undefined;

  constructor(io: DirectIo, handle: TcpHandle) {
    this.#io = io;
    this.#handle = handle;
    handle.setNoDelay(true);
  }

  get remoteAddress(): string {
    const out: { address?: string; port?: number } = {};
    if (this.#released || this.#handle.getpeername(out) !== 0) return '?:0';
    return `${out.address ?? '?'}:${out.port ?? 0}`;
  }

  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  get closed(): boolean {
    return this.#closed;
  }

  start(sink: TransportSink): void {
    this.#sink = sink;
    const handle = this.#handle;
    handle.useUserBuffer(this.#io.readBuffer);
    handle.onread = () => this.#onRead();
    this.#startReading();
  }

  #startReading(): void {
    if (this.#reading || this.#released) return;
    const status = this.#handle.readStart();
    if (status !== 0) {
      this.#fail(uvError('read start', status));
      return;
    }
    this.#reading = true;
  }

  #stopReading(): void {
    if (!this.#reading) return;
    this.#reading = false;
    this.#handle.readStop();
  }

  #onRead(): void {
    const io = this.#io;
    const nread = io.state[io.readBytesIndex] as number;
    if (nread > 0) {
      // After end() input is read only to see the peer's FIN (see #linger); it is discarded.
      if (!this.#closed) this.#sink?.onData(io.readBuffer, nread);
      return;
    }
    if (nread === 0) return;
    this.#stopReading();
    if (nread === UV_EOF) {
      this.#peerEnded = true;
      if (this.#closed) {
        if (this.#pendingBytes === 0) this.#release();
        return;
      }
      this.#sink?.onEnd(undefined);
      return;
    }
    this.#fail(uvError('read', nread));
  }

  write(data: Buffer): boolean {
    if (this.#released || data.length === 0) return true;
    const io = this.#io;
    const request = this.#spareRequest ?? new io.WriteWrap();
    this.#spareRequest = null;
    request.handle = this.#handle;
    const status = this.#handle.writeBuffer(request, data);
    if (status !== 0) {
      this.#spareRequest = request;
      this.#fail(uvError('write', status));
      return true;
    }
    if (io.state[io.lastWriteAsyncIndex] === 0) {
      this.#spareRequest = request;
      return true;
    }
    // The kernel's send buffer is full: libuv holds the rest, and the bytes
    // must stay alive (and unchanged) until oncomplete.
    this.#pendingBytes += data.length;
    request.buffer = data;
    request.oncomplete = (completion) => this.#afterWrite(data.length, completion);
    return false;
  }

  #afterWrite(length: number, status: number): void {
    this.#pendingBytes -= length;
    if (status !== 0) {
      // ECANCELED: we closed with writes queued, nothing to report.
      if (!this.#released) this.#fail(uvError('write', status));
      return;
    }
    if (this.#pendingBytes === 0 && !this.#closed) this.#sink?.onDrain();
  }

  pause(): void {
    this.#stopReading();
  }

  resume(): void {
    if (!this.#closed && !this.#peerEnded) this.#startReading();
  }

  end(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#released) return;
    const request = new this.#io.ShutdownWrap();
    request.handle = this.#handle;
    // FIN goes out after the queued writes; then we wait (briefly) for the
    // peer's FIN, since closing with its data unread would send an RST that
    // can destroy replies still in its receive buffer.
    request.oncomplete = () => {
      if (this.#peerEnded) {
        this.#release();
        return;
      }
      this.#linger = setTimeout(() => this.#release(), LINGER_MS);
      this.#linger.unref();
      this.#startReading();
    };
    if (this.#handle.shutdown(request) !== 0) this.#release();
  }

  destroy(): void {
    this.#closed = true;
    this.#release();
  }

  #fail(error: Error): void {
    const first = !this.#closed;
    this.#closed = true;
    if (first) this.#sink?.onEnd(error);
    this.#release();
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#reading = false;
    if (this.#linger !== undefined) clearTimeout(this.#linger);
    this.#handle.onread = ignoreRead;
    this.#handle.close(() => this.#sink?.onClose());
  }
}
