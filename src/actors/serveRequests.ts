/**
 * Serving: turns pending requests into Store operations and reply lines.
 * The machine calls these from its actions; each returns the context fields
 * it changed and the lines to send, so the machine stays the one owner of
 * state.
 *
 * Invariant: requests are answered strictly in arrival order. A request that
 * cannot be answered yet (the node is opening its store, writes are stalled,
 * an sstable_flush waits for its file) stops serving; it and everything after
 * it stay pending until the machine serves again.
 */
import { encodeEntries, getReplyBody, writeReplyBody } from '../protocol/encode.js';
import type { Envelope } from '../protocol/envelope.js';
import { ErrorCode, MaelstromError } from '../protocol/errors.js';
import { sameJsonValue } from '../protocol/jsonEquality.js';
import { RawJson } from '../protocol/rawJson.js';
import { type Request, parseRequest } from '../protocol/requests.js';
import type { CompactionResult } from '../storage/compaction/compactor.js';
import type { FlushedTable, Store } from '../storage/store.js';
import { type CompactWaiter, type NodeContext, servingState } from './nodeContext.js';
import { deliver, Outbox, type ReplyBody, type Served } from './outbox.js';

function logRequest(context: NodeContext, envelope: Envelope): void {
  if (!context.log.isLevelEnabled('debug')) return;
  context.log.debug({ msg_id: envelope.body.msg_id, type: envelope.body.type, src: envelope.src, state: servingState(context) }, 'request');
}

/**
 * Before init: every request but init is answered 11; an init naming another
 * node is answered 22; a valid init becomes `initRequest` and stops serving
 * (the machine opens the store, then answers it).
 */
export function serveUninitialized(context: NodeContext): Served {
  const outbox = new Outbox(context.log);
  let served = 0;
  let initRequest: Envelope | null = null;
  for (const envelope of context.pending) {
    served++;
    logRequest(context, envelope);
    if (envelope.body.type !== 'init') {
      outbox.fail(envelope, new MaelstromError(ErrorCode.TemporarilyUnavailable, 'node not initialized: send init first'));
      continue;
    }
    try {
      const init = parseRequest(envelope);
      if (init.type === 'init') assertOwnNodeId(context, init.nodeId);
      assertRoomForNode(context);
      initRequest = envelope;
      break;
    } catch (error) {
      outbox.fail(envelope, error);
    }
  }
  const { text, nextMsgId } = outbox.finish(context);
  return { update: { pending: context.pending.slice(served), nextMsgId, initRequest }, text };
}

/** The store opened: answers the init and records the node's identity. */
export function completeInit(context: NodeContext, store: Store): Served {
  const init = context.initRequest!;
  const request = parseRequest(init);
  const outbox = new Outbox(context.log);
  outbox.reply(init, { type: 'init_ok' });
  const { text, nextMsgId } = outbox.finish(context);
  return {
    update: { store, initRequest: null, nodeIds: request.type === 'init' ? request.nodeIds : [], nextMsgId },
    text,
  };
}

/** Opening the store failed: the init gets an error (13; 11 when another process has the folder) and the node stays uninitialized. */
export function failInit(context: NodeContext, error: unknown): Served {
  const outbox = new Outbox(context.log);
  outbox.fail(context.initRequest!, withRemedy(error));
  const { text, nextMsgId } = outbox.finish(context);
  return { update: { initRequest: null, nextMsgId }, text };
}

/** Out of file descriptors: the error says which setting to lower. */
function withRemedy(error: unknown): unknown {
  if ((error as NodeJS.ErrnoException | undefined)?.code !== 'EMFILE') return error;
  const message = `${(error as Error).message} (the process is out of file descriptors: lower --max-open-files or raise ulimit -n)`;
  return new MaelstromError(ErrorCode.Crash, message, { cause: error });
}

const WRITES = new Set(['memtable_put', 'memtable_delete', 'sstable_flush', 'write', 'cas']);
/** Replies that report or depend on stored data, so may leave only once the WAL holds every write before them. */
const DEPENDS_ON_WAL = new Set(['memtable_put', 'memtable_delete', 'memtable_get', 'memtable_scan', 'sstable_lookup', 'lsm_read', 'read', 'write', 'cas']);

/**
 * Serves pending requests in order until they run out, a write meets a full
 * frozen queue or L0 at its stop trigger, a write meets the L0 slowdown
 * before its delay is paid, or an sstable_flush or lsm_compact must wait for
 * its work.
 */
export function serveReady(context: NodeContext): Served {
  const store = context.store!;
  const outbox = new Outbox(context.log);
  let { flushWaiter, compactWaiter, writeDelay } = context;
  let writesStalled = false;
  let served = 0;
  for (const envelope of context.pending) {
    if (flushWaiter !== null || compactWaiter !== null) break;
    if (WRITES.has(envelope.body.type)) {
      if (store.writesStalled) {
        writesStalled = true;
        break;
      }
      if (store.writesSlowed && writeDelay !== 'paid') {
        writeDelay = 'waiting';
        break;
      }
    }
    served++;
    logRequest(context, envelope);
    // Replies that report stored data (values, and 20/22 too) wait for the WAL; see Outbox.finish.
    let reportsData = false;
    try {
      const request = parseRequest(envelope);
      reportsData = DEPENDS_ON_WAL.has(request.type);
      if (request.type === 'sstable_flush') {
        store.freezeActive();
        const target = store.newestFrozen;
        if (target !== undefined) flushWaiter = { envelope, memtableId: target.id };
        else outbox.reply(envelope, { type: 'sstable_flush_ok', sstable_file: null, entries: 0, bloom_filter_bits: 0, size_bytes: 0 });
        continue;
      }
      if (request.type === 'lsm_compact') {
        compactWaiter = { envelope, levels: compactionSteps(store, request.sourceLevel), results: [] };
        continue;
      }
      outbox.reply(envelope, answer(context, store, request), reportsData);
    } catch (error) {
      outbox.fail(envelope, error, reportsData);
    }
  }
  // Group commit: one WAL write for everything served above, and its fdatasync before any reply leaves;
  // with --sync always the sync runs in the thread pool (the machine's startWalSync), the replies held meanwhile.
  let walError: unknown;
  let unsynced = false;
  if (served > 0) {
    try {
      store.writeWal();
    } catch (error) {
      walError = error;
    }
    unsynced = walError === undefined && store.walUnsynced;
  }
  // A delay paid covers one pass: the next pass that meets a write waits again.
  if (writeDelay === 'paid' && served > 0) writeDelay = 'none';
  return deliver(context, outbox, { state: unsynced ? 'waiting' : 'ready', walError }, { pending: context.pending.slice(served), flushWaiter, compactWaiter, writeDelay, writesStalled });
}

/**
 * The source levels an lsm_compact compacts, in order: the one it names, or
 * (none named) every level from L0 down to just above the deepest level
 * holding data, L1 at least (LevelDB's CompactRange(nullptr, nullptr)).
 */
function compactionSteps(store: Store, sourceLevel: number | undefined): number[] {
  if (sourceLevel !== undefined) return [sourceLevel];
  const deepest = Math.max(1, store.deepestNonEmptyLevel());
  return Array.from({ length: deepest }, (_, level) => level);
}

/** Every step of the waiting lsm_compact is done: answers it with their sums. */
export function answerCompactWaiter(context: NodeContext): Served {
  const waiter = context.compactWaiter!;
  const outbox = new Outbox(context.log);
  outbox.reply(waiter.envelope, compactReply(waiter.results));
  return deliver(context, outbox, { state: 'ready' }, { compactWaiter: null });
}

/** A step of the waiting lsm_compact failed: it answers the error (13 for I/O), and the steps left are dropped. */
export function failCompactWaiter(context: NodeContext, error: unknown): Served {
  const waiter: CompactWaiter = context.compactWaiter!;
  const outbox = new Outbox(context.log);
  outbox.fail(waiter.envelope, error);
  return deliver(context, outbox, { state: 'ready' }, { compactWaiter: null });
}

/** lsm_compact_ok: the steps' figures summed; write amplification over the bytes read from the source levels. */
function compactReply(results: CompactionResult[]): ReplyBody {
  const sum = (field: 'sstablesMerged' | 'newSstables' | 'keysDeduplicated' | 'bytesRead' | 'sourceBytesRead' | 'bytesWritten') =>
    results.reduce((total, result) => total + result[field], 0);
  const sourceBytesRead = sum('sourceBytesRead');
  return {
    type: 'lsm_compact_ok',
    sstables_merged: sum('sstablesMerged'),
    new_sstables: sum('newSstables'),
    keys_deduplicated: sum('keysDeduplicated'),
    bytes_read: sum('bytesRead'),
    bytes_written: sum('bytesWritten'),
    write_amplification: sourceBytesRead === 0 ? 0 : ratio(sum('bytesWritten') / sourceBytesRead),
  };
}

/** A ratio for a reply: three decimals are all a reader needs. */
function ratio(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** A flush finished and was installed: answers the sstable_flush that waited for it, if any. */
export function answerFlushWaiter(context: NodeContext, flushed: FlushedTable): Served {
  const waiter = context.flushWaiter;
  if (waiter === null || waiter.memtableId !== flushed.memtable.id) return { update: {}, text: '' };
  const outbox = new Outbox(context.log);
  outbox.reply(waiter.envelope, {
    type: 'sstable_flush_ok',
    sstable_file: flushed.file,
    entries: flushed.properties.entries,
    bloom_filter_bits: flushed.properties.bloomFilterBits,
    size_bytes: flushed.properties.sizeBytes,
  });
  return deliver(context, outbox, { state: 'ready' }, { flushWaiter: null });
}

function answer(context: NodeContext, store: Store, request: Request): ReplyBody {
  switch (request.type) {
    case 'init':
      assertOwnNodeId(context, request.nodeId);
      return { type: 'init_ok' };
    // The hot replies, encoded as they are built (protocol/encode.ts).
    case 'memtable_put':
    case 'memtable_delete': {
      const { sizeBytes, frozen } = request.type === 'memtable_put' ? store.put(request.key, request.value.text) : store.delete(request.key);
      return writeReplyBody(request.type === 'memtable_put' ? 'memtable_put_ok' : 'memtable_delete_ok', sizeBytes, frozen);
    }
    case 'memtable_get': {
      const result = store.get(request.key);
      return getReplyBody(result.value ?? 'null', result.found, result.source, result.sstableFile, result.deletedIn);
    }
    case 'memtable_scan': {
      const { entries, nextStart } = store.scan(request);
      const body: ReplyBody = { type: 'memtable_scan_ok', entries: encodeEntries(entries) };
      if (nextStart !== undefined) body.next_start = nextStart;
      return body;
    }
    case 'memtable_stats':
      return { type: 'memtable_stats_ok', state: servingState(context), ...store.stats() };
    case 'sstable_lookup': {
      const result = store.lookupSSTable(request.sstable, request.key);
      const live = result.found && result.value !== null;
      return {
        type: 'sstable_lookup_ok',
        found: live,
        value: live ? new RawJson(result.value!) : null,
        ...(result.found && !live ? { deleted: true } : {}),
        bloom_checked: true,
        bloom_may_contain: result.bloomMayContain,
        disk_reads: result.diskReads,
      };
    }
    case 'sstable_flush':
    case 'lsm_compact':
      throw new Error(`${request.type} is served by serveReady`);
    case 'lsm_level_info':
      return { type: 'lsm_level_info_ok', levels: store.levelInfo(request.files) };
    case 'lsm_read': {
      const result = store.lsmGet(request.key);
      const body: ReplyBody = {
        type: 'lsm_read_ok',
        value: new RawJson(result.value ?? 'null'),
        found: result.found,
        found_at: result.foundAt,
        levels_checked: result.levelsChecked,
        files_checked: result.filesChecked,
      };
      if (result.sstableFile !== undefined) body.sstable_file = result.sstableFile;
      return body;
    }
    case 'lsm_compact_status': {
      const status = store.compactionStatus();
      const running = context.compaction?.picked;
      return {
        type: 'lsm_compact_status_ok',
        pending_compactions: status.pendingCompactions,
        running: running == null ? null : { source_level: running.sourceLevel, target_level: running.targetLevel, sstables: running.sourceInputs.length + running.targetInputs.length },
        total_compactions: status.totalCompactions,
        total_bytes_compacted: status.totalBytesCompacted,
        write_amplification: ratio(status.writeAmplification),
      };
    }
    case 'read': {
      const result = store.get(linKvKey(request.key));
      if (!result.found) throw new MaelstromError(ErrorCode.KeyDoesNotExist, `key ${JSON.stringify(request.key)} does not exist`);
      return { type: 'read_ok', value: new RawJson(result.value!) };
    }
    case 'write':
      store.put(linKvKey(request.key), request.value.text);
      return { type: 'write_ok' };
    case 'cas': {
      const key = linKvKey(request.key);
      const current = store.get(key);
      if (!current.found && !request.createIfNotExists) {
        throw new MaelstromError(ErrorCode.KeyDoesNotExist, `key ${JSON.stringify(request.key)} does not exist`);
      }
      if (current.found && !sameJsonValue(current.value!, request.from.text)) {
        throw new MaelstromError(ErrorCode.PreconditionFailed, `expected ${abbreviate(request.from.text)}, but the value is ${abbreviate(current.value!)}`);
      }
      store.put(key, request.to.text);
      return { type: 'cas_ok' };
    }
  }
}

/** lin-kv keys are strings or integers; an integer is stored under its decimal string. */
function linKvKey(key: string | number): string {
  return typeof key === 'number' ? String(key) : key;
}

function abbreviate(json: string): string {
  return json.length <= 64 ? json : `${json.slice(0, 61)}...`;
}

/** Refuses (10) an init that would open one store more than the process may host. */
function assertRoomForNode(context: NodeContext): void {
  const limit = context.options.nodeLimit;
  if (limit !== undefined && limit.hosted() >= limit.max) {
    throw new MaelstromError(ErrorCode.NotSupported, `node limit reached: this process hosts at most ${limit.max} (--max-nodes)`);
  }
}

function assertOwnNodeId(context: NodeContext, nodeId: string): void {
  if (nodeId !== context.nodeId) {
    throw new MaelstromError(
      ErrorCode.PreconditionFailed,
      `init names node ${nodeId}, but this node is ${context.nodeId}`,
    );
  }
}
