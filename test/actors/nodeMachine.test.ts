/** The node machine's transitions, driven directly (no CLI). */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createActor, waitFor } from 'xstate';
import { flushRetryDelayMs, nodeMachine } from '../../src/actors/nodeMachine.js';
import { parseEnvelope, type Envelope } from '../../src/protocol/envelope.js';
import { type FileSystem, nodeFileSystem } from '../../src/storage/fileSystem.js';
import { useTempDirs } from '../support/tempDirs.js';

const freshDir = useTempDirs('machine-test');

function envelope(body: Record<string, unknown>, src = 'c1'): Envelope {
  const parsed = parseEnvelope(JSON.stringify({ src, dest: 'n1', body }));
  if ('malformed' in parsed) throw new Error(parsed.malformed);
  return parsed;
}

const initEnvelope = () => envelope({ type: 'init', msg_id: 1, node_id: 'n1', node_ids: ['n1'] }, 'c0');

function startNode(options: { memtableMaxBytes?: number; maxImmutable?: number; fs?: FileSystem } = {}) {
  const dataRoot = freshDir();
  const actor = createActor(nodeMachine, {
    input: {
      nodeId: 'n1',
      log: pino({ level: 'silent' }),
      options: { dataRoot, memtableMaxBytes: options.memtableMaxBytes ?? 1 << 20, maxImmutable: options.maxImmutable ?? 4, fs: options.fs ?? nodeFileSystem },
    },
  });
  const out: Array<{ body: Record<string, unknown> }> = [];
  const states: string[] = [];
  let written: unknown = null;
  actor.subscribe((snapshot) => {
    const { output } = snapshot.context;
    if (output !== null && output !== written) {
      written = output;
      out.push(...output.text.trimEnd().split('\n').map((line) => JSON.parse(line)));
    }
    const state = JSON.stringify(snapshot.value);
    if (states[states.length - 1] !== state) states.push(state);
  });
  actor.start();
  const send = (...envelopes: Envelope[]) => actor.send({ type: 'requests', envelopes });
  return { actor, out, states, send };
}

describe('node machine', () => {
  it('goes uninitialized -> recovering -> ready and answers requests queued behind init in order', async () => {
    const { actor, out, states, send } = startNode();
    send(
      envelope({ type: 'memtable_get', msg_id: 0, key: 'early' }),
      initEnvelope(),
      envelope({ type: 'memtable_put', msg_id: 2, key: 'a', value: 1 }),
      envelope({ type: 'memtable_get', msg_id: 3, key: 'a' }),
    );
    expect(actor.getSnapshot().value).toBe('recovering');
    await waitFor(actor, (s) => s.matches('ready') && s.context.pending.length === 0);
    expect(states).toEqual(['"uninitialized"', '"recovering"', '"ready"']);
    expect(out.map((m) => [m.body.type, m.body.msg_id, m.body.in_reply_to])).toEqual([
      ['error', 0, 0],
      ['init_ok', 1, 1],
      ['memtable_put_ok', 2, 2],
      ['memtable_get_ok', 3, 3],
    ]);
    actor.stop();
  });

  it('enters flushing when a write freezes the MemTable and returns to ready once it is on disk', async () => {
    const { actor, states, send } = startNode({ memtableMaxBytes: 64 });
    send(initEnvelope());
    await waitFor(actor, (s) => s.matches('ready'));
    send(envelope({ type: 'memtable_put', msg_id: 2, key: 'a', value: 'x'.repeat(40) }));
    await waitFor(actor, (s) => s.matches('ready') && s.context.store!.stats().sstables.length === 1);
    expect(states.slice(2)).toEqual(['"ready"', '{"flushing":"writing"}', '"ready"']);
    actor.stop();
  });

  it('stalls writes at --max-immutable and serves them in order after the flush', async () => {
    const { actor, out, send } = startNode({ memtableMaxBytes: 64, maxImmutable: 1 });
    send(initEnvelope());
    await waitFor(actor, (s) => s.matches('ready'));
    send(
      envelope({ type: 'memtable_put', msg_id: 2, key: 'a', value: 'x'.repeat(40) }),
      envelope({ type: 'memtable_put', msg_id: 3, key: 'b', value: 1 }),
      envelope({ type: 'memtable_get', msg_id: 4, key: 'a' }),
    );
    // The second put waits for the first MemTable's flush; the get waits behind it.
    expect(actor.getSnapshot().context.pending.map((e) => e.body.msg_id)).toEqual([3, 4]);
    await waitFor(actor, (s) => s.context.pending.length === 0);
    expect(out.slice(1).map((m) => m.body.in_reply_to)).toEqual([2, 3, 4]);
    expect(out[3].body).toMatchObject({ found: true, value: 'x'.repeat(40), source: 'sstable' });
    actor.stop();
  });

  it('keeps the MemTable and retries with backoff when a flush fails', async () => {
    let failures = 2;
    const failingFs: FileSystem = {
      ...nodeFileSystem,
      async createWritable(path) {
        if (path.endsWith('.sst.tmp') && failures-- > 0) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        return nodeFileSystem.createWritable(path);
      },
    };
    const { actor, out, states, send } = startNode({ fs: failingFs });
    send(initEnvelope());
    await waitFor(actor, (s) => s.matches('ready'));
    send(envelope({ type: 'memtable_put', msg_id: 2, key: 'a', value: 1 }), envelope({ type: 'sstable_flush', msg_id: 3 }));
    await waitFor(actor, (s) => s.context.flushWaiter === null && s.matches('ready'), { timeout: 5000 });
    expect(states.filter((s) => s.includes('backoff'))).toHaveLength(2);
    expect(out.at(-1)!.body).toMatchObject({ type: 'sstable_flush_ok', in_reply_to: 3, sstable_file: 'L0_000003.sst', entries: 1 });
    expect(flushRetryDelayMs(1)).toBe(100);
    expect(flushRetryDelayMs(2)).toBe(200);
    expect(flushRetryDelayMs(20)).toBe(5000);
    actor.stop();
  });

  it('answers init with 13 and stays uninitialized when the store cannot open', async () => {
    const brokenFs: FileSystem = { ...nodeFileSystem, mkdirp: async () => Promise.reject(Object.assign(new Error('EIO'), { code: 'EIO' })) };
    const { actor, out, send } = startNode({ fs: brokenFs });
    send(initEnvelope(), envelope({ type: 'memtable_get', msg_id: 2, key: 'a' }));
    await waitFor(actor, (s) => s.matches('uninitialized') && s.context.pending.length === 0);
    expect(out.map((m) => [m.body.type, m.body.code])).toEqual([
      ['error', 13],
      ['error', 11],
    ]);
    actor.stop();
  });
});
