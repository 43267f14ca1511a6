// Text protocol replies, as bytes. Fixed replies are pre-encoded once; value
// replies are written field by field into the caller's OutputBuffer.

import { MAX_DECIMAL_DIGITS, type OutputBuffer, putDecimal } from '../output-buffer.js';

const line = (text: string): Buffer => Buffer.from(`${text}\r\n`, 'latin1');

export const TEXT_REPLY = {
  stored: line('STORED'),
  notStored: line('NOT_STORED'),
  exists: line('EXISTS'),
  notFound: line('NOT_FOUND'),
  deleted: line('DELETED'),
  touched: line('TOUCHED'),
  end: line('END'),
  ok: line('OK'),
  error: line('ERROR'),
  reset: line('RESET'),
  tooLarge: line('SERVER_ERROR object too large for cache'),
  noMemory: line('SERVER_ERROR out of memory storing object'),
  nonNumeric: line('CLIENT_ERROR cannot increment or decrement non-numeric value'),
  memlimitTooSmall: line('MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m'),
  shutdownDisabled: line('ERROR: shutdown not enabled'),
  tooManyConnections: line('ERROR Too many open connections'),
} as const;

const VALUE_PREFIX = Buffer.from('VALUE ', 'latin1');
const SPACE = 0x20;
const CR = 0x0d;
const LF = 0x0a;

export function writeCrlf(out: OutputBuffer): void {
  out.writeByte(CR);
  out.writeByte(LF);
}

export function writeLine(out: OutputBuffer, text: string): void {
  out.writeLatin1(text);
  writeCrlf(out);
}

/** `VALUE ` + space + 3 numbers and their spaces + CRLF, beyond the key. */
const VALUE_HEADER_MAX_EXTRA_BYTES = 6 + 3 * (1 + MAX_DECIMAL_DIGITS) + 2;

/**
 * `VALUE <key> <flags> <bytes>[ <cas>]\r\n`, the key being keyBuf[keyStart, keyEnd); the caller
 * writes the data and its `\r\n`. One reserve for the whole line and plain stores into it: this
 * runs once per key of every get, and field-by-field writes cost twice as much (bench/micro).
 */
export function writeValueHeader(
  out: OutputBuffer,
  keyBuf: Buffer,
  keyStart: number,
  keyEnd: number,
  flags: number,
  bytes: number,
  cas: number | undefined,
): void {
  const target = out.reserve(keyEnd - keyStart + VALUE_HEADER_MAX_EXTRA_BYTES);
  const start = out.writeOffset;
  let at = start;
  for (let i = 0; i < VALUE_PREFIX.length; i++) target[at++] = VALUE_PREFIX[i]!;
  for (let i = keyStart; i < keyEnd; i++) target[at++] = keyBuf[i]!;
  target[at++] = SPACE;
  at = putDecimal(target, at, flags);
  target[at++] = SPACE;
  at = putDecimal(target, at, bytes);
  if (cas !== undefined) {
    target[at++] = SPACE;
    at = putDecimal(target, at, cas);
  }
  target[at++] = CR;
  target[at++] = LF;
  out.commit(at - start);
}

export function writeStat(out: OutputBuffer, name: string, value: string | number): void {
  out.writeLatin1(`STAT ${name} ${value}\r\n`);
}
