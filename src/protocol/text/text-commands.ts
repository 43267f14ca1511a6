// The classic text commands: token counts, argument checks and the exact error
// line for each, in the order memcached 1.6.18's proto_text.c checks them (that
// order decides which error wins, and whether noreply silences it). Every
// expectation here was replayed against /usr/bin/memcached; see the tables in
// test/unit/protocol/. Framing (finding the line, HTTP probes, long lines) is
// text-parser.ts's job.

import { parseI32, parseU32, parseU64 } from './numbers.js';
import type { TextCommandLine } from './text-command-line.js';
import type {
  RetrievalCommand,
  StorageCommand,
  TextParseResult,
  TextParserLimits,
  TextRequest,
} from './text-request.js';

export type CommandParser = (line: TextCommandLine, limits: TextParserLimits) => TextParseResult;

export interface CommandEntry {
  name: string;
  parse: CommandParser;
}

const CR = 0x0d;
const LF = 0x0a;
const NOREPLY = Buffer.from('noreply', 'latin1');
const ZERO_TOKEN = Buffer.from('0', 'latin1');
const GRACEFUL = Buffer.from('graceful', 'latin1');

const BAD_FORMAT = 'CLIENT_ERROR bad command line format';
const BAD_EXPTIME = 'CLIENT_ERROR invalid exptime argument';
const BAD_DELTA = 'CLIENT_ERROR invalid numeric delta argument';
const DELETE_USAGE = 'CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]';

/**
 * memcached's item size rule (items.c item_make_header + slabs_clsid): a 48-byte item header, an
 * 8-byte CAS, the key and its NUL, 4 bytes of client flags unless they are 0, and the value with
 * its \r\n must fit in -I. Boundary found by bisection against memcached -I 1m.
 */
const ITEM_HEADER_BYTES = 48;
const CAS_BYTES = 8;
const FLAGS_BYTES = 4;
const INT_MAX = 0x7fffffff;

const INCOMPLETE: TextParseResult = Object.freeze({ kind: 'incomplete' });

export function commandError(line: TextCommandLine, reply: string): TextParseResult {
  return { kind: 'error', reply, consumed: line.lineBytes, close: false };
}

function lineRequest(line: TextCommandLine, request: TextRequest): TextParseResult {
  return { kind: 'request', request, consumed: line.lineBytes, swallow: 0 };
}

/** set_noreply_maybe(): only the last token counts, whatever its position. */
function lastTokenIsNoreply(line: TextCommandLine): boolean {
  return line.tokenIs(line.count - 1, NOREPLY);
}

/** Errors raised after set_noreply_maybe() are not sent when noreply is set (out_string skips them). */
function quietError(line: TextCommandLine, noreply: boolean, reply: string): TextParseResult {
  return commandError(line, noreply ? '' : reply);
}

function retrieval(command: RetrievalCommand, touch: boolean): CommandParser {
  return (line, limits) => {
    if (line.count < 2) return commandError(line, 'ERROR');
    let exptime = 0;
    let first = 1;
    if (touch) {
      const parsed = parseI32(line.buf, line.starts[1]!, line.ends[1]!);
      if (parsed === undefined) return commandError(line, BAD_EXPTIME);
      exptime = parsed;
      first = 2;
    }
    // memcached answers only the error (earlier VALUEs are dropped) when any key is too long.
    for (let i = first; i < line.count; i++) {
      if (line.tokenLength(i) > limits.maxKeyLength) return commandError(line, BAD_FORMAT);
    }
    const restKeys = line.countRestKeys(limits.maxKeyLength);
    if (restKeys < 0) return commandError(line, BAD_FORMAT);
    const keysEnd = line.cutEnd;
    return lineRequest(line, {
      type: 'retrieval',
      command,
      exptime,
      keyBuf: line.buf,
      keysStart: first < line.count ? line.starts[first]! : keysEnd,
      keysEnd,
      keyCount: line.count - first + restKeys,
    });
  };
}

function storage(command: StorageCommand): CommandParser {
  const withCas = command === 'cas';
  const minTokens = withCas ? 6 : 5;
  return (line, limits) => {
    if (line.count !== minTokens && line.count !== minTokens + 1) return commandError(line, 'ERROR');
    const noreply = lastTokenIsNoreply(line);
    const keyLength = line.tokenLength(1);
    if (keyLength > limits.maxKeyLength) return quietError(line, noreply, BAD_FORMAT);
    const { buf, starts, ends } = line;
    const flags = parseU32(buf, starts[2]!, ends[2]!);
    const exptime = parseI32(buf, starts[3]!, ends[3]!);
    const length = parseI32(buf, starts[4]!, ends[4]!);
    if (flags === undefined || exptime === undefined || length === undefined) {
      // The data block is not swallowed: memcached parses it as the next command.
      return quietError(line, noreply, BAD_FORMAT);
    }
    const casUnique = withCas ? parseU64(buf, starts[5]!, ends[5]!) : 0n;
    if (casUnique === undefined) return quietError(line, noreply, BAD_FORMAT);
    if (length < 0 || length > INT_MAX - 2) return quietError(line, noreply, BAD_FORMAT);

    const itemBytes =
      ITEM_HEADER_BYTES + CAS_BYTES + keyLength + 1 + (flags !== 0 ? FLAGS_BYTES : 0) + length + 2;
    if (itemBytes > limits.maxItemSize) {
      const request: TextRequest = { type: 'too_large', command, key: line.token(1), noreply };
      return { kind: 'request', request, consumed: line.lineBytes, swallow: length + 2 };
    }

    const dataEnd = line.next + length;
    if (dataEnd + 2 > line.end) return INCOMPLETE;
    const consumed = dataEnd + 2 - line.start;
    if (buf[dataEnd] !== CR || buf[dataEnd + 1] !== LF) {
      // memcached reads exactly length + 2 bytes, then rejects them; what follows is a new command.
      return { kind: 'error', reply: noreply ? '' : 'CLIENT_ERROR bad data chunk', consumed, close: false };
    }
    const request: TextRequest = {
      type: 'storage',
      command,
      buf,
      keyStart: starts[1]!,
      keyEnd: ends[1]!,
      valueStart: line.next,
      valueEnd: dataEnd,
      flags,
      exptime,
      casUnique,
      noreply,
    };
    return { kind: 'request', request, consumed, swallow: 0 };
  };
}

function arithmetic(command: 'incr' | 'decr'): CommandParser {
  return (line, limits) => {
    if (line.count !== 3 && line.count !== 4) return commandError(line, 'ERROR');
    const noreply = lastTokenIsNoreply(line);
    if (line.tokenLength(1) > limits.maxKeyLength) return quietError(line, noreply, BAD_FORMAT);
    const delta = parseU64(line.buf, line.starts[2]!, line.ends[2]!);
    if (delta === undefined) return quietError(line, noreply, BAD_DELTA);
    return lineRequest(line, { type: 'arithmetic', command, key: line.token(1), delta, noreply });
  };
}

const touch: CommandParser = (line, limits) => {
  if (line.count !== 3 && line.count !== 4) return commandError(line, 'ERROR');
  const noreply = lastTokenIsNoreply(line);
  if (line.tokenLength(1) > limits.maxKeyLength) return quietError(line, noreply, BAD_FORMAT);
  const exptime = parseI32(line.buf, line.starts[2]!, line.ends[2]!);
  if (exptime === undefined) return quietError(line, noreply, BAD_EXPTIME);
  return lineRequest(line, { type: 'touch', key: line.token(1), exptime, noreply });
};

/** `delete <key> [0] [noreply]`: the pre-1.4 hold time is accepted only as a literal `0`. */
const deleteCommand: CommandParser = (line, limits) => {
  if (line.count < 2 || line.count > 4) return commandError(line, 'ERROR');
  let noreply = false;
  if (line.count > 2) {
    const holdIsZero = line.tokenIs(2, ZERO_TOKEN);
    noreply = lastTokenIsNoreply(line);
    const valid =
      (line.count === 3 && (holdIsZero || noreply)) || (line.count === 4 && holdIsZero && noreply);
    if (!valid) return quietError(line, noreply, DELETE_USAGE);
  }
  if (line.tokenLength(1) > limits.maxKeyLength) return quietError(line, noreply, BAD_FORMAT);
  return lineRequest(line, { type: 'delete', key: line.token(1), noreply });
};

const flushAll: CommandParser = (line) => {
  if (line.count > 3) return commandError(line, 'ERROR');
  const noreply = lastTokenIsNoreply(line);
  let delaySeconds = 0;
  // memcached reads the delay whenever the token count is not exactly "flush_all [noreply]".
  if (line.count !== (noreply ? 2 : 1)) {
    const parsed = parseI32(line.buf, line.starts[1]!, line.ends[1]!);
    if (parsed === undefined) return quietError(line, noreply, BAD_EXPTIME);
    delaySeconds = parsed;
  }
  return lineRequest(line, { type: 'flush_all', delaySeconds, noreply });
};

const verbosity: CommandParser = (line) => {
  if (line.count !== 2 && line.count !== 3) return commandError(line, 'ERROR');
  const noreply = lastTokenIsNoreply(line);
  const level = parseU32(line.buf, line.starts[1]!, line.ends[1]!);
  if (level === undefined) return quietError(line, noreply, BAD_FORMAT);
  return lineRequest(line, { type: 'verbosity', level, noreply });
};

const cacheMemlimit: CommandParser = (line) => {
  if (line.count !== 2 && line.count !== 3) return commandError(line, 'ERROR');
  const noreply = lastTokenIsNoreply(line);
  const megabytes = parseU32(line.buf, line.starts[1]!, line.ends[1]!);
  if (megabytes === undefined) return quietError(line, noreply, 'ERROR');
  return lineRequest(line, { type: 'cache_memlimit', megabytes, noreply });
};

const stats: CommandParser = (line) => {
  const args: string[] = [];
  for (let i = 1; i < line.count; i++) args.push(line.tokenString(i));
  return lineRequest(line, { type: 'stats', args });
};

/**
 * memcached 1.6.18 answers `ERROR: shutdown not enabled` (without -A) before looking at the mode;
 * we cannot know -A here, so a bad mode is reported even when shutdown is disabled.
 */
const shutdown: CommandParser = (line) => {
  if (line.count === 1) return lineRequest(line, { type: 'shutdown', graceful: false });
  if (line.count === 2 && line.tokenIs(1, GRACEFUL))
    return lineRequest(line, { type: 'shutdown', graceful: true });
  return commandError(line, 'CLIENT_ERROR invalid shutdown mode');
};

/** Admin commands memcached has but rat-memcached does not; unlike unknown commands they never close. */
const unsupported: CommandParser = (line) => commandError(line, 'ERROR');

export const CLASSIC_COMMANDS: readonly CommandEntry[] = [
  { name: 'get', parse: retrieval('get', false) },
  { name: 'gets', parse: retrieval('gets', false) },
  { name: 'gat', parse: retrieval('gat', true) },
  { name: 'gats', parse: retrieval('gats', true) },
  // An undocumented alias memcached keeps for old clients.
  { name: 'bget', parse: retrieval('get', false) },
  { name: 'set', parse: storage('set') },
  { name: 'add', parse: storage('add') },
  { name: 'replace', parse: storage('replace') },
  { name: 'append', parse: storage('append') },
  { name: 'prepend', parse: storage('prepend') },
  { name: 'cas', parse: storage('cas') },
  { name: 'delete', parse: deleteCommand },
  { name: 'incr', parse: arithmetic('incr') },
  { name: 'decr', parse: arithmetic('decr') },
  { name: 'touch', parse: touch },
  { name: 'flush_all', parse: flushAll },
  // memcached checks no token count for these two: `version foo` is a version request.
  { name: 'version', parse: (line) => lineRequest(line, { type: 'version' }) },
  { name: 'quit', parse: (line) => lineRequest(line, { type: 'quit' }) },
  { name: 'verbosity', parse: verbosity },
  { name: 'stats', parse: stats },
  { name: 'cache_memlimit', parse: cacheMemlimit },
  { name: 'shutdown', parse: shutdown },
  { name: 'slabs', parse: unsupported },
  { name: 'lru', parse: unsupported },
  { name: 'lru_crawler', parse: unsupported },
  { name: 'watch', parse: unsupported },
  { name: 'extstore', parse: unsupported },
  { name: 'refresh_certs', parse: unsupported },
];
