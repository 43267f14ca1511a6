// memcached's exptime rules (memcached.c realtime()): 0 never expires; a
// negative value is already expired; up to 30 days is relative to now; more
// is an absolute unix time. We store absolute unix seconds (0 = never) so an
// item keeps its expiry across tiers and restarts.

export const RELATIVE_EXPTIME_LIMIT = 60 * 60 * 24 * 30;

/** Absolute unix second 1: long past, so an item carrying it is expired. */
export const ALREADY_EXPIRED = 1;

export function absoluteExptime(exptime: number, nowSeconds: number): number {
  if (exptime === 0) return 0;
  if (exptime < 0) return ALREADY_EXPIRED;
  if (exptime > RELATIVE_EXPTIME_LIMIT) return exptime;
  return nowSeconds + exptime;
}

export function isExpired(absolute: number, nowSeconds: number): boolean {
  return absolute !== 0 && absolute <= nowSeconds;
}

/** Seconds left, as meta `t` reports it: -1 for never. */
export function remainingSeconds(absolute: number, nowSeconds: number): number {
  return absolute === 0 ? -1 : Math.max(0, absolute - nowSeconds);
}
