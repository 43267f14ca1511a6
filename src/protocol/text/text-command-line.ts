// One tokenized command line, as memcached 1.6.18's tokenize_command() sees
// it: tokens split on single spaces (runs collapse, tabs do not split), the
// line ends at its first NUL byte (memcached works on C strings), and at most
// 23 tokens are cut per pass. The remainder is left in `rest`; only the get
// family reads past it. Token bounds live in typed arrays of one reused
// instance, so tokenizing allocates nothing.

/** memcached's MAX_TOKENS; one slot is its terminal token, so 23 real tokens per pass. */
export const MAX_TOKENS_PER_PASS = 23;

const SPACE = 0x20;
const NUL = 0x00;
const EMPTY = Buffer.alloc(0);

export class TextCommandLine {
  buf: Buffer = EMPTY;
  /** Where the line starts (the parser's `start`). */
  start = 0;
  /** Offset just past the line's `\n`: where a data block or the next command begins. */
  next = 0;
  /** End of the readable bytes in `buf`. */
  end = 0;
  /** End of the line's text: before `\r\n` / `\n`. Tokens never reach past a NUL before it. */
  textEnd = 0;
  /** Real tokens cut in the first pass (memcached's ntokens minus its terminal token). */
  count = 0;
  /** Offset of text left after MAX_TOKENS_PER_PASS tokens, or -1 when the line was fully cut. */
  rest = -1;
  /**
   * Where the tokens end: the line's first NUL, or textEnd. With a `rest`, known only after
   * countRestKeys().
   */
  cutEnd = 0;
  readonly starts = new Int32Array(MAX_TOKENS_PER_PASS);
  readonly ends = new Int32Array(MAX_TOKENS_PER_PASS);

  /** Bytes from `start` to the end of the line, newline included. */
  get lineBytes(): number {
    return this.next - this.start;
  }

  tokenLength(index: number): number {
    return this.ends[index]! - this.starts[index]!;
  }

  /** A view of token `index` (no copy). */
  token(index: number): Buffer {
    return this.buf.subarray(this.starts[index]!, this.ends[index]!);
  }

  tokenString(index: number): string {
    return this.buf.toString('latin1', this.starts[index]!, this.ends[index]!);
  }

  tokenIs(index: number, ascii: Uint8Array): boolean {
    const start = this.starts[index]!;
    if (this.ends[index]! - start !== ascii.length) return false;
    for (let i = 0; i < ascii.length; i++) {
      if (this.buf[start + i] !== ascii[i]) return false;
    }
    return true;
  }

  /** Drops the reference to the caller's buffer so an idle parser does not keep it alive. */
  release(): void {
    this.buf = EMPTY;
  }

  /** Cuts [start, textEnd) like tokenize_command(command, tokens, MAX_TOKENS). */
  tokenize(buf: Buffer, start: number, textEnd: number, next: number, end: number): void {
    this.buf = buf;
    this.start = start;
    this.textEnd = textEnd;
    this.next = next;
    this.end = end;
    let count = 0;
    let rest = -1;
    /** Set when the token limit stopped the pass; otherwise the pass ends at NUL or textEnd. */
    let cutEnd = -1;
    let tokenStart = start;
    let i = start;
    for (; i < textEnd; i++) {
      const c = buf[i]!;
      if (c === NUL) break;
      if (c !== SPACE) continue;
      if (tokenStart !== i) {
        this.starts[count] = tokenStart;
        this.ends[count] = i;
        count++;
        if (count === MAX_TOKENS_PER_PASS) {
          // memcached keeps the remainder for another pass unless nothing is left of the C string.
          if (i + 1 < textEnd && buf[i + 1] !== NUL) rest = i + 1;
          cutEnd = rest >= 0 ? textEnd : Math.min(i + 1, textEnd);
          tokenStart = i = textEnd;
          break;
        }
      }
      tokenStart = i + 1;
    }
    if (tokenStart < i) {
      this.starts[count] = tokenStart;
      this.ends[count] = i;
      count++;
    }
    this.cutEnd = cutEnd < 0 ? i : cutEnd;
    this.count = count;
    this.rest = rest;
  }

  /**
   * Counts the keys in the remainder (`rest` to the end of the line) and moves cutEnd to where
   * they end; memcached's process_get_command re-tokenizes the rest in further passes, which
   * splits it the same way. Returns -1 if a key is longer than `maxKeyLength`.
   */
  countRestKeys(maxKeyLength: number): number {
    if (this.rest < 0) return 0;
    const buf = this.buf;
    const textEnd = this.textEnd;
    let count = 0;
    let tokenStart = this.rest;
    let i = tokenStart;
    for (; i <= textEnd; i++) {
      const c = i === textEnd ? NUL : buf[i]!;
      if (c !== SPACE && c !== NUL) continue;
      if (tokenStart !== i) {
        if (i - tokenStart > maxKeyLength) return -1;
        count++;
      }
      if (c === NUL) break;
      tokenStart = i + 1;
    }
    this.cutEnd = Math.min(i, textEnd);
    return count;
  }
}
