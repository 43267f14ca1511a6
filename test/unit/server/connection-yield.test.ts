// When a Connection stops reading to let the rest of the event loop run: only
// after a burst of full 64 KiB reads (what libuv delivers while a socket has
// more), not after any 64 KiB of input spread over many wakeups.

import { describe, expect, it } from 'vitest';
import { CacheCore } from '../../../src/core/cache-core.js';
import { ManualClock } from '../../../src/core/clock.js';
import type { OutputBuffer } from '../../../src/protocol/output-buffer.js';
import { Connection } from '../../../src/server/connection.js';
import type { ServerHooks } from '../../../src/server/text-session.js';
import type { Transport, TransportSink } from '../../../src/server/transport.js';
import { MemoryTier } from '../../../src/tiers/memory/memory-tier.js';

const KIB = 1024;
const MIB = 1024 * KIB;

class RecordingTransport implements Transport {
  readonly remoteAddress = '127.0.0.1:1';
  readonly transientChunks = true;
  readonly fullReadBytes = 64 * KIB;
  readonly pendingBytes = 0;
  closed = false;
  sink: TransportSink | undefined;
  pauses = 0;
  resumes = 0;
  written: Buffer[] = [];

  start(sink: TransportSink): void {
    this.sink = sink;
  }
  write(data: Buffer): boolean {
    this.written.push(Buffer.from(data));
    return true;
  }
  pause(): void {
    this.pauses++;
  }
  resume(): void {
    this.resumes++;
  }
  end(): void {
    this.closed = true;
  }
  destroy(): void {
    this.closed = true;
  }
}

const hooks: ServerHooks = {
  version: 'test',
  shutdownEnabled: false,
  writeStats: (_args: readonly string[], _out: OutputBuffer) => false,
  setVerbosity: () => {},
  shutdown: () => {},
};

function open(): RecordingTransport {
  const transport = new RecordingTransport();
  const memory = new MemoryTier({ maxBytes: 64 * MIB, maxItemSize: MIB, eviction: 'lru' });
  new Connection(transport, 1, 0, {
    core: new CacheCore({ memory, clock: new ManualClock(1_700_000_000_000) }),
    hooks,
    limits: { maxKeyLength: 250, maxLineLength: 2048, maxItemSize: MIB },
    counters: { bytesRead: 0, bytesWritten: 0 },
    onError: () => {},
    onClose: () => {},
  });
  return transport;
}

/** `count` sets of distinct keys with `valueBytes` values, as one chunk. */
function sets(first: number, count: number, valueBytes: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = first; i < first + count; i++) {
    parts.push(Buffer.from(`set k${i} 0 0 ${valueBytes}\r\n${'v'.repeat(valueBytes)}\r\n`, 'latin1'));
  }
  return Buffer.concat(parts);
}

/** Feeds `chunk` through the transport's shared 64 KiB read buffer, as the direct transport does. */
function feed(transport: RecordingTransport, chunk: Buffer): void {
  const readBuffer = Buffer.alloc(64 * KIB);
  for (let at = 0; at < chunk.length; at += readBuffer.length) {
    const length = chunk.copy(readBuffer, 0, at, Math.min(chunk.length, at + readBuffer.length));
    transport.sink?.onData(readBuffer, length);
  }
}

function stored(transport: RecordingTransport): number {
  return Buffer.concat(transport.written).toString('latin1').split('STORED\r\n').length - 1;
}

describe('Connection read yields', () => {
  it('keeps reading when 4 KiB requests arrive one read at a time, however many there are', () => {
    const transport = open();
    for (let i = 0; i < 100; i++) feed(transport, sets(i, 1, 4 * KIB));
    expect(stored(transport)).toBe(100);
    expect(transport.pauses).toBe(0);
  });

  it('stops reading after a full 64 KiB read and reads again on the next turn', async () => {
    const transport = open();
    const burst = sets(0, 40, 4 * KIB);
    expect(burst.length).toBeGreaterThan(128 * KIB);
    feed(transport, burst.subarray(0, 64 * KIB));
    expect(transport.pauses).toBe(1);
    expect(transport.resumes).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(transport.resumes).toBe(1);
    feed(transport, burst.subarray(64 * KIB));
    expect(stored(transport)).toBe(40);
  });

  it('starts counting again after a short read ends a burst', async () => {
    const transport = open();
    const request = sets(0, 1, 100);
    feed(transport, request);
    feed(transport, request);
    expect(transport.pauses).toBe(0);
    const burst = sets(1, 40, 4 * KIB);
    feed(transport, burst.subarray(0, 64 * KIB));
    expect(transport.pauses).toBe(1);
  });
});
