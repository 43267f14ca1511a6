// What a Connection needs from the bytes underneath it: chunks in, batches
// out, pause/resume for backpressure, and an orderly end. Two kinds exist:
// direct-transport.ts (libuv's TCP handle, the fast path) and
// stream-transport.ts (a net.Socket: the fallback, and what TLS will use).
// A Connection never knows which one it has.

/** Told by a transport about its connection, in the order things happen. */
export interface TransportSink {
  /**
   * Bytes from the peer: chunk[0, length). With `transientChunks` the chunk's
   * memory is reused once this returns: whatever must outlive the call is
   * copied. (A length instead of a view of exactly the bytes read: a view
   * per read costs a typed-array allocation.)
   */
  onData(chunk: Buffer, length: number): void;
  /** Everything written has gone to the kernel; reading may resume. */
  onDrain(): void;
  /** The peer finished sending (EOF) or the connection failed; the transport is closing. */
  onEnd(error: Error | undefined): void;
  /** The transport is closed and released. */
  onClose(): void;
}

export interface Transport {
  /** `address:port` of the peer, for `stats conns`. */
  readonly remoteAddress: string;
  /** Chunks passed to onData are views of memory reused after the call. */
  readonly transientChunks: boolean;
  /**
   * The most one read delivers. A chunk this long means more input may
   * follow in the same wakeup (libuv reads again only after a full read);
   * a shorter one ends the burst. Connections yield on bursts.
   */
  readonly fullReadBytes: number;
  /** Bytes handed to write() that the kernel has not taken yet. */
  readonly pendingBytes: number;
  /** True once end() or destroy() was called or the connection failed. */
  readonly closed: boolean;
  /** Starts delivering events to sink (the first chunk may arrive in the same tick). */
  start(sink: TransportSink): void;
  /**
   * Queues bytes to send. Returns true when the kernel took them all before
   * returning, so the caller may reuse their memory at once; otherwise the
   * bytes must stay untouched until they are sent.
   */
  write(data: Buffer): boolean;
  pause(): void;
  resume(): void;
  /** Sends what is queued, then closes. */
  end(): void;
  /** Closes now; queued bytes are dropped. */
  destroy(): void;
}
