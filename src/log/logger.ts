// pino, one JSON line per lifecycle event. Per-command tracing is debug-only
// and callers guard it with `isLevelEnabled` so the hot path pays nothing.

import { type DestinationStream, type Logger, pino } from 'pino';
import type { LogLevel } from '../config/config.js';

export type { Logger };

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = { level, base: { pid: process.pid }, name: 'rat-memcached' };
  return destination === undefined ? pino(options) : pino(options, destination);
}

/** A logger that writes nothing, for embedding and tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
