/**
 * The node machine's context and events. Everything the node remembers lives
 * here; the Store is held by reference (the machine decides, the Store does).
 */
import type { Logger } from 'pino';
import type { Envelope } from '../protocol/envelope.js';
import type { FileSystem } from '../storage/env/fileSystem.js';
import type { ReaderCaches } from '../storage/sstable/reader.js';
import type { CompactionOptions, CompactionResult } from '../storage/compaction/compactor.js';
import type { Compaction } from '../storage/compaction/picker.js';
import type { CompactionRunner } from '../storage/compaction/runner.js';
import type { Store } from '../storage/store.js';
import type { HeldBatch } from './outbox.js';

export interface NodeOptions {
  /** Folder that holds one sub-folder per node id. */
  dataRoot: string;
  memtableMaxBytes: number;
  maxImmutable: number;
  fs: FileSystem;
  /** SSTable descriptors (over `fs`) and blocks, shared by every node of the process; default: each store its own. */
  caches?: ReaderCaches;
  /** Write-ahead log, with --data-dir only; `sync` fdatasyncs each group commit. */
  wal?: { sync: boolean };
  /** Level targets and triggers; `mode: 'manual'` leaves compaction to lsm_compact. */
  compaction: CompactionOptions;
  /** Where compaction jobs run (the CLI: one worker thread for the process); default: each store in-process. */
  compactionRunner?: CompactionRunner;
  /** The process-wide cap on hosted nodes, checked when an init would open this node's store. */
  nodeLimit?: NodeLimit;
  /**
   * Awaited after each flush or compaction is written and before it is
   * installed; replay uses it to install both at the same point of the input
   * as the logged run.
   */
  holdInstall?: (nodeId: string, kind: InstallKind) => Promise<void>;
}

/** What a node installs in the background: a flushed MemTable, or a compaction's result. */
export type InstallKind = 'flush' | 'compaction';

/** How many nodes one process may host: those whose store is open or opening count. */
export interface NodeLimit {
  max: number;
  /** Nodes other than the asking one whose store is open or opening. */
  hosted: () => number;
}

/** An sstable_flush request waiting for its MemTable's SSTable to be durable. */
export interface FlushWaiter {
  envelope: Envelope;
  memtableId: number;
}

/** An lsm_compact waiting for its steps: one compaction of each source level in `levels`, in order. */
export interface CompactWaiter {
  envelope: Envelope;
  /** Source levels still to compact (each into the level below), in order. */
  levels: number[];
  /** What the steps done so far did; the reply sums them. */
  results: CompactionResult[];
}

/** The compaction under way: what was picked (null: the waited-for level was empty) and for whom. */
export interface RunningCompaction {
  picked: Compaction | null;
  /** It is a step of `compactWaiter`, not an automatic one. */
  forWaiter: boolean;
}

export interface NodeContext {
  /** The dest this actor was created for; the node's id once init succeeds. */
  nodeId: string;
  nodeIds: string[];
  /** msg_id of the next message sent: one counter per node, from 0, errors included. */
  nextMsgId: number;
  /** Open once init succeeded: the node is initialized iff this is not null. */
  store: Store | null;
  /** Requests received and not yet answered, in arrival order. */
  pending: Envelope[];
  /** The init being served while the store opens. */
  initRequest: Envelope | null;
  flushWaiter: FlushWaiter | null;
  compactWaiter: CompactWaiter | null;
  compaction: RunningCompaction | null;
  /**
   * The L0 slowdown (--l0-slowdown-trigger): a serving pass that meets a
   * write while L0 is slowed stops ('waiting') until the delay is over
   * ('paid'), then serves on; a pass that served writes starts over ('none').
   */
  writeDelay: 'none' | 'waiting' | 'paid';
  /** A write waits at the head of `pending` because the frozen queue is full or L0 is at its stop trigger (set by each serving pass). */
  writesStalled: boolean;
  /** Served batches whose replies may not leave yet, oldest first: they wait for a WAL sync (outbox.ts); one is in flight iff syncInFlight(held). */
  held: HeldBatch[];
  /** Consecutive failed flushes; drives the retry backoff. */
  flushFailures: number;
  /** Consecutive failed compactions; drives the retry backoff. */
  compactionFailures: number;
  /**
   * Replies of the latest macrostep that answered anything (see Output).
   * Replies travel in the context rather than as emitted events because
   * whatever an xstate `emit` or `enqueueActions` call references outlived
   * young-generation GCs: measured, every reply string and request of a run
   * was copied and promoted, about 30% of the node's CPU time
   * (docs/BENCHMARKS.md).
   */
  output: Output | null;
  options: NodeOptions;
  log: Logger;
}

export interface NodeInput {
  nodeId: string;
  /** msg_id of the first message this actor sends: a retired actor's counter, so numbering carries on (runtime.ts). */
  nextMsgId?: number;
  options: NodeOptions;
  log: Logger;
}

export type NodeEvent =
  | { type: 'requests'; envelopes: Envelope[] }
  // From the walSync child the machine spawns (it is spawned, not invoked, so xstate cannot infer these).
  | { type: 'xstate.done.actor.walSync'; output: void }
  | { type: 'xstate.error.actor.walSync'; error: unknown };

/**
 * Reply text for stdout: whole lines, each ending in '\n', in the order they
 * must leave. `cause` is the event whose macrostep produced it: xstate hands
 * every action of one macrostep the same event object, so an action appends
 * to its own macrostep's output and starts afresh in the next one; the
 * runtime writes `text` once a macrostep, when it sees a new Output object.
 */
export interface Output {
  cause: NodeEvent | { type: string };
  text: string;
}

/** The machine state as a client sees it: flushing exactly while frozen MemTables wait (the hasFrozen guard). */
export function servingState(context: NodeContext): string {
  if (context.store === null) return 'uninitialized';
  return context.store.frozenCount > 0 ? 'flushing' : 'ready';
}
