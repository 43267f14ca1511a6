// The read-then-plan half of LevelStore's mutations: given the DB and the
// current totals, each function reads what it must and returns the batch of
// puts/dels plus the totals that batch produces. Nothing here writes to
// LevelDB; new records are only gathered into a LogBatch, and each plan notes
// its effect on segment usage in a SegmentChange. The store writes the log
// batch, then commits the plan (with the new meta and segment usage) as one
// atomic LevelDB batch, which is what keeps pointers, indexes and totals
// consistent. Plans must run one at a time (the store serializes them) since
// each reads state the last changed.

import {
  dataKey,
  decodeDataEntry,
  decodeOrderEntry,
  EXPIRY_START,
  encodeDataEntry,
  encodeOrderEntry,
  expiryBoundAfter,
  expiryKey,
  ORDER_END,
  orderKey,
  parseExpiryKey,
  type StoreMeta,
  seqOfOrderKey,
} from './level-keys.js';
import type { LevelDb } from './open-level-db.js';
import type { SegmentChange } from './segment-ledger.js';
import { LOG_ENTRY_HEADER_BYTES, type LogBatch, type LogEntry } from './value-log.js';

export type BatchOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

/** A queued write; `record` undefined means delete. */
export interface PendingWrite {
  record: Buffer | undefined;
  exptime: number;
}

export interface WritePlan {
  ops: BatchOp[];
  /** Totals after these writes, before any eviction. */
  meta: StoreMeta;
  /** Order-index entries these writes delete (overwritten or deleted keys). */
  freedSeqs: ReadonlySet<number>;
  /** Entries these writes create, oldest seq first. */
  added: readonly AddedEntry[];
}

interface AddedEntry {
  seq: number;
  key: Buffer;
  exptime: number;
  size: number;
  segment: number;
}

export interface MovePlan {
  ops: BatchOp[];
  /** Entries still current, now copied to the log batch. */
  moved: number;
}

export interface EvictionPlan {
  ops: BatchOp[];
  meta: StoreMeta;
  evicted: number;
}

export interface ReclaimPlan {
  ops: BatchOp[];
  meta: StoreMeta;
  removed: number;
  /** The last expiry-index key read, when the read hit `limit` (more may be expired); else undefined. */
  resumeAfter: Buffer | undefined;
}

const EMPTY = Buffer.alloc(0);
const EVICTION_READ_CHUNK = 64;

/** `writes` is keyed by the key's latin1 string (see PendingBatch). */
export async function planWrites(
  db: LevelDb,
  meta: StoreMeta,
  writes: ReadonlyMap<string, PendingWrite>,
  log: LogBatch,
  segments: SegmentChange,
): Promise<WritePlan> {
  const keys = Array.from(writes.keys(), (id) => Buffer.from(id, 'latin1'));
  // One read for the whole batch: overwrites and deletes need the old seq,
  // exptime and size to drop the old index entries and fix the totals.
  const olds = await db.getMany(keys.map(dataKey));
  const ops: BatchOp[] = [];
  const freedSeqs = new Set<number>();
  const added: AddedEntry[] = [];
  let { nextSeq, items, bytes } = meta;
  let i = 0;
  for (const write of writes.values()) {
    const key = keys[i]!;
    const old = olds[i];
    i++;
    const oldEntry = old === undefined ? undefined : decodeDataEntry(old);
    if (oldEntry !== undefined) {
      ops.push({ type: 'del', key: orderKey(oldEntry.seq) });
      if (oldEntry.exptime !== 0) ops.push({ type: 'del', key: expiryKey(oldEntry.exptime, key) });
      freedSeqs.add(oldEntry.seq);
      items--;
      const oldSize = key.length + oldEntry.recordLength;
      bytes -= oldSize;
      segments.free(oldEntry.segment, LOG_ENTRY_HEADER_BYTES + oldSize);
    }
    if (write.record === undefined) {
      if (old !== undefined) ops.push({ type: 'del', key: dataKey(key) });
      continue;
    }
    const seq = nextSeq++;
    const size = key.length + write.record.length;
    const offset = log.add(key, write.record);
    segments.append(log.segment, LOG_ENTRY_HEADER_BYTES + size);
    const entry = {
      seq,
      exptime: write.exptime,
      segment: log.segment,
      offset,
      recordLength: write.record.length,
    };
    ops.push({ type: 'put', key: dataKey(key), value: encodeDataEntry(entry) });
    ops.push({
      type: 'put',
      key: orderKey(seq),
      value: encodeOrderEntry(size, write.exptime, log.segment, key),
    });
    if (write.exptime !== 0) ops.push({ type: 'put', key: expiryKey(write.exptime, key), value: EMPTY });
    items++;
    bytes += size;
    added.push({ seq, key, exptime: write.exptime, size, segment: log.segment });
  }
  return { ops, meta: { ...meta, nextSeq, items, bytes }, freedSeqs, added };
}

/**
 * Evicts oldest-written first until the totals fit `maxBytes`: first from the
 * order index on disk (starting at evictFromSeq, below which everything is
 * already gone, so LevelDB need not skip the tombstones of earlier
 * evictions), then, if the batch alone is over budget, from its own entries.
 */
export async function planEviction(
  db: LevelDb,
  plan: WritePlan,
  maxBytes: number,
  segments: SegmentChange,
): Promise<EvictionPlan> {
  let { items, bytes, evictFromSeq } = plan.meta;
  const ops: BatchOp[] = [];
  let evicted = 0;
  if (bytes <= maxBytes) return { ops, meta: plan.meta, evicted };

  const iterator = db.iterator({ gte: orderKey(evictFromSeq), lt: ORDER_END });
  try {
    while (bytes > maxBytes) {
      const chunk = await iterator.nextv(EVICTION_READ_CHUNK);
      if (chunk.length === 0) break;
      for (const [indexKey, indexValue] of chunk) {
        const seq = seqOfOrderKey(indexKey);
        evictFromSeq = seq + 1;
        if (plan.freedSeqs.has(seq)) continue;
        ops.push({ type: 'del', key: indexKey });
        const entry = decodeOrderEntry(indexValue);
        if (entry === undefined) continue;
        ops.push({ type: 'del', key: dataKey(entry.key) });
        if (entry.exptime !== 0) ops.push({ type: 'del', key: expiryKey(entry.exptime, entry.key) });
        segments.free(entry.segment, LOG_ENTRY_HEADER_BYTES + entry.size);
        items--;
        bytes -= entry.size;
        evicted++;
        if (bytes <= maxBytes) break;
      }
    }
  } finally {
    await iterator.close();
  }

  // Later ops in a LevelDB batch win, so deleting what this batch puts is fine.
  for (const entry of plan.added) {
    if (bytes <= maxBytes) break;
    ops.push({ type: 'del', key: orderKey(entry.seq) });
    ops.push({ type: 'del', key: dataKey(entry.key) });
    if (entry.exptime !== 0) ops.push({ type: 'del', key: expiryKey(entry.exptime, entry.key) });
    segments.free(entry.segment, LOG_ENTRY_HEADER_BYTES + entry.size);
    evictFromSeq = entry.seq + 1;
    items--;
    bytes -= entry.size;
    evicted++;
  }
  return { ops, meta: { ...plan.meta, items, bytes, evictFromSeq }, evicted };
}

/**
 * Deletes up to `limit` records with 0 < exptime <= nowSeconds, reading only
 * the expired prefix. `after` resumes past the last key of a previous batch,
 * so consecutive batches never re-walk the tombstones earlier ones left
 * (LevelDB skips deleted keys one by one until compaction: without it a mass
 * expiry costs quadratic time).
 */
export async function planReclaim(
  db: LevelDb,
  meta: StoreMeta,
  nowSeconds: number,
  limit: number,
  segments: SegmentChange,
  after?: Buffer,
): Promise<ReclaimPlan> {
  const end = expiryBoundAfter(nowSeconds);
  const range = after === undefined ? { gte: EXPIRY_START, lt: end, limit } : { gt: after, lt: end, limit };
  const expired = await db.keys(range).all();
  const parsed = expired.map(parseExpiryKey);
  const entries = await db.getMany(parsed.map((p) => dataKey(p.key)));
  const ops: BatchOp[] = [];
  let { items, bytes } = meta;
  let removed = 0;
  for (let i = 0; i < expired.length; i++) {
    const { exptime, key } = parsed[i]!;
    ops.push({ type: 'del', key: expired[i]! });
    const entry = entries[i];
    const header = entry === undefined ? undefined : decodeDataEntry(entry);
    // An index entry whose record now carries another exptime is stale; drop only the entry.
    if (header === undefined || header.exptime !== exptime) continue;
    ops.push({ type: 'del', key: dataKey(key) });
    ops.push({ type: 'del', key: orderKey(header.seq) });
    const size = key.length + header.recordLength;
    segments.free(header.segment, LOG_ENTRY_HEADER_BYTES + size);
    items--;
    bytes -= size;
    removed++;
  }
  const resumeAfter = expired.length === limit ? expired[expired.length - 1] : undefined;
  return { ops, meta: { ...meta, items, bytes }, removed, resumeAfter };
}

/**
 * Copies the entries of segment `from` that the index still points at into
 * `log` and repoints them, keeping seq and exptime: a move is invisible to
 * eviction order and to readers, who find the same record at its new place.
 * An entry is current when its key's data entry names this segment and
 * offset; anything else in the file is an overwritten, deleted or evicted
 * record. Once every entry of `from` went through here, nothing points into
 * it and the store drops it.
 */
export async function planMove(
  db: LevelDb,
  from: number,
  entries: readonly LogEntry[],
  log: LogBatch,
  segments: SegmentChange,
): Promise<MovePlan> {
  const ops: BatchOp[] = [];
  const current = await db.getMany(entries.map((e) => dataKey(e.key)));
  let moved = 0;
  for (let i = 0; i < entries.length; i++) {
    const { key, recordOffset, record } = entries[i]!;
    const bytes = current[i];
    const entry = bytes === undefined ? undefined : decodeDataEntry(bytes);
    if (entry === undefined || entry.segment !== from || entry.offset !== recordOffset) continue;
    const offset = log.add(key, record);
    const size = key.length + record.length;
    segments.free(from, LOG_ENTRY_HEADER_BYTES + size);
    segments.append(log.segment, LOG_ENTRY_HEADER_BYTES + size);
    ops.push({
      type: 'put',
      key: dataKey(key),
      value: encodeDataEntry({ ...entry, segment: log.segment, offset }),
    });
    ops.push({
      type: 'put',
      key: orderKey(entry.seq),
      value: encodeOrderEntry(size, entry.exptime, log.segment, key),
    });
    moved++;
  }
  return { ops, moved };
}
