// Text protocol framing: finds one command line in buf[start, end), applies
// memcached 1.6.18's rules for lines that never end (try_read_command_ascii)
// and for unknown commands (the HTTP probe close), and dispatches by command
// name. Pure: bytes in, a TextParseResult out; the caller advances its offset
// by `consumed` (then discards `swallow` more bytes) instead of copying.
// Knows nothing of sockets, storage or how replies are written.

import { TextCommandLine } from './text-command-line.js';
import { CLASSIC_COMMANDS, type CommandEntry, type CommandParser, commandError } from './text-commands.js';
import { DEFAULT_MAX_GET_LINE_LENGTH, type TextParseResult, type TextParserLimits } from './text-request.js';

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const LOWER_M = 0x6d;

/**
 * Meta commands (mg ms md ma mn me) share the connection and the line framing with the classic
 * ones. Their parser belongs in its own file; it replaces these entries (and TextRequest grows the
 * meta variants). Until then they are answered `ERROR`, which memcached 1.6.18 would not do.
 */
const metaNotYetParsed: CommandParser = (line) => commandError(line, 'ERROR');
const META_COMMANDS: readonly CommandEntry[] = ['mg', 'ms', 'md', 'ma', 'mn', 'me'].map((name) => ({
  name,
  parse: metaNotYetParsed,
}));

interface TableEntry {
  name: Buffer;
  parse: CommandParser;
}

/** Entries bucketed by (length, first byte), so a lookup compares at most a few names. */
function buildTable(entries: readonly CommandEntry[]): Map<number, TableEntry[]> {
  const table = new Map<number, TableEntry[]>();
  for (const { name, parse } of entries) {
    const bytes = Buffer.from(name, 'latin1');
    const slot = bucket(bytes.length, bytes[0]!);
    const list = table.get(slot) ?? [];
    list.push({ name: bytes, parse });
    table.set(slot, list);
  }
  return table;
}

function bucket(length: number, firstByte: number): number {
  return length * 256 + firstByte;
}

const COMMANDS = buildTable([...CLASSIC_COMMANDS, ...META_COMMANDS]);

function lookup(line: TextCommandLine): CommandParser | undefined {
  const start = line.starts[0]!;
  const length = line.tokenLength(0);
  const candidates = COMMANDS.get(bucket(length, line.buf[start]!));
  if (candidates === undefined) return undefined;
  for (const { name, parse } of candidates) {
    if (line.tokenIs(0, name)) return parse;
  }
  return undefined;
}

/**
 * In memcached's dispatch chain, unknown names beginning with one of these bytes (or 2-byte names
 * beginning with `m`) are answered `ERROR` inside their branch; only names that fall off the end
 * of the chain are checked for an HTTP request line. So `GET / HTTP/1.1` closes, `gopher HTTP/1.0` does not.
 */
const BRANCHED_FIRST_BYTES = new Set([...'gsacidt'].map((c) => c.charCodeAt(0)));
const HTTP_PREFIX = Buffer.from('HTTP/', 'latin1');

function unknownCommand(line: TextCommandLine): TextParseResult {
  const first = line.buf[line.starts[0]!]!;
  if (BRANCHED_FIRST_BYTES.has(first) || (first === LOWER_M && line.tokenLength(0) === 2)) {
    return commandError(line, 'ERROR');
  }
  const last = line.count - 1;
  const lastStart = line.starts[last]!;
  if (
    line.tokenLength(last) >= HTTP_PREFIX.length &&
    line.buf.compare(HTTP_PREFIX, 0, HTTP_PREFIX.length, lastStart, lastStart + HTTP_PREFIX.length) === 0
  ) {
    return { kind: 'error', reply: '', consumed: line.lineBytes, close: true };
  }
  return commandError(line, 'ERROR');
}

const INCOMPLETE: TextParseResult = Object.freeze({ kind: 'incomplete' });
const CLOSE: TextParseResult = Object.freeze({ kind: 'error', reply: '', consumed: 0, close: true });
const GET_PREFIX = Buffer.from('get ', 'latin1');
const GETS_PREFIX = Buffer.from('gets ', 'latin1');
/** memcached gives up on a newline-less line with more than this many leading spaces. */
const MAX_LEADING_SPACES = 100;
/**
 * memcached reads into a 16 KiB buffer that only multigets may grow, so a longer line's newline is
 * never seen and the connection is closed, however the bytes arrived (mc: 16383 bytes + \n ->
 * ERROR; 16384 + \n -> closed). Shorter lines past maxLineLength are parsed when they arrive whole,
 * as memcached does when one read holds them.
 */
const READ_BUFFER_BYTES = 16384;

function startsWith(buf: Buffer, at: number, end: number, prefix: Buffer): boolean {
  return end - at >= prefix.length && buf.compare(prefix, 0, prefix.length, at, at + prefix.length) === 0;
}

/** Lines that may outgrow maxLineLength: multigets (after at most 100 leading spaces). */
function isMultigetLine(buf: Buffer, start: number, end: number): boolean {
  let p = start;
  while (p < end && buf[p] === SPACE) p++;
  if (p - start > MAX_LEADING_SPACES) return false;
  return startsWith(buf, p, end, GET_PREFIX) || startsWith(buf, p, end, GETS_PREFIX);
}

/**
 * No newline yet. memcached waits while at most maxLineLength bytes are buffered; past that only a
 * multiget may keep growing (its buffer is unbounded there; ours stops at maxGetLineLength).
 */
function withoutNewline(buf: Buffer, start: number, end: number, limits: TextParserLimits): TextParseResult {
  const buffered = end - start;
  if (buffered <= limits.maxLineLength) return INCOMPLETE;
  if (!isMultigetLine(buf, start, end)) return CLOSE;
  if (buffered > (limits.maxGetLineLength ?? DEFAULT_MAX_GET_LINE_LENGTH)) return CLOSE;
  return INCOMPLETE;
}

/**
 * Searching past `end` is harmless (an LF found there is reported as none), and cheaper than a
 * view that bounds the search; the caller's buffer beyond `end` is finite. Short lines, most of
 * them, are found by a loop, which beats the native call.
 */
const SHORT_SCAN_BYTES = 64;

function indexOfNewline(buf: Buffer, start: number, end: number): number {
  const shortEnd = Math.min(end, start + SHORT_SCAN_BYTES);
  for (let i = start; i < shortEnd; i++) if (buf[i] === LF) return i;
  if (shortEnd === end) return -1;
  const at = buf.indexOf(LF, shortEnd);
  return at >= 0 && at < end ? at : -1;
}

/** Reused across calls: parsing is synchronous and the result never refers to it. */
const line = new TextCommandLine();

export function parseTextRequest(
  buf: Buffer,
  start: number,
  end: number,
  limits: TextParserLimits,
): TextParseResult {
  if (start >= end) return INCOMPLETE;
  const newline = indexOfNewline(buf, start, end);
  if (newline < 0) return withoutNewline(buf, start, end, limits);
  if (newline - start >= READ_BUFFER_BYTES && !isMultigetLine(buf, start, end)) return CLOSE;
  // memcached strips the \r only when the line has at least one byte before it.
  const textEnd = newline - start > 1 && buf[newline - 1] === CR ? newline - 1 : newline;
  line.tokenize(buf, start, textEnd, newline + 1, end);
  // No command is shorter than two bytes; an empty line is ERROR too.
  let result: TextParseResult;
  if (line.count === 0 || line.tokenLength(0) < 2) {
    result = commandError(line, 'ERROR');
  } else {
    const parse = lookup(line);
    result = parse === undefined ? unknownCommand(line) : parse(line, limits);
  }
  line.release();
  return result;
}
