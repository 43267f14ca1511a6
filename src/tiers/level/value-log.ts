// The value log under LevelStore: records live in append-only segment files
// and LevelDB keeps only a small pointer per key, in the shape of
// memcached's extstore pages (and of WiscKey's key/value separation).
//
// Why not records in LevelDB: classic-level hands every read back as a fresh
// native Buffer. At s6's 50k L2 reads/s of 4 KiB that is 200 MB/s of external
// memory, which V8 answers with a mark-compact every 70-100 ms (1-12 ms
// each), and those pauses were rat's p99. Here a sync read is one pread(2)
// into a buffer reused for every read, so an L2 hit allocates nothing the
// size of its value. Writes become sequential appends, and LevelDB's
// compactions move 24-byte pointers instead of every value.
//
// A segment is one file, `vlog/<id>.seg`, of entries laid end to end:
//   u32 LE record length, u16 LE key length, key, record
// The record carries its own CRCs (record-codec.ts). The key is there for
// LevelStore's segment moves, which walk a segment and ask the index which
// entries are still current, and for reads, which check that the entry a
// pointer leads to is its key's: a torn or lost tail, or a stale pointer,
// reads as nothing, never as another item.
//
// Ordering keeps the index honest: a batch's entries are written (to the
// page cache) before the LevelDB batch that points at them, and a segment
// file is unlinked only after the batch that dropped its last pointer. A
// process crash therefore never leaves a pointer to bytes not written.

import {
  closeSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  read,
  readdirSync,
  readSync,
  unlinkSync,
  write,
} from 'node:fs';
import { join } from 'node:path';
import { LevelIoError } from './level-errors.js';

export const LOG_ENTRY_HEADER_BYTES = 6;
/** Longest key an entry can carry (u16); memcached's keys stop at 250 bytes. */
const MAX_LOG_KEY_BYTES = 0xffff;
// Names are padded to 8 digits, and ids past 10^8 simply have more.
const SEGMENT_FILE = /^(\d+)\.seg$/;
/** Bytes a segment scan reads per positioned read (an entry longer than this is read alone). */
const SCAN_CHUNK_BYTES = 1024 * 1024;

/** One entry met by a segment scan. */
export interface LogEntry {
  key: Buffer;
  /** Where the record starts in the segment (what the index points at). */
  recordOffset: number;
  record: Buffer;
}

interface Segment {
  fd: number;
  /** Async reads in flight: the fd outlives a drop until they are done. */
  reads: number;
  dropped: boolean;
  /** Bytes known written: no read goes past it (a damaged length cannot grow a buffer to 4 GiB). */
  size: number;
}

/**
 * The entries of one batch, gathered into one buffer for a single write at
 * the head's end. Offsets are final once add() returns, so the batch's
 * pointers can be planned before the bytes are written.
 */
export class LogBatch {
  readonly segment: number;
  readonly position: number;
  /** Key, record, key, record, ...: laid out with their headers in one buffer by bytes(). */
  readonly #parts: Buffer[] = [];
  #length = 0;

  constructor(segment: number, position: number) {
    this.segment = segment;
    this.position = position;
  }

  get length(): number {
    return this.#length;
  }

  /** Appends an entry; returns the segment offset of its record. */
  add(key: Buffer, record: Buffer): number {
    if (key.length > MAX_LOG_KEY_BYTES) throw new RangeError(`key of ${key.length} bytes is too long`);
    this.#parts.push(key, record);
    const recordOffset = this.position + this.#length + LOG_ENTRY_HEADER_BYTES + key.length;
    this.#length += LOG_ENTRY_HEADER_BYTES + key.length + record.length;
    return recordOffset;
  }

  bytes(): Buffer {
    const out = Buffer.allocUnsafe(this.#length);
    let at = 0;
    for (let i = 0; i < this.#parts.length; i += 2) {
      const key = this.#parts[i]!;
      const record = this.#parts[i + 1]!;
      out.writeUInt32LE(record.length, at);
      out.writeUInt16LE(key.length, at + 4);
      at += LOG_ENTRY_HEADER_BYTES;
      at += key.copy(out, at);
      at += record.copy(out, at);
    }
    return out;
  }
}

export class ValueLog {
  readonly dir: string;
  readonly #segments = new Map<number, Segment>();
  /** The buffer every readEntrySync answers in; grown to the largest entry read. */
  #scratch = Buffer.allocUnsafe(64 * 1024);
  readonly #inFlight = new Set<Promise<unknown>>();

  private constructor(dir: string) {
    this.dir = dir;
  }

  /**
   * Opens the segments the index knows and deletes every other segment file:
   * those are leftovers of a crash between creating or emptying a segment and
   * the batch that would have recorded it. A known segment whose file is gone
   * stays unknown here; reads of it then find nothing.
   */
  static open(storeDir: string, known: Iterable<number>): ValueLog {
    const dir = join(storeDir, 'vlog');
    mkdirSync(dir, { recursive: true });
    const log = new ValueLog(dir);
    const wanted = new Set(known);
    for (const name of readdirSync(dir)) {
      const match = SEGMENT_FILE.exec(name);
      if (match === null) continue;
      const id = Number(match[1]);
      if (!wanted.has(id)) {
        unlinkSync(join(dir, name));
        continue;
      }
      const fd = openSync(join(dir, name), 'r+');
      log.#segments.set(id, { fd, reads: 0, dropped: false, size: fstatSync(fd).size });
    }
    return log;
  }

  has(segment: number): boolean {
    return this.#segments.has(segment);
  }

  ids(): number[] {
    return [...this.#segments.keys()];
  }

  /** Creates the file of a new head segment (ids are never reused, so it does not exist). */
  create(segment: number): void {
    const fd = openSync(this.#file(segment), 'w+');
    this.#segments.set(segment, { fd, reads: 0, dropped: false, size: 0 });
  }

  /** Writes a batch at its position. Rejects with LevelIoError; nothing of it is then kept. */
  append(batch: LogBatch): Promise<void> {
    const segment = this.#segments.get(batch.segment);
    if (segment === undefined) {
      return Promise.reject(new LevelIoError('value log segment is not open', { segment: batch.segment }));
    }
    const bytes = batch.bytes();
    return new Promise((resolve, reject) => {
      const writeFrom = (done: number): void => {
        write(segment.fd, bytes, done, bytes.length - done, batch.position + done, (error, written) => {
          if (error !== null) {
            // Give back what a short write took: on a full disk those blocks would
            // otherwise let the next, smaller batch "succeed" into them.
            try {
              ftruncateSync(segment.fd, batch.position);
              segment.size = Math.min(segment.size, batch.position);
            } catch {
              // The next batch writes over them anyway.
            }
            reject(ioError('value log write failed', error, { op: 'append', segment: batch.segment }));
          } else if (done + written < bytes.length) {
            writeFrom(done + written);
          } else {
            segment.size = Math.max(segment.size, batch.position + bytes.length);
            resolve();
          }
        });
      };
      writeFrom(0);
    });
  }

  /**
   * The record at recordOffset, read now into a buffer shared by every call
   * (the view is valid until the next one: use it or copy it first), if the
   * entry there is `key`'s: the entry's header and key are read with the
   * record and compared, so a stale or mistaken pointer, a torn tail or a
   * damaged length yields undefined rather than another key's bytes (or a
   * buffer grown to a length nobody wrote). Throws LevelIoError.
   */
  readEntrySync(
    segment: number,
    recordOffset: number,
    key: Uint8Array,
    recordLength: number,
  ): Buffer | undefined {
    const open = this.#holding(segment, recordOffset, key.length, recordLength);
    if (open === undefined) return undefined;
    const start = recordOffset - LOG_ENTRY_HEADER_BYTES - key.length;
    const length = LOG_ENTRY_HEADER_BYTES + key.length + recordLength;
    if (this.#scratch.length < length) {
      this.#scratch = Buffer.allocUnsafe(Math.max(length, this.#scratch.length * 2));
    }
    let got: number;
    try {
      got = readSync(open.fd, this.#scratch, 0, length, start);
    } catch (cause) {
      throw ioError('value log read failed', cause, { op: 'get', segment });
    }
    return recordOfEntry(this.#scratch, got, key, recordLength);
  }

  /** readEntrySync on the libuv pool, into a Buffer of its own. */
  readEntry(
    segment: number,
    recordOffset: number,
    key: Uint8Array,
    recordLength: number,
  ): Promise<Buffer | undefined> {
    const open = this.#holding(segment, recordOffset, key.length, recordLength);
    if (open === undefined) return Promise.resolve(undefined);
    const start = recordOffset - LOG_ENTRY_HEADER_BYTES - key.length;
    const into = Buffer.allocUnsafe(LOG_ENTRY_HEADER_BYTES + key.length + recordLength);
    open.reads++;
    const done = new Promise<Buffer | undefined>((resolve, reject) => {
      read(open.fd, into, 0, into.length, start, (error, got) => {
        if (--open.reads === 0 && open.dropped) closeQuietly(open.fd);
        if (error !== null) reject(ioError('value log read failed', error, { op: 'get', segment }));
        else resolve(recordOfEntry(into, got, key, recordLength));
      });
    });
    this.#inFlight.add(done);
    void done.then(
      () => this.#inFlight.delete(done),
      () => this.#inFlight.delete(done),
    );
    return done;
  }

  /**
   * Every entry of a segment, in file order, up to `end` bytes (the committed
   * length). Stops at the first entry that does not parse (damage). The
   * caller keeps the segment from being dropped meanwhile (LevelStore's
   * moves run exclusively).
   */
  async *scan(segment: number, end: number): AsyncGenerator<LogEntry> {
    const open = this.#segments.get(segment);
    if (open === undefined) return;
    const limit = Math.min(end, open.size);
    let chunk = Buffer.allocUnsafe(SCAN_CHUNK_BYTES);
    let position = 0;
    while (position + LOG_ENTRY_HEADER_BYTES <= limit) {
      const want = Math.min(chunk.length, limit - position);
      const got = await this.#readAt(open, chunk, want, position);
      let at = 0;
      while (at + LOG_ENTRY_HEADER_BYTES <= got) {
        const recordLength = chunk.readUInt32LE(at);
        const keyLength = chunk.readUInt16LE(at + 4);
        const entryLength = LOG_ENTRY_HEADER_BYTES + keyLength + recordLength;
        if (at + entryLength > got) break;
        const keyStart = at + LOG_ENTRY_HEADER_BYTES;
        yield {
          key: Buffer.from(chunk.subarray(keyStart, keyStart + keyLength)),
          recordOffset: position + keyStart + keyLength,
          record: Buffer.from(chunk.subarray(keyStart + keyLength, keyStart + keyLength + recordLength)),
        };
        at += entryLength;
      }
      if (at === 0) {
        // One entry longer than the chunk (or a damaged length running past the end).
        const entryLength =
          got >= LOG_ENTRY_HEADER_BYTES
            ? LOG_ENTRY_HEADER_BYTES + chunk.readUInt16LE(4) + chunk.readUInt32LE(0)
            : Number.POSITIVE_INFINITY;
        if (position + entryLength > limit) return;
        chunk = Buffer.allocUnsafe(entryLength);
        continue;
      }
      position += at;
    }
  }

  /** Forgets a segment and deletes its file (its last async reads finish first). */
  drop(segment: number): void {
    const open = this.#segments.get(segment);
    if (open === undefined) return;
    this.#release(segment, open);
    try {
      unlinkSync(this.#file(segment));
    } catch {
      // Already gone: the next open would have removed it anyway.
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#inFlight);
    for (const [segment, open] of this.#segments) this.#release(segment, open);
  }

  /** The open segment, if an entry of this key length whose record is at recordOffset lies within what was written to it. */
  #holding(
    segment: number,
    recordOffset: number,
    keyLength: number,
    recordLength: number,
  ): Segment | undefined {
    const open = this.#segments.get(segment);
    if (open === undefined || recordOffset - LOG_ENTRY_HEADER_BYTES - keyLength < 0) return undefined;
    return recordOffset + recordLength <= open.size ? open : undefined;
  }

  #release(segment: number, open: Segment): void {
    this.#segments.delete(segment);
    open.dropped = true;
    if (open.reads === 0) closeQuietly(open.fd);
  }

  #readAt(open: Segment, into: Buffer, length: number, position: number): Promise<number> {
    return new Promise((resolve, reject) => {
      read(open.fd, into, 0, length, position, (error, got) =>
        error === null ? resolve(got) : reject(ioError('value log scan failed', error, { op: 'scan' })),
      );
    });
  }

  #file(segment: number): string {
    return join(this.dir, `${String(segment).padStart(8, '0')}.seg`);
  }
}

function ioError(what: string, cause: unknown, context: Record<string, unknown>): LevelIoError {
  return new LevelIoError(`${what}: ${(cause as Error).message}`, context, { cause });
}

/** A close that cannot throw out of an fs callback: the fd is ours and unused, whatever close says. */
function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // EBADF would be our bug; EIO on close of a read-mostly fd loses nothing.
  }
}

/** The record inside an entry read back (its first `got` bytes), if the entry is key's with that record length. */
function recordOfEntry(
  entry: Buffer,
  got: number,
  key: Uint8Array,
  recordLength: number,
): Buffer | undefined {
  const recordStart = LOG_ENTRY_HEADER_BYTES + key.length;
  if (got !== recordStart + recordLength) return undefined;
  if (entry.readUInt32LE(0) !== recordLength || entry.readUInt16LE(4) !== key.length) return undefined;
  for (let i = 0; i < key.length; i++) {
    if (entry[LOG_ENTRY_HEADER_BYTES + i] !== key[i]) return undefined;
  }
  return entry.subarray(recordStart, got);
}
