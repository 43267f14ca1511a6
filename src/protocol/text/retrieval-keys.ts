// The keys of a get-family request are left where they are in the input:
// space-separated tokens of keyBuf[keysStart, keysEnd), which the parser has
// already cut at the line's NUL and checked against the key length limit.
// Walking them in place saves a Buffer view and an array slot per key (a
// 10-key get used to allocate eleven objects before its first lookup).

import type { TextRequest } from './text-request.js';

const SPACE = 0x20;

export type RetrievalRequest = Extract<TextRequest, { type: 'retrieval' }>;

/** The start of the next key at or after `at`, or `end` when none is left. */
export function nextKeyStart(buf: Buffer, at: number, end: number): number {
  let p = at;
  while (p < end && buf[p] === SPACE) p++;
  return p;
}

/** The end of the key that starts at `at`. */
export function keyEndAt(buf: Buffer, at: number, end: number): number {
  let p = at;
  while (p < end && buf[p] !== SPACE) p++;
  return p;
}

/** The keys as views (tests, and paths where a request's keys must be held). */
export function retrievalKeys(request: RetrievalRequest): Buffer[] {
  const { keyBuf, keysEnd } = request;
  const keys: Buffer[] = [];
  for (let p = nextKeyStart(keyBuf, request.keysStart, keysEnd); p < keysEnd; ) {
    const end = keyEndAt(keyBuf, p, keysEnd);
    keys.push(keyBuf.subarray(p, end));
    p = nextKeyStart(keyBuf, end, keysEnd);
  }
  return keys;
}
