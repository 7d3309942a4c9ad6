/** The inspection throttle: what a busy node's inspection stream is thinned to. */
import { describe, expect, it } from 'vitest';
import { type InspectionEvent, createActor, createMachine, fromPromise, waitFor } from 'xstate';
import { InspectionThrottle } from '../../src/actors/inspection.js';

const machine = createMachine({ id: 'm', initial: 'a', states: { a: { on: { requests: {}, go: 'b' } }, b: {} } });

/** Runs a real actor through `events`, its inspection going through a throttle; returns what the throttle sent, as [type, detail]. */
function run(events: Array<{ type: string; envelopes?: unknown[] }>, flushAfter: number) {
  const sent: InspectionEvent[] = [];
  const throttle = new InspectionThrottle((event) => sent.push(event));
  const actor = createActor(machine, { inspect: (event) => throttle.take(event) }).start();
  events.forEach((event, i) => {
    actor.send(event as { type: 'go' });
    if (i === flushAfter) throttle.flush();
  });
  throttle.flush();
  actor.stop();
  return sent.map((event) => {
    if (event.type === '@xstate.snapshot') return ['snapshot', `${event.snapshot.status} ${JSON.stringify((event.snapshot as { value?: unknown }).value)}`];
    if (event.type === '@xstate.event') return ['event', JSON.stringify(event.event)];
    return [event.type, ''];
  });
}

describe('InspectionThrottle', () => {
  it('passes state changes at once, folds snapshots of an unchanged state into the latest, and counts busy events', () => {
    const requests = { type: 'requests', envelopes: [1, 2, 3] };
    const sent = run([requests, requests, requests, { type: 'go' }], -1);
    expect(sent).toEqual([
      ['@xstate.actor', ''],
      ['event', '{"type":"xstate.init"}'],
      ['snapshot', 'active "a"'],
      // The three requests and their snapshots are folded; "go" and its new state pass at once.
      ['event', '{"type":"go"}'],
      ['snapshot', 'active "b"'],
      ['event', '{"type":"requests","batches":3,"requests":9}'],
      // Stopping changes the status: it passes at once too.
      ['snapshot', 'stopped "b"'],
    ]);
  });

  it('sends the folded snapshot at each flush (the timer, in a run)', () => {
    const requests = { type: 'requests', envelopes: [1] };
    const sent = run([requests, requests, requests], 0);
    expect(sent.filter(([kind]) => kind === 'snapshot')).toEqual([
      ['snapshot', 'active "a"'],
      ['snapshot', 'active "a"'],
      ['snapshot', 'active "a"'],
      ['snapshot', 'stopped "a"'],
    ]);
    expect(sent.filter(([kind]) => kind === 'event').map(([, event]) => event)).toEqual([
      '{"type":"xstate.init"}',
      '{"type":"requests","batches":1,"requests":1}',
      '{"type":"requests","batches":2,"requests":2}',
    ]);
  });

  it('leaves out child actors, keeping the events their ends send the parent', async () => {
    const parent = createMachine({ id: 'parent', initial: 'working', states: { working: { invoke: { src: fromPromise(async () => 1), onDone: 'done' } }, done: {} } });
    const sent: InspectionEvent[] = [];
    const throttle = new InspectionThrottle((event) => sent.push(event));
    const actor = createActor(parent, { inspect: (event) => throttle.take(event) }).start();
    await waitFor(actor, (snapshot) => snapshot.matches('done'));
    throttle.flush();
    expect(new Set(sent.map((event) => event.actorRef.sessionId))).toEqual(new Set([actor.sessionId]));
    expect(sent.some((event) => event.type === '@xstate.event' && event.event.type.startsWith('xstate.done.actor.'))).toBe(true);
  });
});
