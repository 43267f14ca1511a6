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

/** A copy of an item, for replies that complete after an L2 read (a slot number could be stale by then). */
export interface FoundItem {
  readonly value: Buffer;
  readonly flags: number;
  readonly cas: number;
}
