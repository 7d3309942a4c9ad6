/** The Mermaid diagram generated from xstate machines, and docs/node-machine.md kept in step with nodeMachine. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { and, type AnyStateNode, createMachine, fromPromise, not, setup } from 'xstate';
import { NODE_MACHINE_DOC, nodeMachineDocument, toMermaid } from '../../src/actors/machineDiagram.js';
import { nodeMachine } from '../../src/actors/nodeMachine.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A small machine with one of everything: nesting, initial states, guards, always, after, invoke, parallel, final. */
const sample = setup({
  actors: {
    load: fromPromise(async () => 1),
    save: fromPromise(async () => 2),
  },
  guards: {
    isReady: () => true,
    hasWork: () => false,
  },
  delays: {
    retryDelay: () => 100,
  },
}).createMachine({
  id: 'sample',
  initial: 'idle',
  states: {
    idle: {
      on: {
        START: { target: 'busy', guard: 'isReady' },
        'cmd:go': 'busy',
        POKE: { actions: () => {} },
      },
      always: [{ guard: 'hasWork', target: 'busy' }],
    },
    busy: {
      initial: 'loading',
      on: { CANCEL: 'idle' },
      onDone: 'done',
      states: {
        loading: {
          invoke: { src: 'load', onDone: 'checking', onError: 'waiting' },
        },
        checking: {
          always: [{ guard: and(['isReady', not('hasWork')]), target: 'finished' }, { target: 'loading' }],
        },
        waiting: {
          // Integer-like keys come first in JavaScript's key order, so 500 is drawn before retryDelay.
          after: { retryDelay: 'loading', 500: { target: '#sample.idle', guard: { type: 'hasWork' } } },
        },
        finished: { type: 'final' },
      },
    },
    done: {
      type: 'parallel',
      states: {
        left: { initial: 'a', states: { a: { on: { NEXT: 'b' } }, b: {} } },
        right: {
          initial: 'c',
          states: {
            c: {
              invoke: [
                { src: 'load', onDone: 'd' },
                { src: 'save', onError: 'd' },
              ],
            },
            d: {},
          },
        },
      },
    },
  },
});

const expectedSample = `stateDiagram-v2
  [*] --> idle
  state "idle" as idle
  state "busy" as busy {
    [*] --> busy_loading
    state "loading" as busy_loading
    busy_loading : invoke load
    state "checking" as busy_checking
    state "waiting" as busy_waiting
    state "finished" as busy_finished
    busy_finished --> [*]
  }
  state "done" as done {
    state "left" as done_left {
      [*] --> done_left_a
      state "a" as done_left_a
      state "b" as done_left_b
    }
    --
    state "right" as done_right {
      [*] --> done_right_c
      state "c" as done_right_c
      done_right_c : invoke load
      done_right_c : invoke save
      state "d" as done_right_d
    }
  }
  idle --> busy : START [isReady]
  idle --> busy : cmd_go
  idle --> idle : POKE
  idle --> busy : [hasWork]
  busy --> idle : CANCEL
  busy --> done : onDone
  busy_loading --> busy_checking : onDone
  busy_loading --> busy_waiting : onError
  busy_checking --> busy_finished : [and(isReady, not(hasWork))]
  busy_checking --> busy_loading : always
  busy_waiting --> idle : after 500ms [hasWork]
  busy_waiting --> busy_loading : after retryDelay
  done_left_a --> done_left_b : NEXT
  done_right_c --> done_right_d : load onDone
  done_right_c --> done_right_d : save onError`;

describe('toMermaid', () => {
  it('draws nesting, initial and final states, guards, always, after, invoke and parallel regions', () => {
    expect(toMermaid(sample)).toBe(expectedSample);
  });

  it('is deterministic: the same machine gives the same text', () => {
    expect(toMermaid(sample)).toBe(toMermaid(sample));
    expect(toMermaid(nodeMachine)).toBe(toMermaid(nodeMachine));
  });

  it('labels an inline guard by its name and a numeric delay in ms; draws a root with transitions as a composite', () => {
    const machine = createMachine({
      id: 'outer',
      initial: 'a',
      on: { RESET: '.a' },
      states: {
        a: { after: { 250: 'b' } },
        b: { on: { BACK: { target: 'a', guard: function allowed() { return true; } } } },
      },
    });
    expect(toMermaid(machine)).toBe(`stateDiagram-v2
  [*] --> outer
  state "outer" as outer {
    [*] --> a
    state "a" as a
    state "b" as b
  }
  outer --> a : RESET
  a --> b : after 250ms
  b --> a : BACK [allowed]`);
  });

  it('keeps ids valid and unique for Mermaid: no dots or dashes, no keywords, no collisions', () => {
    const machine = createMachine({
      initial: 'state',
      states: {
        state: { on: { GO: 'my-state' } },
        'my-state': { on: { GO: 'my_state' } },
        my_state: { on: { 'a;b': 'state' } },
        'say "hi"': {},
      },
    });
    expect(toMermaid(machine)).toBe(`stateDiagram-v2
  [*] --> state_
  state "state" as state_
  state "my-state" as my_state
  state "my_state" as my_state_2
  state "say 'hi'" as say__hi_
  state_ --> my_state : GO
  my_state --> my_state_2 : GO
  my_state_2 --> state_ : a_b`);
  });
});

describe('the node machine diagram', () => {
  const text = toMermaid(nodeMachine);

  it('names every state of nodeMachine', () => {
    const nodes: AnyStateNode[] = [];
    const walk = (node: AnyStateNode): void => {
      for (const child of Object.values(node.states) as AnyStateNode[]) {
        nodes.push(child);
        walk(child);
      }
    };
    walk(nodeMachine.root);
    expect(nodes.map((node) => node.path.join('.'))).toEqual(
      expect.arrayContaining([
        'uninitialized',
        'recovering',
        'open',
        'open.flush.idle',
        'open.flush.writing',
        'open.flush.backoff',
        'open.compaction.idle',
        'open.compaction.running',
        'open.compaction.backoff',
        'open.writes.flowing',
        'open.writes.delayed',
      ]),
    );
    for (const node of nodes) {
      expect(text).toContain(`state "${node.key}" as ${node.path.join('_')}`);
    }
  });

  it('shows the invoked actors and their outcomes, the guards, the retry delays and the parallel regions', () => {
    expect(text).toContain('[*] --> uninitialized');
    expect(text).toContain('recovering : invoke openStore');
    expect(text).toContain('recovering --> open : onDone');
    expect(text).toContain('recovering --> uninitialized : onError');
    expect(text).toContain('open_flush_idle --> open_flush_writing : [hasFrozen]');
    expect(text).toContain('open_flush_backoff --> open_flush_writing : after flushRetry');
    expect(text).toContain('open_compaction_running : invoke compact');
    expect(text).toContain('open_compaction_idle --> open_compaction_running : [autoCompactionDue]');
    expect(text).toContain('open_compaction_running --> open_compaction_backoff : onError');
    expect(text).toContain('open_writes_delayed : invoke pause');
    expect(text).toContain('open_writes_delayed --> open_writes_flowing : onDone');
    expect(text).toMatch(/state "flush" as open_flush \{[^]*--\n\s*state "compaction" as open_compaction/);
  });

  it(`${NODE_MACHINE_DOC} is up to date with the machine`, () => {
    const path = join(repoRoot, NODE_MACHINE_DOC);
    const onDisk = readFileSync(path, 'utf8').replace(/\r\n/g, '\n');
    expect(
      onDisk,
      `${NODE_MACHINE_DOC} does not match src/actors/nodeMachine.ts: run \`npm run diagram\` and commit the result`,
    ).toBe(nodeMachineDocument(nodeMachine));
  });
});
