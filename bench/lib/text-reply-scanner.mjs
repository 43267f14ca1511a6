// Counts complete replies in a memcached text-protocol byte stream, for the load generator.
// It owns only framing: a reply ends at `END\r\n` (get/multi-get, after any number of
// `VALUE <key> <flags> <bytes>\r\n<data>\r\n` blocks) or at any other single line (STORED,
// NOT_STORED, ERROR, SERVER_ERROR ...). It never looks at values: data blocks are skipped by
// length, so a 4 KiB value costs one subtraction, not a scan. It knows nothing about which
// request a reply answers; the caller matches replies to requests in order.

const CR = 13;
const LF = 10;
const SPACE = 32;
const CH_V = 86;
const CH_A = 65;

export class TextReplyScanner {
  /** Bytes of the current VALUE data block (plus its CRLF) still to skip. */
  #skip = 0;
  /** Start of a line cut by a read boundary; only line text is ever copied, never data. */
  #partial = null;
  /** VALUE blocks seen so far (the caller diffs it to count hits). */
  values = 0;

  /** Consumes chunk[0, len) and returns how many replies it completed. */
  feed(chunk, len = chunk.length) {
    let pos = 0;
    let done = 0;
    while (pos < len) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, len - pos);
        this.#skip -= n;
        pos += n;
        continue;
      }
      const nl = chunk.indexOf(LF, pos);
      if (nl < 0) {
        const rest = chunk.subarray(pos, len);
        this.#partial = this.#partial === null ? Buffer.from(rest) : Buffer.concat([this.#partial, rest]);
        break;
      }
      if (this.#partial === null) {
        done += this.#line(chunk, pos, nl);
      } else {
        const line = Buffer.concat([this.#partial, chunk.subarray(pos, nl + 1)]);
        this.#partial = null;
        done += this.#line(line, 0, line.length - 1);
      }
      pos = nl + 1;
    }
    return done;
  }

  /** Handles the line buf[start..nl] (nl indexes its LF); returns 1 if it ends a reply. */
  #line(buf, start, nl) {
    if (buf[start] === CH_V && buf[start + 1] === CH_A) {
      // VALUE <key> <flags> <bytes>[ <cas>]: the length is the fourth token.
      let p = start;
      for (let spaces = 0; spaces < 3 && p < nl; p++) {
        if (buf[p] === SPACE) spaces++;
      }
      let bytes = 0;
      for (; p < nl; p++) {
        const c = buf[p];
        if (c === SPACE || c === CR) break;
        bytes = bytes * 10 + (c - 48);
      }
      this.#skip = bytes + 2;
      this.values++;
      return 0;
    }
    // END closes a get; every other line (STORED, ERROR, SERVER_ERROR ...) is a whole reply.
    return 1;
  }
}
