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
import { encodeEntries } from '../protocol/encode.js';
import type { Envelope } from '../protocol/envelope.js';
import { ErrorCode, MaelstromError } from '../protocol/errors.js';
import { sameJsonValue } from '../protocol/jsonEquality.js';
import { RawJson } from '../protocol/rawJson.js';
import { type Request, parseRequest } from '../protocol/requests.js';
import type { FlushedTable, Store } from '../storage/store.js';
import { type NodeContext, servingState } from './nodeContext.js';
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
const DEPENDS_ON_WAL = new Set(['memtable_put', 'memtable_delete', 'memtable_get', 'memtable_scan', 'sstable_lookup', 'read', 'write', 'cas']);

/**
 * Serves pending requests in order until they run out, a write meets a full
 * frozen queue, or an sstable_flush must wait for its file.
 */
export function serveReady(context: NodeContext): Served {
  const store = context.store!;
  const outbox = new Outbox(context.log);
  let flushWaiter = context.flushWaiter;
  let writesStalled = false;
  let served = 0;
  for (const envelope of context.pending) {
    if (flushWaiter !== null) break;
    if (WRITES.has(envelope.body.type) && store.writesStalled) {
      writesStalled = true;
      break;
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
  return deliver(context, outbox, { state: unsynced ? 'waiting' : 'ready', walError }, { pending: context.pending.slice(served), flushWaiter, writesStalled });
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
    // Optional members are added when present, not spread in: these are the hot replies.
    case 'memtable_put':
    case 'memtable_delete': {
      const { sizeBytes, frozen } = request.type === 'memtable_put' ? store.put(request.key, request.value.text) : store.delete(request.key);
      const body: ReplyBody = { type: request.type === 'memtable_put' ? 'memtable_put_ok' : 'memtable_delete_ok', size_bytes: sizeBytes };
      if (frozen) body.frozen = true;
      return body;
    }
    case 'memtable_get': {
      const result = store.get(request.key);
      const body: ReplyBody = { type: 'memtable_get_ok', value: new RawJson(result.value ?? 'null'), found: result.found, source: result.source };
      if (result.sstableFile !== undefined) body.sstable_file = result.sstableFile;
      if (result.deletedIn !== undefined) body.deleted_in = result.deletedIn;
      return body;
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
      throw new Error('sstable_flush is served by serveReady');
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
