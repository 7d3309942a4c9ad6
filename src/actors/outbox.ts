/**
 * How replies leave: an Outbox collects one serving pass's replies; they are
 * numbered and encoded (finish) only when they may leave, which with
 * `--sync always` is once the WAL sync covering their writes is over.
 *
 * Invariants:
 *   (1) Replies leave in the order their requests arrived. A batch that
 *       cannot leave yet is held (context.held, oldest first), and while
 *       anything is held every later batch is held behind it, even one that
 *       needs no sync (a read-only batch, a flush's answer).
 *   (2) A held batch is `waiting` (its records are written, no sync covering
 *       them has started), `syncing` (the sync in flight covers them) or
 *       `ready`; only a ready prefix of `held` is released, and msg_ids are
 *       given at release, so they count up in the order replies leave.
 *   (3) No reply that reports stored data leaves before every write it could
 *       have seen is durable: a batch served while records are unsynced
 *       waits for a sync that starts after it, whether or not it wrote.
 */
import { encodeReply, errorBody } from '../protocol/encode.js';
import type { Envelope } from '../protocol/envelope.js';
import { ErrorCode, toMaelstromError } from '../protocol/errors.js';
import { type NodeContext, servingState } from './nodeContext.js';

export interface Served {
  update: Partial<NodeContext>;
  /** Reply lines, each ending in '\n': one string per serving pass (see Output in nodeContext.ts). */
  text: string;
}

export type ReplyBody = { type: string } & Record<string, unknown>;

interface Reply {
  request: Envelope;
  body: ReplyBody;
  /** Its content depends on writes that must be in the WAL before it may leave. */
  needsWal: boolean;
}

/** A batch's replies that may not leave yet; see (2). */
export interface HeldBatch {
  outbox: Outbox;
  state: 'waiting' | 'syncing' | 'ready';
  /** Its WAL write or sync failed: replies that depend on the WAL answer 13 (see Outbox.finish). */
  walError?: unknown;
}

/** Collects one serving pass's replies, then numbers and encodes them in order. */
export class Outbox {
  private readonly replies: Reply[] = [];

  constructor(private readonly log: NodeContext['log']) {}

  get empty(): boolean {
    return this.replies.length === 0;
  }

  reply(request: Envelope, body: ReplyBody, needsWal = false): void {
    this.replies.push({ request, body, needsWal });
  }

  fail(request: Envelope, error: unknown, needsWal = false): void {
    const maelstrom = toMaelstromError(error);
    if (maelstrom.code === ErrorCode.Crash) {
      this.log.error({ err: error, msg_id: request.body.msg_id, type: request.body.type }, 'request failed');
    }
    this.reply(request, errorBody(maelstrom), needsWal);
  }

  /**
   * Encodes the replies with msg_ids from context.nextMsgId on. When the WAL
   * commit failed (`walError`), replies that depended on it become error 13:
   * their writes may or may not survive, and no read may report a value
   * that a crash could take back.
   */
  finish(context: NodeContext, walError?: unknown): { text: string; nextMsgId: number } {
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

/**
 * Sends `outbox` now if nothing is held and it is `ready`, else holds it
 * behind what is (1). `update` carries the caller's other context changes.
 */
export function deliver(context: NodeContext, outbox: Outbox, batch: Omit<HeldBatch, 'outbox'>, update: Partial<NodeContext> = {}): Served {
  if (outbox.empty) return { update, text: '' };
  if (context.held.length === 0 && batch.state === 'ready') {
    const { text, nextMsgId } = outbox.finish(context, batch.walError);
    return { update: { ...update, nextMsgId }, text };
  }
  return { update: { ...update, held: [...context.held, { outbox, ...batch }] }, text: '' };
}

/** The batches that waited for a sync, now covered by the one starting. */
export function startSyncing(held: HeldBatch[]): HeldBatch[] {
  return held.map((batch) => (batch.state === 'waiting' ? { ...batch, state: 'syncing' } : batch));
}

/** The sync in flight ended (`walError` if it failed): its batches are ready, and the ready prefix leaves (2). */
export function releaseSynced(context: NodeContext, walError?: unknown): Served {
  const held = context.held.map((batch): HeldBatch => (batch.state === 'syncing' ? { ...batch, state: 'ready', walError: batch.walError ?? walError } : batch));
  let nextMsgId = context.nextMsgId;
  let text = '';
  let released = 0;
  for (; released < held.length && held[released].state === 'ready'; released++) {
    const { outbox, walError: failure } = held[released];
    const finished = outbox.finish({ ...context, nextMsgId }, failure);
    nextMsgId = finished.nextMsgId;
    text += finished.text;
  }
  return { update: { held: held.slice(released), nextMsgId }, text };
}
