/**
 * `--inspect`: the node machines, live, in `memtable-node inspector`
 * (src/inspector) or the Stately inspector, through @statelyai/inspect's
 * WebSocket inspector: both take the same JSON events.
 *
 * The inspector deep-serializes every snapshot and event it is given (up to
 * ten levels, on a timer), and a node's context holds the Store, whose
 * MemTables can hold millions of entries. So nothing reaches it unsanitized:
 * each inspection event is rebuilt first, with the context as a small summary
 * (counts, sizes, the LSM summary of lsmSummary.ts) and events as their type
 * plus a count, so a large MemTable costs the inspector nothing. Under load,
 * InspectionThrottle thins the stream further (a few summaries a second).
 */
import type { Logger } from 'pino';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { type FlushPhase, summarizeLsm } from './lsmSummary.js';
import type { NodeContext } from './nodeContext.js';
import { syncInFlight } from './outbox.js';

export interface StatelyInspection {
  inspect(event: InspectionEvent): void;
  /** Lets queued events go out, then closes the socket. */
  stop(): Promise<void>;
}

/** The node machine's flush phase, read from its state value (nodeMachine.ts: open.flush). */
function flushPhase(value: unknown): FlushPhase {
  const flush = (value as { open?: { flush?: string } } | null)?.open?.flush;
  return flush === 'writing' || flush === 'backoff' ? flush : 'idle';
}

/** What the inspector sees of a node's context, in the machine state `value`. */
export function summarizeContext(context: NodeContext, value: unknown) {
  return {
    nodeId: context.nodeId,
    pid: process.pid,
    initialized: context.store !== null,
    nextMsgId: context.nextMsgId,
    pending: context.pending.length,
    initRequest: context.initRequest?.body.msg_id ?? null,
    flushWaiter: context.flushWaiter?.envelope.body.msg_id ?? null,
    heldBatches: context.held.length,
    walSyncing: syncInFlight(context.held),
    flushFailures: context.flushFailures,
    compactionFailures: context.compactionFailures,
    compactWaiter: context.compactWaiter?.envelope.body.msg_id ?? null,
    lsm: context.store === null ? null : summarizeLsm(context.store, flushPhase(value), context.compaction),
  };
}

type Snapshot = { status?: string; value?: unknown; context?: unknown; error?: unknown };

function summarizeSnapshot(snapshot: Snapshot): Snapshot {
  const summary: Snapshot = { status: snapshot.status };
  if (snapshot.value !== undefined) summary.value = snapshot.value;
  if (isNodeContext(snapshot.context)) summary.context = summarizeContext(snapshot.context, snapshot.value);
  if (snapshot.error !== undefined) summary.error = String(snapshot.error);
  return summary;
}

function isNodeContext(context: unknown): context is NodeContext {
  return typeof context === 'object' && context !== null && 'pending' in context && 'nodeId' in context;
}

function summarizeEvent(event: { type: string; envelopes?: unknown[] }): { type: string; requests?: number } {
  return event.envelopes === undefined ? { type: event.type } : { type: event.type, requests: event.envelopes.length };
}

/** The parts of an actor ref the inspector reads. */
interface InspectedRef {
  id?: string;
  sessionId: string;
  logic?: unknown;
  _parent?: { sessionId: string };
  getSnapshot(): unknown;
}

/** An actor ref as the inspector reads it: ids, the machine definition, and a summarized snapshot. */
function summarizeActorRef(ref: AnyActorRef | undefined): InspectedRef | undefined {
  if (ref === undefined) return undefined;
  const actorRef = ref as unknown as InspectedRef;
  return {
    id: actorRef.id,
    sessionId: actorRef.sessionId,
    logic: actorRef.logic,
    _parent: actorRef._parent && { sessionId: actorRef._parent.sessionId },
    getSnapshot: () => summarizeSnapshot(actorRef.getSnapshot() as Snapshot),
  };
}

function sanitize(event: InspectionEvent): InspectionEvent {
  const base = { ...event, actorRef: summarizeActorRef(event.actorRef as AnyActorRef) };
  switch (event.type) {
    case '@xstate.snapshot':
      return { ...base, snapshot: summarizeSnapshot(event.snapshot as Snapshot), event: summarizeEvent(event.event) } as unknown as InspectionEvent;
    case '@xstate.event':
      return { ...base, event: summarizeEvent(event.event), sourceRef: summarizeActorRef(event.sourceRef as AnyActorRef | undefined) } as unknown as InspectionEvent;
    default:
      return base as unknown as InspectionEvent;
  }
}

/** Snapshots of one actor in one state are sent at most this often (the latest of them); a new state goes at once. */
export const SNAPSHOT_INTERVAL_MS = 100;

/** Events a node receives many times a second under load: counted, and sent as one an interval. */
const BUSY_EVENTS = new Set(['requests', 'xstate.done.actor.walSync']);

/** What a folded event keeps until it is sent: the actor, never the event (see InspectionThrottle). */
interface Folded {
  actorRef: InspectionEvent['actorRef'];
  rootId: string;
}

/**
 * Thins the stream for a node under full load: per actor, snapshots that
 * do not change its state (value and status) are coalesced to one every
 * SNAPSHOT_INTERVAL_MS, summarized when sent (so the LSM summary, whose cost
 * grows with the file count, is built a few times a second, not once a
 * batch), and BUSY_EVENTS become one event with counts. Everything else
 * passes at once, in order.
 *
 * A folded snapshot is read from its actor when sent (the newest one), and a
 * folded event is kept as counts: holding the events themselves would keep
 * a batch's requests and replies alive past young-generation GCs, which
 * costs the node more than all the inspection does (nodeContext.ts, Output).
 */
export class InspectionThrottle {
  private readonly lastState = new Map<string, string>();
  private readonly pendingSnapshots = new Map<string, Folded & { eventType: string }>();
  /** Per actor and event type: how many were folded in, and the requests they carried. */
  private readonly pendingBusy = new Map<string, Folded & { type: string; batches: number; requests: number }>();
  private timer: NodeJS.Timeout | undefined;

  /** `send` receives the events to pass on, sanitized. */
  constructor(private readonly send: (event: InspectionEvent) => void) {}

  /** Takes one inspection event: passes it on now, folds it into the next interval's, or drops it (microsteps, child actors). */
  take(event: InspectionEvent): void {
    // Child actors live for one store open, one flush or one WAL sync (one a batch): shown, they would bury
    // the nodes in the inspector's actor list, and they were most of what a busy node sent (each socket
    // write costs a system call). The node's own timeline still shows each one ending (xstate.done.actor.*).
    if ((event.actorRef as InspectedRef)._parent !== undefined) return;
    const { actorRef, rootId } = event;
    const sessionId = actorRef.sessionId;
    if (event.type === '@xstate.snapshot') {
      const snapshot = event.snapshot as Snapshot;
      const state = `${snapshot.status}:${JSON.stringify(snapshot.value)}`;
      if (this.lastState.get(sessionId) !== state) {
        // An actor that is done, stopped or failed sends no more: forget it (an invoked flush is one of these a flush).
        if (snapshot.status === 'active') this.lastState.set(sessionId, state);
        else this.lastState.delete(sessionId);
        this.pendingSnapshots.delete(sessionId);
        this.send(sanitize(event));
      } else {
        this.pendingSnapshots.set(sessionId, { actorRef, rootId, eventType: event.event.type });
        this.schedule();
      }
    } else if (event.type === '@xstate.event' && BUSY_EVENTS.has(event.event.type)) {
      const { type } = event.event;
      const key = `${sessionId} ${type}`;
      const busy = this.pendingBusy.get(key) ?? { actorRef, rootId, type, batches: 0, requests: 0 };
      busy.batches++;
      busy.requests += (event.event as { envelopes?: unknown[] }).envelopes?.length ?? 0;
      this.pendingBusy.set(key, busy);
      this.schedule();
    } else if (event.type === '@xstate.event' || event.type === '@xstate.actor') {
      this.send(sanitize(event));
    }
  }

  /** Sends everything folded so far. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const { actorRef, rootId, type, batches, requests } of this.pendingBusy.values()) {
      const counts = type === 'requests' ? { batches, requests } : { batches };
      this.send({ type: '@xstate.event', actorRef: summarizeActorRef(actorRef as AnyActorRef), rootId, sourceRef: undefined, event: { type, ...counts } } as unknown as InspectionEvent);
    }
    this.pendingBusy.clear();
    for (const { actorRef, rootId, eventType } of this.pendingSnapshots.values()) {
      const event = { type: '@xstate.snapshot', actorRef, rootId, snapshot: actorRef.getSnapshot(), event: { type: eventType } } as InspectionEvent;
      this.send(sanitize(event));
    }
    this.pendingSnapshots.clear();
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => this.flush(), SNAPSHOT_INTERVAL_MS).unref();
  }
}

/** The parts of a `ws` WebSocket the connection log listens to. */
interface ObservedSocket {
  addEventListener(type: 'open' | 'close', listener: () => void): void;
  addEventListener(type: 'error', listener: (event: { message?: string }) => void): void;
}

/** WebSocketAdapter retries a failed connection after this long (@statelyai/inspect 0.7, src/webSocket.ts). */
const RETRY_MS = 5000;

/**
 * Logs the inspector connection: connected (info), a failure (warn: the
 * first, then debug while it keeps failing, every RETRY_MS), each retry
 * (debug), and a close the node did not ask for (warn). WebSocketAdapter
 * reports none of these and makes a new socket at each retry, kept in its
 * `ws` field: that field is watched here, listeners added beside its own.
 * Returns a function to call before a deliberate stop.
 */
function logConnection(adapter: object, url: string, log: Logger): () => void {
  let socket: ObservedSocket | undefined;
  let failures = 0;
  let stopping = false;
  Object.defineProperty(adapter, 'ws', {
    configurable: true,
    get: () => socket,
    set(next: ObservedSocket) {
      socket = next;
      if (failures > 0) log.debug({ url, attempt: failures + 1 }, 'retrying the Stately inspector');
      let open = false;
      next.addEventListener('open', () => {
        open = true;
        log.info({ url, failed_attempts: failures }, 'connected to the Stately inspector');
        failures = 0;
      });
      next.addEventListener('error', (event) => {
        failures++;
        const fields = { url, err: event.message, failures, retry_ms: RETRY_MS };
        if (failures === 1) log.warn(fields, 'cannot reach the Stately inspector; retrying every 5 s');
        else log.debug(fields, 'the Stately inspector is still unreachable');
      });
      next.addEventListener('close', () => {
        if (open && !stopping) log.warn({ url }, 'the Stately inspector closed the connection; events are no longer sent');
      });
    },
  });
  return () => {
    stopping = true;
  };
}

/** Connects to the inspector at `url` (it retries on its own if the inspector is not up yet), logging how that goes. */
export async function startStatelyInspection(url: string, log: Logger): Promise<StatelyInspection> {
  // Loaded only with --inspect: it pulls in a WebSocket client.
  const { createWebSocketInspector } = await import('@statelyai/inspect');
  const inspector = createWebSocketInspector({ url, autoStart: false });
  const stopping = logConnection(inspector.adapter, url, log);
  inspector.start();
  const throttle = new InspectionThrottle((event) => inspector.inspect.next?.(event));
  return {
    inspect: (event) => throttle.take(event),
    async stop() {
      throttle.flush();
      // The inspector converts events on a 0 ms timer; let those run before closing.
      await new Promise((resolve) => setTimeout(resolve, 20));
      stopping();
      inspector.stop();
    },
  };
}
