/** Outbox: replies numbered when encoded, and a failed WAL commit turning exactly the WAL-dependent ones into error 13. */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { NodeContext } from '../../src/actors/nodeContext.js';
import { deliver, Outbox, releaseSynced } from '../../src/actors/outbox.js';
import { parseEnvelope, type Envelope } from '../../src/protocol/envelope.js';
import { RawJson } from '../../src/protocol/rawJson.js';

function envelope(msgId: number, src: string): Envelope {
  const parsed = parseEnvelope(JSON.stringify({ src, dest: 'n1', body: { type: 'memtable_get', msg_id: msgId, key: 'k' } }));
  if ('malformed' in parsed) throw new Error(parsed.malformed);
  return parsed;
}

const context = (overrides: Partial<NodeContext> = {}) => ({ nodeId: 'n1', nextMsgId: 7, held: [], log: pino({ level: 'silent' }), store: null, ...overrides }) as unknown as NodeContext;
const parse = (text: string) => text.trimEnd().split('\n').map((line) => JSON.parse(line) as { dest: string; body: Record<string, unknown> });

function threeReplies(): Outbox {
  const outbox = new Outbox(pino({ level: 'silent' }));
  outbox.reply(envelope(1, 'c1'), { type: 'memtable_get_ok', value: new RawJson('{"a": [1, "x\\ny"]}'), found: true }, true);
  outbox.reply(envelope(2, 'c2'), { type: 'memtable_stats_ok' });
  outbox.reply(envelope(3, 'c1'), { type: 'memtable_put_ok', size_bytes: 9 }, true);
  return outbox;
}

describe('Outbox', () => {
  it('numbers replies from nextMsgId and, after a failed WAL commit, answers 13 for exactly the WAL-dependent ones under the same ids', () => {
    const ok = threeReplies().finish(context());
    expect(ok.nextMsgId).toBe(10);
    expect(ok.text.endsWith('}\n')).toBe(true);
    expect(parse(ok.text).map(({ dest, body }) => [dest, body.type, body.msg_id, body.in_reply_to])).toEqual([
      ['c1', 'memtable_get_ok', 7, 1],
      ['c2', 'memtable_stats_ok', 8, 2],
      ['c1', 'memtable_put_ok', 9, 3],
    ]);

    const failed = threeReplies().finish(context(), new Error('EIO: i/o error, fdatasync'));
    expect(failed.nextMsgId).toBe(10);
    expect(parse(failed.text).map(({ dest, body }) => [dest, body.type, body.code ?? null, body.msg_id, body.in_reply_to])).toEqual([
      ['c1', 'error', 13, 7, 1],
      ['c2', 'memtable_stats_ok', null, 8, 2],
      ['c1', 'error', 13, 9, 3],
    ]);
  });

  it('holds a batch behind a held one and releases both in order once the sync ends', () => {
    const first = deliver(context(), threeReplies(), { state: 'waiting' });
    expect(first.text).toBe('');
    const afterFirst = context({ ...first.update, held: first.update.held!.map((batch) => ({ ...batch, state: 'syncing' })) });
    const second = deliver(afterFirst, threeReplies(), { state: 'ready' }); // needs no sync, but waits behind
    expect(second.text).toBe('');
    const released = releaseSynced(context({ ...afterFirst, ...second.update }));
    expect(released.update.held).toEqual([]);
    expect(parse(released.text).map(({ body }) => body.msg_id)).toEqual([7, 8, 9, 10, 11, 12]);
  });
});
