/**
 * Maelstrom's lin-kv workload through the CLI: a local model of its client
 * (random read, write and cas on a few integer keys, as Maelstrom's lin-kv
 * generator makes them) checked reply by reply against a Map.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Envelope, init, replyTo, request, runCli } from './cli.js';

type LinKvOp =
  | { f: 'read'; key: number }
  | { f: 'write'; key: number; value: number }
  | { f: 'cas'; key: number; from: number; to: number };

const opArb: fc.Arbitrary<LinKvOp> = fc.oneof(
  fc.record({ f: fc.constant('read' as const), key: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ f: fc.constant('write' as const), key: fc.integer({ min: 0, max: 4 }), value: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ f: fc.constant('cas' as const), key: fc.integer({ min: 0, max: 4 }), from: fc.integer({ min: 0, max: 4 }), to: fc.integer({ min: 0, max: 4 }) }),
);

/** What a single linearizable register per key must answer, applied in order. */
function expectedReply(model: Map<number, number>, op: LinKvOp): Record<string, unknown> {
  const current = model.get(op.key);
  switch (op.f) {
    case 'read':
      return current === undefined ? { type: 'error', code: 20 } : { type: 'read_ok', value: current };
    case 'write':
      model.set(op.key, op.value);
      return { type: 'write_ok' };
    case 'cas':
      if (current === undefined) return { type: 'error', code: 20 };
      if (current !== op.from) return { type: 'error', code: 22 };
      model.set(op.key, op.to);
      return { type: 'cas_ok' };
  }
}

describe('lin-kv', () => {
  it('answers random read/write/cas like a linearizable register per key (model of the workload client)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 50, maxLength: 400 }), async (ops) => {
        const input: Envelope[] = [init()];
        ops.forEach((op, i) => input.push(request(10 + i, op.f, { ...op, f: undefined })));
        // Small MemTables so registers also live in frozen MemTables and SSTables.
        const run = await runCli(input, { args: ['--memtable-max-bytes', '512'] });
        const model = new Map<number, number>();
        ops.forEach((op, i) => expect(replyTo(run, 10 + i)).toMatchObject(expectedReply(model, op)));
      }),
      { numRuns: 8 },
    );
  });

  it('supports string keys, create_if_not_exists, JSON-equal cas and shares the store with memtable_*', async () => {
    const run = await runCli([
      init(),
      request(2, 'cas', { key: 'x', from: 1, to: 2 }),
      request(3, 'cas', { key: 'x', from: 1, to: { a: [1, 2] }, create_if_not_exists: true }),
      request(4, 'read', { key: 'x' }),
      request(5, 'cas', { key: 'x', from: { a: [1, 2.0] }, to: 'done' }),
      request(6, 'read', { key: 'x' }),
      request(7, 'write', { key: 7, value: 'seven' }),
      request(8, 'memtable_get', { key: '7' }),
      request(9, 'cas', { key: 7, from: 'eight', to: 'nine' }),
      request(10, 'read', { key: 'missing' }),
      request(11, 'read', { key: 1.5 }),
    ]);
    expect(replyTo(run, 2)).toMatchObject({ type: 'error', code: 20 });
    expect(replyTo(run, 3)).toMatchObject({ type: 'cas_ok' });
    expect(replyTo(run, 4)).toMatchObject({ type: 'read_ok', value: { a: [1, 2] } });
    expect(replyTo(run, 5)).toMatchObject({ type: 'cas_ok' });
    expect(replyTo(run, 6)).toMatchObject({ type: 'read_ok', value: 'done' });
    expect(replyTo(run, 8)).toMatchObject({ found: true, value: 'seven' });
    expect(replyTo(run, 9)).toMatchObject({ type: 'error', code: 22 });
    expect(replyTo(run, 10)).toMatchObject({ type: 'error', code: 20 });
    expect(replyTo(run, 11)).toMatchObject({ type: 'error', code: 12 });
  });

  it('compares numbers in cas by exact decimal value, however many digits', async () => {
    // Raw lines: JSON.stringify would round these numbers before they reach the node.
    const cas = (msgId: number, from: string, to: string): string =>
      `{"src":"c1","dest":"n1","body":{"type":"cas","msg_id":${msgId},"key":"big","from":${from},"to":${to}}}`;
    const run = await runCli([
      init(),
      '{"src":"c1","dest":"n1","body":{"type":"write","msg_id":2,"key":"big","value":[12345678901234567890, 1.0]}}',
      cas(3, '[12345678901234567891, 1]', '"wrong"'),
      cas(4, '[1234567890123456789e1, 10e-1]', '1e0'),
      cas(5, '1.000', '0'),
      '{"src":"c1","dest":"n1","body":{"type":"read","msg_id":6,"key":"big"}}',
    ]);
    expect(replyTo(run, 3)).toMatchObject({ type: 'error', code: 22 });
    expect(replyTo(run, 4)).toMatchObject({ type: 'cas_ok' });
    expect(replyTo(run, 5)).toMatchObject({ type: 'cas_ok' });
    expect(run.lines.find((line) => line.includes('"in_reply_to":6'))).toContain('"value":0');
  });
});
