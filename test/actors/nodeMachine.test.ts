/** The node machine's transitions, driven directly (no CLI). */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createActor, waitFor } from 'xstate';
import { nodeMachine, retryDelayMs } from '../../src/actors/nodeMachine.js';
import { syncInFlight } from '../../src/actors/outbox.js';
import { parseEnvelope, type Envelope } from '../../src/protocol/envelope.js';
import { DEFAULT_COMPACTION_OPTIONS } from '../../src/storage/compaction/compactor.js';
import { type FileSystem, nodeFileSystem } from '../../src/storage/env/fileSystem.js';
import { gatedSyncs } from '../support/gatedSyncs.js';
import { useTempDirs } from '../support/tempDirs.js';

const freshDir = useTempDirs('machine-test');

function envelope(body: Record<string, unknown>, src = 'c1'): Envelope {
  const parsed = parseEnvelope(JSON.stringify({ src, dest: 'n1', body }));
  if ('malformed' in parsed) throw new Error(parsed.malformed);
  return parsed;
}

/** Open, and no flush under way: what `ready` was before open became a parallel state. */
const ready = (snapshot: { matches: (value: { open: { flush: 'idle' } }) => boolean }): boolean => snapshot.matches({ open: { flush: 'idle' } });
const OPEN = '{"open":{"flush":"idle","compaction":"idle","writes":"flowing"}}';
const FLUSHING = '{"open":{"flush":"writing","compaction":"idle","writes":"flowing"}}';

const initEnvelope = () => envelope({ type: 'init', msg_id: 1, node_id: 'n1', node_ids: ['n1'] }, 'c0');

function startNode(options: { memtableMaxBytes?: number; maxImmutable?: number; fs?: FileSystem; wal?: { sync: boolean }; dataRoot?: string } = {}) {
  const dataRoot = options.dataRoot ?? freshDir();
  const actor = createActor(nodeMachine, {
    input: {
      nodeId: 'n1',
      log: pino({ level: 'silent' }),
      options: {
        dataRoot,
        memtableMaxBytes: options.memtableMaxBytes ?? 1 << 20,
        maxImmutable: options.maxImmutable ?? 4,
        fs: options.fs ?? nodeFileSystem,
        wal: options.wal,
        compaction: DEFAULT_COMPACTION_OPTIONS,
      },
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
    await waitFor(actor, (s) => ready(s) && s.context.pending.length === 0);
    expect(states).toEqual(['"uninitialized"', '"recovering"', OPEN]);
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
    await waitFor(actor, (s) => ready(s));
    send(envelope({ type: 'memtable_put', msg_id: 2, key: 'a', value: 'x'.repeat(40) }));
    await waitFor(actor, (s) => ready(s) && s.context.store!.stats().sstables.length === 1);
    expect(states.slice(2)).toEqual([OPEN, FLUSHING, OPEN]);
    actor.stop();
  });

  it('stalls writes at --max-immutable and serves them in order after the flush', async () => {
    const { actor, out, send } = startNode({ memtableMaxBytes: 64, maxImmutable: 1 });
    send(initEnvelope());
    await waitFor(actor, (s) => ready(s));
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
    await waitFor(actor, (s) => ready(s));
    send(envelope({ type: 'memtable_put', msg_id: 2, key: 'a', value: 1 }), envelope({ type: 'sstable_flush', msg_id: 3 }));
    await waitFor(actor, (s) => s.context.flushWaiter === null && ready(s), { timeout: 5000 });
    expect(states.filter((s) => s.includes('backoff'))).toHaveLength(2);
    expect(out.at(-1)!.body).toMatchObject({ type: 'sstable_flush_ok', in_reply_to: 3, sstable_file: 'L0_000003.sst', entries: 1 });
    expect(retryDelayMs(1)).toBe(100);
    expect(retryDelayMs(2)).toBe(200);
    expect(retryDelayMs(20)).toBe(5000);
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

  describe('with --sync always: the WAL sync runs while the next batch is served', () => {
    const replies = (out: Array<{ body: Record<string, unknown> }>) => out.map(({ body }) => [body.type, body.msg_id, body.in_reply_to, body.value ?? body.code]);

    it('holds replies until the sync covering them, serves the next batch meanwhile, and sends all in order', async () => {
      const { fs, gates } = gatedSyncs();
      const { actor, out, send } = startNode({ fs, wal: { sync: true } });
      send(initEnvelope());
      await waitFor(actor, (s) => ready(s));
      send(envelope({ type: 'memtable_put', msg_id: 2, key: 'a', value: 1 }));
      expect(gates).toHaveLength(1);
      // Served, not answered: the get reads the unsynced put, so it must wait too, behind the put.
      send(envelope({ type: 'memtable_get', msg_id: 3, key: 'a' }), envelope({ type: 'memtable_put', msg_id: 4, key: 'b', value: 2 }));
      expect(actor.getSnapshot().context.pending).toEqual([]);
      expect(actor.getSnapshot().context.held.map((batch) => batch.state)).toEqual(['syncing', 'waiting']);
      expect(gates).toHaveLength(1); // one sync at a time
      expect(replies(out)).toEqual([['init_ok', 0, 1, undefined]]);

      gates[0].pass();
      await waitFor(actor, (s) => s.context.held.length === 1 && syncInFlight(s.context.held));
      expect(replies(out).slice(1)).toEqual([['memtable_put_ok', 1, 2, undefined]]);
      expect(gates).toHaveLength(2);
      gates[1].pass();
      await waitFor(actor, (s) => s.context.held.length === 0 && !syncInFlight(s.context.held));
      expect(replies(out).slice(2)).toEqual([
        ['memtable_get_ok', 2, 3, 1],
        ['memtable_put_ok', 3, 4, undefined],
      ]);
      actor.stop();
    });

    it('sends a finished sstable_flush only after the replies held before it', async () => {
      const { fs, gates } = gatedSyncs();
      const { actor, out, send } = startNode({ fs, wal: { sync: true } });
      send(initEnvelope());
      await waitFor(actor, (s) => ready(s));
      send(envelope({ type: 'memtable_put', msg_id: 2, key: 'a', value: 1 }), envelope({ type: 'sstable_flush', msg_id: 3 }));
      // The flush is on disk (its own fdatasync is not the WAL's), and its MemTable's segment retired mid-sync.
      await waitFor(actor, (s) => s.context.flushWaiter === null && ready(s));
      expect(replies(out)).toEqual([['init_ok', 0, 1, undefined]]);
      gates[0].pass();
      await waitFor(actor, (s) => s.context.held.length === 0 && !syncInFlight(s.context.held));
      expect(replies(out).slice(1)).toEqual([
        ['memtable_put_ok', 1, 2, undefined],
        ['sstable_flush_ok', 2, 3, undefined],
      ]);
      actor.stop();
    });

    it('answers 13 for what a failed sync covered, writes its records again, and loses nothing after', async () => {
      const { fs, gates } = gatedSyncs();
      const dataRoot = freshDir();
      const first = startNode({ fs, wal: { sync: true }, dataRoot });
      first.send(initEnvelope());
      await waitFor(first.actor, (s) => ready(s));
      first.send(envelope({ type: 'memtable_put', msg_id: 2, key: 'a', value: 1 }));
      first.send(envelope({ type: 'memtable_stats', msg_id: 3 }), envelope({ type: 'memtable_put', msg_id: 4, key: 'b', value: 2 }));
      gates[0].fail();
      await waitFor(first.actor, (s) => s.context.held.length === 1 && syncInFlight(s.context.held));
      expect(replies(first.out).slice(1)).toEqual([['error', 1, 2, 13]]);
      // The next sync covers the put whose sync failed as well: both are written again and answered.
      gates[1].pass();
      await waitFor(first.actor, (s) => s.context.held.length === 0 && !syncInFlight(s.context.held));
      expect(replies(first.out).slice(2).map(([type, , inReplyTo]) => [type, inReplyTo])).toEqual([
        ['memtable_stats_ok', 3],
        ['memtable_put_ok', 4],
      ]);
      first.actor.getSnapshot().context.store!.close();
      first.actor.stop();

      const second = startNode({ dataRoot, wal: { sync: true } });
      second.send(initEnvelope(), envelope({ type: 'memtable_get', msg_id: 2, key: 'a' }), envelope({ type: 'memtable_get', msg_id: 3, key: 'b' }));
      await waitFor(second.actor, (s) => ready(s) && s.context.held.length === 0 && !syncInFlight(s.context.held) && s.context.pending.length === 0);
      expect(replies(second.out).slice(1)).toEqual([
        ['memtable_get_ok', 1, 2, 1],
        ['memtable_get_ok', 2, 3, 2],
      ]);
      second.actor.stop();
    });
  });
});
