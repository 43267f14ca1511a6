// A Transport over a net.Socket: Node's public streams. Used when the direct
// path is off or unavailable (direct-transport.ts), and for any socket that
// is not a plain TCP handle (TLS, later).

import type { Socket } from 'node:net';
import type { Transport, TransportSink } from './transport.js';

/** What libuv suggests, and Node allocates, for each read of a stream. */
const STREAM_READ_BYTES = 64 * 1024;

export class StreamTransport implements Transport {
  readonly transientChunks = false;
  readonly fullReadBytes = STREAM_READ_BYTES;
  readonly #socket: Socket;
  #closed = false;

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
  }

  get remoteAddress(): string {
    return `${this.#socket.remoteAddress ?? '?'}:${this.#socket.remotePort ?? 0}`;
  }

  get pendingBytes(): number {
    return this.#socket.writableLength;
  }

  get closed(): boolean {
    return this.#closed || this.#socket.destroyed;
  }

  start(sink: TransportSink): void {
    const socket = this.#socket;
    socket.on('data', (chunk: Buffer) => sink.onData(chunk, chunk.length));
    socket.on('drain', () => sink.onDrain());
    socket.on('end', () => sink.onEnd(undefined));
    socket.on('error', (error) => {
      this.#closed = true;
      sink.onEnd(error);
    });
    socket.on('close', () => {
      this.#closed = true;
      sink.onClose();
    });
  }

  write(data: Buffer): boolean {
    if (!this.closed) this.#socket.write(data);
    // The stream may hold the buffer in its queue: never reusable at once.
    return false;
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  end(): void {
    this.#closed = true;
    this.#socket.end();
  }

  destroy(): void {
    this.#closed = true;
    this.#socket.destroy();
  }
}
