// LevelStore: the on-disk byte store under the L2 tier, in the role of
// memcached's extstore. It maps keys to opaque records (record-codec.ts makes
// them) under a byte budget, evicting oldest-written first, and keeps an
// expiry index so TTL reclamation costs what expires, not a scan. It knows
// nothing of memcached items, commands or the clock: callers pass exptime in
// and `now` to reclaimExpired.
//
// Records live in a value log (value-log.ts); LevelDB holds, per key, a
// pointer to the record plus the order and expiry indexes. The budget counts
// live records (key + record bytes). Overwritten, deleted, expired and
// evicted records stay in their segment as garbage until a segment other
// than the head has nothing live (then it goes with the batch that emptied
// it) or the garbage passes a quarter of the log (at least one segment):
// then the segment with the most garbage has its live entries moved to the
// head, a chunk at a time between other batches, and is deleted. So the
// files hold at most about 4/3 of the live bytes plus a segment or two. A
// segment's file outlives its drop until the async reads issued before it
// have read. A RAM cache of recent pointers (pointer-cache.ts) lets most
// sync reads skip LevelDB; #commit keeps it in step with every batch.
//
// Writes are group-committed. Every write lands in a pending batch that reads
// consult first (read-your-writes); the batch goes to LevelDB when the
// interval timer fires, when it reaches batchMaxBytes, or when someone awaits
// it (put/del/flush). At most one batch is in flight; writes arriving
// meanwhile join the next. All DB mutations run one at a time, so the
// read-modify-write of indexes and totals below never races itself.
//
// After a burst of writes (a quarter of the store, at least 64 MiB) followed
// by a quiet second, the data range is compacted in the background. LevelDB
// is written in demotion order, so fresh files span most of the key space;
// until compaction pushes them down, a lookup consults several files and
// LevelDB charges those reads as seeks that schedule compactions anyway, in
// the middle of serving (s6 right after its 1 GiB load: 19-28k gets/s while
// that ran, 49-56k once compacted). Doing it when writes stop does the same
// work sooner, before the reads it would slow.
//
// Crash safety: the meta record (totals, next seq) is written in the same
// atomic LevelDB batch as the records it counts, so after any crash LevelDB's
// log replay yields records and totals from the same instant. Nothing needs
// recounting on open; writes are not fsynced, so a machine crash may lose the
// last few batches, which is fine for a cache.
//
// A failed LevelDB write (a full disk, an I/O error) may have left a torn
// record at the end of LevelDB's log. LevelDB appends the next batch behind
// it anyway, and its next open drops the torn record and everything after it:
// every batch acknowledged since. So after a failed write the handle is
// reopened (recovery cuts the torn tail and starts a new log) before anything
// else is written, and meta, the ledger and the pointer cache are read anew.
// Until the disk has room for that recovery, writes fail without touching
// LevelDB, and reads go on from the handle as it is.

import { statfsSync } from 'node:fs';
import { keyHash } from '../memory/key-hash.js';
import { LevelIoError, LevelOpenError } from './level-errors.js';
import {
  auxKey,
  DATA_END,
  DATA_PREFIX,
  DATA_START,
  dataKey,
  decodeDataEntry,
  decodeMeta,
  decodeSegmentUsage,
  encodeMeta,
  META_KEY,
  META_VERSION,
  metaVersion,
  SEGMENT_END,
  SEGMENT_START,
  type SegmentUsage,
  type StoreMeta,
  segmentOfKey,
} from './level-keys.js';
import { type LevelDb, type LevelDbOptions, openLevelDb, reopenLevelDb } from './open-level-db.js';
import { PointerCache } from './pointer-cache.js';
import { type SegmentChange, SegmentLedger } from './segment-ledger.js';
import {
  type BatchOp,
  type PendingWrite,
  planEviction,
  planMove,
  planReclaim,
  planWrites,
} from './store-plans.js';
import { LogBatch, type LogEntry, ValueLog } from './value-log.js';

export interface LevelStoreOptions {
  /** Budget for key + record bytes; the oldest records go when it is exceeded. */
  maxBytes: number;
  /** How long a write may wait in the pending batch. Default 5. */
  flushIntervalMs?: number;
  /** Pending bytes that trigger a flush without waiting for the timer. Default 1 MiB. */
  batchMaxBytes?: number;
  /** Default true. */
  createIfMissing?: boolean;
  /** Wipe all records on open (memcached has no persistence; clear_on_startup). */
  clearOnOpen?: boolean;
  /** Called once per failed batch; nobody else may be awaiting a timer-driven flush. */
  onWriteError?: (error: LevelIoError) => void;
  /** Called after each batch that reached LevelDB (ends a write-error episode). */
  onWriteOk?: () => void;
  cacheSizeBytes?: number;
  writeBufferBytes?: number;
  /**
   * Bytes written since the last compaction after which a quiet second starts
   * one (the larger of this and a quarter of the stored bytes). 0 = never.
   * Default 64 MiB.
   */
  compactAfterBytes?: number;
  /**
   * Size at which the value log starts a new segment. Default: a sixteenth of
   * maxBytes, between 1 MiB and 64 MiB.
   */
  segmentBytes?: number;
  /** RAM for the cache of recent pointers (PointerCache); 0 = none. Default 16 MiB. */
  pointerCacheBytes?: number;
}

export interface LevelStoreStats {
  items: number;
  bytes: number;
  evictions: number;
  expiredReclaimed: number;
  writeErrors: number;
  pendingBytes: number;
  pendingWrites: number;
  /** Compactions after a burst of writes, and how many failed. */
  compactions: number;
  compactionFailures: number;
  /** Value-log segments, the bytes in them (live and garbage), and segments whose live entries moved. */
  logSegments: number;
  logBytes: number;
  segmentMoves: number;
  segmentMoveFailures: number;
  /** getSync answers found through the pointer cache, without a LevelDB lookup. */
  pointerCacheHits: number;
  /** Times the LevelDB handle was reopened after a failed write. */
  reopens: number;
}

class PendingBatch {
  /** Keyed by the key's latin1 string: a lossless copy of the bytes, usable as a Map key. */
  readonly writes = new Map<string, PendingWrite>();
  bytes = 0;
  readonly done: Promise<void>;
  settle!: (error?: LevelIoError) => void;

  constructor() {
    this.done = new Promise<void>((resolve, reject) => {
      this.settle = (error) => (error === undefined ? resolve() : reject(error));
    });
    // Enqueue-only callers never await; the failure reaches them via onWriteError and stats.
    this.done.catch(() => {});
  }
}

/** Reads waiting for the next getMany: keys (data-key form) and their promises' settlers. */
class ReadBatch {
  readonly keys: Buffer[] = [];
  readonly resolves: ((record: Buffer | undefined) => void)[] = [];
  readonly rejects: ((error: LevelIoError) => void)[] = [];
}

/** A batch this large goes at once rather than at the end of the turn (bounds its latency and size). */
const READ_BATCH_MAX_KEYS = 256;

/**
 * L2 reads bypass LevelDB's block cache: L1 is the cache of hot items, and
 * a block read for a miss of L1 is one L1 did not want. When records were in
 * LevelDB, filling the cache cost 2.5 µs of a 9.5 µs get of a 4 KiB record;
 * with only pointers there, filling or not made no measurable difference
 * (~5.3 µs per getSync either way), so the cache stays for LevelDB's own use.
 * The encodings are the DB's own, named so abstract-level does not clone the
 * options per read.
 */
const READ_OPTIONS = { fillCache: false, keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;

export const DEFAULT_COMPACT_AFTER_BYTES = 64 * 1024 * 1024;
export const DEFAULT_POINTER_CACHE_BYTES = 16 * 1024 * 1024;
/**
 * What a pointer reads as when its log entry is gone, torn or not its key's
 * (a segment file deleted behind our back, an OS crash that lost the tail):
 * an empty record, which the record codec rejects as corrupt, so ItemStore
 * counts it and deletes the pointer instead of leaving it to fail again.
 */
const UNREADABLE_RECORD = Buffer.alloc(0);
const MIN_SEGMENT_BYTES = 1024 * 1024;
const MAX_SEGMENT_BYTES = 64 * 1024 * 1024;
/** Log entries a segment move plans and commits at a time. */
const MOVE_CHUNK_ENTRIES = 256;
/** How long writes must have stopped before a compaction starts. */
export const COMPACT_QUIET_MS = 1000;

/** LevelDB's write buffer when none is set (its memtable, which a reopen writes out as a table). */
const LEVELDB_WRITE_BUFFER_BYTES = 4 * 1024 * 1024;

export const DEFAULT_FLUSH_INTERVAL_MS = 5;
export const DEFAULT_BATCH_MAX_BYTES = 1024 * 1024;

export class LevelStore {
  readonly #db: LevelDb;
  readonly #dir: string;
  readonly #dbOptions: LevelDbOptions;
  /** A LevelDB write failed: reopen before the next one (see the top of the file). */
  #mustReopen = false;
  #reopens = 0;
  /** Free bytes the disk needs before a reopen is tried: recovery's table, a batch, slack. */
  readonly #reopenHeadroom: number;
  readonly #maxBytes: number;
  readonly #flushIntervalMs: number;
  readonly #batchMaxBytes: number;
  readonly #onWriteError: ((error: LevelIoError) => void) | undefined;
  readonly #onWriteOk: (() => void) | undefined;

  #pending = new PendingBatch();
  #inFlight: PendingBatch | undefined;
  #flushAgain = false;
  #timer: NodeJS.Timeout | undefined;
  #timerArmed = false;
  /** Tail of the chain that runs DB mutations one at a time; never rejects. */
  #exclusiveTail: Promise<void> = Promise.resolve();
  #closed = false;
  /** Reads queued for the getMany at the end of this event-loop turn. */
  #reads = new ReadBatch();

  #meta: StoreMeta;
  #evictions = 0;
  #expiredReclaimed = 0;
  /** Where the next reclaimExpired call resumes in the expiry index; undefined = from the front. */
  #reclaimAfter: Buffer | undefined;
  #writeErrors = 0;
  readonly #compactAfterBytes: number;
  #writtenSinceCompaction = 0;
  /** Fires COMPACT_QUIET_MS after the last batch once enough was written; re-armed by each batch. */
  #compactTimer: NodeJS.Timeout | undefined;
  #compacting: Promise<void> | undefined;
  #compactions = 0;
  #compactionFailures = 0;
  readonly #log: ValueLog;
  /** Replaced, not changed, when a reopen reads it back from LevelDB. */
  #ledger: SegmentLedger;
  readonly #segmentBytes: number;
  /** The segment new entries go to; undefined until the first write after open or clear. */
  #head: number | undefined;
  #nextSegment: number;
  #moveQueued = false;
  /** The segment whose live entries are being moved, a chunk per exclusive task, and its scan. */
  #moving: { segment: number; entries: AsyncGenerator<LogEntry> } | undefined;
  /** Segments whose move stopped at damage (entries past it stay where they are): never picked again. */
  readonly #unmovable = new Set<number>();
  /** getMany reads whose records are not yet being read from the log, by issue number. */
  readonly #readsResolving = new Set<number>();
  #readIssue = 0;
  /** Dropped segments whose files wait for the reads issued up to `issue` (a getMany's snapshot predates the drop). */
  #dropsWaiting: Array<{ segment: number; issue: number }> = [];
  #segmentMoves = 0;
  #segmentMoveFailures = 0;
  readonly #pointers: PointerCache | undefined;
  #pointerCacheHits = 0;

  private constructor(
    db: LevelDb,
    dir: string,
    dbOptions: LevelDbOptions,
    meta: StoreMeta,
    log: ValueLog,
    ledger: SegmentLedger,
    options: LevelStoreOptions,
  ) {
    this.#db = db;
    this.#dir = dir;
    this.#dbOptions = dbOptions;
    this.#meta = meta;
    this.#log = log;
    this.#ledger = ledger;
    this.#nextSegment = Math.max(-1, ...ledger.ids()) + 1;
    const cacheBytes = options.pointerCacheBytes ?? DEFAULT_POINTER_CACHE_BYTES;
    this.#pointers = cacheBytes > 0 ? new PointerCache(cacheBytes) : undefined;
    this.#segmentBytes =
      options.segmentBytes ??
      Math.min(MAX_SEGMENT_BYTES, Math.max(MIN_SEGMENT_BYTES, Math.floor(options.maxBytes / 16)));
    this.#maxBytes = options.maxBytes;
    this.#flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    this.#batchMaxBytes = options.batchMaxBytes ?? DEFAULT_BATCH_MAX_BYTES;
    this.#onWriteError = options.onWriteError;
    this.#onWriteOk = options.onWriteOk;
    this.#compactAfterBytes = options.compactAfterBytes ?? DEFAULT_COMPACT_AFTER_BYTES;
    this.#reopenHeadroom =
      (options.writeBufferBytes ?? LEVELDB_WRITE_BUFFER_BYTES) + this.#batchMaxBytes + 1024 * 1024;
  }

  static async open(dir: string, options: LevelStoreOptions): Promise<LevelStore> {
    if (!(options.maxBytes > 0)) throw new RangeError(`maxBytes must be positive, got ${options.maxBytes}`);
    const dbOptions: LevelDbOptions = {
      createIfMissing: options.createIfMissing ?? true,
      ...(options.cacheSizeBytes === undefined ? {} : { cacheSizeBytes: options.cacheSizeBytes }),
      ...(options.writeBufferBytes === undefined ? {} : { writeBufferBytes: options.writeBufferBytes }),
    };
    const db = await openLevelDb(dir, dbOptions);
    try {
      // Meta first: clearOnOpen must never wipe a LevelDB that is not ours.
      let meta = await readMeta(db, dir, options.clearOnOpen === true);
      if (options.clearOnOpen === true) meta = await clearDb(db, meta);
      const ledger = new SegmentLedger(await readSegments(db));
      const log = ValueLog.open(dir, ledger.ids());
      return new LevelStore(db, dir, dbOptions, meta, log, ledger, options);
    } catch (error) {
      await db.close();
      if (error instanceof LevelOpenError) throw error;
      throw new LevelOpenError(
        `L2 directory ${dir} cannot be read: ${(error as Error).message}`,
        { dir },
        {
          cause: error,
        },
      );
    }
  }

  /** Bytes accepted but not yet in LevelDB; callers throttle demotion on it. */
  get pendingBytes(): number {
    return this.#pending.bytes + (this.#inFlight?.bytes ?? 0);
  }

  stats(): LevelStoreStats {
    return {
      items: this.#meta.items,
      bytes: this.#meta.bytes,
      evictions: this.#evictions,
      expiredReclaimed: this.#expiredReclaimed,
      writeErrors: this.#writeErrors,
      pendingBytes: this.pendingBytes,
      pendingWrites: this.#pending.writes.size + (this.#inFlight?.writes.size ?? 0),
      compactions: this.#compactions,
      compactionFailures: this.#compactionFailures,
      logSegments: this.#ledger.segments,
      logBytes: this.#ledger.writtenBytes,
      segmentMoves: this.#segmentMoves,
      segmentMoveFailures: this.#segmentMoveFailures,
      pointerCacheHits: this.#pointerCacheHits,
      reopens: this.#reopens,
    };
  }

  /**
   * The record last written for `key`, including writes not yet flushed.
   * Reads that miss the pending batches wait for the end of the event-loop
   * turn and go to LevelDB together, as one getMany: one trip to the libuv
   * pool per turn instead of one per key (see #issueReads).
   */
  get(key: Buffer): Promise<Buffer | undefined> {
    if (this.#closed) return Promise.reject(closedError());
    const pending = this.#pendingWrite(key);
    if (pending !== undefined) return Promise.resolve(pending.record);
    const reads = this.#reads;
    if (reads.keys.length === 0) setImmediate(this.#issueReads);
    reads.keys.push(dataKey(key));
    return new Promise((resolve, reject) => {
      reads.resolves.push(resolve);
      reads.rejects.push(reject);
      if (reads.keys.length >= READ_BATCH_MAX_KEYS) this.#issueReads();
    });
  }

  /**
   * get() done now, on the calling thread: LevelDB's lookup of the pointer
   * and one pread of the record, with no trip to the libuv pool. It blocks
   * for as long as those take, which is microseconds while the files are in
   * the page cache and a device read when they are not; callers decide when
   * that is worth it (L2Bridge's read mode). The record read from the log is
   * a view of a buffer the next getSync reuses (so a hit allocates nothing
   * its size): use it, or copy it, before reading again. Throws LevelIoError
   * when the read fails.
   */
  getSync(key: Buffer): Buffer | undefined {
    if (this.#closed) throw closedError();
    const pending = this.#pendingWrite(key);
    if (pending !== undefined) return pending.record;
    const cache = this.#pointers;
    const hash = cache === undefined ? 0 : keyHash(key);
    if (cache !== undefined) {
      const slot = cache.find(hash);
      if (slot >= 0) {
        const log = this.#log;
        const record = log.readEntrySync(
          cache.segment(slot),
          cache.offset(slot),
          key,
          cache.recordLength(slot),
        );
        if (record !== undefined) {
          this.#pointerCacheHits++;
          return record;
        }
      }
    }
    let entry: Buffer | undefined;
    try {
      entry = this.#db.getSync(dataKey(key), READ_OPTIONS);
    } catch (cause) {
      throw new LevelIoError(`L2 read failed: ${(cause as Error).message}`, { op: 'get' }, { cause });
    }
    const pointer = entry === undefined ? undefined : decodeDataEntry(entry);
    if (pointer === undefined) return undefined;
    // Safe to keep: a batch changing this pointer updates the cache when it lands, after this read.
    cache?.setHashed(hash, pointer);
    return (
      this.#log.readEntrySync(pointer.segment, pointer.offset, key, pointer.recordLength) ?? UNREADABLE_RECORD
    );
  }

  /** The write queued or in flight for key, which reads see first (read-your-writes). */
  #pendingWrite(key: Buffer): PendingWrite | undefined {
    // No string for the lookup while nothing is queued (a read-only load).
    if (this.#pending.writes.size === 0 && this.#inFlight === undefined) return undefined;
    const id = key.toString('latin1');
    return this.#pending.writes.get(id) ?? this.#inFlight?.writes.get(id);
  }

  /** Writes and waits until the record is in LevelDB. The store keeps `record`; do not mutate it. */
  async put(key: Buffer, record: Buffer, exptime = 0): Promise<void> {
    this.enqueuePut(key, record, exptime);
    await this.#awaitPending();
  }

  async del(key: Buffer): Promise<void> {
    this.enqueueDel(key);
    await this.#awaitPending();
  }

  /** Queues a write for the next batch; visible to get() at once. */
  enqueuePut(key: Buffer, record: Buffer, exptime = 0): void {
    if (!Number.isInteger(exptime) || exptime < 0 || exptime > 0xffff_ffff) {
      throw new RangeError(`exptime must be a u32, got ${exptime}`);
    }
    this.#enqueue(key, { record, exptime });
  }

  enqueueDel(key: Buffer): void {
    this.#enqueue(key, { record: undefined, exptime: 0 });
  }

  /** Resolves once every write queued before the call is in LevelDB; rejects if any batch failed. */
  async flush(): Promise<void> {
    const waits: Promise<void>[] = [];
    if (this.#inFlight !== undefined) waits.push(this.#inFlight.done);
    if (this.#pending.writes.size > 0) waits.push(this.#pending.done);
    this.#requestFlush();
    await Promise.all(waits);
  }

  /**
   * Deletes up to `limit` records whose exptime is in (0, nowSeconds], soonest
   * first, walking only the expired prefix of the expiry index. Returns how
   * many went; call again while `reclaimHasMore` is true. A call resumes after
   * the last index key the previous one read (so a pass never re-walks its
   * own tombstones); once a call reads fewer than `limit`, the next starts
   * from the front again, catching records written meanwhile already expired.
   */
  async reclaimExpired(nowSeconds: number, limit: number): Promise<number> {
    this.#assertOpen();
    return this.#exclusive(async () => {
      await this.#reopenIfNeeded();
      const segments = this.#ledger.change();
      const plan = await planReclaim(this.#db, this.#meta, nowSeconds, limit, segments, this.#reclaimAfter);
      this.#reclaimAfter = plan.resumeAfter;
      if (plan.ops.length === 0) return 0;
      const emptied = segments.dropEmpty(this.#keepsSegment);
      await this.#commit(plan.ops, plan.meta, segments);
      this.#afterCommit(emptied);
      this.#expiredReclaimed += plan.removed;
      return plan.removed;
    });
  }

  /** True when the last reclaimExpired call stopped at its limit: more may have expired. */
  get reclaimHasMore(): boolean {
    return this.#reclaimAfter !== undefined;
  }

  /**
   * Drops every record and every write queued so far (clear_on_startup,
   * flush_all of L2); writes queued after the call are kept. When `after` is
   * given, the records go only once it has resolved, and stay if it rejects
   * (flush_all persists its watermark first). Rejects with `after`'s error.
   */
  async clear(after?: Promise<unknown>): Promise<void> {
    this.#assertOpen();
    const dropped = this.#pending;
    this.#pending = new PendingBatch();
    const clearing = this.#exclusive(async () => {
      if (after !== undefined) {
        try {
          await after;
        } catch (error) {
          dropped.settle();
          throw error;
        }
      }
      await this.#reopenIfNeeded();
      this.#meta = await this.#writing(() => clearDb(this.#db, this.#meta));
      this.#pointers?.clear();
      this.#ledger.clear();
      if (this.#moving !== undefined) void this.#moving.entries.return(undefined);
      this.#moving = undefined;
      for (const segment of this.#log.ids()) this.#dropSegment(segment);
      this.#head = undefined;
    });
    try {
      await clearing;
    } catch (error) {
      // Neither cleared nor written (a failed reopen or clear): the dropped writes'
      // waiters must not wait for ever. A batch settled above ignores this.
      dropped.settle(
        new LevelIoError(`L2 clear failed: ${(error as Error).message}`, { op: 'clear' }, { cause: error }),
      );
      throw error;
    }
    // Cleared, so the dropped writes' effect (none) is final; their waiters may go on.
    dropped.settle();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // Closed first, so nothing new is queued behind the final flush.
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#compactTimer !== undefined) clearTimeout(this.#compactTimer);
    // Reads queued this turn go now, while the DB is open (it waits for them to finish).
    this.#issueReads();
    try {
      await this.flush();
    } finally {
      await this.#exclusiveTail;
      // A compaction under way cannot be cancelled; LevelDB must finish it before closing.
      await this.#compacting;
      await this.#db.close();
      // Every getMany has resolved by now (LevelDB's close waits for them), so no drop needs to wait.
      for (const { segment } of this.#dropsWaiting.splice(0)) this.#log.drop(segment);
      await this.#log.close();
    }
  }

  #enqueue(key: Buffer, write: PendingWrite): void {
    this.#assertOpen();
    const batch = this.#pending;
    const id = key.toString('latin1');
    const previous = batch.writes.get(id);
    if (previous !== undefined) batch.bytes -= id.length + (previous.record?.length ?? 0);
    batch.writes.set(id, write);
    batch.bytes += id.length + (write.record?.length ?? 0);
    if (batch.bytes >= this.#batchMaxBytes) this.#requestFlush();
    else this.#armTimer();
  }

  async #awaitPending(): Promise<void> {
    const batch = this.#pending;
    this.#requestFlush();
    await batch.done;
  }

  // One timer, re-armed with refresh() rather than a new setTimeout per batch;
  // unref'd so a quiet store never keeps the process alive.
  #armTimer(): void {
    if (this.#timerArmed || this.#closed) return;
    this.#timerArmed = true;
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#onTimer(), this.#flushIntervalMs);
      this.#timer.unref();
    } else {
      this.#timer.refresh();
    }
  }

  #onTimer(): void {
    this.#timerArmed = false;
    if (!this.#closed) this.#requestFlush();
  }

  #requestFlush(): void {
    if (this.#inFlight !== undefined) {
      this.#flushAgain = true;
      return;
    }
    if (this.#pending.writes.size === 0) return;
    const batch = this.#pending;
    this.#pending = new PendingBatch();
    this.#inFlight = batch;
    void this.#exclusive(() => this.#commitBatch(batch));
  }

  async #commitBatch(batch: PendingBatch): Promise<void> {
    let error: LevelIoError | undefined;
    try {
      await this.#reopenIfNeeded();
      const appended = this.#logBatch();
      const segments = this.#ledger.change();
      const writes = await planWrites(this.#db, this.#meta, batch.writes, appended, segments);
      const eviction = await planEviction(this.#db, writes, this.#maxBytes, segments);
      const emptied = segments.dropEmpty(this.#keepsSegment);
      await this.#commit(writes.ops.concat(eviction.ops), eviction.meta, segments, appended);
      this.#afterCommit(emptied);
      this.#evictions += eviction.evicted;
    } catch (cause) {
      this.#writeErrors++;
      error = new LevelIoError(
        `L2 batch of ${batch.writes.size} write(s) failed: ${(cause as Error).message}`,
        { op: 'batch', writes: batch.writes.size, bytes: batch.bytes },
        { cause },
      );
    }
    this.#inFlight = undefined;
    if (error === undefined) {
      this.#writtenSinceCompaction += batch.bytes;
      this.#armCompaction();
    }
    batch.settle(error);
    if (this.#flushAgain || this.#pending.bytes >= this.#batchMaxBytes) {
      this.#flushAgain = false;
      this.#requestFlush();
    } else if (this.#pending.writes.size > 0) {
      this.#armTimer();
    }
    // Last, so a throwing callback cannot leave the batch unsettled or the store stuck.
    if (error !== undefined) this.#onWriteError?.(error);
    else this.#onWriteOk?.();
  }

  /** A log batch at the end of the head segment, which starts anew once it is segmentBytes long. */
  #logBatch(): LogBatch {
    const position = this.#head === undefined ? undefined : (this.#ledger.usage(this.#head)?.written ?? 0);
    if (this.#head !== undefined && position !== undefined && position < this.#segmentBytes) {
      return new LogBatch(this.#head, position);
    }
    const head = this.#nextSegment++;
    this.#head = head;
    return new LogBatch(head, 0);
  }

  /** Segments no batch may drop however empty: the head, and the one being moved. */
  readonly #keepsSegment = (segment: number): boolean =>
    segment === this.#head || segment === this.#moving?.segment;

  /** After a batch or an expiry pass: the segments it emptied go, and garbage may call for a move. */
  #afterCommit(emptied: readonly number[]): void {
    for (const segment of emptied) this.#dropSegment(segment);
    this.#queueMoveIfDue();
  }

  /**
   * Deletes a segment's file now, or once the getMany reads issued so far
   * have handed their pointers to the log: their snapshots may predate the
   * batch that dropped it, and a pointer into a deleted file would read as a
   * corrupt record (and ItemStore would delete a live key).
   */
  #dropSegment(segment: number): void {
    if (this.#readsResolving.size === 0) this.#log.drop(segment);
    else this.#dropsWaiting.push({ segment, issue: this.#readIssue });
  }

  #readResolved(issue: number): void {
    this.#readsResolving.delete(issue);
    if (this.#dropsWaiting.length === 0) return;
    let oldest = Number.POSITIVE_INFINITY;
    for (const pending of this.#readsResolving) oldest = Math.min(oldest, pending);
    const waiting = this.#dropsWaiting;
    this.#dropsWaiting = [];
    for (const drop of waiting) {
      if (drop.issue < oldest) this.#log.drop(drop.segment);
      else this.#dropsWaiting.push(drop);
    }
  }

  /** Starts or continues a segment move, one chunk per exclusive task, when garbage calls for it. */
  #queueMoveIfDue(): void {
    if (this.#moveQueued || this.#closed) return;
    if (this.#moving === undefined) {
      const ledger = this.#ledger;
      const garbage = ledger.writtenBytes - ledger.liveBytes;
      if (garbage <= Math.max(this.#segmentBytes, ledger.writtenBytes / 4)) return;
      const from = ledger.mostGarbage((segment) => segment === this.#head || this.#unmovable.has(segment));
      if (from === undefined) return;
      this.#moving = { segment: from, entries: this.#log.scan(from, ledger.usage(from)?.written ?? 0) };
    }
    this.#moveQueued = true;
    void this.#exclusive(async () => {
      this.#moveQueued = false;
      if (this.#closed || this.#moving === undefined) return;
      try {
        await this.#reopenIfNeeded();
        await this.#moveChunk(this.#moving);
      } catch {
        // Nothing committed for the chunk that failed; a later batch starts the move again.
        this.#moving = undefined;
        this.#segmentMoveFailures++;
        return;
      }
      this.#queueMoveIfDue();
    });
  }

  /**
   * Moves the next chunk of a segment's entries that are still current to
   * the head; after the last, deletes the segment, or, if entries past a
   * damaged one are still pointed at, leaves it for good. Batches run
   * between chunks; planMove checks each pointer as the chunk commits.
   */
  async #moveChunk(moving: { segment: number; entries: AsyncGenerator<LogEntry> }): Promise<void> {
    const from = moving.segment;
    const chunk: LogEntry[] = [];
    let last = false;
    while (chunk.length < MOVE_CHUNK_ENTRIES) {
      const next = await moving.entries.next();
      if (next.done === true) {
        last = true;
        break;
      }
      chunk.push(next.value);
    }
    const appended = this.#logBatch();
    const segments = this.#ledger.change();
    const plan = await planMove(this.#db, from, chunk, appended, segments);
    const emptied = last && (segments.current(from)?.live ?? 0) === 0;
    if (emptied) segments.drop(from);
    await this.#commit(plan.ops, this.#meta, segments, appended);
    if (!last) return;
    this.#moving = undefined;
    if (emptied) {
      this.#dropSegment(from);
      this.#segmentMoves++;
    } else {
      this.#unmovable.add(from);
      this.#segmentMoveFailures++;
    }
  }

  /** Resolves once no batch, expiry pass or segment move is running or queued (tests await it). */
  async whenIdle(): Promise<void> {
    let tail: Promise<void>;
    do {
      tail = this.#exclusiveTail;
      await tail;
    } while (tail !== this.#exclusiveTail);
  }

  /** The compaction under way, if any (tests await it). */
  get compacting(): Promise<void> | undefined {
    return this.#compacting;
  }

  #armCompaction(): void {
    if (this.#compactAfterBytes === 0 || this.#closed) return;
    const threshold = Math.max(this.#compactAfterBytes, this.#meta.bytes / 4);
    if (this.#writtenSinceCompaction < threshold) return;
    if (this.#compactTimer === undefined) {
      this.#compactTimer = setTimeout(() => this.#compactIfQuiet(), COMPACT_QUIET_MS);
      this.#compactTimer.unref();
    } else {
      this.#compactTimer.refresh();
    }
  }

  #compactIfQuiet(): void {
    if (this.#closed || this.#compacting !== undefined) return;
    this.#writtenSinceCompaction = 0;
    this.#compacting = this.#db
      .compactRange(DATA_START, DATA_END)
      .then(
        () => {
          this.#compactions++;
        },
        () => {
          // LevelDB's own compactions carry on; the next burst tries again. If
          // the failure left LevelDB refusing writes, the first refused write
          // has the handle reopened (#writing).
          this.#compactionFailures++;
        },
      )
      .finally(() => {
        this.#compacting = undefined;
      });
  }

  /** A named value stored beside the records; survives clear(). */
  async getAux(name: string): Promise<Buffer | undefined> {
    this.#assertOpen();
    return this.#db.get(auxKey(name));
  }

  /**
   * Writes a named value. Runs in order with batches: a batch enqueued after
   * this call is committed after it, so nothing written later can land without it.
   */
  putAux(name: string, value: Buffer): Promise<void> {
    this.#assertOpen();
    return this.#exclusive(async () => {
      await this.#reopenIfNeeded();
      await this.#writing(() => this.#db.put(auxKey(name), value));
    });
  }

  /** Calls fn with every stored key (not pending writes), in key order; for start-up indexes. */
  async forEachKey(fn: (key: Buffer) => void): Promise<number> {
    this.#assertOpen();
    let count = 0;
    for await (const key of this.#db.keys({ gte: DATA_START, lt: DATA_END })) {
      if (key[0] !== DATA_PREFIX) continue;
      fn(key.subarray(1));
      count++;
    }
    return count;
  }

  /**
   * Lands one plan. Its new records go to the log first: LevelDB must never
   * point at bytes not yet written. Then its ops, the segment usage they
   * change and meta go as one atomic LevelDB batch, and the ledger and the
   * pointer cache take the result.
   */
  async #commit(
    ops: BatchOp[],
    meta: StoreMeta,
    segments: SegmentChange,
    appended?: LogBatch,
  ): Promise<void> {
    if (appended !== undefined && appended.length > 0) {
      if (!this.#log.has(appended.segment)) this.#log.create(appended.segment);
      await this.#log.append(appended);
    }
    const batch = ops.concat(segments.ops(), [{ type: 'put', key: META_KEY, value: encodeMeta(meta) }]);
    await this.#writing(() => this.#db.batch(batch));
    this.#meta = meta;
    this.#ledger.apply(segments);
    // In the batch's own continuation. Until here a read may find LevelDB
    // changed while the cache still holds a key's old pointer; that record was
    // superseded by nothing a read can miss: a write or delete is still in
    // #inFlight (read first), and an evicted, expired or moved record is still
    // intact in the log (drops come after this; readers check expiry).
    const cache = this.#pointers;
    if (cache === undefined) return;
    for (const op of batch) {
      if (op.key[0] !== DATA_PREFIX) continue;
      const key = op.key.subarray(1);
      const pointer = op.type === 'put' ? decodeDataEntry(op.value) : undefined;
      if (pointer === undefined) cache.forget(key);
      else cache.set(key, pointer);
    }
  }

  /** Runs a LevelDB write; when it fails, the handle is reopened before the next one. */
  async #writing<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      this.#mustReopen = true;
      throw error;
    }
  }

  /**
   * After a failed write: reopens the handle, so LevelDB's recovery cuts a
   * torn record off its log before anything is written behind it, and reads
   * back what the DB now holds (the failed batch may have landed whole).
   * Runs in an exclusive task, before it plans. Throws while the disk lacks
   * room for the recovery, before closing anything, so reads go on; if the
   * open itself fails, the handle stays closed (reads fail, as misses) until
   * the next write tries again.
   */
  async #reopenIfNeeded(): Promise<void> {
    if (!this.#mustReopen) return;
    const free = freeBytes(this.#dir);
    if (free < this.#reopenHeadroom) {
      throw new LevelIoError(
        `L2 is waiting for disk space: ${free} bytes free, ${this.#reopenHeadroom} needed to recover from a failed write`,
        { op: 'reopen', freeBytes: free, neededBytes: this.#reopenHeadroom },
      );
    }
    // LevelDB cannot close under a compaction; and a failed one may have left it refusing writes.
    await this.#compacting;
    await reopenLevelDb(this.#db, this.#dir, this.#dbOptions);
    this.#meta = await readMeta(this.#db, this.#dir, false);
    this.#ledger = new SegmentLedger(await readSegments(this.#db));
    this.#pointers?.clear();
    this.#mustReopen = false;
    this.#reopens++;
  }

  #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#exclusiveTail.then(task);
    this.#exclusiveTail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * Sends the reads queued this turn as one getMany. It runs from
   * setImmediate, i.e. after the poll phase has handed every readable socket
   * its data, so the gets of all connections served in a turn share a pool
   * hop: on a busy server that hop (a wake-up and two context switches) cost
   * more than LevelDB's lookup itself. A write queued after a read was
   * issued may or may not be visible to it, as with one get per key; callers
   * allow for that (L2Bridge marks its reads dirty on any mutation).
   */
  readonly #issueReads = (): void => {
    const reads = this.#reads;
    if (reads.keys.length === 0) return;
    this.#reads = new ReadBatch();
    const issue = ++this.#readIssue;
    this.#readsResolving.add(issue);
    this.#db.getMany(reads.keys, READ_OPTIONS).then(
      (entries) => {
        for (let i = 0; i < entries.length; i++) {
          const entry = entries[i];
          const pointer = entry === undefined ? undefined : decodeDataEntry(entry);
          if (pointer === undefined) {
            reads.resolves[i]!(undefined);
            continue;
          }
          const resolve = reads.resolves[i]!;
          this.#log
            .readEntry(pointer.segment, pointer.offset, reads.keys[i]!.subarray(1), pointer.recordLength)
            .then((record) => resolve(record ?? UNREADABLE_RECORD), reads.rejects[i]);
        }
        // Every record read above holds its segment's fd: drops may go now.
        this.#readResolved(issue);
      },
      (cause: unknown) => {
        this.#readResolved(issue);
        const error = new LevelIoError(
          `L2 read failed: ${(cause as Error).message}`,
          { op: 'get', keys: reads.keys.length },
          { cause },
        );
        for (const reject of reads.rejects) reject(error);
      },
    );
  };

  #assertOpen(): void {
    if (this.#closed) throw closedError();
  }
}

async function readSegments(db: LevelDb): Promise<Array<[number, SegmentUsage]>> {
  const segments: Array<[number, SegmentUsage]> = [];
  for await (const [key, value] of db.iterator({ gte: SEGMENT_START, lt: SEGMENT_END })) {
    const usage = decodeSegmentUsage(value);
    if (usage !== undefined) segments.push([segmentOfKey(key), usage]);
  }
  return segments;
}

/** What the filesystem holding dir has free for us; Infinity when it cannot tell (the reopen is tried). */
function freeBytes(dir: string): number {
  try {
    const fs = statfsSync(dir);
    return fs.bavail * fs.bsize;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

function closedError(): LevelIoError {
  return new LevelIoError('L2 store is closed', { op: 'use-after-close' });
}

/** Empties the DB but keeps counting seqs upward, so order keys never repeat; meta and aux stay. */
async function clearDb(db: LevelDb, meta: StoreMeta): Promise<StoreMeta> {
  const cleared: StoreMeta = { nextSeq: meta.nextSeq, items: 0, bytes: 0, evictFromSeq: meta.nextSeq };
  // LevelDB's clear is not one atomic batch. Segment usage goes first: after a
  // crash midway the next open deletes the files it no longer knows, and any
  // pointer left reads as a corrupt record and goes; the other way round, the
  // files would stay counted as live with nothing pointing at them, forever.
  await db.clear({ gte: SEGMENT_START, lt: SEGMENT_END });
  await db.clear({ gte: DATA_START });
  await db.put(META_KEY, encodeMeta(cleared));
  return cleared;
}

/** `clearing`: the caller wipes the store next, so an older format is fine to read. */
async function readMeta(db: LevelDb, dir: string, clearing: boolean): Promise<StoreMeta> {
  const bytes = await db.get(META_KEY);
  if (bytes === undefined) {
    // Every batch writes meta, so a DB without it but with keys was not written by us.
    const anyKey = await db.keys({ limit: 1 }).all();
    if (anyKey.length > 0) {
      throw new LevelOpenError(`L2 directory ${dir} holds a LevelDB that is not a rat-memcached L2 store`, {
        dir,
      });
    }
    const fresh: StoreMeta = { nextSeq: 0, items: 0, bytes: 0, evictFromSeq: 0 };
    await db.put(META_KEY, encodeMeta(fresh));
    return fresh;
  }
  const meta = decodeMeta(bytes, clearing);
  const version = metaVersion(bytes);
  if (meta === undefined && version !== undefined && version < META_VERSION) {
    throw new LevelOpenError(
      `L2 directory ${dir} holds an older rat-memcached L2 format (${version}, now ${META_VERSION}): start once with l2.clear_on_startup = true, or delete the directory`,
      { dir, version },
    );
  }
  if (meta === undefined) {
    throw new LevelOpenError(`L2 directory ${dir} has an unreadable or newer-version meta record`, {
      dir,
      metaLength: bytes.length,
    });
  }
  return meta;
}
