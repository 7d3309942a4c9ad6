/**
 * The compaction worker thread (see runner.ts): takes jobs from its parent,
 * runs each with runCompactionJob, and answers every one, result or
 * serialized failure, so a failing job never takes the thread down.
 *
 * Invariant: the thread's file system is nodeFileSystem, wrapped with the
 * faults of MEMTABLE_FAULT_FILE's plan when that is set (a worker inherits
 * the process's environment), the same as the CLI's main thread
 * (docs/WAL.md, "Fault injection"), so injected ENOSPC and EIO reach
 * compaction writes too.
 */
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { faultInjectingFileSystem, planFromFile } from '../env/faultInjection.js';
import { nodeFileSystem } from '../env/fileSystem.js';
import { runCompactionJob } from './job.js';
import { serializeError, type WorkerReply, type WorkerRequest } from './runner.js';

const port = parentPort;
if (port === null) throw new Error('compaction worker: not started as a worker thread');

/**
 * The nice value this thread runs at. On Linux nice is per thread, and
 * setpriority(PRIO_PROCESS, 0) renices the calling thread only: on a
 * machine with fewer free cores than busy threads, the scheduler then gives
 * the main thread (which answers requests) the core first, and compaction
 * takes what is left. Elsewhere it may renice the whole process, so only Linux.
 */
export const WORKER_NICE = 10;
if (process.platform === 'linux') {
  try {
    setPriority(0, WORKER_NICE);
  } catch {
    // Not allowed here (a sandbox): compaction runs at the main thread's priority.
  }
}

const faultFile = process.env.MEMTABLE_FAULT_FILE;
const fs = faultFile ? faultInjectingFileSystem(nodeFileSystem, planFromFile(faultFile)) : nodeFileSystem;

port.on('message', ({ id, job }: WorkerRequest) => {
  runCompactionJob(fs, job).then(
    (result) => port.postMessage({ id, ok: true, result } satisfies WorkerReply),
    (error: unknown) => port.postMessage({ id, ok: false, error: serializeError(error) } satisfies WorkerReply),
  );
});
