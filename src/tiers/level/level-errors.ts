// Typed storage errors of the L2 tier. Each has a stable `code` callers switch
// on and keeps the underlying LevelDB / lz4 error as `cause`. A miss is never
// an error here: `get` returns undefined. These are the cases where the disk,
// the directory or a record cannot be trusted.
//
// There is no project-wide StorageError base yet; when one lands, L2Error
// should extend it and keep these codes.

export type L2ErrorCode = 'RAT_ERR_L2_CORRUPT' | 'RAT_ERR_L2_OPEN' | 'RAT_ERR_L2_IO';

export abstract class L2Error extends Error {
  abstract readonly code: L2ErrorCode;
  /** Machine-readable detail (offsets, lengths, the directory) for logs. */
  readonly context: Readonly<Record<string, unknown>>;

  constructor(message: string, context: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.context = context;
  }
}

/** A stored record failed validation: bad version, short, bad lz4, wrong length or checksum. */
export class RecordCorruptError extends L2Error {
  override readonly name = 'RecordCorruptError';
  readonly code = 'RAT_ERR_L2_CORRUPT';
}

/** The L2 directory cannot be opened: locked by another process, not a LevelDB, unreadable. */
export class LevelOpenError extends L2Error {
  override readonly name = 'LevelOpenError';
  readonly code = 'RAT_ERR_L2_OPEN';
}

/** A read or write against an open (or already closed) store failed. */
export class LevelIoError extends L2Error {
  override readonly name = 'LevelIoError';
  readonly code = 'RAT_ERR_L2_IO';
}
