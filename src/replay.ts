/**
 * `memtable-node replay LOGFILE`: reproduces a run from its debug log.
 *
 * A node run at `--log-level debug` logs every line it receives (with the
 * number of the stdin batch it came in) and every flush it installs (with the
 * batch count at that moment). Replay feeds the same lines, cut into the same
 * batches, to a fresh node with the same settings, and holds each flush until
 * the input reaches the point where the logged run installed it, so reads see
 * the same layers and the replies come out the same, byte for byte.
 *
 * It reproduces runs that started from an empty store (no --data-dir, or an
 * empty one): what a data folder held before the run is not in the log.
 */
import { setImmediate } from 'node:timers';
import type { Writable } from 'node:stream';
import type { Logger } from 'pino';
import type { InspectionEvent } from 'xstate';
import { runNodes } from './actors/runtime.js';
import type { FileSystem } from './storage/env/fileSystem.js';
import { newReaderCaches } from './storage/sstable/reader.js';

export interface ReplayPlan {
  /** The logged run's batches in order, each with the lines received in it. */
  batches: Array<{ batch: number; lines: string[] }>;
  /** Per node id, the batch count at each flush install, in order. */
  flushInstalls: Map<string, number[]>;
  /** Settings from the run's `starting` log line, when present. */
  settings: { memtableMaxBytes?: number; maxImmutable?: number; maxNodes?: number };
  /** Process ids other than the replayed one found in the log (several runs appended to one file). */
  otherPids: number[];
}

type LogEntry = { msg?: string; pid?: number; batch?: number; line?: string; node_id?: string; [key: string]: unknown };

/** Reads a pino JSON log (one run; with several, the first one's lines). Non-JSON lines are ignored. */
export function parseReplayLog(text: string): ReplayPlan {
  const plan: ReplayPlan = { batches: [], flushInstalls: new Map(), settings: {}, otherPids: [] };
  let pid: number | undefined;
  for (const raw of text.split('\n')) {
    let entry: LogEntry;
    try {
      entry = JSON.parse(raw) as LogEntry;
    } catch {
      continue;
    }
    if (typeof entry !== 'object' || entry === null) continue;
    pid ??= entry.pid;
    if (entry.pid !== pid) {
      if (typeof entry.pid === 'number' && !plan.otherPids.includes(entry.pid)) plan.otherPids.push(entry.pid);
      continue;
    }
    if (entry.msg === 'starting') {
      if (typeof entry.memtable_max_bytes === 'number') plan.settings.memtableMaxBytes = entry.memtable_max_bytes;
      if (typeof entry.max_immutable === 'number') plan.settings.maxImmutable = entry.max_immutable;
      if (typeof entry.max_nodes === 'number') plan.settings.maxNodes = entry.max_nodes;
    } else if (entry.msg === 'received' && typeof entry.line === 'string' && typeof entry.batch === 'number') {
      const last = plan.batches[plan.batches.length - 1];
      if (last?.batch === entry.batch) last.lines.push(entry.line);
      else plan.batches.push({ batch: entry.batch, lines: [entry.line] });
    } else if (entry.msg === 'flush installed' && typeof entry.node_id === 'string' && typeof entry.batch === 'number') {
      const installs = plan.flushInstalls.get(entry.node_id) ?? [];
      installs.push(entry.batch);
      plan.flushInstalls.set(entry.node_id, installs);
    }
  }
  return plan;
}

export interface ReplayOptions {
  output: Writable;
  log: Logger;
  dataRoot: string;
  fs: FileSystem;
  maxLineBytes: number;
  memtableMaxBytes: number;
  maxImmutable: number;
  maxNodes: number;
  maxOpenFiles: number;
  blockCacheBytes: number;
  /** Also receives every actor's inspection events (replay --inspect). */
  inspect?: (event: InspectionEvent) => void;
}

/** Feeds the plan's batches to fresh nodes, keeping flush installs where the log had them. */
export async function replay(plan: ReplayPlan, options: ReplayOptions): Promise<void> {
  /** The logged batch number fed last; Infinity once all input is in. */
  let fed = 0;
  const installed = new Map<string, number>();
  const held = new Map<string, number>();
  const waiters: Array<() => void> = [];
  const changed = (): void => {
    for (const wake of waiters.splice(0)) wake();
  };
  const until = async (condition: () => boolean): Promise<void> => {
    while (!condition()) await new Promise<void>((resolve) => waiters.push(resolve));
  };

  const holdFlush = async (nodeId: string): Promise<void> => {
    const index = held.get(nodeId) ?? 0;
    held.set(nodeId, index + 1);
    const target = plan.flushInstalls.get(nodeId)?.[index] ?? 0;
    await until(() => fed >= target);
    // Let the batch just fed be served first, as it was in the logged run.
    await new Promise((resolve) => setImmediate(resolve));
  };

  async function* batches(): AsyncGenerator<string> {
    for (const { batch, lines } of plan.batches) {
      // Every flush the logged run installed before receiving this batch is installed first.
      await until(() =>
        [...plan.flushInstalls].every(([nodeId, installs]) => (installed.get(nodeId) ?? 0) >= installs.filter((at) => at < batch).length),
      );
      fed = batch;
      changed();
      yield lines.map((line) => `${line}\n`).join('');
    }
    fed = Infinity;
    changed();
  }

  await runNodes({
    input: batches(),
    output: options.output,
    log: options.log,
    maxLineBytes: options.maxLineBytes,
    maxNodes: options.maxNodes,
    node: {
      dataRoot: options.dataRoot,
      memtableMaxBytes: options.memtableMaxBytes,
      maxImmutable: options.maxImmutable,
      fs: options.fs,
      caches: newReaderCaches(options.fs, options.maxOpenFiles, options.blockCacheBytes),
      holdFlush,
    },
    inspect: options.inspect,
    onFlushInstalled: (nodeId) => {
      installed.set(nodeId, (installed.get(nodeId) ?? 0) + 1);
      changed();
    },
  });
}
