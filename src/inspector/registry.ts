/**
 * What the inspector knows of every node it has heard from, built from the
 * inspection events nodes send over WebSocket (the wire format of
 * @statelyai/inspect's WebSocket inspector: JSON objects of type
 * `@xstate.actor`, `@xstate.snapshot` and `@xstate.event`, keyed by the
 * actor's `sessionId`).
 *
 * Invariants:
 *   (1) A node is a root actor (no parentId) of one connection: several
 *       processes are several connections, several nodes in one process are
 *       several root actors of one connection. Its key is
 *       `<connection>/<sessionId>`, so two processes never collide.
 *   (2) Nodes are never removed: when their connection closes they stay,
 *       with `connected` false (shown as gone).
 *   (3) Each node keeps at most MAX_EVENTS events, oldest dropped first.
 *       Events are derived from what changed between two snapshots
 *       (transitions, new files, compactions, failures), so coalesced
 *       snapshots lose no flush: files are compared, not counted.
 */
import type { LsmSummary } from '../actors/lsmSummary.js';
import { activeLeaves, formatBytes } from './page/format.js';

export const MAX_EVENTS = 200;
/** Messages a second are measured over about this window. */
const RATE_WINDOW_MS = 2000;

export type EventKind = 'transition' | 'flush' | 'compaction' | 'error' | 'event';

export interface LoggedEvent {
  at: number;
  kind: EventKind;
  text: string;
}

/** The parts of a node's summarized context the inspector reads (inspection.ts summarizeContext). */
export interface ContextSummary {
  nodeId?: string;
  pid?: number;
  nextMsgId?: number;
  flushFailures?: number;
  lsm?: LsmSummary | null;
  [field: string]: unknown;
}

/** One node as the page lists it. */
export interface NodeListing {
  key: string;
  /** The node id from its context (e.g. n1), or the actor's name until it says. */
  label: string;
  pid: number | null;
  connection: number;
  connected: boolean;
  status: string;
  value: unknown;
}

/** One node as the page draws it. */
export interface NodeDetail extends NodeListing {
  /** The machine config as the node sent it (functions as `{type: name}`), or null if it never arrived. */
  definition: unknown;
  context: ContextSummary | null;
  messagesPerSecond: number;
  events: LoggedEvent[];
  /** The last compaction seen to finish, its outputs read from the snapshot after it; null until one does. */
  lastCompaction: FinishedCompaction | null;
}

/** A compaction that ran between two snapshots: its inputs (as it was running) and the files new at its target level after. */
export interface FinishedCompaction {
  at: number;
  sourceLevel: number;
  targetLevel: number;
  inputs: string[];
  outputs: string[];
}

interface NodeRecord {
  key: string;
  connection: number;
  sessionId: string;
  name: string;
  connected: boolean;
  status: string;
  value: unknown;
  definition: unknown;
  context: ContextSummary | null;
  /** (time, messages sent) samples within RATE_WINDOW_MS, oldest first. */
  samples: Array<{ at: number; messages: number }>;
  events: LoggedEvent[];
  lastCompaction: FinishedCompaction | null;
}

type InspectionMessage = {
  type?: unknown;
  sessionId?: unknown;
  rootId?: unknown;
  parentId?: unknown;
  name?: unknown;
  definition?: unknown;
  snapshot?: { status?: unknown; value?: unknown; context?: unknown; error?: unknown };
  event?: { type?: unknown; requests?: unknown; count?: unknown };
};

/** Event types the node sends many of a second: counted in the rate, not listed. */
const BUSY_EVENTS = new Set(['requests', 'xstate.done.actor.walSync']);

export class Registry {
  private readonly nodes = new Map<string, NodeRecord>();
  private nextConnection = 1;

  /** Returns a new connection number: one per WebSocket a process opens. */
  connect(): number {
    return this.nextConnection++;
  }

  /** Marks every node of `connection` gone. */
  disconnect(connection: number, now: number): void {
    for (const node of this.nodes.values()) {
      if (node.connection !== connection || !node.connected) continue;
      node.connected = false;
      this.log(node, now, 'event', 'disconnected');
    }
  }

  /** Takes one message from `connection`: a JSON inspection event (anything else is ignored). */
  receive(connection: number, text: string, now: number): void {
    let message: InspectionMessage;
    try {
      message = JSON.parse(text) as InspectionMessage;
    } catch {
      return;
    }
    if (typeof message !== 'object' || message === null || typeof message.sessionId !== 'string') return;
    // Child actors (an invoked store open or flush): every converted event names its root; 'anonymous' names none.
    const { rootId, parentId } = message;
    if (typeof parentId === 'string' || (typeof rootId === 'string' && rootId !== 'anonymous' && rootId !== message.sessionId)) return;
    const node = this.nodeFor(connection, message.sessionId);
    switch (message.type) {
      case '@xstate.actor':
        if (typeof message.name === 'string') node.name = message.name;
        node.definition = parseDefinition(message.definition) ?? node.definition;
        // Its snapshot is read when the event is sent, later than the snapshot events that follow it
        // describe: only a node that has no other snapshot takes its context, not its state.
        if (node.context === null && typeof message.snapshot?.context === 'object' && message.snapshot.context !== null) node.context = message.snapshot.context as ContextSummary;
        break;
      case '@xstate.snapshot':
        if (message.snapshot !== undefined) this.takeSnapshot(node, message.snapshot, now);
        break;
      case '@xstate.event': {
        const type = typeof message.event?.type === 'string' ? message.event.type : '?';
        if (!BUSY_EVENTS.has(type)) this.log(node, now, type.startsWith('xstate.error') ? 'error' : 'event', `received ${type}`);
        break;
      }
    }
  }

  /** Every node heard from, in the order first heard (one known only by events, with no definition or context yet, is left out). */
  list(): NodeListing[] {
    return [...this.nodes.values()].filter((node) => node.definition !== null || node.context !== null).map(listing);
  }

  /** One node's state, events and rate; undefined for an unknown key. */
  detail(key: string, now: number): NodeDetail | undefined {
    const node = this.nodes.get(key);
    if (node === undefined) return undefined;
    return { ...listing(node), definition: node.definition, context: node.context, messagesPerSecond: rate(node.samples, now), events: node.events, lastCompaction: node.lastCompaction };
  }

  private nodeFor(connection: number, sessionId: string): NodeRecord {
    const key = `${connection}/${sessionId}`;
    let node = this.nodes.get(key);
    if (node === undefined) {
      node = { key, connection, sessionId, name: sessionId, connected: true, status: 'active', value: null, definition: null, context: null, samples: [], events: [], lastCompaction: null };
      this.nodes.set(key, node);
    }
    return node;
  }

  private takeSnapshot(node: NodeRecord, snapshot: NonNullable<InspectionMessage['snapshot']>, now: number): void {
    if (snapshot.value !== undefined && JSON.stringify(snapshot.value) !== JSON.stringify(node.value)) {
      if (node.value !== null) this.log(node, now, 'transition', transitionText(node.value, snapshot.value));
      node.value = snapshot.value;
    }
    if (typeof snapshot.status === 'string' && snapshot.status !== node.status) {
      node.status = snapshot.status;
      this.log(node, now, snapshot.status === 'error' ? 'error' : 'event', `actor ${snapshot.status}`);
    }
    if (snapshot.error !== undefined) this.log(node, now, 'error', String(snapshot.error));
    if (typeof snapshot.context === 'object' && snapshot.context !== null) {
      const context = snapshot.context as ContextSummary;
      this.logChanges(node, node.context, context, now);
      node.context = context;
      if (typeof context.nextMsgId === 'number') {
        node.samples.push({ at: now, messages: context.nextMsgId });
        while (node.samples.length > 2 && now - node.samples[1].at >= RATE_WINDOW_MS) node.samples.shift();
      }
    }
  }

  /** Logs what changed between two context summaries: flushes, compactions, failures. */
  private logChanges(node: NodeRecord, before: ContextSummary | null, after: ContextSummary, now: number): void {
    if ((after.flushFailures ?? 0) > (before?.flushFailures ?? 0)) this.log(node, now, 'error', `flush failed (${after.flushFailures} in a row); retrying`);
    const was = before?.lsm;
    const is = after.lsm;
    if (!is) return;
    const known = new Set(was ? was.levels.flatMap((level) => level.files.map((file) => file.file)) : []);
    if (was) {
      for (const file of is.levels[0]?.files ?? []) {
        if (!known.has(file.file)) this.log(node, now, 'flush', `flushed ${file.file}: ${file.entries} entries, ${formatBytes(file.sizeBytes)}`);
      }
    }
    const started = is.compaction;
    const ended = was?.compaction;
    if (started && JSON.stringify(started.inputs) !== JSON.stringify(ended?.inputs)) {
      this.log(node, now, 'compaction', `compaction L${started.sourceLevel} → L${started.targetLevel} started: ${started.inputs.join(', ')}`);
    }
    if (ended && JSON.stringify(ended.inputs) !== JSON.stringify(started?.inputs)) {
      // Its outputs: the files new at its target level (a trivial move's is its input, moved down).
      const before = new Set(was.levels[ended.targetLevel]?.files.map((file) => file.file) ?? []);
      const outputs = (is.levels[ended.targetLevel]?.files ?? []).map((file) => file.file).filter((file) => !before.has(file));
      node.lastCompaction = { at: now, sourceLevel: ended.sourceLevel, targetLevel: ended.targetLevel, inputs: ended.inputs, outputs };
      this.log(node, now, 'compaction', `compaction L${ended.sourceLevel} → L${ended.targetLevel} done: ${ended.inputs.join(', ')} → ${outputs.join(', ') || 'nothing'}`);
    }
  }

  private log(node: NodeRecord, at: number, kind: EventKind, text: string): void {
    node.events.push({ at, kind, text });
    if (node.events.length > MAX_EVENTS) node.events.shift();
  }
}

/** A transition as the leaves it left and entered: a parallel state's regions that did not move are left out. */
function transitionText(before: unknown, after: unknown): string {
  const left = activeLeaves(before);
  const entered = activeLeaves(after);
  const text = (leaves: string[]): string => leaves.join(', ');
  return `${text(left.filter((leaf) => !entered.includes(leaf)))} → ${text(entered.filter((leaf) => !left.includes(leaf)))}`;
}

function listing(node: NodeRecord): NodeListing {
  const nodeId = node.context?.nodeId;
  return {
    key: node.key,
    label: typeof nodeId === 'string' ? nodeId : node.name,
    pid: typeof node.context?.pid === 'number' ? node.context.pid : null,
    connection: node.connection,
    connected: node.connected,
    status: node.status,
    value: node.value,
  };
}

/** Messages a second between the oldest and newest sample, 0 with fewer than two or when the node has gone quiet. */
function rate(samples: NodeRecord['samples'], now: number): number {
  if (samples.length < 2) return 0;
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (now - last.at > RATE_WINDOW_MS || last.at === first.at) return 0;
  return ((last.messages - first.messages) * 1000) / (last.at - first.at);
}

function parseDefinition(definition: unknown): unknown {
  if (typeof definition !== 'string') return undefined;
  try {
    return JSON.parse(definition);
  } catch {
    return undefined;
  }
}
