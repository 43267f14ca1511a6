// Typed errors shared by every layer. Expected outcomes (miss, CAS conflict,
// NOT_STORED) are values, never exceptions; these are for real failures.
// Each carries a stable code (like undici's UND_ERR_* and Level's LEVEL_*).

export type RatErrorCode =
  | 'RAT_ERR_CONFIG'
  | 'RAT_ERR_PROTOCOL'
  | 'RAT_ERR_SERVER'
  | 'RAT_ERR_STORAGE'
  | 'RAT_ERR_L2_OPEN'
  | 'RAT_ERR_L2_CORRUPT';

export class RatError extends Error {
  readonly code: RatErrorCode;

  constructor(code: RatErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Invalid configuration: start-up prints the one-line message and exits 2. */
export class ConfigError extends RatError {
  readonly key: string;

  constructor(key: string, message: string, options?: { cause?: unknown }) {
    super('RAT_ERR_CONFIG', message, options);
    this.key = key;
  }
}

/** A server-side failure (listen, socket) with the context needed to act on it. */
export class ServerError extends RatError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RAT_ERR_SERVER', message, options);
  }
}
