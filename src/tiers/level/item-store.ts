// ItemStore: the one adapter between cache items (value, flags, exptime, cas)
// and LevelStore's byte records, as memcached's storage.c sits between items
// and extstore. It owns the record codec calls, the "writes being encoded"
// map (an item handed to write() is readable at once, before LZ4 is done and
// its record is queued), corrupt-record handling and the L2 counters. It
// knows no commands, no L1 and no clock.

import { LevelIoError, RecordCorruptError } from './level-errors.js';
import { LevelStore, type LevelStoreOptions } from './level-store.js';
import { decodeRecordInline, decodeRecordSync, encodeRecord, type ItemRecord } from './record-codec.js';

export interface ItemStoreOptions extends LevelStoreOptions {
  /** Values at least this long are LZ4-compressed when that saves space. */
  readonly compressMinBytes: number;
  /** A record failed its checksum (it has been deleted). */
  readonly onCorrupt?: (key: Buffer, error: RecordCorruptError) => void;
}

export interface ItemStoreCounters {
  /** Reads that failed with an I/O error (the caller treats them as misses). */
  readErrors: number;
  corruptRecords: number;
  /** Items written this process, and their value bytes before / record bytes after encoding. */
  itemsWritten: number;
  valueBytesWritten: number;
  recordBytesWritten: number;
  /** Writes that never reached LevelDB (encode or batch failure): lost like an eviction. */
  writesDropped: number;
}

interface Encoding {
  readonly item: ItemRecord;
  readonly version: number;
}

export class ItemStore {
  readonly store: LevelStore;
  readonly counters: ItemStoreCounters = {
    readErrors: 0,
    corruptRecords: 0,
    itemsWritten: 0,
    valueBytesWritten: 0,
    recordBytesWritten: 0,
    writesDropped: 0,
  };
  readonly #compressMinBytes: number;
  readonly #onCorrupt: ((key: Buffer, error: RecordCorruptError) => void) | undefined;
  /** Items handed to write() whose record is still being encoded, by latin1 key. */
  readonly #encoding = new Map<string, Encoding>();
  #encodingBytes = 0;
  readonly #encodes = new Set<Promise<void>>();
  /** Keys with a read in flight; a write or remove meanwhile marks them, so a corrupt-record delete cannot erase it. */
  readonly #reading = new Map<string, { touched: boolean }>();
  #version = 0;

  private constructor(store: LevelStore, options: ItemStoreOptions) {
    this.store = store;
    this.#compressMinBytes = options.compressMinBytes;
    this.#onCorrupt = options.onCorrupt;
  }

  static async open(dir: string, options: ItemStoreOptions): Promise<ItemStore> {
    let self: ItemStore | undefined;
    const store = await LevelStore.open(dir, {
      ...options,
      onWriteError: (error) => {
        if (self !== undefined) self.counters.writesDropped += Number(error.context.writes ?? 0);
        options.onWriteError?.(error);
      },
    });
    self = new ItemStore(store, options);
    return self;
  }

  /** Bytes accepted but not yet in LevelDB, encoding included: what throttling looks at. */
  get pendingBytes(): number {
    return this.store.pendingBytes + this.#encodingBytes;
  }

  /**
   * The item last written for key, or undefined. Rejects with LevelIoError
   * when the read fails; a corrupt record is counted, reported, deleted and
   * read as a miss. Raw and small values decode inline (decodeRecordInline),
   * without a promise of their own.
   */
  read(key: Buffer): Promise<ItemRecord | undefined> {
    const id = key.toString('latin1');
    const encoding = this.#encoding.get(id);
    if (encoding !== undefined) return Promise.resolve(encoding.item);
    const mark = { touched: false };
    this.#reading.set(id, mark);
    const done = (): void => {
      if (this.#reading.get(id) === mark) this.#reading.delete(id);
    };
    return this.store
      .get(key)
      .then((record) => (record === undefined ? undefined : decodeRecordInline(record)))
      .then(
        (item) => {
          done();
          return item;
        },
        (error: unknown) => {
          done();
          return this.#readFailed(key, mark, error);
        },
      );
  }

  /**
   * read() done now (LevelStore.getSync): no promise, and an lz4 value is
   * decompressed on the spot. Same answers and the same handling of corrupt
   * records; throws LevelIoError when the read fails. A raw value is a view
   * of the value log's read buffer, valid until the next readSync: callers
   * copy it (into a reply, into L1) before reading again.
   */
  readSync(key: Buffer): ItemRecord | undefined {
    if (this.#encoding.size > 0) {
      const encoding = this.#encoding.get(key.toString('latin1'));
      if (encoding !== undefined) return encoding.item;
    }
    try {
      const record = this.store.getSync(key);
      return record === undefined ? undefined : decodeRecordSync(record);
    } catch (error) {
      // Nothing ran between the read and here, so no write can have touched the key.
      return this.#readFailed(key, { touched: false }, error);
    }
  }

  /** A corrupt record reads as a miss (and goes, unless a write came meanwhile); anything else is an I/O error. */
  #readFailed(key: Buffer, mark: { touched: boolean }, error: unknown): undefined {
    if (error instanceof RecordCorruptError) {
      this.counters.corruptRecords++;
      if (!mark.touched) this.store.enqueueDel(key);
      this.#onCorrupt?.(key, error);
      return undefined;
    }
    this.counters.readErrors++;
    throw error instanceof LevelIoError
      ? error
      : new LevelIoError(`L2 read failed: ${(error as Error).message}`, { op: 'get' }, { cause: error });
  }

  /** Queues item for L2; read() returns it from now on. The store keeps item.value: pass a copy. */
  write(key: Buffer, item: ItemRecord): void {
    const id = key.toString('latin1');
    const version = ++this.#version;
    this.#touch(id);
    const previous = this.#encoding.get(id);
    if (previous !== undefined) this.#encodingBytes -= previous.item.value.length;
    this.#encoding.set(id, { item, version });
    this.#encodingBytes += item.value.length;
    const done = encodeRecord(item, { compressMinBytes: this.#compressMinBytes }).then(
      (record) => {
        if (!this.#settle(id, version)) return;
        this.counters.itemsWritten++;
        this.counters.valueBytesWritten += item.value.length;
        this.counters.recordBytesWritten += record.length;
        this.store.enqueuePut(key, record, item.exptime);
      },
      () => {
        if (this.#settle(id, version)) this.counters.writesDropped++;
      },
    );
    this.#encodes.add(done);
    void done.finally(() => this.#encodes.delete(done));
  }

  /** Removes key from L2 (queued; reads see it at once). Cancels an encode in progress. */
  remove(key: Buffer): void {
    const id = key.toString('latin1');
    this.#touch(id);
    const previous = this.#encoding.get(id);
    if (previous !== undefined) {
      this.#encodingBytes -= previous.item.value.length;
      this.#encoding.delete(id);
    }
    this.store.enqueueDel(key);
  }

  /** Resolves once everything written or removed so far is in LevelDB. */
  async flush(): Promise<void> {
    await Promise.all(this.#encodes);
    await this.store.flush();
  }

  /** Drops every item written before the call (flush_all), once `after` resolves; aux values stay. See LevelStore.clear. */
  async clear(after?: Promise<unknown>): Promise<void> {
    this.#encoding.clear();
    this.#encodingBytes = 0;
    await this.store.clear(after);
  }

  async close(): Promise<void> {
    await Promise.all(this.#encodes);
    await this.store.close();
  }

  /** True when the encode is still the latest write for id (and takes it out of the map). */
  #settle(id: string, version: number): boolean {
    const current = this.#encoding.get(id);
    if (current === undefined || current.version !== version) return false;
    this.#encoding.delete(id);
    this.#encodingBytes -= current.item.value.length;
    return true;
  }

  #touch(id: string): void {
    const mark = this.#reading.get(id);
    if (mark !== undefined) mark.touched = true;
  }
}
