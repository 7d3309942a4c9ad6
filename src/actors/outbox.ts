/**
 * How replies leave: an Outbox collects one serving pass's replies and
 * numbers and encodes them at once; they leave when they may, which with
 * `--sync always` is once the WAL sync covering their writes is over.
 *
 * Invariants:
 *   (1) Replies leave in the order their requests arrived. A batch that
 *       cannot leave yet is held (context.held, oldest first), and while
 *       anything is held every later batch is held behind it, even one that
 *       needs no sync (a read-only batch, a flush's answer).
 *   (2) A held batch is `waiting` (its records are written, no sync covering
 *       them has started), `syncing` (the sync in flight covers them) or
 *       `ready`; only a ready prefix of `held` is released. msg_ids are given
 *       when a batch is served, and batches leave in that order, so msg_ids
 *       count up in the order replies leave.
 *   (3) No reply that reports stored data leaves before every write it could
 *       have seen is durable: a batch served while records are unsynced
 *       waits for a sync that starts after it, whether or not it wrote.
 *   (4) A held batch keeps its encoded text and the line numbers of its
 *       WAL-dependent replies, not its requests and reply objects, so those
 *       die young (held across a sync, they were promoted, which cost ~0.15 s
 *       of CPU on a 200k-message run).
 */
import { type EncodedBody, encodeReply, errorBody } from '../protocol/encode.js';
import type { Envelope } from '../protocol/envelope.js';
import { ErrorCode, toMaelstromError } from '../protocol/errors.js';
import { type NodeContext, servingState } from './nodeContext.js';

export interface Served {
  update: Partial<NodeContext>;
  /** Reply lines, each ending in '\n': one string per serving pass (see Output in nodeContext.ts). */
  text: string;
}

/** A reply's body: an object, or for the hot replies already encoded (EncodedBody). */
export type ReplyBody = ({ type: string } & Record<string, unknown>) | EncodedBody;

interface Reply {
  request: Envelope;
  body: ReplyBody;
  /** Its content depends on writes that must be in the WAL before it may leave. */
  needsWal: boolean;
}

/** A batch's replies, numbered and encoded: lines ending in '\n'. */
export interface EncodedBatch {
  text: string;
  /** Line numbers (from 0) of the replies that depend on the WAL. */
  walDependent: number[];
}

/** A batch's replies that may not leave yet; see (2). */
export interface HeldBatch extends EncodedBatch {
  state: 'waiting' | 'syncing' | 'ready';
  /** Its WAL write or sync failed: replies that depend on the WAL answer 13 (see failWalDependents). */
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

  /** Numbers the replies from context.nextMsgId on and encodes them, noting those that depend on the WAL. */
  encode(context: NodeContext): EncodedBatch & { nextMsgId: number } {
    let nextMsgId = context.nextMsgId;
    const debug = context.log.isLevelEnabled('debug');
    const walDependent: number[] = [];
    // One slot more, left '': joined, the text ends in '\n' without a second copy of it.
    const lines: string[] = new Array(this.replies.length + 1).fill('');
    for (let i = 0; i < this.replies.length; i++) {
      const { request, body, needsWal } = this.replies[i];
      const msgId = nextMsgId++;
      const inReplyTo = request.body.msg_id;
      if (debug) context.log.debug({ msg_id: msgId, in_reply_to: inReplyTo, type: body.type, dest: request.src, state: servingState(context) }, 'reply');
      lines[i] = encodeReply(context.nodeId, request.src, body, msgId, inReplyTo);
      if (needsWal) walDependent.push(i);
    }
    return { text: this.replies.length === 0 ? '' : lines.join('\n'), walDependent, nextMsgId };
  }

  /** encode, then, if the WAL commit failed, failWalDependents. */
  finish(context: NodeContext, walError?: unknown): { text: string; nextMsgId: number } {
    const encoded = this.encode(context);
    return { text: walError === undefined ? encoded.text : failWalDependents(context, encoded, walError), nextMsgId: encoded.nextMsgId };
  }
}

/**
 * The WAL commit covering `batch` failed: its replies that depended on it
 * become error 13, under the same msg_ids. Their writes may or may not
 * survive, and no read may report a value that a crash could take back.
 */
function failWalDependents(context: NodeContext, batch: EncodedBatch, walError: unknown): string {
  const failure = errorBody(toMaelstromError(walError));
  context.log.error({ err: walError }, 'write-ahead log commit failed; replies that depend on it answer 13');
  if (batch.walDependent.length === 0) return batch.text;
  // Reply lines hold no raw newline (JSON escapes it), so splitting gives back exactly the lines;
  // each names its client and ids, so the error takes its place under the same msg_id.
  const lines = batch.text.split('\n');
  for (const line of batch.walDependent) {
    const { dest, body } = JSON.parse(lines[line]) as { dest: string; body: { msg_id: number; in_reply_to?: number } };
    context.log.debug({ msg_id: body.msg_id, in_reply_to: body.in_reply_to, type: failure.type, dest }, 'reply replaced');
    lines[line] = encodeReply(context.nodeId, dest, failure, body.msg_id, body.in_reply_to);
  }
  return lines.join('\n');
}

/**
 * Sends `outbox` now if nothing is held and it is `ready`, else holds it
 * behind what is (1). `update` carries the caller's other context changes.
 */
export function deliver(context: NodeContext, outbox: Outbox, batch: Pick<HeldBatch, 'state' | 'walError'>, update: Partial<NodeContext> = {}): Served {
  if (outbox.empty) return { update, text: '' };
  if (context.held.length === 0 && batch.state === 'ready') {
    const { text, nextMsgId } = outbox.finish(context, batch.walError);
    return { update: { ...update, nextMsgId }, text };
  }
  const { nextMsgId, ...encoded } = outbox.encode(context);
  return { update: { ...update, nextMsgId, held: [...context.held, { ...encoded, ...batch }] }, text: '' };
}

/** True iff a WAL sync is in flight: exactly while some held batch is covered by it (2). */
export function syncInFlight(held: HeldBatch[]): boolean {
  return held.some((batch) => batch.state === 'syncing');
}

/** The batches that waited for a sync, now covered by the one starting. */
export function startSyncing(held: HeldBatch[]): HeldBatch[] {
  return held.map((batch) => (batch.state === 'waiting' ? { ...batch, state: 'syncing' } : batch));
}

/** The sync in flight ended (`walError` if it failed): its batches are ready, and the ready prefix leaves (2). */
export function releaseSynced(context: NodeContext, walError?: unknown): Served {
  const held = context.held.map((batch): HeldBatch => (batch.state === 'syncing' ? { ...batch, state: 'ready', walError: batch.walError ?? walError } : batch));
  let text = '';
  let released = 0;
  for (; released < held.length && held[released].state === 'ready'; released++) {
    const batch = held[released];
    text += batch.walError === undefined ? batch.text : failWalDependents(context, batch, batch.walError);
  }
  return { update: { held: held.slice(released) }, text };
}
