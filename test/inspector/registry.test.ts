/** The inspector's registry: inspection events in the wire shape of @statelyai/inspect in, nodes and events out. */
import { describe, expect, it } from 'vitest';
import type { LsmSummary } from '../../src/actors/lsmSummary.js';
import { MAX_EVENTS, Registry } from '../../src/inspector/registry.js';

const DEFINITION = JSON.stringify({ id: 'node', initial: 'uninitialized', states: { uninitialized: {}, recovering: {}, open: { type: 'parallel', states: { flush: {}, compaction: {} } } } });

/** The node machine's parallel `open` state (nodeMachine.ts), with its regions' states. */
const open = (flush: string, compaction = 'idle', writes = 'flowing') => ({ open: { flush, compaction, writes } });

const actor = (sessionId: string, extra: object = {}): string =>
  JSON.stringify({ type: '@xstate.actor', name: 'node', sessionId, definition: DEFINITION, snapshot: { status: 'active', value: 'recovering' }, _version: '0.7.2', ...extra });

const snapshot = (sessionId: string, value: unknown, context: object = {}): string =>
  JSON.stringify({ type: '@xstate.snapshot', sessionId, snapshot: { status: 'active', value, context }, event: { type: 'requests' }, _version: '0.7.2' });

const event = (sessionId: string, type: string): string => JSON.stringify({ type: '@xstate.event', sessionId, event: { type }, _version: '0.7.2' });

/** An LSM summary with the given files per level and compaction. */
function lsm(levels: string[][], compaction: LsmSummary['compaction'] = null): LsmSummary {
  return {
    active: { bytes: 0, maxBytes: 100, entries: 0 },
    frozen: [],
    maxFrozen: 4,
    levels: Array.from({ length: 7 }, (_, level) => ({
      level,
      files: (levels[level] ?? []).map((file) => ({ file, smallest: 'a', largest: 'z', sizeBytes: 10, entries: 1 })),
      bytes: 0,
      maxBytes: null,
      score: null,
    })),
    l0: { files: levels[0]?.length ?? 0, compactionTrigger: null, slowdownTrigger: null, stopTrigger: null },
    flush: null,
    compaction,
    stalled: false,
    counters: { userBytes: 0, flushedBytes: 0, compactedBytes: 0 },
  };
}

describe('Registry', () => {
  it('lists every root actor of every connection, labelled by node id, and leaves child actors out', () => {
    const registry = new Registry();
    const first = registry.connect();
    const second = registry.connect();
    registry.receive(first, actor('x:0'), 0);
    registry.receive(first, snapshot('x:0', open('idle'), { nodeId: 'n1', pid: 11 }), 0);
    registry.receive(first, actor('x:1'), 0);
    registry.receive(first, snapshot('x:1', open('idle'), { nodeId: 'n2', pid: 11 }), 0);
    registry.receive(first, JSON.stringify({ type: '@xstate.actor', name: 'flushOldest', sessionId: 'x:2', parentId: 'x:0', snapshot: {} }), 0);
    registry.receive(first, JSON.stringify({ type: '@xstate.snapshot', sessionId: 'x:2', rootId: 'x:0', snapshot: { status: 'done', context: {} } }), 0);
    registry.receive(first, JSON.stringify({ type: '@xstate.snapshot', sessionId: 'x:3', rootId: 'x:0', snapshot: { status: 'done', context: {} } }), 0);
    // The same session id from another process is another node.
    registry.receive(second, actor('x:0'), 0);
    registry.receive(second, snapshot('x:0', open('writing'), { nodeId: 'n1', pid: 22 }), 0);
    registry.receive(second, 'not json', 0);

    expect(registry.list().map(({ key, label, pid, value, connected }) => ({ key, label, pid, value, connected }))).toEqual([
      { key: '1/x:0', label: 'n1', pid: 11, value: open('idle'), connected: true },
      { key: '1/x:1', label: 'n2', pid: 11, value: open('idle'), connected: true },
      { key: '2/x:0', label: 'n1', pid: 22, value: open('writing'), connected: true },
    ]);
    expect(registry.detail('1/x:0', 0)?.definition).toEqual(JSON.parse(DEFINITION));
    expect(registry.detail('9/x:0', 0)).toBeUndefined();
  });

  it('marks the nodes of a closed connection gone and keeps them listed', () => {
    const registry = new Registry();
    const first = registry.connect();
    const second = registry.connect();
    registry.receive(first, actor('x:0'), 0);
    registry.receive(second, actor('x:0'), 0);
    registry.disconnect(first, 5);
    expect(registry.list().map(({ key, connected }) => ({ key, connected }))).toEqual([
      { key: '1/x:0', connected: false },
      { key: '2/x:0', connected: true },
    ]);
    expect(registry.detail('1/x:0', 5)?.events.at(-1)).toEqual({ at: 5, kind: 'event', text: 'disconnected' });
  });

  it('logs transitions (the regions that moved), flushes (new L0 files), compactions (inputs to outputs) and failures from successive snapshots, but not the busy events', () => {
    const registry = new Registry();
    const connection = registry.connect();
    registry.receive(connection, actor('x:0'), 0);
    registry.receive(connection, snapshot('x:0', 'recovering'), 0);
    registry.receive(connection, snapshot('x:0', open('idle'), { lsm: lsm([['L0_1.sst']]) }), 1);
    registry.receive(connection, event('x:0', 'requests'), 2);
    registry.receive(connection, event('x:0', 'xstate.done.actor.walSync'), 2);
    registry.receive(connection, snapshot('x:0', open('writing'), { lsm: lsm([['L0_1.sst']]) }), 3);
    // Two flushes coalesced into one snapshot are both logged: files are compared, not counted.
    registry.receive(connection, snapshot('x:0', open('idle'), { lsm: lsm([['L0_3.sst', 'L0_2.sst', 'L0_1.sst']]) }), 4);
    const compaction = { sourceLevel: 0, targetLevel: 1, inputs: ['L0_3.sst', 'L0_2.sst', 'L0_1.sst'], outputs: [] };
    registry.receive(connection, snapshot('x:0', open('idle', 'running'), { lsm: lsm([['L0_3.sst', 'L0_2.sst', 'L0_1.sst']], compaction) }), 5);
    registry.receive(connection, snapshot('x:0', open('idle'), { lsm: lsm([[], ['L1_4.sst', 'L1_5.sst']]) }), 6);
    expect(registry.detail('1/x:0', 6)?.lastCompaction).toEqual({ at: 6, sourceLevel: 0, targetLevel: 1, inputs: compaction.inputs, outputs: ['L1_4.sst', 'L1_5.sst'] });
    // A trivial move: its output is its input, new at the level below.
    const move = { sourceLevel: 1, targetLevel: 2, inputs: ['L1_4.sst'], outputs: [] };
    registry.receive(connection, snapshot('x:0', open('idle', 'running'), { lsm: lsm([[], ['L1_4.sst', 'L1_5.sst']], move) }), 7);
    registry.receive(connection, snapshot('x:0', open('idle'), { lsm: lsm([[], ['L1_5.sst'], ['L1_4.sst']]) }), 8);
    registry.receive(connection, snapshot('x:0', open('backoff'), { flushFailures: 1, lsm: lsm([[], ['L1_5.sst'], ['L1_4.sst']]) }), 9);
    registry.receive(connection, event('x:0', 'xstate.error.actor.flush'), 10);

    expect(registry.detail('1/x:0', 10)?.events).toEqual([
      { at: 1, kind: 'transition', text: 'recovering → open.flush.idle, open.compaction.idle, open.writes.flowing' },
      { at: 3, kind: 'transition', text: 'open.flush.idle → open.flush.writing' },
      { at: 4, kind: 'transition', text: 'open.flush.writing → open.flush.idle' },
      { at: 4, kind: 'flush', text: 'flushed L0_3.sst: 1 entries, 10 B' },
      { at: 4, kind: 'flush', text: 'flushed L0_2.sst: 1 entries, 10 B' },
      { at: 5, kind: 'transition', text: 'open.compaction.idle → open.compaction.running' },
      { at: 5, kind: 'compaction', text: 'compaction L0 → L1 started: L0_3.sst, L0_2.sst, L0_1.sst' },
      { at: 6, kind: 'transition', text: 'open.compaction.running → open.compaction.idle' },
      { at: 6, kind: 'compaction', text: 'compaction L0 → L1 done: L0_3.sst, L0_2.sst, L0_1.sst → L1_4.sst, L1_5.sst' },
      { at: 7, kind: 'transition', text: 'open.compaction.idle → open.compaction.running' },
      { at: 7, kind: 'compaction', text: 'compaction L1 → L2 started: L1_4.sst' },
      { at: 8, kind: 'transition', text: 'open.compaction.running → open.compaction.idle' },
      { at: 8, kind: 'compaction', text: 'compaction L1 → L2 done: L1_4.sst → L1_4.sst' },
      { at: 9, kind: 'transition', text: 'open.flush.idle → open.flush.backoff' },
      { at: 9, kind: 'error', text: 'flush failed (1 in a row); retrying' },
      { at: 10, kind: 'error', text: 'received xstate.error.actor.flush' },
    ]);
  });

  it('measures messages a second from the msg_id counter over the last samples, 0 once the node is quiet', () => {
    const registry = new Registry();
    const connection = registry.connect();
    registry.receive(connection, actor('x:0'), 0);
    registry.receive(connection, snapshot('x:0', open('idle'), { nextMsgId: 100 }), 1000);
    registry.receive(connection, snapshot('x:0', open('idle'), { nextMsgId: 400 }), 1500);
    registry.receive(connection, snapshot('x:0', open('idle'), { nextMsgId: 600 }), 2000);
    expect(registry.detail('1/x:0', 2000)?.messagesPerSecond).toBe(500);
    expect(registry.detail('1/x:0', 10_000)?.messagesPerSecond).toBe(0);
  });

  it(`keeps the last ${MAX_EVENTS} events`, () => {
    const registry = new Registry();
    const connection = registry.connect();
    registry.receive(connection, actor('x:0'), 0);
    for (let i = 0; i < MAX_EVENTS + 10; i++) registry.receive(connection, event('x:0', `e${i}`), i);
    const events = registry.detail('1/x:0', 0)!.events;
    expect(events).toHaveLength(MAX_EVENTS);
    expect(events[0].text).toBe('received e10');
  });
});
