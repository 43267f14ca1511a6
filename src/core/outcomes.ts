// What the cache answers, as values. Only protocol code turns these into
// wire text (text: STORED / NOT_STORED ...; later meta: HD / NS ...).

export type StoreMode = 'set' | 'add' | 'replace' | 'append' | 'prepend' | 'cas';

export type StoreOutcome = 'stored' | 'not_stored' | 'exists' | 'not_found' | 'no_memory';

export type ArithmeticOutcome = bigint | 'not_found' | 'non_numeric';

export type MemlimitOutcome = 'ok' | 'too_small';

/** Read access to a found item, by the slot number a lookup returned. Valid until the next mutation. */
export interface ItemReader {
  flags(slot: number): number;
  cas(slot: number): number;
  exptime(slot: number): number;
  valueLength(slot: number): number;
  copyValue(slot: number, target: Buffer, targetOffset: number): number;
}
