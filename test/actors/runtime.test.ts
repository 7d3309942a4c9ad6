import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { MAX_WAITING_BATCHES } from '../../src/actors/nodeActor.js';
import { runNodes } from '../../src/actors/runtime.js';
import { DEFAULT_COMPACTION_OPTIONS } from '../../src/storage/compaction/compactor.js';
import { nodeFileSystem } from '../../src/storage/env/fileSystem.js';
import { gatedSyncs } from '../support/gatedSyncs.js';
import { useTempDirs } from '../support/tempDirs.js';

const freshDir = useTempDirs('runtime-test');

type Message = { src: string; dest: string; body: Record<string, unknown> };

/** Runs the runtime in-process: each inner array is one stdin chunk (one batch). */
async function run(chunks: Message[][], limits: { maxRetiredCounters?: number; maxNodes?: number } = {}) {
  const replies: Message[] = [];
  const output = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) if (line !== '') replies.push(JSON.parse(line));
      callback();
    },
  });
  const logs: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line)) });
  async function* input() {
    for (const chunk of chunks) yield Buffer.from(chunk.map((message) => JSON.stringify(message) + '\n').join(''));
  }
  await runNodes({
    input: input(),
    output,
    log,
    maxLineBytes: 1 << 20,
    ...limits,
    node: { dataRoot: freshDir(), memtableMaxBytes: 1 << 20, maxImmutable: 4, fs: nodeFileSystem, compaction: DEFAULT_COMPACTION_OPTIONS },
  });
  return { replies, retired: logs.filter((line) => line.msg === 'node retired') };
}

const get = (dest: string, msgId: number): Message => ({ src: 'c1', dest, body: { type: 'memtable_get', msg_id: msgId, key: 'k' } });
const init = (dest: string, msgId: number): Message => ({ src: 'c0', dest, body: { type: 'init', msg_id: msgId, node_id: dest, node_ids: [dest] } });

describe('runtime', () => {
  it('retires a node that never initialized after each chunk; its msg_ids carry on when it is messaged again', async () => {
    const { replies, retired } = await run([[get('n1', 1), get('n1', 2)], [get('n1', 3)], [init('n1', 4), get('n1', 5)], [get('n1', 6)]]);
    expect(replies.map((reply) => [reply.src, reply.body.type, reply.body.msg_id, reply.body.in_reply_to])).toEqual([
      ['n1', 'error', 0, 1],
      ['n1', 'error', 1, 2],
      ['n1', 'error', 2, 3],
      ['n1', 'init_ok', 3, 4],
      ['n1', 'memtable_get_ok', 4, 5],
      ['n1', 'memtable_get_ok', 5, 6],
    ]);
    // Retired after chunks 1 and 2; once initialized it stays.
    expect(retired.map((line) => [line.node_id, line.next_msg_id, line.batch])).toEqual([
      ['n1', 2, 1],
      ['n1', 3, 2],
    ]);
  });

  it('keeps no actor per junk dest, and at most maxRetiredCounters counters (the oldest is forgotten)', async () => {
    const chunks = [[get('x1', 1), get('x2', 2), get('x3', 3)], [get('x1', 4)], [get('x4', 5)], [get('x1', 6), get('x2', 7)]];
    const { replies, retired } = await run(chunks, { maxRetiredCounters: 2 });
    expect(retired).toHaveLength(7); // every actor, each time, once its chunk is answered
    // Counters kept: after chunk 1 {x2, x3} (x1 forgotten), chunk 2 {x3, x1}, chunk 3 {x1, x4}.
    expect(replies.map((reply) => [reply.src, reply.body.msg_id])).toEqual([
      ['x1', 0],
      ['x2', 0],
      ['x3', 0],
      ['x1', 0],
      ['x4', 0],
      ['x1', 1],
      ['x2', 0],
    ]);
  });

  it('answers 10 to an init past maxNodes, counting nodes whose store is open or opening', async () => {
    const { replies } = await run([[init('n1', 1), init('n2', 2), init('n3', 3)], [get('n3', 4), init('n3', 5), init('n1', 6)]], { maxNodes: 2 });
    // Order holds per node only: n1 and n2 answer once their stores are open.
    const from = (node: string) => replies.filter((reply) => reply.src === node).map((reply) => [reply.body.type, reply.body.code ?? null, reply.body.msg_id]);
    expect(from('n1')).toEqual([['init_ok', null, 0], ['init_ok', null, 1]]);
    expect(from('n2')).toEqual([['init_ok', null, 0]]);
    expect(from('n3')).toEqual([['error', 10, 0], ['error', 11, 1], ['error', 10, 2]]);
    const refusal = replies.find((reply) => reply.body.code === 10)!;
    expect(refusal.body.text).toMatch(/--max-nodes/);
  });

  it('with --sync always serves chunks while a WAL sync runs, up to MAX_WAITING_BATCHES, which the next sync covers at once', async () => {
    const { fs, gates } = gatedSyncs();
    const put = (msgId: number): Message => ({ src: 'c1', dest: 'n1', body: { type: 'memtable_put', msg_id: msgId, key: `k${msgId}`, value: msgId } });
    const puts = MAX_WAITING_BATCHES + 3;
    const chunks = [[init('n1', 1)], ...Array.from({ length: puts }, (_, i) => [put(2 + i)])];
    let pulled = 0;
    async function* input() {
      for (const chunk of chunks) {
        pulled++;
        yield Buffer.from(chunk.map((message) => JSON.stringify(message) + '\n').join(''));
      }
    }
    const replies: Message[] = [];
    const output = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (const line of chunk.toString().split('\n')) if (line !== '') replies.push(JSON.parse(line));
        callback();
      },
    });
    const done = runNodes({
      input: input(),
      output,
      log: pino({ level: 'silent' }),
      maxLineBytes: 1 << 20,
      node: { dataRoot: freshDir(), memtableMaxBytes: 1 << 20, maxImmutable: 4, fs, wal: { sync: true }, compaction: DEFAULT_COMPACTION_OPTIONS },
    });
    await vi.waitFor(() => expect(gates).toHaveLength(1)); // the first put's sync
    await vi.waitFor(() => expect(pulled).toBe(2 + MAX_WAITING_BATCHES));
    await new Promise((resolve) => setTimeout(resolve, 50)); // time to take more input, had it been allowed
    expect(pulled).toBe(2 + MAX_WAITING_BATCHES); // init, the put syncing, and as many waiting as allowed
    expect(replies.map((reply) => reply.body.in_reply_to)).toEqual([1]);
    gates[0].pass();
    // One sync for every batch that waited, then one for the rest.
    await vi.waitFor(() => expect(gates).toHaveLength(2));
    await vi.waitFor(() => expect(replies).toHaveLength(2));
    gates[1].pass();
    await vi.waitFor(() => expect(gates).toHaveLength(3));
    expect(replies).toHaveLength(2 + MAX_WAITING_BATCHES);
    gates[2].pass();
    await done;
    expect(gates).toHaveLength(3);
    expect(replies.map((reply) => [reply.body.type, reply.body.in_reply_to])).toEqual([
      ['init_ok', 1],
      ...Array.from({ length: puts }, (_, i) => ['memtable_put_ok', 2 + i]),
    ]);
  });
});
