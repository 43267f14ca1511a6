// Byte sizes as people write them: `64` (unit given by the caller, memcached's
// -m takes MiB and -I takes bytes), `64k`, `64mb`, `1g`, `1GiB`.

const UNITS: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

const SIZE_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/;

/** Returns bytes, or undefined when the text is not a size. */
export function parseSize(text: string | number, bareUnitBytes: number): number | undefined {
  if (typeof text === 'number') {
    return Number.isFinite(text) && text >= 0 ? Math.floor(text * bareUnitBytes) : undefined;
  }
  const match = SIZE_PATTERN.exec(text);
  if (match === null) return undefined;
  const amount = Number(match[1]);
  const unit = (match[2] ?? '').toLowerCase();
  const multiplier = unit === '' ? bareUnitBytes : UNITS[unit];
  if (multiplier === undefined) return undefined;
  return Math.floor(amount * multiplier);
}

export function formatSize(bytes: number): string {
  for (const [suffix, unit] of [
    ['g', 1024 ** 3],
    ['m', 1024 ** 2],
    ['k', 1024],
  ] as const) {
    if (bytes >= unit && bytes % unit === 0) return `${bytes / unit}${suffix}`;
  }
  return String(bytes);
}
