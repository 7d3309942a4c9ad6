import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { runNodes } from '../../src/actors/runtime.js';
import { nodeFileSystem } from '../../src/storage/fileSystem.js';
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
    node: { dataRoot: freshDir(), memtableMaxBytes: 1 << 20, maxImmutable: 4, fs: nodeFileSystem },
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
});
