// The L1 page allocator: large off-heap pages, each carved into the chunks of
// one slab class. It owns the page buffers, per-page bookkeeping in typed
// arrays, each class's list of pages with a free chunk, and a pool of empty
// pages any class can take. It knows chunk offsets, not items or keys: the
// tier writes `[slot id u32][key][value]` into what it hands out.
//
// Pages are carved lazily (a carve cursor plus a per-page free list threaded
// through the free chunks' first 4 bytes), so assigning a page to a class is
// O(1) and untouched chunks never become resident memory.

const NONE = -1;
const END_OF_FREE_LIST = 0xffffffff;
/** Page ids in the pool carry this class. */
const POOLED = -1;
/** Ids whose buffer was released (after a shrink) carry this class. */
const RELEASED = -2;

export class SlabPages {
  readonly pageSize: number;
  readonly chunkSizes: Uint32Array;
  readonly #classes: number;
  #buffers: (Buffer | undefined)[] = [];
  #pageClass = new Int16Array(0);
  /** Chunks this page holds once fully carved (its class's chunks per page). */
  #pageChunks = new Uint32Array(0);
  #pageCarved = new Uint32Array(0);
  #pageUsed = new Uint32Array(0);
  #pageFree = new Uint32Array(0);
  #pagePrev = new Int32Array(0);
  #pageNext = new Int32Array(0);
  /** List heads: one per class (pages with a free chunk), then the pool. */
  #heads: Int32Array;
  #classPages: Uint32Array;
  #classChunks: Float64Array;
  #classUsed: Float64Array;
  #releasedIds: number[] = [];
  #pageCount = 0;

  constructor(pageSize: number, chunkSizes: Uint32Array) {
    this.pageSize = pageSize;
    this.chunkSizes = chunkSizes;
    this.#classes = chunkSizes.length;
    this.#heads = new Int32Array(this.#classes + 1).fill(NONE);
    this.#classPages = new Uint32Array(this.#classes);
    this.#classChunks = new Float64Array(this.#classes);
    this.#classUsed = new Float64Array(this.#classes);
  }

  /** Pages holding a buffer, in any class or the pool. */
  get pageCount(): number {
    return this.#pageCount;
  }

  get allocatedBytes(): number {
    return this.#pageCount * this.pageSize + this.#bookkeepingBytes(this.#pageClass.length);
  }

  /** allocatedBytes once one more page is added (its buffer and any bookkeeping growth). */
  get allocatedBytesWithNewPage(): number {
    const ids =
      this.#releasedIds.length > 0 ? this.#pageClass.length : this.#idCapacityFor(this.#buffers.length + 1);
    return (this.#pageCount + 1) * this.pageSize + this.#bookkeepingBytes(ids);
  }

  chunksPerPage(classId: number): number {
    return Math.floor(this.pageSize / this.chunkSizes[classId]!);
  }

  buffer(page: number): Buffer {
    return this.#buffers[page]!;
  }

  classOf(page: number): number {
    return this.#pageClass[page]!;
  }

  carvedChunks(page: number): number {
    return this.#pageCarved[page]!;
  }

  /** A page of that class with a free chunk, or -1. */
  pageWithFreeChunk(classId: number): number {
    return this.#heads[classId]!;
  }

  /** An empty page no class owns, or -1. */
  pooledPage(): number {
    return this.#heads[this.#classes]!;
  }

  /** Allocates a page buffer into the pool; the caller has checked the budget. */
  addPage(): number {
    let page = this.#releasedIds.pop();
    if (page === undefined) {
      page = this.#buffers.length;
      this.#growIds(page + 1);
      this.#buffers.push(undefined);
    }
    this.#buffers[page] = Buffer.allocUnsafeSlow(this.pageSize);
    this.#pageCount++;
    this.#pageClass[page] = POOLED;
    this.#push(this.#classes, page);
    return page;
  }

  /** Gives a pooled page to a class. */
  assign(page: number, classId: number): void {
    const chunks = this.chunksPerPage(classId);
    this.#remove(this.#classes, page);
    this.#pageClass[page] = classId;
    this.#pageChunks[page] = chunks;
    this.#pageCarved[page] = 0;
    this.#pageUsed[page] = 0;
    this.#pageFree[page] = END_OF_FREE_LIST;
    this.#push(classId, page);
    this.#classPages[classId]!++;
    this.#classChunks[classId]! += chunks;
  }

  /** Takes a free chunk of a page on its class's list; returns its byte offset. */
  takeChunk(page: number): number {
    const classId = this.#pageClass[page]!;
    let offset = this.#pageFree[page]!;
    if (offset !== END_OF_FREE_LIST) {
      this.#pageFree[page] = this.#buffers[page]!.readUInt32LE(offset);
    } else {
      offset = this.#pageCarved[page]! * this.chunkSizes[classId]!;
      this.#pageCarved[page]!++;
    }
    const used = this.#pageUsed[page]! + 1;
    this.#pageUsed[page] = used;
    this.#classUsed[classId]!++;
    if (used === this.#pageChunks[page]) this.#remove(classId, page);
    return offset;
  }

  /** Returns a chunk; a page left empty goes back to the pool for any class. */
  releaseChunk(page: number, offset: number): void {
    const classId = this.#pageClass[page]!;
    const chunks = this.#pageChunks[page]!;
    const used = this.#pageUsed[page]! - 1;
    this.#classUsed[classId]!--;
    if (used === 0) {
      if (chunks > 1) this.#remove(classId, page);
      this.#pageUsed[page] = 0;
      this.#pageClass[page] = POOLED;
      this.#classPages[classId]!--;
      this.#classChunks[classId]! -= chunks;
      this.#push(this.#classes, page);
      return;
    }
    this.#buffers[page]!.writeUInt32LE(this.#pageFree[page]!, offset);
    this.#pageFree[page] = offset;
    this.#pageUsed[page] = used;
    if (used === chunks - 1) this.#push(classId, page);
  }

  /** Frees the buffer of one pooled page; false when the pool is empty. */
  releasePooledPage(): boolean {
    const page = this.pooledPage();
    if (page < 0) return false;
    this.#remove(this.#classes, page);
    this.#buffers[page] = undefined;
    this.#pageClass[page] = RELEASED;
    this.#releasedIds.push(page);
    this.#pageCount--;
    return true;
  }

  classPages(classId: number): number {
    return this.#classPages[classId]!;
  }

  classChunks(classId: number): number {
    return this.#classChunks[classId]!;
  }

  classUsedChunks(classId: number): number {
    return this.#classUsed[classId]!;
  }

  #bookkeepingBytes(ids: number): number {
    // 2 (class) + 4 * 6 (chunks, carved, used, free, prev, next) per page id.
    return ids * 26 + this.#heads.byteLength + this.#classPages.byteLength + 16 * this.#classes;
  }

  #idCapacityFor(ids: number): number {
    return ids <= this.#pageClass.length ? this.#pageClass.length : Math.max(16, this.#pageClass.length * 2);
  }

  #growIds(ids: number): void {
    const capacity = this.#idCapacityFor(ids);
    if (capacity === this.#pageClass.length) return;
    this.#pageClass = grown(new Int16Array(capacity), this.#pageClass);
    this.#pageChunks = grown(new Uint32Array(capacity), this.#pageChunks);
    this.#pageCarved = grown(new Uint32Array(capacity), this.#pageCarved);
    this.#pageUsed = grown(new Uint32Array(capacity), this.#pageUsed);
    this.#pageFree = grown(new Uint32Array(capacity), this.#pageFree);
    this.#pagePrev = grown(new Int32Array(capacity), this.#pagePrev);
    this.#pageNext = grown(new Int32Array(capacity), this.#pageNext);
  }

  #push(list: number, page: number): void {
    const head = this.#heads[list]!;
    this.#pagePrev[page] = NONE;
    this.#pageNext[page] = head;
    if (head >= 0) this.#pagePrev[head] = page;
    this.#heads[list] = page;
  }

  #remove(list: number, page: number): void {
    const prev = this.#pagePrev[page]!;
    const next = this.#pageNext[page]!;
    if (prev >= 0) this.#pageNext[prev] = next;
    else this.#heads[list] = next;
    if (next >= 0) this.#pagePrev[next] = prev;
  }
}

function grown<T extends Int16Array | Uint32Array | Int32Array>(target: T, source: T): T {
  target.set(source as ArrayLike<number>);
  return target;
}
