// Doubly linked circular lists of slots, shared by every evictor: many lists
// (a queue, or a segment or frequency bucket of one) live in the same two
// Int32Array columns, so a million entries are no million objects.
//
// Node i < lists is list i's sentinel; slot s is node lists + s. Sentinels
// make unlink need no list id, and keeping them first means growing the
// columns never renumbers a slot.

export class SlotLists {
  readonly lists: number;
  #prev: Int32Array;
  #next: Int32Array;

  constructor(lists: number, slotCapacity: number) {
    this.lists = lists;
    this.#prev = new Int32Array(lists + slotCapacity);
    this.#next = new Int32Array(lists + slotCapacity);
    for (let list = 0; list < lists; list++) {
      this.#prev[list] = list;
      this.#next[list] = list;
    }
  }

  get allocatedBytes(): number {
    return this.#prev.byteLength + this.#next.byteLength;
  }

  /** Bytes of the two link columns per slot. */
  static readonly bytesPerSlot = 8;

  grow(slotCapacity: number): void {
    const length = this.lists + slotCapacity;
    if (length <= this.#prev.length) return;
    const prev = new Int32Array(length);
    prev.set(this.#prev);
    const next = new Int32Array(length);
    next.set(this.#next);
    this.#prev = prev;
    this.#next = next;
  }

  /** Appends at the tail (the most recent end). */
  pushTail(list: number, slot: number): void {
    const node = this.lists + slot;
    const tail = this.#prev[list]!;
    this.#prev[node] = tail;
    this.#next[node] = list;
    this.#next[tail] = node;
    this.#prev[list] = node;
  }

  unlink(slot: number): void {
    const node = this.lists + slot;
    const prev = this.#prev[node]!;
    const next = this.#next[node]!;
    this.#next[prev] = next;
    this.#prev[next] = prev;
  }

  moveToTail(list: number, slot: number): void {
    this.unlink(slot);
    this.pushTail(list, slot);
  }

  /** The oldest slot of the list, or -1 when it is empty. */
  head(list: number): number {
    const node = this.#next[list]!;
    return node === list ? -1 : node - this.lists;
  }

  isEmpty(list: number): boolean {
    return this.#next[list] === list;
  }
}
