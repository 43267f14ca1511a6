// Command and hit counters with memcached's names, kept as plain number
// fields on one object so the hot path increments a property, nothing more.

export class CoreStats {
  cmdGet = 0;
  cmdSet = 0;
  cmdTouch = 0;
  cmdFlush = 0;
  getHits = 0;
  /** get hits served by L1 without waiting for L2. */
  l1Hits = 0;
  getMisses = 0;
  getExpired = 0;
  getFlushed = 0;
  deleteHits = 0;
  deleteMisses = 0;
  incrHits = 0;
  incrMisses = 0;
  decrHits = 0;
  decrMisses = 0;
  casHits = 0;
  casMisses = 0;
  casBadval = 0;
  touchHits = 0;
  touchMisses = 0;
  totalItems = 0;
  storeTooLarge = 0;
  storeNoMemory = 0;
  reclaimed = 0;

  reset(): void {
    for (const name of Object.keys(this) as Array<keyof CoreStats>) {
      if (typeof this[name] === 'number') (this[name] as number) = 0;
    }
  }
}
