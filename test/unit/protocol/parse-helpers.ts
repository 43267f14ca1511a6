// Shared by the text-parser tests: runs one input every way a connection can
// deliver it and checks the parser agrees with itself, ioredis-decoder style.

import { expect } from 'vitest';
import { type RetrievalRequest, retrievalKeys } from '../../../src/protocol/text/retrieval-keys.js';
import { parseTextRequest } from '../../../src/protocol/text/text-parser.js';
import {
  DEFAULT_TEXT_PARSER_LIMITS,
  type TextParseResult,
  type TextParserLimits,
  type TextRequest,
} from '../../../src/protocol/text/text-request.js';

type StorageRequest = Extract<TextRequest, { type: 'storage' }>;

export const LIMITS: TextParserLimits = { ...DEFAULT_TEXT_PARSER_LIMITS };

/** Buffers become latin1 strings so expectations read like the wire. */
export type Plain = string | number | bigint | boolean | Plain[] | { [key: string]: Plain };

/**
 * A parsed get-family request keeps its keys in the input buffer; made plain it lists them, so
 * expectations read `keys: ['a', 'b']` wherever the line sat in the buffer.
 */
function plainRetrieval(request: RetrievalRequest): Plain {
  const keys = retrievalKeys(request);
  expect(request.keyCount, 'keyCount').toBe(keys.length);
  return { type: 'retrieval', command: request.command, keys: plain(keys), exptime: request.exptime };
}

/** A parsed storage request keeps its key and value in the input; made plain it shows them. */
function plainStorage(request: StorageRequest): Plain {
  const { buf, keyStart, keyEnd, valueStart, valueEnd, ...fields } = request;
  return plain({ ...fields, key: buf.subarray(keyStart, keyEnd), value: buf.subarray(valueStart, valueEnd) });
}

export function plain(value: unknown): Plain {
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object' && 'keyBuf' in value) {
    return plainRetrieval(value as RetrievalRequest);
  }
  if (value !== null && typeof value === 'object' && 'valueStart' in value) {
    return plainStorage(value as StorageRequest);
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value as Plain;
}

export function bytes(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

/**
 * Parses `input` whole, then every prefix of it (byte by byte, i.e. split at every boundary),
 * both as an exact-size buffer and inside a larger buffer with junk around it (start > 0, and
 * `end` short of the buffer's length). Every prefix must be `incomplete` until one is complete,
 * and from there on the result must equal the whole parse. Returns the whole parse, made plain.
 */
export function parseEveryWay(input: Buffer, limits: TextParserLimits = LIMITS): Plain {
  const whole = plain(parseTextRequest(input, 0, input.length, limits));
  const pad = 7;
  const framed = Buffer.alloc(input.length + pad * 2, 0x0a); // junk: newlines the parser must not see
  input.copy(framed, pad);
  let complete = false;
  for (let k = 0; k <= input.length; k++) {
    const exact = plain(parseTextRequest(Buffer.from(input.subarray(0, k)), 0, k, limits));
    const inside = plain(parseTextRequest(framed, pad, pad + k, limits));
    expect(inside, `prefix ${k} inside a larger buffer`).toEqual(exact);
    if (!complete && (exact as { kind: string }).kind !== 'incomplete') complete = true;
    if (complete) expect(exact, `prefix ${k} of ${input.length}`).toEqual(whole);
  }
  return whole;
}

/** Parses pipelined requests one after another, as a connection advancing its offset would. */
export function parseAll(input: Buffer, limits: TextParserLimits = LIMITS): TextParseResult[] {
  const results: TextParseResult[] = [];
  let offset = 0;
  while (offset < input.length) {
    const result = parseTextRequest(input, offset, input.length, limits);
    results.push(result);
    if (result.kind === 'incomplete') break;
    const swallow = result.kind === 'request' ? result.swallow : 0;
    offset += result.consumed + swallow;
    if (result.kind === 'error' && result.close) break;
  }
  return results;
}
