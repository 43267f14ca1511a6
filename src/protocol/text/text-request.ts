// What the text-protocol parser hands to the server: one request per command
// line (plus its data block for storage commands), or a framing outcome.
// Numbers are already reduced the way memcached 1.6.18 reduces them (flags
// wrap to 32 bits, exptimes to signed 32 bits); turning an exptime into an
// absolute time is the server's job. Knows nothing of sockets or storage.

export type RetrievalCommand = 'get' | 'gets' | 'gat' | 'gats';
export type StorageCommand = 'set' | 'add' | 'replace' | 'append' | 'prepend' | 'cas';

export type TextRequest =
  /**
   * `exptime` is only meaningful for gat/gats (0 otherwise). `gat <t>` with no key is legal: reply
   * `END`. The keys stay in the input: walk keyBuf[keysStart, keysEnd) with retrieval-keys.ts.
   */
  | {
      type: 'retrieval';
      command: RetrievalCommand;
      exptime: number;
      keyBuf: Buffer;
      keysStart: number;
      keysEnd: number;
      keyCount: number;
    }
  /**
   * The key is buf[keyStart, keyEnd) and the value buf[valueStart, valueEnd): both stay in the
   * input (copy them to keep them): two Buffer views were ~13% of an in-process set (MemoryTier.putAt).
   * `casUnique` is 0n unless `cas`.
   */
  | {
      type: 'storage';
      command: StorageCommand;
      buf: Buffer;
      keyStart: number;
      keyEnd: number;
      valueStart: number;
      valueEnd: number;
      flags: number;
      exptime: number;
      casUnique: bigint;
      noreply: boolean;
    }
  /**
   * Reply `SERVER_ERROR object too large for cache` (unless noreply); the data block is swallowed
   * (see `swallow`). memcached 1.6.18 also unlinks the existing item when the command is `set`
   * (so a stale value cannot survive a failed overwrite); other commands leave it alone.
   */
  | { type: 'too_large'; command: StorageCommand; key: Buffer; noreply: boolean }
  | { type: 'delete'; key: Buffer; noreply: boolean }
  | { type: 'arithmetic'; command: 'incr' | 'decr'; key: Buffer; delta: bigint; noreply: boolean }
  | { type: 'touch'; key: Buffer; exptime: number; noreply: boolean }
  /**
   * `delaySeconds` is memcached's raw exptime argument: <= 0 flushes now; positive values go through
   * the same relative/absolute (30-day) rule as any exptime.
   */
  | { type: 'flush_all'; delaySeconds: number; noreply: boolean }
  | { type: 'version' }
  | { type: 'quit' }
  | { type: 'verbosity'; level: number; noreply: boolean }
  /** Arguments as latin1 strings (at most the 22 memcached looks at); the server interprets them. */
  | { type: 'stats'; args: string[] }
  /** memcached answers MEMLIMIT_TOO_SMALL below 8 and MEMLIMIT_ADJUST_FAILED above 1e9. */
  | { type: 'cache_memlimit'; megabytes: number; noreply: boolean }
  /** memcached checks that shutdown is enabled (`-A`) before anything else. */
  | { type: 'shutdown'; graceful: boolean };

export interface TextParserLimits {
  /** memcached's KEY_MAX_LENGTH: 250. */
  maxKeyLength: number;
  /** Bytes buffered without a newline before the connection is dropped: 2048. */
  maxLineLength: number;
  /** memcached -I, 1048576 by default; counts memcached's item header too (see text-commands.ts). */
  maxItemSize: number;
  /**
   * `get`/`gets` lines may exceed maxLineLength; memcached grows its buffer without bound.
   * We stop waiting for the newline past this many bytes (default DEFAULT_MAX_GET_LINE_LENGTH).
   */
  maxGetLineLength?: number;
}

/** 8 MiB: ~30 000 keys of 250 bytes, far beyond what client libraries batch. */
export const DEFAULT_MAX_GET_LINE_LENGTH = 8 * 1024 * 1024;

export const DEFAULT_TEXT_PARSER_LIMITS: Readonly<TextParserLimits> = Object.freeze({
  maxKeyLength: 250,
  maxLineLength: 2048,
  maxItemSize: 1024 * 1024,
});

export type TextParseResult =
  /**
   * `swallow`: bytes to discard AFTER `consumed` (only for too_large: the data block + \r\n, which
   * may not have arrived yet; 0 otherwise).
   */
  | { kind: 'request'; request: TextRequest; consumed: number; swallow: number }
  /** Need more bytes; call again with the same start and more data. */
  | { kind: 'incomplete' }
  /**
   * `reply` is the exact wire line without \r\n; '' means send nothing (noreply, or closing).
   * `close`: memcached drops the connection.
   */
  | { kind: 'error'; reply: string; consumed: number; close: boolean };
