// A growable byte builder for replies. A connection renders a whole batch of
// replies here and hands the socket one Buffer per batch (one write syscall
// instead of one per reply). Numbers are written as ASCII digits directly,
// so a reply costs no intermediate strings.

const INITIAL_BYTES = 16 * 1024;
/** Above this the builder gives its memory back after a batch. */
const RETAIN_BYTES = 256 * 1024;

export class OutputBuffer {
  #bytes: Buffer = Buffer.allocUnsafe(INITIAL_BYTES);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  #reserve(extra: number): Buffer {
    const needed = this.#length + extra;
    if (needed > this.#bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.#bytes.length * 2));
      this.#bytes.copy(grown, 0, 0, this.#length);
      this.#bytes = grown;
    }
    return this.#bytes;
  }

  writeBytes(source: Buffer): void {
    const target = this.#reserve(source.length);
    source.copy(target, this.#length);
    this.#length += source.length;
  }

  /** Caller-driven copy (e.g. from a cache page) of exactly `length` bytes. */
  writeWith(length: number, fill: (target: Buffer, offset: number) => void): void {
    const target = this.#reserve(length);
    fill(target, this.#length);
    this.#length += length;
  }

  writeLatin1(text: string): void {
    const target = this.#reserve(text.length);
    this.#length += target.write(text, this.#length, 'latin1');
  }

  writeByte(byte: number): void {
    const target = this.#reserve(1);
    target[this.#length++] = byte;
  }

  /** A non-negative integer below 2^53, as decimal digits. */
  writeDecimal(value: number): void {
    if (value < 10) {
      this.writeByte(0x30 + value);
      return;
    }
    let digits = 1;
    for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    const target = this.#reserve(digits);
    let position = this.#length + digits - 1;
    for (let rest = value; position >= this.#length; rest = Math.floor(rest / 10)) {
      target[position--] = 0x30 + (rest % 10);
    }
    this.#length += digits;
  }

  /** Hands out the batch as its own Buffer (the socket may hold it after we reuse ours). */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.#length);
    this.#bytes.copy(out, 0, 0, this.#length);
    this.#length = 0;
    if (this.#bytes.length > RETAIN_BYTES) this.#bytes = Buffer.allocUnsafe(INITIAL_BYTES);
    return out;
  }
}
