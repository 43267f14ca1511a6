// A growable byte builder for replies. A connection renders a whole batch of
// replies here and hands the socket one Buffer per batch (one write syscall
// instead of one per reply). Numbers are written as ASCII digits directly,
// so a reply costs no intermediate strings.

// Batches are carved from one chunk in turn, like Node's own Buffer pool:
// take() hands out a view of [start, end) and the next batch starts after it,
// so a batch costs neither a copy nor an allocation. Bytes before #start are
// never written again (the socket may still hold them); when a batch does not
// fit, it moves to a fresh chunk and the old one is left to the views.

/** Chunk size: many small batches share one (s1's replies are ~50 bytes). */
const CHUNK_BYTES = 64 * 1024;
/** A chunk grown past this for one big batch is not reused for the next ones. */
const RETAIN_BYTES = 256 * 1024;
/**
 * Sources up to this long are copied byte by byte: for keys, `VALUE `, `END`
 * and the like, a JS loop beats the native Buffer.copy call it would replace.
 */
const SMALL_COPY_BYTES = 32;

/** Views of a chunk's first bytes kept for reuse, at most (see #headViews). */
const HEAD_VIEWS = 16;

/** Digits of the largest integer below 2^53. */
export const MAX_DECIMAL_DIGITS = 16;

/**
 * Writes a non-negative integer below 2^53 as decimal digits at target[at...]
 * (room for MAX_DECIMAL_DIGITS must be there); returns the offset after them.
 * For callers that render a whole line into one reserve().
 */
export function putDecimal(target: Buffer, at: number, value: number): number {
  if (value < 10) {
    target[at] = 0x30 + value;
    return at + 1;
  }
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  let position = at + digits - 1;
  for (let rest = value; position >= at; rest = Math.floor(rest / 10)) {
    target[position--] = 0x30 + (rest % 10);
  }
  return at + digits;
}

export class OutputBuffer {
  #bytes: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  /** The current batch is #bytes[#start, #end). */
  #start = 0;
  #end = 0;
  /** Where the batch last handed out by take() began. */
  #takenStart = 0;
  /**
   * Views of #bytes[0, length), by length. Answering one request at a time,
   * every batch starts at 0 (reuseTaken) and has one of a few lengths, so
   * take() hands out the same view objects again instead of making a typed
   * array per reply. A view is only a window on bytes the builder no longer
   * writes, so handing out the same one twice is the same as making two.
   * Emptied whenever #bytes is replaced.
   */
  #headViews = new Map<number, Buffer>();

  get length(): number {
    return this.#end - this.#start;
  }

  /** Room for `extra` more bytes at #end; returns the chunk to write into. */
  #reserve(extra: number): Buffer {
    if (this.#end + extra > this.#bytes.length) {
      const length = this.#end - this.#start;
      const grown = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, (length + extra) * 2));
      this.#bytes.copy(grown, 0, this.#start, this.#end);
      this.#bytes = grown;
      this.#headViews.clear();
      this.#start = 0;
      this.#end = length;
    }
    return this.#bytes;
  }

  writeBytes(source: Buffer): void {
    this.writeRange(source, 0, source.length);
  }

  /** source[start, end), without a view of it. */
  writeRange(source: Buffer, start: number, end: number): void {
    const length = end - start;
    const target = this.#reserve(length);
    if (length <= SMALL_COPY_BYTES) {
      const at = this.#end - start;
      for (let i = start; i < end; i++) target[at + i] = source[i] as number;
    } else {
      source.copy(target, this.#end, start, end);
    }
    this.#end += length;
  }

  /**
   * For a caller that copies `length` bytes itself (e.g. a value out of a
   * cache page) without a closure per value: returns the chunk to fill from
   * `writeOffset`; then `commit(length)`.
   */
  reserve(length: number): Buffer {
    return this.#reserve(length);
  }

  /** Where the bytes of the last `reserve` go. */
  get writeOffset(): number {
    return this.#end;
  }

  /** Counts `length` bytes the caller wrote at `writeOffset` after `reserve`. */
  commit(length: number): void {
    this.#end += length;
  }

  writeLatin1(text: string): void {
    const target = this.#reserve(text.length);
    this.#end += target.write(text, this.#end, 'latin1');
  }

  writeByte(byte: number): void {
    const target = this.#reserve(1);
    target[this.#end++] = byte;
  }

  /** A non-negative integer below 2^53, as decimal digits. */
  writeDecimal(value: number): void {
    const target = this.#reserve(MAX_DECIMAL_DIGITS);
    this.#end = putDecimal(target, this.#end, value);
  }

  /**
   * Hands out the batch as a view the builder never writes again, so the
   * socket may hold it as long as it needs.
   */
  take(): Buffer {
    const out = this.#start === 0 ? this.#headView(this.#end) : this.#bytes.subarray(this.#start, this.#end);
    this.#takenStart = this.#start;
    this.#start = this.#end;
    if (this.#bytes.length > RETAIN_BYTES) {
      this.#bytes = Buffer.allocUnsafe(CHUNK_BYTES);
      this.#headViews.clear();
      this.#start = 0;
      this.#end = 0;
      this.#takenStart = 0;
    }
    return out;
  }

  #headView(length: number): Buffer {
    let view = this.#headViews.get(length);
    if (view === undefined) {
      if (this.#headViews.size >= HEAD_VIEWS) this.#headViews.clear();
      view = this.#bytes.subarray(0, length);
      this.#headViews.set(length, view);
    }
    return view;
  }

  /**
   * The batch just taken is no longer referenced (the socket wrote it
   * synchronously): the next batch reuses its bytes, so a connection that
   * answers one request at a time keeps writing the same few cache lines.
   * Only valid right after take(), before anything else is written.
   */
  reuseTaken(): void {
    if (this.#start === this.#end) {
      this.#start = this.#takenStart;
      this.#end = this.#takenStart;
    }
  }
}
