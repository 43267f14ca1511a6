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
// The record carries its own CRCs (record-codec.ts), so a torn or lost tail
// reads as a corrupt record, never as another item. The key is there for
// LevelStore's segment reclaim, which walks a segment and asks the index
// which entries are still the current ones.
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
export const MAX_LOG_KEY_BYTES = 0xffff;
const SEGMENT_FILE = /^(\d{8})\.seg$/;
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
}

/**
 * The entries of one batch, gathered into one buffer for a single write at
 * the head's end. Offsets are final once add() returns, so the batch's
 * pointers can be planned before the bytes are written.
 */
export class LogBatch {
  readonly segment: number;
  readonly position: number;
  #parts: Buffer[] = [];
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
    const header = Buffer.allocUnsafe(LOG_ENTRY_HEADER_BYTES);
    header.writeUInt32LE(record.length, 0);
    header.writeUInt16LE(key.length, 4);
    this.#parts.push(header, key, record);
    const recordOffset = this.position + this.#length + LOG_ENTRY_HEADER_BYTES + key.length;
    this.#length += LOG_ENTRY_HEADER_BYTES + key.length + record.length;
    return recordOffset;
  }

  bytes(): Buffer {
    return Buffer.concat(this.#parts, this.#length);
  }
}

export class ValueLog {
  readonly dir: string;
  readonly #segments = new Map<number, Segment>();
  /** The buffer every readSync answers in; grown to the largest record read. */
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
      const id = match === null ? undefined : Number(match[1]);
      if (id !== undefined && wanted.has(id)) {
        log.#segments.set(id, { fd: openSync(join(dir, name), 'r+'), reads: 0, dropped: false });
      } else if (id !== undefined) {
        unlinkSync(join(dir, name));
      }
    }
    return log;
  }

  has(segment: number): boolean {
    return this.#segments.has(segment);
  }

  /** Creates (or truncates) the file of a new head segment. */
  create(segment: number): void {
    const existing = this.#segments.get(segment);
    if (existing !== undefined) this.#release(segment, existing);
    const fd = openSync(this.#file(segment), 'w+');
    this.#segments.set(segment, { fd, reads: 0, dropped: false });
  }

  /** Writes a batch at its position. Rejects with LevelIoError; the bytes may then be partly written. */
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
            } catch {
              // The next batch writes over them anyway.
            }
            reject(
              new LevelIoError(
                `value log write failed: ${error.message}`,
                { op: 'append', segment: batch.segment, bytes: bytes.length },
                { cause: error },
              ),
            );
          } else if (done + written < bytes.length) {
            writeFrom(done + written);
          } else {
            resolve();
          }
        });
      };
      writeFrom(0);
    });
  }

  /**
   * The record at [offset, offset + length) of a segment, read now into the
   * shared scratch buffer: the view is valid until the next readSync, so the
   * caller must be done with it (or copy it) before reading again. Shorter
   * than `length` when the file ends early; undefined when the segment is
   * not known. Throws LevelIoError.
   */
  readSync(segment: number, offset: number, length: number): Buffer | undefined {
    const open = this.#segments.get(segment);
    if (open === undefined) return undefined;
    if (this.#scratch.length < length)
      this.#scratch = Buffer.allocUnsafe(Math.max(length, this.#scratch.length * 2));
    let got: number;
    try {
      got = readSync(open.fd, this.#scratch, 0, length, offset);
    } catch (cause) {
      throw new LevelIoError(
        `value log read failed: ${(cause as Error).message}`,
        { op: 'get', segment },
        { cause },
      );
    }
    return this.#scratch.subarray(0, got);
  }

  /**
   * The record at recordOffset, read now into the shared buffer (a view
   * valid until the next read, as with readSync), if the entry there is
   * `key`'s: the entry's header and key are read with the record and
   * compared, so a stale or mistaken pointer, a torn tail or a reused segment
   * id yields undefined rather than another key's bytes.
   */
  readEntrySync(
    segment: number,
    recordOffset: number,
    key: Uint8Array,
    recordLength: number,
  ): Buffer | undefined {
    const start = recordOffset - LOG_ENTRY_HEADER_BYTES - key.length;
    if (start < 0) return undefined;
    const entry = this.readSync(segment, start, LOG_ENTRY_HEADER_BYTES + key.length + recordLength);
    return entry === undefined ? undefined : recordOfEntry(entry, key, recordLength);
  }

  /** readEntrySync on the libuv pool, into a Buffer of its own. */
  readEntry(
    segment: number,
    recordOffset: number,
    key: Uint8Array,
    recordLength: number,
  ): Promise<Buffer | undefined> {
    const open = this.#segments.get(segment);
    const start = recordOffset - LOG_ENTRY_HEADER_BYTES - key.length;
    if (open === undefined || start < 0) return Promise.resolve(undefined);
    open.reads++;
    const done = new Promise<Buffer | undefined>((resolve, reject) => {
      const into = Buffer.allocUnsafe(LOG_ENTRY_HEADER_BYTES + key.length + recordLength);
      read(open.fd, into, 0, into.length, start, (error, got) => {
        if (--open.reads === 0 && open.dropped) closeSync(open.fd);
        if (error !== null) {
          reject(
            new LevelIoError(
              `value log read failed: ${error.message}`,
              { op: 'get', segment },
              { cause: error },
            ),
          );
        } else {
          resolve(recordOfEntry(into.subarray(0, got), key, recordLength));
        }
      });
    });
    this.#inFlight.add(done);
    void done.then(
      () => this.#inFlight.delete(done),
      () => this.#inFlight.delete(done),
    );
    return done;
  }

  /** Every entry of a segment, in file order, up to `end` bytes (the committed length). */
  async *scan(segment: number, end: number): AsyncGenerator<LogEntry> {
    const open = this.#segments.get(segment);
    if (open === undefined) return;
    const limit = Math.min(end, fstatSync(open.fd).size);
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

  dropAll(): void {
    for (const segment of [...this.#segments.keys()]) this.drop(segment);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#inFlight);
    for (const [segment, open] of this.#segments) this.#release(segment, open);
  }

  #release(segment: number, open: Segment): void {
    this.#segments.delete(segment);
    open.dropped = true;
    if (open.reads === 0) closeSync(open.fd);
  }

  #readAt(open: Segment, into: Buffer, length: number, position: number): Promise<number> {
    return new Promise((resolve, reject) => {
      read(open.fd, into, 0, length, position, (error, got) =>
        error === null
          ? resolve(got)
          : reject(
              new LevelIoError(`value log scan failed: ${error.message}`, { op: 'scan' }, { cause: error }),
            ),
      );
    });
  }

  #file(segment: number): string {
    return join(this.dir, `${String(segment).padStart(8, '0')}.seg`);
  }
}

/** The record inside a whole entry read back, if the entry is key's with that record length. */
function recordOfEntry(entry: Buffer, key: Uint8Array, recordLength: number): Buffer | undefined {
  const recordStart = LOG_ENTRY_HEADER_BYTES + key.length;
  if (entry.length !== recordStart + recordLength) return undefined;
  if (entry.readUInt32LE(0) !== recordLength || entry.readUInt16LE(4) !== key.length) return undefined;
  for (let i = 0; i < key.length; i++) {
    if (entry[LOG_ENTRY_HEADER_BYTES + i] !== key[i]) return undefined;
  }
  return entry.subarray(recordStart);
}
