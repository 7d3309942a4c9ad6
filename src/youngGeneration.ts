/**
 * Keeps V8's young generation small, so that no scavenge holds the event
 * loop for long (docs/BENCHMARKS.md, sixth session).
 *
 * A scavenge copies what survived it, and here that is mostly the MemTable's
 * newest keys and values: its pause grows with the semi-space, which V8 grows
 * up to 16 MiB under allocation. Under the paced latency load the node's grew
 * to 16 MiB: a scavenge every ~250 ms, pausing 2-5 ms on a light machine,
 * which is where the reply latency's p99 sat. Measured in process: ~370 kB
 * copied and a 2.2-3.5 ms median pause a scavenge at 8 MiB, ~150 kB and
 * half the pause at 4 MiB, twice as often, for about the same total pause.
 *
 * The node is started as `node dist/cli.js`, so it cannot pass
 * --max-semi-space-size, and V8 reads that flag only at start-up. It reads
 * --semi-space-growth-factor at each growth, though: after each collection
 * this checks the young generation's size and, once it has reached the cap,
 * switches growth off, again after every collection (a worker thread's
 * start puts V8's flags back to their defaults). So it may still grow past
 * the cap by a doubling: at a collection right after a worker starts, or
 * under a synchronous burst of allocation between two collections. Should
 * V8 shrink it later (it may, when idle), it stays smaller.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/** The semi-space size the node keeps to (at most one doubling past it, see above). */
export const YOUNG_SEMI_SPACE_BYTES = 4 * 1024 * 1024;

/** V8's own growth factor (its default), restored by the function capYoungGeneration returns. */
const DEFAULT_GROWTH_FACTOR = 2;

/**
 * Keeps the young generation's semi-spaces at or near `semiSpaceBytes` from
 * now on (see the top of this file); returns a function that stops doing so
 * and lets V8 grow it again.
 */
export function capYoungGeneration(semiSpaceBytes: number = YOUNG_SEMI_SPACE_BYTES): () => void {
  let capped = false;
  const observer = new PerformanceObserver(() => {
    if (!capped) {
      // new_space counts both semi-spaces once they are committed; it can read lower for a moment
      // (V8 uncommits the idle one), so the cap, once reached, stays on.
      const newSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
      capped = newSpace !== undefined && newSpace.space_size >= 2 * semiSpaceBytes;
    }
    // Set again after every collection: starting a worker thread (the compaction runner's) puts
    // V8's flags back to their defaults.
    if (capped) setFlagsFromString('--semi-space-growth-factor=1');
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => {
    observer.disconnect();
    setFlagsFromString(`--semi-space-growth-factor=${DEFAULT_GROWTH_FACTOR}`);
  };
}
