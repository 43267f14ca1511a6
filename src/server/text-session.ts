// Executes one parsed text-protocol request against CacheCore and renders
// the outcome into the connection's output. The one place where the text
// protocol meets the cache: protocol/ knows no cache, core/ no wire text.
// When CacheCore answers with a Promise (the key may be in L2), so does the
// handler; the connection then waits for it before the next request, so
// replies stay in request order.

import type { CacheCore } from '../core/cache-core.js';
import type { ArithmeticOutcome, FoundItem, StoreOutcome } from '../core/outcomes.js';
import type { OutputBuffer } from '../protocol/output-buffer.js';
import { keyEndAt, nextKeyStart, type RetrievalRequest } from '../protocol/text/retrieval-keys.js';
import type { TextRequest } from '../protocol/text/text-request.js';
import { TEXT_REPLY, writeCrlf, writeLine, writeValueHeader } from '../protocol/text/text-response.js';

/** What a session needs from the server around it (stats, shutdown). */
export interface ServerHooks {
  readonly version: string;
  readonly shutdownEnabled: boolean;
  /** Renders `stats [args]`; returns false for an unknown sub-command. */
  writeStats(args: readonly string[], out: OutputBuffer): boolean;
  setVerbosity(level: number): void;
  shutdown(graceful: boolean): void;
}

export type SessionAction = 'continue' | 'close';

const STORE_REPLY: Record<StoreOutcome, Buffer> = {
  stored: TEXT_REPLY.stored,
  not_stored: TEXT_REPLY.notStored,
  exists: TEXT_REPLY.exists,
  not_found: TEXT_REPLY.notFound,
  no_memory: TEXT_REPLY.noMemory,
};

/**
 * Writes VALUE lines for the keys from offset `from` on. Keys answered
 * synchronously are written straight from L1; at the first key that needs L2
 * the rest continues once it resolves (lines already written stay first, so
 * the order is kept). Keys are walked in place in the input (retrieval-keys.ts).
 */
function writeRetrieval(
  core: CacheCore,
  request: RetrievalRequest,
  withCas: boolean,
  touchExptime: number | undefined,
  out: OutputBuffer,
  from: number,
): undefined | Promise<SessionAction> {
  const items = core.items;
  const { keyBuf, keysEnd } = request;
  for (let start = nextKeyStart(keyBuf, from, keysEnd); start < keysEnd; ) {
    const end = keyEndAt(keyBuf, start, keysEnd);
    const slot =
      touchExptime === undefined
        ? core.getAt(keyBuf, start, end)
        : core.getAndTouch(keyBuf.subarray(start, end), touchExptime);
    if (slot instanceof Promise) {
      return slot.then((found) => {
        if (found !== undefined) writeFound(out, keyBuf, start, end, found, withCas);
        return writeRetrieval(core, request, withCas, touchExptime, out, end) ?? 'continue';
      });
    }
    if (typeof slot !== 'number') {
      writeFound(out, keyBuf, start, end, slot, withCas);
    } else if (slot >= 0) {
      const length = items.valueLength(slot);
      writeValueHeader(
        out,
        keyBuf,
        start,
        end,
        items.flags(slot),
        length,
        withCas ? items.cas(slot) : undefined,
      );
      // reserve/commit: the value is copied straight from L1's page, no closure per value.
      items.copyValue(slot, out.reserve(length), out.writeOffset);
      out.commit(length);
      writeCrlf(out);
    }
    start = nextKeyStart(keyBuf, end, keysEnd);
  }
  out.writeBytes(TEXT_REPLY.end);
  return undefined;
}

/** A VALUE line for the key keyBuf[start, end) from an item L2 handed back. */
function writeFound(
  out: OutputBuffer,
  keyBuf: Buffer,
  start: number,
  end: number,
  found: FoundItem,
  withCas: boolean,
): void {
  writeValueHeader(out, keyBuf, start, end, found.flags, found.value.length, withCas ? found.cas : undefined);
  out.writeBytes(found.value);
  writeCrlf(out);
}

/**
 * Renders now for a plain value, or when the Promise resolves. `render` is a
 * module-level function taking what it needs as arguments, so the sync path
 * (every L1 answer) allocates no closure per request.
 */
function then<T>(
  result: T | Promise<T>,
  render: (out: OutputBuffer, value: T, noreply: boolean) => void,
  out: OutputBuffer,
  noreply: boolean,
): SessionAction | Promise<SessionAction> {
  if (result instanceof Promise) {
    return result.then((value) => {
      render(out, value, noreply);
      return 'continue' as const;
    });
  }
  render(out, result, noreply);
  return 'continue';
}

function writeStoreReply(out: OutputBuffer, stored: StoreOutcome, noreply: boolean): void {
  // memcached answers an out-of-memory store even under noreply (out_of_memory()).
  if (!noreply || stored === 'no_memory') out.writeBytes(STORE_REPLY[stored]);
}

function writeDeleteReply(out: OutputBuffer, deleted: boolean, noreply: boolean): void {
  if (!noreply) out.writeBytes(deleted ? TEXT_REPLY.deleted : TEXT_REPLY.notFound);
}

function writeTouchReply(out: OutputBuffer, touched: boolean, noreply: boolean): void {
  if (!noreply) out.writeBytes(touched ? TEXT_REPLY.touched : TEXT_REPLY.notFound);
}

function writeArithmetic(out: OutputBuffer, result: ArithmeticOutcome, noreply: boolean): void {
  if (result === 'non_numeric') {
    // An error reply: memcached sends it even under noreply.
    out.writeBytes(TEXT_REPLY.nonNumeric);
  } else if (!noreply) {
    if (result === 'not_found') out.writeBytes(TEXT_REPLY.notFound);
    else writeLine(out, result.toString());
  }
}

export function handleTextRequest(
  request: TextRequest,
  core: CacheCore,
  hooks: ServerHooks,
  out: OutputBuffer,
): SessionAction | Promise<SessionAction> {
  switch (request.type) {
    case 'retrieval': {
      const touches = request.command === 'gat' || request.command === 'gats';
      const withCas = request.command === 'gets' || request.command === 'gats';
      const touchExptime = touches ? request.exptime : undefined;
      return writeRetrieval(core, request, withCas, touchExptime, out, request.keysStart) ?? 'continue';
    }
    case 'storage': {
      const outcome = core.storeAt(
        request.command,
        request.buf,
        request.keyStart,
        request.keyEnd,
        request.valueStart,
        request.valueEnd,
        request.flags,
        request.exptime,
        request.casUnique,
      );
      return then(outcome, writeStoreReply, out, request.noreply);
    }
    case 'too_large':
      core.refuseTooLarge(request.command, request.key);
      if (!request.noreply) out.writeBytes(TEXT_REPLY.tooLarge);
      return 'continue';
    case 'delete':
      return then(core.delete(request.key), writeDeleteReply, out, request.noreply);
    case 'arithmetic':
      return then(
        core.arithmetic(request.key, request.delta, request.command === 'incr'),
        writeArithmetic,
        out,
        request.noreply,
      );
    case 'touch':
      return then(core.touch(request.key, request.exptime), writeTouchReply, out, request.noreply);
    case 'flush_all':
      core.flushAll(request.delaySeconds);
      if (!request.noreply) out.writeBytes(TEXT_REPLY.ok);
      return 'continue';
    case 'version':
      writeLine(out, `VERSION ${hooks.version}`);
      return 'continue';
    case 'verbosity':
      hooks.setVerbosity(request.level);
      if (!request.noreply) out.writeBytes(TEXT_REPLY.ok);
      return 'continue';
    case 'stats':
      if (!hooks.writeStats(request.args, out)) out.writeBytes(TEXT_REPLY.error);
      return 'continue';
    case 'cache_memlimit': {
      const outcome = core.setMemoryLimit(request.megabytes);
      if (outcome === 'too_small') out.writeBytes(TEXT_REPLY.memlimitTooSmall);
      else if (!request.noreply) out.writeBytes(TEXT_REPLY.ok);
      return 'continue';
    }
    case 'shutdown':
      if (!hooks.shutdownEnabled) {
        out.writeBytes(TEXT_REPLY.shutdownDisabled);
        return 'continue';
      }
      hooks.shutdown(request.graceful);
      return 'close';
    case 'quit':
      return 'close';
    default:
      return request satisfies never;
  }
}
