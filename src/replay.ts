/**
 * `memtable-node replay LOGFILE`: reproduces a run from its debug log.
 *
 * A node run at `--log-level debug` logs every line it receives (with the
 * number of the stdin batch it came in) and every flush and compaction it
 * installs (with the batch count at that moment). Replay feeds the same
 * lines, cut into the same batches, to a fresh node with the same settings,
 * and holds each install until the input reaches the point where the logged
 * run installed it, so reads see the same layers and the replies come out
 * the same, byte for byte.
 *
 * Flushes are exact: a MemTable freezes at the same write in both runs, and
 * the input waits for each flush the logged run installed before it.
 * Compactions are held the same way but the input does not wait for them:
 * when a background compaction picked its inputs depends on timing (which of
 * a flush and the previous compaction finished first), so the replay may
 * pick differently, and waiting for a compaction it never starts would hang.
 * And an L0 slowdown or stop, timed by compactions, can pause the logged
 * run's writes mid-batch where the replay's do not, moving a flush's install
 * within a batch. With --compaction auto, replies that report the layout
 * (memtable_stats, lsm_*, the `source` and `sstable_file` that answered) may
 * therefore differ; values never do.
 *
 * It reproduces runs that started from an empty store (no --data-dir, or an
 * empty one): what a data folder held before the run is not in the log. The
 * 'store open' line says whether a node's store held anything (SSTables or
 * WAL records), so replay can warn that such a run's replies will differ.
 */
import type { Writable } from 'node:stream';
import type { Logger } from 'pino';
import type { InspectionEvent } from 'xstate';
import { runNodes } from './actors/runtime.js';
import type { LoggedRunSettings } from './config.js';
import type { InstallKind } from './actors/nodeContext.js';
import type { CompactionOptions } from './storage/compaction/compactor.js';
import type { CompactionRunner } from './storage/compaction/runner.js';
import type { FileSystem } from './storage/env/fileSystem.js';
import { yieldToEventLoop } from './storage/env/yieldToEventLoop.js';
import { newReaderCaches } from './storage/sstable/reader.js';

export interface ReplayPlan {
  /** The logged run's batches in order, each with the lines received in it. */
  batches: Array<{ batch: number; lines: string[] }>;
  /** Per node id and kind (installKey), the batch count at each install, in order. */
  installs: Map<string, number[]>;
  /** Settings from the run's `starting` log line, when present. */
  settings: LoggedRunSettings;
  /** Process ids other than the replayed one found in the log (several runs appended to one file). */
  otherPids: number[];
  /** Nodes whose store held SSTables or WAL records when the run opened it ('store open'): the log lacks that data. */
  nonEmptyStores: string[];
}

/** The key of a node's installs of one kind in ReplayPlan.installs. */
function installKey(nodeId: string, kind: InstallKind): string {
  return `${kind} ${nodeId}`;
}

const INSTALL_LOGS: Partial<Record<string, InstallKind>> = { 'flush installed': 'flush', 'compaction installed': 'compaction' };

type LogEntry = { msg?: string; pid?: number; batch?: number; line?: string; node_id?: string; [key: string]: unknown };

/**
 * A 'starting' line's compaction settings (CompactionOptions), or undefined
 * if `value` is not one. Logs from before subcompactions lack
 * maxSubcompactions: those runs never split a compaction.
 */
function compactionOptionsOf(value: unknown): CompactionOptions | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const options: Record<string, unknown> = { maxSubcompactions: 1, ...value };
  const counts = ['levelBaseBytes', 'levelMultiplier', 'targetFileBytes', 'l0CompactionTrigger', 'l0SlowdownTrigger', 'l0StopTrigger', 'maxSubcompactions'];
  const valid = (options.mode === 'auto' || options.mode === 'manual') && counts.every((field) => Number.isSafeInteger(options[field]) && (options[field] as number) >= 1);
  return valid ? (options as unknown as CompactionOptions) : undefined;
}

/** Reads a pino JSON log (one run; with several, the first one's lines). Non-JSON lines are ignored. */
export function parseReplayLog(text: string): ReplayPlan {
  const plan: ReplayPlan = { batches: [], installs: new Map(), settings: {}, otherPids: [], nonEmptyStores: [] };
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
      const compaction = compactionOptionsOf(entry.compaction);
      if (compaction !== undefined) plan.settings.compaction = compaction;
    } else if (entry.msg === 'store open' && typeof entry.node_id === 'string') {
      if (Number(entry.sstables) > 0 || Number(entry.wal_records_replayed) > 0) plan.nonEmptyStores.push(entry.node_id);
    } else if (entry.msg === 'received' && typeof entry.line === 'string' && typeof entry.batch === 'number') {
      const last = plan.batches[plan.batches.length - 1];
      if (last?.batch === entry.batch) last.lines.push(entry.line);
      else plan.batches.push({ batch: entry.batch, lines: [entry.line] });
    } else if (INSTALL_LOGS[entry.msg ?? ''] !== undefined && typeof entry.node_id === 'string' && typeof entry.batch === 'number') {
      const key = installKey(entry.node_id, INSTALL_LOGS[entry.msg!]!);
      const installs = plan.installs.get(key) ?? [];
      installs.push(entry.batch);
      plan.installs.set(key, installs);
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
  compaction: CompactionOptions;
  compactionRunner: CompactionRunner;
  /** Also receives every actor's inspection events (replay --inspect). */
  inspect?: (event: InspectionEvent) => void;
}

/** Feeds the plan's batches to fresh nodes, keeping flush and compaction installs where the log had them. */
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

  const holdInstall = async (nodeId: string, kind: InstallKind): Promise<void> => {
    const key = installKey(nodeId, kind);
    const index = held.get(key) ?? 0;
    held.set(key, index + 1);
    const target = plan.installs.get(key)?.[index] ?? 0;
    await until(() => fed >= target);
    // Let the batch just fed be served first, as it was in the logged run.
    await yieldToEventLoop();
  };

  const flushInstalls = [...plan.installs].filter(([key]) => key.startsWith('flush '));
  async function* batches(): AsyncGenerator<string> {
    for (const { batch, lines } of plan.batches) {
      // Every flush the logged run installed before receiving this batch is installed first (compactions: see the top).
      await until(() => flushInstalls.every(([key, installs]) => (installed.get(key) ?? 0) >= installs.filter((at) => at < batch).length));
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
      compaction: options.compaction,
      compactionRunner: options.compactionRunner,
      holdInstall,
    },
    inspect: options.inspect,
    onInstalled: (nodeId, kind) => {
      const key = installKey(nodeId, kind);
      installed.set(key, (installed.get(key) ?? 0) + 1);
      changed();
    },
  });
}
