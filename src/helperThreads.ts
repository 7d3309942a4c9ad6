/**
 * Lowers the CPU priority of V8's helper threads (concurrent marking and
 * sweeping, parallel scavenging, background compilation), so that on a
 * machine with fewer free cores than busy threads the main thread, which
 * answers requests, gets a core first: RocksDB lowers its background
 * threads' priority for the same reason, and the compaction worker does it
 * to itself (storage/compaction/worker.ts).
 *
 * Measured (docs/BENCHMARKS.md, seventh session): on 2 cores, V8's 4
 * helper threads used ~1.8 s of CPU over a 17 s paced run, and the main
 * thread waited for a core 1.2 s of it; with them at nice 10 the paced p99
 * fell from 4.4-7.4 ms to 3.6-4.5 ms, about what `--v8-pool-size=1` gives,
 * and end to end ran 2-10% faster. A node started as `node dist/cli.js`
 * cannot pass --v8-pool-size, which Node reads at start-up.
 *
 * Which threads: on Linux nice is per thread, and setpriority(PRIO_PROCESS,
 * tid) renices one thread. Node creates V8's platform threads before
 * anything else (the delayed-task scheduler, then --v8-pool-size workers,
 * 4 unless given), so they hold the lowest thread ids after the main
 * thread's; libuv's thread pool, which runs the WAL's fdatasync, comes
 * later and keeps its priority. Should a Node version start its threads in
 * another order, a wrong thread is reniced: that changes scheduling only,
 * never what any thread computes. Elsewhere, or with a pool size this
 * cannot tell (0: Node's own estimate), it does nothing.
 */
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';

/** The nice value V8's helper threads get: the compaction worker's (WORKER_NICE in storage/compaction/worker.ts). */
export const HELPER_NICE = 10;

/** V8's platform pool size when --v8-pool-size is not given (Node's default). */
const DEFAULT_V8_POOL_SIZE = 4;

/**
 * Renices V8's platform threads of this process to `nice` (see above);
 * returns their thread ids, empty when it did nothing. Best effort: a
 * refusal (a sandbox) leaves a thread as it was.
 */
export function lowerV8HelperPriority(nice: number = HELPER_NICE): number[] {
  if (process.platform !== 'linux') return [];
  // The command line takes precedence over NODE_OPTIONS, so it comes last.
  const poolSize = v8PoolSize([...(process.env.NODE_OPTIONS ?? '').split(/\s+/), ...process.execArgv]);
  if (poolSize === undefined) return [];
  let threads: number[];
  try {
    threads = readdirSync('/proc/self/task').map(Number);
  } catch {
    return [];
  }
  // The scheduler thread and the pool's workers: the first ids after the main thread's (its id is the pid).
  const helpers = threads
    .filter((tid) => tid > process.pid)
    .sort((a, b) => a - b)
    .slice(0, poolSize + 1);
  const reniced: number[] = [];
  for (const tid of helpers) {
    try {
      setPriority(tid, nice);
      reniced.push(tid);
    } catch {
      // Not allowed here, or the thread is gone: it keeps its priority.
    }
  }
  return reniced;
}

/** The V8 pool size the arguments set, DEFAULT_V8_POOL_SIZE if none does, undefined if one sets 0 or garbage (the last one wins, as in Node). */
export function v8PoolSize(args: string[]): number | undefined {
  let size = DEFAULT_V8_POOL_SIZE;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    let value: string | undefined;
    if (arg.startsWith('--v8-pool-size=')) value = arg.slice('--v8-pool-size='.length);
    else if (arg === '--v8-pool-size') value = args[++i];
    else continue;
    size = Number(value);
  }
  return Number.isInteger(size) && size >= 1 ? size : undefined;
}
