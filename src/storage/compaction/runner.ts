/**
 * Where compaction jobs run: in worker threads, so the merge and the writes
 * use the cores the main thread leaves while it keeps answering requests
 * (only installing the result is the main thread's), or in-process for tests
 * with an injected file system. Both run the same runCompactionJob.
 *
 * Invariants of workerRunner:
 *   (1) At most `workers` Workers at a time, each spawned when a job finds
 *       no idle one and kept for later jobs (a subcompaction's share of a
 *       job runs in a worker of its own while another is busy). A job goes to
 *       the Worker with the fewest jobs pending, an idle one first; each
 *       Worker's `pending` holds exactly the jobs sent to it and not yet
 *       answered.
 *   (2) A Worker is ref'd exactly while its `pending` is non-empty: a
 *       running job keeps the process alive, an idle worker never does.
 *   (3) Every job settles once: with its worker's answer, or rejected if
 *       that worker dies first (its slot then spawns a new one for the next
 *       job) or the runner closes. A job's failure crosses the thread as its
 *       name, message and code (a StorageError arrives as a StorageError
 *       with the same code), never as a crash of the worker.
 */
import { Worker } from 'node:worker_threads';
import type { FileSystem } from '../env/fileSystem.js';
import { StorageError, type StorageErrorCode } from '../errors.js';
import type { ReaderCaches } from '../sstable/reader.js';
import { type CompactionJob, type CompactionJobResult, runCompactionJob } from './job.js';

export interface CompactionRunner {
  /** Runs `job` (job.ts); rejects with its failure, its outputs already removed. */
  run(job: CompactionJob): Promise<CompactionJobResult>;
  /** Stops taking jobs; a job still running rejects. Idempotent. */
  close(): Promise<void>;
}

/** Runs jobs on the calling thread through `fs` (tests, and injected faults in-process). */
export function inProcessRunner(fs: FileSystem, caches?: ReaderCaches): CompactionRunner {
  let closed = false;
  return {
    run(job) {
      if (closed) return Promise.reject(new Error('compaction runner is closed'));
      return runCompactionJob(fs, job, caches);
    },
    async close() {
      closed = true;
    },
  };
}

export interface WorkerRunnerOptions {
  /** The worker module; default worker.js beside this file (so it needs the built dist/). */
  workerUrl?: URL;
  /** Worker threads at most (one a subcompaction running at once); default 1. */
  workers?: number;
}

/** One Worker of the pool and the jobs it holds (invariants 1 and 2). */
interface WorkerSlot {
  worker: Worker | null;
  pending: Map<number, { resolve: (result: CompactionJobResult) => void; reject: (error: unknown) => void }>;
}

/**
 * Runs jobs in up to `workers` long-lived worker_threads Workers
 * (invariants 1 to 3). Each worker makes its own file system:
 * nodeFileSystem, with MEMTABLE_FAULT_FILE's injected faults when that is
 * set (see worker.ts).
 */
export function workerRunner(options: WorkerRunnerOptions = {}): CompactionRunner {
  const workerUrl = options.workerUrl ?? new URL('./worker.js', import.meta.url);
  const workers = options.workers ?? 1;
  if (!(Number.isInteger(workers) && workers >= 1)) throw new RangeError(`workers must be a positive integer, got ${workers}`);
  const slots: WorkerSlot[] = Array.from({ length: workers }, () => ({ worker: null, pending: new Map() }));
  let nextId = 0;
  let closed = false;

  const failAll = (slot: WorkerSlot, error: Error): void => {
    for (const { reject } of slot.pending.values()) reject(error);
    slot.pending.clear();
  };

  const spawn = (slot: WorkerSlot): Worker => {
    const spawned = new Worker(workerUrl);
    spawned.on('message', (message: WorkerReply) => {
      const job = slot.pending.get(message.id);
      if (job === undefined) return;
      slot.pending.delete(message.id);
      if (slot.pending.size === 0) spawned.unref();
      if (message.ok) job.resolve(message.result);
      else job.reject(deserializeError(message.error));
    });
    // A crash: every job it held fails, and the slot's next job gets a new worker.
    const lost = (error: Error): void => {
      if (slot.worker !== spawned) return;
      slot.worker = null;
      failAll(slot, error);
    };
    spawned.on('error', (error) => lost(error));
    spawned.on('exit', (code) => lost(new Error(`compaction worker exited (code ${code})`)));
    return spawned;
  };

  /** An idle running worker's slot, else an empty slot (one more worker), else the least busy. */
  const pick = (): WorkerSlot =>
    slots.find((slot) => slot.worker !== null && slot.pending.size === 0) ??
    slots.find((slot) => slot.worker === null) ??
    slots.reduce((least, slot) => (slot.pending.size < least.pending.size ? slot : least));

  return {
    run(job) {
      if (closed) return Promise.reject(new Error('compaction runner is closed'));
      const slot = pick();
      const worker = (slot.worker ??= spawn(slot));
      const id = nextId++;
      const result = new Promise<CompactionJobResult>((resolve, reject) => slot.pending.set(id, { resolve, reject }));
      worker.ref();
      worker.postMessage({ id, job } satisfies WorkerRequest);
      return result;
    },
    async close() {
      closed = true;
      const stopping: Worker[] = [];
      for (const slot of slots) {
        if (slot.worker !== null) stopping.push(slot.worker);
        slot.worker = null;
        failAll(slot, new Error('compaction runner closed'));
      }
      await Promise.all(stopping.map((worker) => worker.terminate()));
    },
  };
}

/** A job for the worker. */
export interface WorkerRequest {
  id: number;
  job: CompactionJob;
}

/** The worker's answer to request `id`. */
export type WorkerReply = { id: number; ok: true; result: CompactionJobResult } | { id: number; ok: false; error: SerializedError };

/** What of an error crosses the thread: structured clone keeps an Error's message but not its code. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
  cause?: SerializedError;
}

/** `error` as plain data, its cause chain included (two levels deep: the storage error and the errno behind it). */
export function serializeError(error: unknown, depth = 0): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = (error as { code?: unknown }).code;
  return {
    name: error.name,
    message: error.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(error.stack !== undefined ? { stack: error.stack } : {}),
    ...(error.cause !== undefined && depth < 2 ? { cause: serializeError(error.cause, depth + 1) } : {}),
  };
}

/** The error serializeError described: a StorageError when it was one, else an Error carrying its code. */
export function deserializeError(data: SerializedError): Error {
  const cause = data.cause === undefined ? undefined : deserializeError(data.cause);
  const error =
    data.name === 'StorageError' && data.code !== undefined
      ? new StorageError(data.code as StorageErrorCode, data.message, { cause })
      : Object.assign(new Error(data.message, { cause }), data.code === undefined ? {} : { code: data.code });
  error.name = data.name;
  if (data.stack !== undefined) error.stack = data.stack;
  return error;
}
