// A raw TCP client for protocol tests: writes exact bytes (whole, one write per line, byte by byte or
// in fixed chunks) and reads until a terminator, until the server closes, or until the line goes quiet.
// It never parses replies; callers decide where a reply ends. Reads are bounded by a timeout only so a
// wrong server fails the test with what it sent instead of hanging it.

import { createConnection, type Socket } from 'node:net';

export const CLOSED_MARK = '<closed>';
export const TIMEOUT_MARK = '<timeout>';

/** How a payload is cut into socket writes. Each write waits for the previous one to be flushed. */
export type SplitMode = 'whole' | 'lines' | 'bytes' | { readonly chunkSize: number };

export type Payload = string | Uint8Array | readonly (string | Uint8Array)[];

export interface ReadResult {
  readonly data: Buffer;
  /** The server closed the connection before (or while) the awaited end arrived. */
  readonly closed: boolean;
  /** The timeout fired before the awaited end; `data` holds whatever came. */
  readonly timedOut: boolean;
}

/** Returns how many bytes of `buffered` form a complete reply, or -1 if more are needed. */
export type ReplyEnd = (buffered: Buffer) => number;

export function toBuffer(payload: Payload): Buffer {
  if (typeof payload === 'string') return Buffer.from(payload, 'latin1');
  if (payload instanceof Uint8Array)
    return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  return Buffer.concat(payload.map((p) => toBuffer(p)));
}

/** Cuts bytes into the writes a mode asks for; 'lines' cuts after every '\n'. */
export function splitPayload(bytes: Buffer, mode: SplitMode): Buffer[] {
  if (bytes.length === 0) return [];
  if (mode === 'whole') return [bytes];
  if (mode === 'bytes') return splitEvery(bytes, 1);
  if (mode === 'lines') {
    const parts: Buffer[] = [];
    let start = 0;
    for (let nl = bytes.indexOf(10); nl !== -1; nl = bytes.indexOf(10, start)) {
      parts.push(bytes.subarray(start, nl + 1));
      start = nl + 1;
    }
    if (start < bytes.length) parts.push(bytes.subarray(start));
    return parts;
  }
  return splitEvery(bytes, mode.chunkSize);
}

function splitEvery(bytes: Buffer, size: number): Buffer[] {
  if (!(size >= 1)) throw new RangeError(`chunk size must be >= 1, got ${size}`);
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return parts;
}

/** A reply ends with `terminator` (searched from the start of the buffer). */
export function endsAt(terminator: string | Uint8Array): ReplyEnd {
  const term = toBuffer(terminator);
  return (buffered) => {
    const at = buffered.indexOf(term);
    return at === -1 ? -1 : at + term.length;
  };
}

export class RawClient {
  readonly #socket: Socket;
  #buffered: Buffer = Buffer.alloc(0);
  #closed = false;
  #wake: (() => void) | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
      this.#wake?.();
    });
    const onGone = () => {
      this.#closed = true;
      this.#wake?.();
    };
    socket.on('end', onGone);
    socket.on('close', onGone);
    // A reset from the server counts as a close; the test compares what was received before it.
    socket.on('error', onGone);
  }

  static connect(host: string, port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ host, port });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes received and not yet taken by a read. */
  get pending(): Buffer {
    return this.#buffered;
  }

  /** Writes the payload cut as `mode` says; resolves when every piece has been handed to the kernel. */
  async send(payload: Payload, mode: SplitMode = 'whole'): Promise<void> {
    for (const part of splitPayload(toBuffer(payload), mode)) {
      if (this.#closed) return;
      await new Promise<void>((resolve) => {
        // A write error means the peer closed; the 'error' listener records that.
        this.#socket.write(part, () => resolve());
      });
    }
  }

  /** Waits for a complete reply as `end` defines it, and removes it from the buffer. */
  async readReply(end: ReplyEnd, timeoutMs = 5_000): Promise<ReadResult> {
    const done = await this.#waitFor(() => end(this.#buffered) !== -1 || this.#closed, timeoutMs);
    const n = end(this.#buffered);
    const take = n === -1 ? this.#buffered.length : n;
    const data = this.#buffered.subarray(0, take);
    this.#buffered = this.#buffered.subarray(take);
    return { data, closed: n === -1 && this.#closed, timedOut: !done };
  }

  readUntil(terminator: string | Uint8Array, timeoutMs?: number): Promise<ReadResult> {
    return this.readReply(endsAt(terminator), timeoutMs);
  }

  /** Reads everything until the server closes the connection. */
  async readUntilClosed(timeoutMs = 5_000): Promise<ReadResult> {
    const done = await this.#waitFor(() => this.#closed, timeoutMs);
    const data = this.#buffered;
    this.#buffered = Buffer.alloc(0);
    return { data, closed: this.#closed, timedOut: !done };
  }

  /**
   * Reads until nothing arrives for `quietMs`. Only for exploring a server by hand: a comparison needs
   * a sentinel reply (see test/conformance/script-runner.ts), because quiet is not proof of completeness.
   */
  async readUntilQuiet(quietMs = 100): Promise<ReadResult> {
    let seen = -1;
    while (seen !== this.#buffered.length && !this.#closed) {
      seen = this.#buffered.length;
      await this.#waitFor(() => this.#buffered.length !== seen || this.#closed, quietMs);
    }
    const data = this.#buffered;
    this.#buffered = Buffer.alloc(0);
    return { data, closed: this.#closed, timedOut: false };
  }

  /** Closes our side and waits for the socket to be fully closed. */
  close(): Promise<void> {
    if (this.#socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#socket.once('close', () => resolve());
      this.#socket.destroy();
    });
  }

  async #waitFor(ready: () => boolean, timeoutMs: number): Promise<boolean> {
    if (ready()) return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve(false);
      }, timeoutMs);
      this.#wake = () => {
        if (!ready()) return;
        clearTimeout(timer);
        this.#wake = undefined;
        resolve(true);
      };
    });
  }
}
