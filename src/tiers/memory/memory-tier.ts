// L1: the in-memory tier. Items live in off-heap slab pages (slab-pages.ts),
// their metadata in one typed-array record per slot (item-table.ts), their
// order in a pluggable evictor (one queue per slab class). This file owns the
// byte budget and the policy for finding room: free chunk, pooled page, new
// page, then eviction of the globally oldest class candidate, moving a whole
// page between classes when the victim lives in another class.
//
// It does not know memcached semantics: expiry, CAS rules and flush belong to
// CacheCore, which gets slot numbers from here and reads through them.

import { ConfigError } from '../../errors.js';
import { createEvictor, type EvictionPolicy, type Evictor } from './evictor.js';
import {
  CHAIN_NEXT,
  CHUNK_OFFSET,
  HASH,
  ITEM_COLUMN_BYTES,
  ItemTable,
  KEY,
  KEY_LENGTH_MASK,
  PAGE,
  SLOT_WORDS,
} from './item-table.js';
import { keyEqualsAt, keyHash, keyHashAt } from './key-hash.js';
import { classForBytes, slabChunkSizes } from './slab-classes.js';
import { SlabPages } from './slab-pages.js';

export interface MemoryTierOptions {
  maxBytes: number;
  maxItemSize: number;
  eviction: EvictionPolicy;
  pageSize?: number;
  growthFactor?: number;
  /**
   * Called just before an item is evicted for space; the slot is still readable.
   * Used for stats now, L2 demotion later. It must not mutate the tier.
   */
  onEvict?: (slot: number) => void;
}

export interface SlabClassStats {
  id: number;
  chunkSize: number;
  pages: number;
  usedChunks: number;
  freeChunks: number;
  evicted: number;
  oldestAccess: number;
}

export const NO_MEMORY = -1;
export const TOO_LARGE = -2;
/** The slot id written in front of each item's key, so a page can be emptied by walking it. */
export const ITEM_HEADER_BYTES = 4;
/** memcached's KEY_MAX_LENGTH; an item record keeps the key length in a byte. */
export const MAX_KEY_BYTES = 250;

const MIB = 1024 * 1024;
const PAGE_ALIGN = 64 * 1024;
const DEFAULT_GROWTH_FACTOR = 1.25;
/** Hash buckets per slot at most (load factor >= 1 once past the minimum). */
const BUCKET_BYTES_PER_SLOT = 4;
/**
 * Upper bound on the slot columns reserved up front (address space, not RSS:
 * see item-table.ts). 2^24 slots is ~1 GiB of address space with LFU's
 * columns, and covers every item a 1 GiB budget can hold.
 */
const MAX_RESERVED_SLOTS = 2 ** 24;

/**
 * Up to this many bytes are copied by a loop: Buffer#copy from an offset
 * builds a Uint8Array view per call (node:buffer _copyActual), which costs
 * more than copying a small value (7% of the server's CPU in s1, profiled).
 */
const SMALL_COPY_BYTES = 64;

function copyBytes(source: Buffer, start: number, length: number, target: Buffer, at: number): number {
  if (length > SMALL_COPY_BYTES) return source.copy(target, at, start, start + length);
  for (let i = 0; i < length; i++) target[at + i] = source[start + i]!;
  return length;
}

export class MemoryTier {
  readonly pageSize: number;
  readonly maxItemSize: number;
  readonly #policy: EvictionPolicy;
  readonly #chunkSizes: Uint32Array;
  readonly #onEvict: ((slot: number) => void) | undefined;
  #maxBytes: number;
  #pages: SlabPages;
  #table: ItemTable;
  #evictor: Evictor;
  /** What the evictor's arrays cost at capacity 0; the rest is bytesPerSlot per slot of capacity. */
  #evictorFixedBytes = 0;
  #classEvicted: Float64Array;
  /** What an empty tier allocates; no budget can be smaller. */
  readonly #floorBytes: number;
  #itemBytes = 0;
  #evictions = 0;
  #evictedUnfetched = 0;
  /** Told of every slot this tier frees (delete, eviction, replacement, shrink), so holders of slot numbers can let go. */
  #onFree: ((slot: number) => void) | undefined;

  constructor(options: MemoryTierOptions) {
    const growthFactor = options.growthFactor ?? DEFAULT_GROWTH_FACTOR;
    if (!(growthFactor > 1))
      throw new ConfigError('growthFactor', `growth factor must be > 1, got ${growthFactor}`);
    if (!(options.maxItemSize >= 1)) throw new ConfigError('maxItemSize', 'max item size must be positive');
    const pageSize =
      options.pageSize ?? Math.ceil(Math.max(MIB, options.maxItemSize) / PAGE_ALIGN) * PAGE_ALIGN;
    if (!Number.isInteger(pageSize) || pageSize % 8 !== 0 || pageSize < 1024 || pageSize > 1024 * MIB) {
      throw new ConfigError(
        'pageSize',
        `page size must be a multiple of 8 in [1 KiB, 1 GiB], got ${pageSize}`,
      );
    }
    this.pageSize = pageSize;
    this.maxItemSize = Math.min(options.maxItemSize, pageSize);
    this.#policy = options.eviction;
    this.#onEvict = options.onEvict;
    this.#chunkSizes = slabChunkSizes(pageSize, growthFactor);
    this.#pages = new SlabPages(pageSize, this.#chunkSizes);
    this.#table = new ItemTable(0);
    this.#evictor = createEvictor(this.#policy, this.#chunkSizes.length, 0);
    this.#evictorFixedBytes = this.#evictor.allocatedBytes;
    this.#classEvicted = new Float64Array(this.#chunkSizes.length);
    this.#floorBytes = this.allocatedBytes;
    this.#maxBytes = this.#checkedMaxBytes(options.maxBytes);
    this.#resetColumns();
  }

  get maxBytes(): number {
    return this.#maxBytes;
  }

  /**
   * Everything L1 holds: pages, columns and evictor arrays at capacity,
   * buckets, bookkeeping. Column reserve beyond capacity is never touched, so
   * it is not counted (it is not resident).
   */
  get allocatedBytes(): number {
    return (
      this.#pages.allocatedBytes +
      this.#table.allocatedBytes +
      this.#evictorFixedBytes +
      this.#table.capacity * this.#evictor.bytesPerSlot +
      this.#classEvicted.byteLength
    );
  }

  get itemCount(): number {
    return this.#table.liveCount;
  }

  /** Sum over items of header + key + value bytes (chunk rounding and columns not included). */
  get itemBytes(): number {
    return this.#itemBytes;
  }

  get evictions(): number {
    return this.#evictions;
  }

  /** Evictions of items never accessed since they were stored (memcached's evicted_unfetched). */
  get evictedUnfetched(): number {
    return this.#evictedUnfetched;
  }

  /** Slots 0..slotCapacity-1 may be handed out before the columns grow again. */
  get slotCapacity(): number {
    return this.#table.capacity;
  }

  /** Slots the columns are reserved for (address space, not RSS); holders of slot numbers may reserve as many. */
  get slotReserve(): number {
    return this.#table.reserve;
  }

  /** One listener for freed slots (the expiry wheel); it must not mutate the tier. */
  setFreeListener(listener: ((slot: number) => void) | undefined): void {
    this.#onFree = listener;
  }

  /** Pure lookup: no evictor touch, no expiry check. */
  find(key: Buffer): number {
    return this.#find(key, 0, key.length, keyHash(key));
  }

  /** find() for the key buf[start, end), without a view of it. */
  findAt(buf: Buffer, start: number, end: number): number {
    return this.#find(buf, start, end, keyHashAt(buf, start, end));
  }

  put(key: Buffer, value: Buffer, flags: number, exptime: number, cas: number, nowSeconds: number): number {
    return this.putAt(key, 0, key.length, value, 0, value.length, flags, exptime, cas, nowSeconds);
  }

  /**
   * put() of the key keyBuf[keyStart, keyEnd) and the value
   * valueBuf[valueStart, valueEnd), without views of them: a set's key and
   * value are still in the connection's input, and their two Buffer views
   * (~37 ns each, bench/micro/buffer-views.mjs) were ~13% of an in-process
   * 32 B set (perf of bench/micro/request-path.mjs's set).
   */
  putAt(
    keyBuf: Buffer,
    keyStart: number,
    keyEnd: number,
    valueBuf: Buffer,
    valueStart: number,
    valueEnd: number,
    flags: number,
    exptime: number,
    cas: number,
    nowSeconds: number,
  ): number {
    const keyLength = keyEnd - keyStart;
    const valueLength = valueEnd - valueStart;
    if (keyLength === 0) throw new RangeError('memory tier: empty key');
    const footprint = ITEM_HEADER_BYTES + keyLength + valueLength;
    if (keyLength > MAX_KEY_BYTES || footprint > this.maxItemSize) return TOO_LARGE;
    const hash = keyHashAt(keyBuf, keyStart, keyEnd);
    const classId = classForBytes(this.#chunkSizes, footprint);
    const table = this.#table;
    let slot = this.#find(keyBuf, keyStart, keyEnd, hash);
    if (slot >= 0 && this.#pages.classOf(table.page(slot)) === classId) {
      // Same class: rewrite in place. The slot keeps its chunk and hash link;
      // for the evictor it is a new item, as memcached replaces the item.
      this.#evictor.remove(slot);
      this.#itemBytes -= ITEM_HEADER_BYTES + keyLength + table.valueLength(slot);
    } else {
      const existing = slot;
      // The slot first: making room for it may empty pages, and a page handed
      // out by #pageWithFreeChunk must stay put until its chunk is taken.
      slot = this.#acquireSlot(classId);
      const page = slot < 0 ? -1 : this.#pageWithFreeChunk(classId);
      if (page < 0) {
        if (slot >= 0) table.freeSlot(slot);
        return NO_MEMORY;
      }
      // Room-making may have evicted the old item; if not, the new one replaces it now.
      if (existing >= 0 && table.keyLength(existing) > 0) this.#unlink(existing);
      const offset = this.#pages.takeChunk(page);
      table.place(slot, hash, keyLength, page, offset);
      table.link(slot);
      const buffer = this.#pages.buffer(page);
      buffer.writeUInt32LE(slot, offset);
      copyBytes(keyBuf, keyStart, keyLength, buffer, offset + ITEM_HEADER_BYTES);
    }
    const buffer = this.#pages.buffer(table.page(slot));
    copyBytes(
      valueBuf,
      valueStart,
      valueLength,
      buffer,
      table.chunkOffset(slot) + ITEM_HEADER_BYTES + keyLength,
    );
    table.setItem(slot, valueLength, flags, exptime, cas, nowSeconds);
    this.#evictor.insert(slot, classId);
    this.#itemBytes += footprint;
    return slot;
  }

  remove(slot: number): void {
    this.#unlink(slot);
  }

  /**
   * A read or touch of the item: bumps it in the evictor and marks it fetched.
   * An LRU move rewrites the links of the slot's two neighbours, random
   * memory: in a 10-key get that was two cache misses per key, and s4 ran
   * 5-10% faster with FIFO (no move) than with LRU. So, where the evictor
   * allows it, a slot already hit in this second is not moved again; memcached
   * relinks a hit item at most once a minute (ITEM_UPDATE_INTERVAL), or in its
   * segmented LRU only flags it.
   */
  access(slot: number, nowSeconds: number): void {
    const repeat = this.#table.access(slot, nowSeconds);
    const evictor = this.#evictor;
    if (!repeat || !evictor.coalescesRepeatHits) evictor.access(slot);
  }

  /** True once the item was accessed since it was stored (memcached's ITEM_FETCHED). */
  fetched(slot: number): boolean {
    return this.#table.fetched(slot);
  }

  /** L2 holds this very item (see ItemTable's clean bit); cleared by any change to it. */
  isClean(slot: number): boolean {
    return this.#table.clean(slot);
  }

  markClean(slot: number): void {
    this.#table.setClean(slot, true);
  }

  markDirty(slot: number): void {
    this.#table.setClean(slot, false);
  }

  keyLength(slot: number): number {
    return this.#table.keyLength(slot);
  }

  valueLength(slot: number): number {
    return this.#table.valueLength(slot);
  }

  flags(slot: number): number {
    return this.#table.flags(slot);
  }

  exptime(slot: number): number {
    return this.#table.exptime(slot);
  }

  cas(slot: number): number {
    return this.#table.cas(slot);
  }

  lastAccess(slot: number): number {
    return this.#table.lastAccess(slot);
  }

  setExptime(slot: number, exptime: number): void {
    this.#table.setExptime(slot, exptime);
  }

  setCas(slot: number, cas: number): void {
    this.#table.setCas(slot, cas);
  }

  copyValue(slot: number, target: Buffer, targetOffset: number): number {
    const start = this.#valueStart(slot);
    return copyBytes(this.#pageOf(slot), start, this.#table.valueLength(slot), target, targetOffset);
  }

  copyKey(slot: number, target: Buffer, targetOffset: number): number {
    const start = this.#table.chunkOffset(slot) + ITEM_HEADER_BYTES;
    return copyBytes(this.#pageOf(slot), start, this.#table.keyLength(slot), target, targetOffset);
  }

  /** A view into the page, valid only until the next mutation of the tier. */
  valueView(slot: number): Buffer {
    const start = this.#valueStart(slot);
    return this.#pageOf(slot).subarray(start, start + this.#table.valueLength(slot));
  }

  /** Same length only: incr/decr rewrite digits in place. */
  overwriteValue(slot: number, source: Buffer): void {
    if (source.length !== this.#table.valueLength(slot)) {
      throw new RangeError(`overwriteValue: length ${source.length} != ${this.#table.valueLength(slot)}`);
    }
    source.copy(this.#pageOf(slot), this.#valueStart(slot));
  }

  /**
   * cache_memlimit. Shrinking frees empty pages, then empties whole pages
   * (oldest candidate first) until everything fits. Columns only shrink once
   * no item is left, since slot numbers must stay stable for holders.
   */
  setMaxBytes(maxBytes: number): void {
    this.#maxBytes = this.#checkedMaxBytes(maxBytes);
    while (this.allocatedBytes > this.#maxBytes) {
      if (this.#pages.releasePooledPage()) continue;
      const victim = this.#oldestCandidate(-1);
      if (victim < 0) break;
      this.#evictPage(this.#table.page(victim));
    }
    if (this.allocatedBytes > this.#maxBytes && this.itemCount === 0) {
      // Only columns and page bookkeeping are left, and no slot is held by anyone.
      this.#pages = new SlabPages(this.pageSize, this.#chunkSizes);
      this.#resetColumns();
    }
  }

  /** Drops every item and page (tests; flush_all is lazy in CacheCore). */
  clear(): void {
    if (this.#onFree !== undefined) this.forEachSlot(this.#onFree);
    this.#pages = new SlabPages(this.pageSize, this.#chunkSizes);
    this.#resetColumns();
    this.#itemBytes = 0;
  }

  /** Every live slot, in slot order. fn may remove the slot it is given. Not for hot paths. */
  forEachSlot(fn: (slot: number) => void): void {
    const capacity = this.#table.capacity;
    for (let slot = 0; slot < capacity; slot++) {
      if (this.#table.keyLength(slot) > 0) fn(slot);
    }
  }

  classStats(): SlabClassStats[] {
    const stats: SlabClassStats[] = [];
    for (let classId = 0; classId < this.#chunkSizes.length; classId++) {
      const pages = this.#pages.classPages(classId);
      if (pages === 0 && this.#classEvicted[classId] === 0) continue;
      const candidate = this.#evictor.candidate(classId);
      const usedChunks = this.#pages.classUsedChunks(classId);
      stats.push({
        // memcached numbers classes from 1.
        id: classId + 1,
        chunkSize: this.#chunkSizes[classId]!,
        pages,
        usedChunks,
        freeChunks: this.#pages.classChunks(classId) - usedChunks,
        evicted: this.#classEvicted[classId]!,
        oldestAccess: candidate < 0 ? 0 : this.#table.lastAccess(candidate),
      });
    }
    return stats;
  }

  #find(buf: Buffer, keyStart: number, keyEnd: number, hash: number): number {
    const table = this.#table;
    const keyLength = keyEnd - keyStart;
    // The hottest loop of a get: the record words are read in place (one
    // multiply per slot; a record's fields share a cache line or two) rather
    // than through ItemTable's accessors. page and chunkOffset are below 2^31,
    // so their int32 reads need no >>> 0.
    const words = table.words;
    let slot = table.chainHead(hash);
    while (slot >= 0) {
      const at = slot * SLOT_WORDS;
      if (words[at + HASH] === hash && (words[at + KEY]! & KEY_LENGTH_MASK) === keyLength) {
        const start = words[at + CHUNK_OFFSET]! + ITEM_HEADER_BYTES;
        if (keyEqualsAt(buf, keyStart, keyEnd, this.#pages.buffer(words[at + PAGE]!), start)) return slot;
      }
      slot = words[at + CHAIN_NEXT]!;
    }
    return -1;
  }

  /**
   * A slot for a new item of the class: a free one, else grow the columns if
   * the budget allows, else evict. Not yet live (keyLength 0); -1 when nothing
   * can be evicted.
   */
  #acquireSlot(classId: number): number {
    const table = this.#table;
    for (;;) {
      const slot = table.allocSlot();
      if (slot >= 0) return slot;
      const capacity = this.#affordableCapacity(table.capacity + 1, 0, classId);
      if (capacity > table.capacity) {
        this.#growSlots(capacity);
        continue;
      }
      const victim = this.#oldestCandidate(classId);
      if (victim < 0) return -1;
      this.#evict(victim);
    }
  }

  /**
   * A page of the class with a free chunk, making room if needed; -1 when
   * nothing can be evicted. Each pass either succeeds or evicts at least one
   * item, so the loop ends.
   */
  #pageWithFreeChunk(classId: number): number {
    const pages = this.#pages;
    for (;;) {
      let page = pages.pageWithFreeChunk(classId);
      if (page >= 0) return page;
      page = pages.pooledPage();
      if (page >= 0) {
        pages.assign(page, classId);
        return page;
      }
      if (this.#addPage(classId)) return pages.pageWithFreeChunk(classId);
      const victim = this.#oldestCandidate(classId);
      if (victim < 0) return -1;
      if (pages.classOf(this.#table.page(victim)) === classId) this.#evict(victim);
      else this.#evictPage(this.#table.page(victim));
    }
  }

  /**
   * A new page, only if it fits the budget together with the slot columns its
   * chunks will need (growing them now, so the bytes stay reserved). Free
   * chunks of other classes' pages get their slots when they are used.
   */
  #addPage(classId: number): boolean {
    const extraBytes = this.#pages.allocatedBytesWithNewPage - this.#pages.allocatedBytes;
    // The common case once the budget is used up; spares the capacity search on every put.
    if (this.allocatedBytes + extraBytes > this.#maxBytes) return false;
    const wanted = this.#table.liveCount + this.#pages.chunksPerPage(classId);
    const capacity = this.#affordableCapacity(wanted, extraBytes, classId);
    if (capacity < wanted) return false;
    this.#growSlots(capacity);
    this.#pages.assign(this.#pages.addPage(), classId);
    return true;
  }

  /**
   * The slot capacity to grow to for `wanted` slots (for chunks of `classId`)
   * when `extraBytes` more are about to be allocated. Doubling amortizes the
   * copies, but never beyond what the rest of the budget could fill with pages
   * of this class: on a small budget, unused slot columns would just take the
   * place of pages. The current capacity if even `wanted` does not fit.
   */
  #affordableCapacity(wanted: number, extraBytes: number, classId: number): number {
    const current = this.#table.capacity;
    if (wanted <= current) return current;
    const spareFor = (capacity: number): number =>
      this.#maxBytes - extraBytes - this.#bytesWithCapacity(capacity);
    if (spareFor(wanted) < 0) return current;
    const chunks = this.#pages.chunksPerPage(classId);
    const slotBytes = ITEM_COLUMN_BYTES + BUCKET_BYTES_PER_SLOT + this.#evictor.bytesPerSlot;
    const morePages = Math.floor(spareFor(wanted) / (this.pageSize + chunks * slotBytes));
    const target = Math.min(Math.max(wanted, current * 2), wanted + morePages * chunks);
    return spareFor(target) >= 0 ? target : wanted;
  }

  #bytesWithCapacity(capacity: number): number {
    const extraSlots = capacity - this.#table.capacity;
    return (
      this.allocatedBytes -
      this.#table.allocatedBytes +
      ItemTable.bytesFor(capacity) +
      extraSlots * this.#evictor.bytesPerSlot
    );
  }

  #growSlots(capacity: number): void {
    if (capacity <= this.#table.capacity) return;
    this.#table.grow(capacity);
    this.#evictor.grow(capacity);
  }

  /**
   * The eviction victim: each class's candidate, the one with the oldest
   * last access. Ties go to `preferredClass`, sparing a page move. O(classes).
   */
  #oldestCandidate(preferredClass: number): number {
    let victim = preferredClass >= 0 ? this.#evictor.candidate(preferredClass) : -1;
    let oldest = victim >= 0 ? this.#table.lastAccess(victim) : Number.POSITIVE_INFINITY;
    for (let classId = 0; classId < this.#chunkSizes.length; classId++) {
      const candidate = this.#evictor.candidate(classId);
      if (candidate >= 0 && this.#table.lastAccess(candidate) < oldest) {
        victim = candidate;
        oldest = this.#table.lastAccess(candidate);
      }
    }
    return victim;
  }

  /** Evicts every item in the page; the empty page goes to the pool. */
  #evictPage(page: number): void {
    const table = this.#table;
    const buffer = this.#pages.buffer(page);
    const chunkSize = this.#chunkSizes[this.#pages.classOf(page)]!;
    const carved = this.#pages.carvedChunks(page);
    for (let i = 0, offset = 0; i < carved; i++, offset += chunkSize) {
      // A free chunk holds a free-list link here, not a slot id; the location check tells them apart.
      const slot = buffer.readUInt32LE(offset);
      if (
        slot < table.capacity &&
        table.keyLength(slot) > 0 &&
        table.page(slot) === page &&
        table.chunkOffset(slot) === offset
      ) {
        this.#evict(slot);
      }
    }
  }

  #evict(slot: number): void {
    this.#onEvict?.(slot);
    this.#evictions++;
    if (!this.#table.fetched(slot)) this.#evictedUnfetched++;
    this.#classEvicted[this.#pages.classOf(this.#table.page(slot))]!++;
    this.#unlink(slot);
  }

  #unlink(slot: number): void {
    const table = this.#table;
    this.#itemBytes -= ITEM_HEADER_BYTES + table.keyLength(slot) + table.valueLength(slot);
    table.unlink(slot);
    this.#evictor.remove(slot);
    this.#pages.releaseChunk(table.page(slot), table.chunkOffset(slot));
    table.freeSlot(slot);
    this.#onFree?.(slot);
  }

  /** Empty columns, reserved for as many slots as the budget could ever hold. */
  #resetColumns(): void {
    const bytesPerSlot =
      this.#chunkSizes[0]! + ITEM_COLUMN_BYTES + BUCKET_BYTES_PER_SLOT + this.#evictor.bytesPerSlot;
    const reserve = Math.min(MAX_RESERVED_SLOTS, Math.floor(this.#maxBytes / bytesPerSlot));
    this.#table = new ItemTable(0, reserve);
    this.#evictor = createEvictor(this.#policy, this.#chunkSizes.length, reserve);
  }

  #pageOf(slot: number): Buffer {
    return this.#pages.buffer(this.#table.page(slot));
  }

  #valueStart(slot: number): number {
    return this.#table.chunkOffset(slot) + ITEM_HEADER_BYTES + this.#table.keyLength(slot);
  }

  #checkedMaxBytes(maxBytes: number): number {
    // The fixed part (empty columns, class bookkeeping) must fit, or no budget check can hold.
    if (!(maxBytes >= this.#floorBytes)) {
      throw new ConfigError(
        'maxBytes',
        `memory limit ${maxBytes} is below the ${this.#floorBytes} bytes L1 needs`,
      );
    }
    return maxBytes;
  }
}
