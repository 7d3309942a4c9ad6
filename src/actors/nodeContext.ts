/**
 * The node machine's context and events. Everything the node remembers lives
 * here; the Store is held by reference (the machine decides, the Store does).
 */
import type { Logger } from 'pino';
import type { Envelope } from '../protocol/envelope.js';
import type { FileSystem } from '../storage/fileSystem.js';
import type { Store } from '../storage/store.js';

export interface NodeOptions {
  /** Folder that holds one sub-folder per node id. */
  dataRoot: string;
  memtableMaxBytes: number;
  maxImmutable: number;
  fs: FileSystem;
  /** Write-ahead log, with --data-dir only; `sync` fdatasyncs each group commit. */
  wal?: { sync: boolean };
  /**
   * Awaited after each flush is written and before it is installed; replay
   * uses it to install flushes at the same point of the input as the logged run.
   */
  holdFlush?: (nodeId: string) => Promise<void>;
}

/** An sstable_flush request waiting for its MemTable's SSTable to be durable. */
export interface FlushWaiter {
  envelope: Envelope;
  memtableId: number;
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
  /** Consecutive failed flushes; drives the retry backoff. */
  flushFailures: number;
  options: NodeOptions;
  log: Logger;
}

export interface NodeInput {
  nodeId: string;
  options: NodeOptions;
  log: Logger;
}

export type NodeEvent = { type: 'requests'; envelopes: Envelope[] };

/** Lines for stdout, in the order they must leave. */
export type NodeEmitted = { type: 'output'; lines: string[] };
