// `stats` and its sub-commands, with memcached's field names so dashboards
// and exporters built for memcached read us unchanged.

import type { Config } from '../config/config.js';
import type { CacheCore } from '../core/cache-core.js';
import type { OutputBuffer } from '../protocol/output-buffer.js';
import { TEXT_REPLY, writeStat } from '../protocol/text/text-response.js';
import { RAT_VERSION } from './rat-version.js';

export interface ServerCounters {
  currConnections: number;
  totalConnections: number;
  rejectedConnections: number;
  bytesRead: number;
  bytesWritten: number;
}

export interface StatsSource {
  readonly config: Config;
  readonly core: CacheCore;
  readonly counters: ServerCounters;
  readonly version: string;
  readonly startedAtMs: number;
  readonly verbosity: number;
  /** The socket I/O path in use (`server.io`, after any fallback). */
  readonly io: string;
  eventLoopMaxDelayMs(): number;
  connections(): Iterable<{ id: number; remote: string; state: string; openedAtMs: number }>;
  resetCounters(): void;
}

type StatLine = readonly [string, string | number];

function seconds(micros: number): string {
  return (micros / 1e6).toFixed(6);
}

export function generalStats(source: StatsSource): StatLine[] {
  const { core, counters, config } = source;
  const s = core.stats;
  const memory = core.memory;
  const nowMs = core.clock.nowMs();
  const usage = process.resourceUsage();
  return [
    ['pid', process.pid],
    ['uptime', Math.floor((nowMs - source.startedAtMs) / 1000)],
    ['time', core.clock.nowSeconds()],
    ['version', source.version],
    ['rat_version', RAT_VERSION],
    ['libevent', 'node'],
    ['pointer_size', 64],
    ['rusage_user', seconds(usage.userCPUTime)],
    ['rusage_system', seconds(usage.systemCPUTime)],
    ['max_connections', config.maxConnections],
    ['curr_connections', counters.currConnections],
    ['total_connections', counters.totalConnections],
    ['rejected_connections', counters.rejectedConnections],
    ['connection_structures', counters.currConnections],
    ['cmd_get', s.cmdGet],
    ['cmd_set', s.cmdSet],
    ['cmd_flush', s.cmdFlush],
    ['cmd_touch', s.cmdTouch],
    ['get_hits', s.getHits],
    ['get_misses', s.getMisses],
    ['get_expired', s.getExpired],
    ['get_flushed', s.getFlushed],
    ['delete_misses', s.deleteMisses],
    ['delete_hits', s.deleteHits],
    ['incr_misses', s.incrMisses],
    ['incr_hits', s.incrHits],
    ['decr_misses', s.decrMisses],
    ['decr_hits', s.decrHits],
    ['cas_misses', s.casMisses],
    ['cas_hits', s.casHits],
    ['cas_badval', s.casBadval],
    ['touch_hits', s.touchHits],
    ['touch_misses', s.touchMisses],
    ['store_too_large', s.storeTooLarge],
    ['store_no_memory', s.storeNoMemory],
    ['bytes_read', counters.bytesRead],
    ['bytes_written', counters.bytesWritten],
    ['limit_maxbytes', memory.maxBytes],
    ['threads', 1],
    ['bytes', memory.itemBytes],
    ['curr_items', memory.itemCount],
    ['total_items', s.totalItems],
    ['evictions', memory.evictions],
    ['reclaimed', s.reclaimed],
    ['expired_unfetched', core.expiredUnfetched],
    ['evicted_unfetched', memory.evictedUnfetched],
    ['l1_allocated_bytes', memory.allocatedBytes],
    ['event_loop_max_delay_ms', source.eventLoopMaxDelayMs().toFixed(1)],
    ['l1_hits', s.l1Hits],
    ...tierStats(core),
  ];
}

/**
 * The L2 figures (zeros without L2, so the set of names never changes).
 * l2_bytes is what the budget counts (keys + records on disk); the
 * compressed / uncompressed pair covers records written by this process.
 */
function tierStats(core: CacheCore): StatLine[] {
  const l2 = core.l2;
  const store = l2?.store.store.stats();
  const counters = l2?.store.counters;
  const stats = l2?.stats;
  return [
    ['l2_hits', stats?.l2Hits ?? 0],
    ['l2_misses', stats?.l2Misses ?? 0],
    ['l2_items', store?.items ?? 0],
    ['l2_bytes', store?.bytes ?? 0],
    ['l2_bytes_compressed', counters?.recordBytesWritten ?? 0],
    ['l2_bytes_uncompressed', counters?.valueBytesWritten ?? 0],
    ['l2_evictions', store?.evictions ?? 0],
    ['l2_expired', store?.expiredReclaimed ?? 0],
    ['l2_write_errors', store?.writeErrors ?? 0],
    ['l2_reopens', store?.reopens ?? 0],
    ['l2_writes_dropped', counters?.writesDropped ?? 0],
    ['l2_read_errors', counters?.readErrors ?? 0],
    ['l2_corrupt_records', counters?.corruptRecords ?? 0],
    ['l2_promotions', stats?.l2Promotions ?? 0],
    ['l2_demotions', stats?.l2Demotions ?? 0],
    ['l2_idle_writes', stats?.l2IdleWrites ?? 0],
    ['l2_reads', stats?.l2Reads ?? 0],
    ['l2_sync_reads', stats?.l2SyncReads ?? 0],
    ['l2_slow_sync_reads', stats?.l2SlowSyncReads ?? 0],
    ['l2_compactions', store?.compactions ?? 0],
    ['l2_log_segments', store?.logSegments ?? 0],
    ['l2_log_bytes', store?.logBytes ?? 0],
    ['l2_segment_moves', store?.segmentMoves ?? 0],
    ['l2_segment_move_failures', store?.segmentMoveFailures ?? 0],
    ['l2_pointer_cache_hits', store?.pointerCacheHits ?? 0],
    ['l2_pending_bytes', l2?.store.pendingBytes ?? 0],
    ['l2_throttled', stats?.l2Throttled ?? 0],
  ];
}

export function settingsStats(source: StatsSource): StatLine[] {
  const { config, core } = source;
  return [
    ['maxbytes', core.memory.maxBytes],
    ['maxconns', config.maxConnections],
    ['tcpport', config.port],
    ['udpport', 0],
    ['inter', config.host],
    ['verbosity', source.verbosity],
    ['evictions', 'on'],
    ['growth_factor', '1.25'],
    ['chunk_size', 64],
    ['num_threads', 1],
    ['cas_enabled', 'yes'],
    ['tcp_backlog', 1024],
    ['binding_protocol', 'ascii'],
    ['auth_enabled_sasl', 'no'],
    ['auth_enabled_ascii', 'no'],
    ['item_size_max', config.maxItemSize],
    ['flush_enabled', 'yes'],
    ['shutdown_enabled', config.enableShutdown ? 'yes' : 'no'],
    ['eviction_policy', config.eviction],
    ['socket_io', source.io],
    ['l2_enabled', config.l2Enabled ? 'yes' : 'no'],
    ['l2_mode', config.l2Mode],
    ['l2_data_dir', config.l2DataDir],
    ['l2_max_size', config.l2MaxBytes],
    ['l2_read_mode', config.l2ReadMode],
    ['l2_promotion', config.l2Promotion],
    ['l2_compact_when_quiet', config.l2CompactWhenQuiet ? 'yes' : 'no'],
    ['l2_write_when_idle', config.l2WriteWhenIdle ? 'yes' : 'no'],
    ['l2_pointer_cache_bytes', config.l2PointerCacheBytes],
  ];
}

/** `stats items` / `stats slabs`, synthesised from L1's size classes. */
function classStats(source: StatsSource, kind: 'items' | 'slabs'): StatLine[] {
  const memory = source.core.memory;
  const now = source.core.clock.nowSeconds();
  const lines: StatLine[] = [];
  let activeSlabs = 0;
  let totalPages = 0;
  for (const cls of memory.classStats()) {
    if (cls.pages === 0 && cls.usedChunks === 0) continue;
    activeSlabs++;
    totalPages += cls.pages;
    if (kind === 'items') {
      if (cls.usedChunks === 0) continue;
      lines.push([`items:${cls.id}:number`, cls.usedChunks]);
      lines.push([`items:${cls.id}:age`, cls.oldestAccess === 0 ? 0 : Math.max(0, now - cls.oldestAccess)]);
      lines.push([`items:${cls.id}:evicted`, cls.evicted]);
    } else {
      const perPage = Math.max(1, Math.floor(memory.pageSize / cls.chunkSize));
      lines.push([`${cls.id}:chunk_size`, cls.chunkSize]);
      lines.push([`${cls.id}:chunks_per_page`, perPage]);
      lines.push([`${cls.id}:total_pages`, cls.pages]);
      lines.push([`${cls.id}:total_chunks`, cls.usedChunks + cls.freeChunks]);
      lines.push([`${cls.id}:used_chunks`, cls.usedChunks]);
      lines.push([`${cls.id}:free_chunks`, cls.freeChunks]);
    }
  }
  if (kind === 'slabs') {
    lines.push(['active_slabs', activeSlabs]);
    lines.push(['total_malloced', totalPages * memory.pageSize]);
  }
  return lines;
}

function connStats(source: StatsSource): StatLine[] {
  const lines: StatLine[] = [];
  const nowMs = source.core.clock.nowMs();
  for (const conn of source.connections()) {
    lines.push([`${conn.id}:addr`, conn.remote]);
    lines.push([`${conn.id}:state`, conn.state]);
    lines.push([`${conn.id}:secs_since_last_cmd`, Math.floor((nowMs - conn.openedAtMs) / 1000)]);
  }
  return lines;
}

function writeLines(out: OutputBuffer, lines: readonly StatLine[]): void {
  for (const [name, value] of lines) writeStat(out, name, value);
  out.writeBytes(TEXT_REPLY.end);
}

const DETAIL_USAGE = 'CLIENT_ERROR usage: stats detail on|off|dump\r\n';
const BAD_COMMAND_LINE = 'CLIENT_ERROR bad command line\r\n';
const CACHEDUMP_NOT_ALLOWED = 'CLIENT_ERROR stats cachedump not allowed\r\n';

/** Renders `stats <args>`; false when memcached would answer ERROR. */
export function writeStatsReply(source: StatsSource, args: readonly string[], out: OutputBuffer): boolean {
  const [sub, ...rest] = args;
  if (sub === undefined) {
    writeLines(out, generalStats(source));
    return true;
  }
  if (rest.length > 0 && sub !== 'detail' && sub !== 'cachedump') return false;
  switch (sub) {
    case 'settings':
      writeLines(out, settingsStats(source));
      return true;
    case 'items':
    case 'slabs':
      writeLines(out, classStats(source, sub));
      return true;
    case 'conns':
      writeLines(out, connStats(source));
      return true;
    case 'sizes':
      writeLines(out, [['sizes_status', 'disabled']]);
      return true;
    case 'reset':
      source.resetCounters();
      out.writeBytes(TEXT_REPLY.reset);
      return true;
    case 'detail':
      if (rest[0] === 'on' || rest[0] === 'off') out.writeBytes(TEXT_REPLY.ok);
      else if (rest[0] === 'dump') out.writeBytes(TEXT_REPLY.end);
      else out.writeLatin1(DETAIL_USAGE);
      return true;
    case 'cachedump':
      // memcached without -X would list a slab class's keys; we do not walk
      // L1 for a debug dump, and say so the way memcached -X does.
      out.writeLatin1(rest.length < 2 ? BAD_COMMAND_LINE : CACHEDUMP_NOT_ALLOWED);
      return true;
    default:
      return false;
  }
}
