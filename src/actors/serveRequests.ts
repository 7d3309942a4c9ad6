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
import { encodeEntries, encodeReply, errorBody } from '../protocol/encode.js';
import type { Envelope } from '../protocol/envelope.js';
import { ErrorCode, MaelstromError, toMaelstromError } from '../protocol/errors.js';
import { RawJson, sameJsonValue } from '../protocol/rawJson.js';
import { type Request, parseRequest } from '../protocol/requests.js';
import type { FlushedTable, Store } from '../storage/store.js';
import type { NodeContext } from './nodeContext.js';

export interface Served {
  update: Partial<NodeContext>;
  /** Reply lines, each ending in '\n': one string per serving pass (see Output in nodeContext.ts). */
  text: string;
}

type ReplyBody = { type: string } & Record<string, unknown>;

interface Reply {
  request: Envelope;
  body: ReplyBody;
  /** Its content depends on writes that must be in the WAL before it may leave. */
  needsWal: boolean;
}

/** Collects one serving pass's replies, then numbers and encodes them in order. */
class Outbox {
  private readonly replies: Reply[] = [];

  constructor(private readonly context: NodeContext) {}

  reply(request: Envelope, body: ReplyBody, needsWal = false): void {
    this.replies.push({ request, body, needsWal });
  }

  fail(request: Envelope, error: unknown, needsWal = false): void {
    const maelstrom = toMaelstromError(error);
    if (maelstrom.code === ErrorCode.Crash) {
      this.context.log.error({ err: error, msg_id: request.body.msg_id, type: request.body.type }, 'request failed');
    }
    this.reply(request, errorBody(maelstrom), needsWal);
  }

  /**
   * Encodes the replies with msg_ids from context.nextMsgId on. When the WAL
   * commit failed (`walError`), replies that depended on it become error 13:
   * their writes may or may not survive, and no read may report a value
   * that a crash could take back.
   */
  finish(walError?: unknown): { text: string; nextMsgId: number } {
    const { context } = this;
    let nextMsgId = context.nextMsgId;
    const walFailure = walError === undefined ? undefined : errorBody(toMaelstromError(walError));
    if (walFailure !== undefined) context.log.error({ err: walError }, 'write-ahead log commit failed; replies that depend on it answer 13');
    const debug = context.log.isLevelEnabled('debug');
    // One slot more, left '': joined, the text ends in '\n' without a second copy of it.
    const lines: string[] = new Array(this.replies.length + 1).fill('');
    for (let i = 0; i < this.replies.length; i++) {
      const { request, body, needsWal } = this.replies[i];
      const msgId = nextMsgId++;
      const inReplyTo = request.body.msg_id;
      const sent = walFailure !== undefined && needsWal ? walFailure : body;
      if (debug) context.log.debug({ msg_id: msgId, in_reply_to: inReplyTo, type: sent.type, dest: request.src, state: servingState(context) }, 'reply');
      lines[i] = encodeReply(context.nodeId, request.src, sent, msgId, inReplyTo);
    }
    return { text: this.replies.length === 0 ? '' : lines.join('\n'), nextMsgId };
  }
}

function logRequest(context: NodeContext, envelope: Envelope): void {
  if (!context.log.isLevelEnabled('debug')) return;
  context.log.debug({ msg_id: envelope.body.msg_id, type: envelope.body.type, src: envelope.src, state: servingState(context) }, 'request');
}

/** The machine state as a client sees it: flushing exactly while frozen MemTables wait (the hasFrozen guard). */
function servingState(context: NodeContext): string {
  if (context.store === null) return 'uninitialized';
  return context.store.frozenCount > 0 ? 'flushing' : 'ready';
}

/**
 * Before init: every request but init is answered 11; an init naming another
 * node is answered 22; a valid init becomes `initRequest` and stops serving
 * (the machine opens the store, then answers it).
 */
export function serveUninitialized(context: NodeContext): Served {
  const outbox = new Outbox(context);
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
  const { text, nextMsgId } = outbox.finish();
  return { update: { pending: context.pending.slice(served), nextMsgId, initRequest }, text };
}

/** The store opened: answers the init and records the node's identity. */
export function completeInit(context: NodeContext, store: Store): Served {
  const init = context.initRequest!;
  const request = parseRequest(init);
  const outbox = new Outbox(context);
  outbox.reply(init, { type: 'init_ok' });
  const { text, nextMsgId } = outbox.finish();
  return {
    update: { store, initRequest: null, nodeIds: request.type === 'init' ? request.nodeIds : [], nextMsgId },
    text,
  };
}

/** Opening the store failed: the init gets error 13 and the node stays uninitialized. */
export function failInit(context: NodeContext, error: unknown): Served {
  const outbox = new Outbox(context);
  outbox.fail(context.initRequest!, error);
  const { text, nextMsgId } = outbox.finish();
  return { update: { initRequest: null, nextMsgId }, text };
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
  const outbox = new Outbox(context);
  let flushWaiter = context.flushWaiter;
  let served = 0;
  for (const envelope of context.pending) {
    if (flushWaiter !== null) break;
    if (WRITES.has(envelope.body.type) && store.writesStalled) break;
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
  // Group commit: one WAL write (and fdatasync) for everything served above, before any reply leaves.
  let walError: unknown;
  if (served > 0) {
    try {
      store.commitWal();
    } catch (error) {
      walError = error;
    }
  }
  const { text, nextMsgId } = outbox.finish(walError);
  return { update: { pending: context.pending.slice(served), nextMsgId, flushWaiter }, text };
}

/** A flush finished and was installed: answers the sstable_flush that waited for it, if any. */
export function answerFlushWaiter(context: NodeContext, flushed: FlushedTable): Served {
  const waiter = context.flushWaiter;
  if (waiter === null || waiter.memtableId !== flushed.memtable.id) return { update: {}, text: '' };
  const outbox = new Outbox(context);
  outbox.reply(waiter.envelope, {
    type: 'sstable_flush_ok',
    sstable_file: flushed.file,
    entries: flushed.properties.entries,
    bloom_filter_bits: flushed.properties.bloomFilterBits,
    size_bytes: flushed.properties.sizeBytes,
  });
  const { text, nextMsgId } = outbox.finish();
  return { update: { flushWaiter: null, nextMsgId }, text };
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
