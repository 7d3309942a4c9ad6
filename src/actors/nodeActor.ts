/**
 * One node's actor as the runtime runs it: started with its replies wired to
 * the stdout sink (each new `context.output`, once) and its transitions to
 * the log, plus the questions the runtime asks of a node's snapshot.
 */
import type { Logger } from 'pino';
import { type Actor, type InspectionEvent, createActor } from 'xstate';
import type { OutputSink } from '../protocol/outputSink.js';
import type { InstallKind, NodeContext, NodeOptions } from './nodeContext.js';
import { nodeMachine } from './nodeMachine.js';
import { syncInFlight } from './outbox.js';

export type NodeActor = Actor<typeof nodeMachine>;
export type NodeSnapshot = ReturnType<NodeActor['getSnapshot']>;

/**
 * Batches a node may hold waiting for the next WAL sync while it takes more
 * input: while one fdatasync runs, up to this many chunks (~1 MiB) are
 * served, and the next sync covers them all, so a slow disk means bigger
 * group commits rather than a slower node; past it, input waits (memory stays bounded).
 */
export const MAX_WAITING_BATCHES = 16;

/**
 * True iff the node has served everything it received and may take more:
 * fewer than MAX_WAITING_BATCHES batches hold replies for the next WAL
 * sync, so chunks are served while a sync runs (outbox.ts).
 */
export function caughtUp(snapshot: NodeSnapshot): boolean {
  const { context } = snapshot;
  if (context.pending.length > 0 || context.flushWaiter !== null || context.compactWaiter !== null) return false;
  let waiting = 0;
  for (const batch of context.held) if (batch.state === 'waiting') waiting++;
  return waiting < MAX_WAITING_BATCHES;
}

/**
 * True iff the node has no work under way: caught up, every reply sent, and
 * not opening, syncing, flushing or compacting (a flush or compaction
 * waiting out a retry's backoff counts as idle: it may fail for ever).
 */
export function idle(snapshot: NodeSnapshot): boolean {
  return (
    caughtUp(snapshot) &&
    snapshot.context.held.length === 0 &&
    !syncInFlight(snapshot.context.held) &&
    (snapshot.matches('uninitialized') ||
      (!snapshot.matches({ open: { flush: 'writing' } }) && !snapshot.matches({ open: { compaction: 'running' } }) && snapshot.matches('open')))
  );
}

/** True iff the node holds nothing but its msg_id counter: never initialized, nothing pending. */
export function retirable(snapshot: NodeSnapshot): boolean {
  return snapshot.matches('uninitialized') && caughtUp(snapshot) && snapshot.context.initRequest === null;
}

/** Nodes whose store is open or opening: every node not uninitialized. */
export function countHosted(actors: Iterable<NodeActor>): number {
  let hosted = 0;
  for (const actor of actors) if (!actor.getSnapshot().matches('uninitialized')) hosted++;
  return hosted;
}

/** The events of the invoked actors (ids `flush`, `compaction`) that finish by installing a new Version. */
const INSTALLED: Partial<Record<string, InstallKind>> = {
  'xstate.done.actor.flush': 'flush',
  'xstate.done.actor.compaction': 'compaction',
};

export interface NodeActorOptions {
  nodeId: string;
  /** msg_id of its first message: 0, or a retired actor's counter (runtime.ts). */
  nextMsgId: number;
  nodeOptions: NodeOptions;
  /** The process logger; the actor logs through a child carrying node_id. */
  log: Logger;
  sink: OutputSink;
  /** The stdin batch being served, for logs. */
  batches: () => number;
  inspect?: (event: InspectionEvent) => void;
  /** Told after the node installs a flush or a compaction (replay keeps them where the log had them). */
  onInstalled?: (nodeId: string, kind: InstallKind) => void;
}

/**
 * Logs each stall at info: when writes start waiting for a flush (the frozen
 * queue full) or a compaction (L0 at --l0-stop-trigger), and when they go
 * on, with how long they waited (`ms`).
 */
function stallLogger(log: Logger): (context: NodeContext) => void {
  let stalledAt: number | undefined;
  return (context) => {
    if (context.writesStalled === (stalledAt !== undefined)) return;
    if (context.writesStalled) {
      stalledAt = performance.now();
      const store = context.store!;
      const frozen = store.frozenCount;
      if (frozen >= context.options.maxImmutable) {
        log.info({ frozen, max_immutable: context.options.maxImmutable, pending: context.pending.length }, 'writes stalled: frozen MemTables full, waiting for a flush');
      } else {
        const l0StopTrigger = store.compactionOptions.l0StopTrigger;
        log.info({ l0_files: store.l0Files, l0_stop_trigger: l0StopTrigger, pending: context.pending.length }, 'writes stalled: L0 at its stop trigger, waiting for a compaction');
      }
    } else {
      log.info({ ms: Math.round(performance.now() - stalledAt!) }, 'writes resumed after a stall');
      stalledAt = undefined;
    }
  };
}

/** Creates and starts a node actor whose replies go to `sink` and whose transitions are logged. */
export function startNodeActor({ nodeId, nextMsgId, nodeOptions, log: processLog, sink, batches, inspect: inspector, onInstalled }: NodeActorOptions): NodeActor {
  const log = processLog.child({ node_id: nodeId });
  let lastState = '';
  // Transitions are logged from inspection events, which carry the event that caused them.
  const inspect = (event: InspectionEvent): void => {
    inspector?.(event);
    if (event.type !== '@xstate.snapshot' || event.actorRef !== actor) return;
    const snapshot = event.snapshot as NodeSnapshot;
    const installed = INSTALLED[event.event.type];
    if (installed !== undefined) {
      log.debug({ batch: batches() }, `${installed} installed`);
      onInstalled?.(nodeId, installed);
    }
    const state = JSON.stringify(snapshot.value);
    if (state === lastState) return;
    lastState = state;
    // Debug for a new actor's first state: junk dests start (and retire) one each.
    const level = event.event.type === 'xstate.init' ? 'debug' : 'info';
    log[level]({ state: snapshot.value, event: event.event.type, batch: batches() }, 'transition');
  };
  const actor: NodeActor = createActor(nodeMachine, {
    input: { nodeId, nextMsgId, options: nodeOptions, log },
    // xstate's default logger is console.log, i.e. stdout: keep it on stderr.
    logger: (...args: unknown[]) => log.info({ xstate: args }, 'xstate log'),
    inspect,
  });
  let written: NodeSnapshot['context']['output'] = null;
  const logStall = stallLogger(log);
  actor.subscribe({
    next: ({ context }) => {
      logStall(context);
      const { output } = context;
      if (output === null || output === written) return;
      written = output;
      sink.writeBatch(output.text);
    },
    error: (error) => log.fatal({ err: error }, 'node actor failed'),
  });
  actor.start();
  return actor;
}

