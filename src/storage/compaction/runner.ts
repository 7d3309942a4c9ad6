/**
 * Where compaction jobs run: in a worker thread, so the merge and the writes
 * use the second core while the main thread keeps answering requests (only
 * installing the result is the main thread's), or in-process for tests with
 * an injected file system. Both run the same runCompactionJob.
 *
 * Invariants of workerRunner:
 *   (1) At most one Worker at a time, spawned at the first job and kept for
 *       the next ones; `pending` holds exactly the jobs sent to it and not
 *       yet answered.
 *   (2) The Worker is ref'd exactly while `pending` is non-empty: a running
 *       job keeps the process alive, an idle worker never does.
 *   (3) Every job settles once: with the worker's answer, or rejected if
 *       the worker dies first (the next job then spawns a new one) or the
 *       runner closes. A job's failure crosses the thread as its name,
 *       message and code (a StorageError arrives as a StorageError with the
 *       same code), never as a crash of the worker.
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
}

/**
 * Runs jobs in one long-lived worker_threads Worker (invariants 1 to 3).
 * The worker makes its own file system: nodeFileSystem, with
 * MEMTABLE_FAULT_FILE's injected faults when that is set (see worker.ts).
 */
export function workerRunner(options: WorkerRunnerOptions = {}): CompactionRunner {
  const workerUrl = options.workerUrl ?? new URL('./worker.js', import.meta.url);
  const pending = new Map<number, { resolve: (result: CompactionJobResult) => void; reject: (error: unknown) => void }>();
  let worker: Worker | null = null;
  let nextId = 0;
  let closed = false;

  const failAll = (error: Error): void => {
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };

  const spawn = (): Worker => {
    const spawned = new Worker(workerUrl);
    spawned.on('message', (message: WorkerReply) => {
      const job = pending.get(message.id);
      if (job === undefined) return;
      pending.delete(message.id);
      if (pending.size === 0) spawned.unref();
      if (message.ok) job.resolve(message.result);
      else job.reject(deserializeError(message.error));
    });
    // A crash: every job it held fails, and the next job gets a new worker.
    const lost = (error: Error): void => {
      if (worker !== spawned) return;
      worker = null;
      failAll(error);
    };
    spawned.on('error', (error) => lost(error));
    spawned.on('exit', (code) => lost(new Error(`compaction worker exited (code ${code})`)));
    return spawned;
  };

  return {
    run(job) {
      if (closed) return Promise.reject(new Error('compaction runner is closed'));
      worker ??= spawn();
      const id = nextId++;
      const result = new Promise<CompactionJobResult>((resolve, reject) => pending.set(id, { resolve, reject }));
      worker.ref();
      worker.postMessage({ id, job } satisfies WorkerRequest);
      return result;
    },
    async close() {
      closed = true;
      const stopping = worker;
      worker = null;
      failAll(new Error('compaction runner closed'));
      await stopping?.terminate();
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
