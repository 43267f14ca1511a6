// Opening the L2 directory, and turning every way that can fail into one
// LevelOpenError with a one-line message an operator can act on. classic-level
// reports all of them as LEVEL_DATABASE_NOT_OPEN with the real reason in
// `cause`, which is too vague to print as is.

import { readdir, stat } from 'node:fs/promises';
import { ClassicLevel } from 'classic-level';
import { LevelOpenError } from './level-errors.js';

export type LevelDb = ClassicLevel<Buffer, Buffer>;

export interface LevelDbOptions {
  createIfMissing: boolean;
  /** LevelDB's block cache. */
  cacheSizeBytes?: number;
  /** LevelDB's memtable size. */
  writeBufferBytes?: number;
}

// Names LevelDB itself writes; a directory holding only these is (the start of) a LevelDB.
const LEVELDB_FILE = /^(?:LOCK|LOG|LOG\.old|CURRENT|MANIFEST-\d+|\d+\.(?:log|ldb|sst|dbtmp))$/;

export async function openLevelDb(dir: string, options: LevelDbOptions): Promise<LevelDb> {
  await refuseForeignDirectory(dir);
  const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await openWith(db, dir, options);
  return db;
}

/**
 * Closes and opens the same handle again, with the options it was opened
 * with: LevelDB's recovery then replays its log up to the first bad record and
 * starts a new one. Operations issued meanwhile fail as on a closed DB (getSync
 * throws) or wait for the open (async reads).
 */
export async function reopenLevelDb(db: LevelDb, dir: string, options: LevelDbOptions): Promise<void> {
  await db.close();
  await openWith(db, dir, { ...options, createIfMissing: false });
}

async function openWith(db: LevelDb, dir: string, options: LevelDbOptions): Promise<void> {
  try {
    await db.open({
      createIfMissing: options.createIfMissing,
      // LevelDB holds pointers and index entries only (records are in the value
      // log, LZ4'd by us): unpacking a snappy block was 6% of s6's CPU (perf),
      // 1.5 µs of a 7 µs lookup, to save a few MiB of disk.
      compression: false,
      ...(options.cacheSizeBytes === undefined ? {} : { cacheSize: options.cacheSizeBytes }),
      ...(options.writeBufferBytes === undefined ? {} : { writeBufferSize: options.writeBufferBytes }),
    });
  } catch (error) {
    throw describeOpenFailure(dir, error);
  }
}

/**
 * LevelDB happily creates a database inside any directory. A non-empty
 * directory without a CURRENT file is almost certainly a mistyped path (a home
 * or data directory), so refuse it rather than scatter LevelDB files there.
 */
async function refuseForeignDirectory(dir: string): Promise<void> {
  let names: string[];
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) {
      throw new LevelOpenError(`L2 path ${dir} is not a directory`, { dir });
    }
    names = await readdir(dir);
  } catch (error) {
    if (error instanceof LevelOpenError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new LevelOpenError(
      `L2 directory ${dir} cannot be read: ${(error as Error).message}`,
      { dir },
      {
        cause: error,
      },
    );
  }
  if (names.includes('CURRENT')) return;
  const foreign = names.filter((name) => !LEVELDB_FILE.test(name));
  if (foreign.length > 0) {
    throw new LevelOpenError(
      `L2 directory ${dir} is not a LevelDB (no CURRENT file, holds ${foreign.length} other file(s) such as ${foreign[0]})`,
      { dir, foreign: foreign.slice(0, 10) },
    );
  }
}

function describeOpenFailure(dir: string, error: unknown): LevelOpenError {
  const cause = (error as { cause?: unknown }).cause ?? error;
  const code = (cause as { code?: unknown }).code;
  const detail = cause instanceof Error ? cause.message : String(cause);
  const context = { dir, levelCode: code };
  if (code === 'LEVEL_LOCKED') {
    return new LevelOpenError(
      `L2 directory ${dir} is locked by another process (is another rat-memcached using it?)`,
      context,
      { cause: error },
    );
  }
  if (code === 'LEVEL_CORRUPTION' || code === 'LEVEL_IO_ERROR') {
    return new LevelOpenError(`L2 directory ${dir} is not a readable LevelDB: ${detail}`, context, {
      cause: error,
    });
  }
  return new LevelOpenError(`L2 directory ${dir} cannot be opened: ${detail}`, context, { cause: error });
}
