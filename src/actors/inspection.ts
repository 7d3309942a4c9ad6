/**
 * `--inspect`: the node machines, live, in the Stately inspector, through
 * @statelyai/inspect's WebSocket inspector.
 *
 * The inspector deep-serializes every snapshot and event it is given (up to
 * ten levels, on a timer), and a node's context holds the Store, whose
 * MemTables can hold millions of entries. So nothing reaches it unsanitized:
 * each inspection event is rebuilt first, with the context as a small summary
 * (counts, sizes, file names) and events as their type plus a count, so a
 * large MemTable costs the inspector nothing.
 */
import type { Logger } from 'pino';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import type { NodeContext } from './nodeContext.js';
import { syncInFlight } from './outbox.js';

export interface StatelyInspection {
  inspect(event: InspectionEvent): void;
  /** Lets queued events go out, then closes the socket. */
  stop(): Promise<void>;
}

/** The id the node machine gives its WAL sync children (nodeMachine.ts). */
const WAL_SYNC_ID = 'walSync';

/** What the inspector sees of a node's context. */
export function summarizeContext(context: NodeContext) {
  const stats = context.store?.stats();
  return {
    nodeId: context.nodeId,
    initialized: context.store !== null,
    nextMsgId: context.nextMsgId,
    pending: context.pending.length,
    initRequest: context.initRequest?.body.msg_id ?? null,
    flushWaiter: context.flushWaiter?.envelope.body.msg_id ?? null,
    heldBatches: context.held.length,
    walSyncing: syncInFlight(context.held),
    flushFailures: context.flushFailures,
    store: stats === undefined ? null : {
      active: stats.active,
      immutable: stats.immutable.length,
      sstables: stats.sstables.map((table) => table.file),
    },
  };
}

type Snapshot = { status?: string; value?: unknown; context?: unknown; error?: unknown };

function summarizeSnapshot(snapshot: Snapshot): Snapshot {
  const summary: Snapshot = { status: snapshot.status };
  if (snapshot.value !== undefined) summary.value = snapshot.value;
  if (isNodeContext(snapshot.context)) summary.context = summarizeContext(snapshot.context);
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
  return {
    inspect(event) {
      // A walSync child lives for one WAL sync, one a batch: shown, they would bury the nodes in the
      // inspector's actor list. The nodes' own timelines still show each sync ending (xstate.done.actor.walSync).
      if ((event.actorRef as InspectedRef).id === WAL_SYNC_ID) return;
      if (event.type === '@xstate.snapshot' || event.type === '@xstate.event' || event.type === '@xstate.actor') {
        inspector.inspect.next?.(sanitize(event));
      }
    },
    async stop() {
      // The inspector converts events on a 0 ms timer; let those run before closing.
      await new Promise((resolve) => setTimeout(resolve, 20));
      stopping();
      inspector.stop();
    },
  };
}
