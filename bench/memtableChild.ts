/**
 * The skip list against in-memory ordered maps (a development aid, not part
 * of npm run bench since issue 14 dropped those targets; the history is in
 * docs/BENCHMARKS.md): one measurement in a fresh process, so no structure
 * inherits another's heap, garbage or JIT feedback. Prints one JSON line.
 * Run each structure in its own process, alternating, e.g. for s in
 * skiplist sorted-btree js-sdsl rbtree:
 *
 *   node --expose-gc memtableChild.js time   STRUCTURE N LOOKUPS SCANS SEED  -> {put, get, scan} ops/s
 *   node --expose-gc memtableChild.js memory STRUCTURE N SEED                -> {bytesPerEntry}
 */
import { createStore, type OrderedStore, type StructureName } from './structures.js';
import { memTableWorkload, SCAN_LENGTH } from './workload.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

/** Repeat short phases until they cover at least this many operations, so 10k-key timings are not a few ms of noise. */
const MIN_OPS_PER_PHASE = 300_000;

function fullGc(): void {
  // Twice: the first pass may only queue finalizers/weak callbacks.
  gc!();
  gc!();
}

function build(name: StructureName, keys: string[], values: string[]): OrderedStore {
  const store = createStore(name);
  for (let i = 0; i < keys.length; i++) store.put(keys[i], values[i]);
  return store;
}

function getAll(store: OrderedStore, lookups: string[]): number {
  let found = 0;
  for (let i = 0; i < lookups.length; i++) if (store.get(lookups[i]) !== undefined) found++;
  return found;
}

function scanAll(store: OrderedStore, starts: string[]): number {
  let sum = 0;
  for (let i = 0; i < starts.length; i++) sum += store.scan(starts[i], SCAN_LENGTH);
  return sum;
}

function time(name: StructureName, n: number, lookupCount: number, scans: number, seed: number): void {
  // Warm-up on a different data set of up to 100k keys, enough iterations
  // for the optimizing compiler to settle on every path we then time.
  // Scans run once: each is 100 entries, and a slow scanner would spend
  // longer warming up than being measured.
  const warm = memTableWorkload(Math.min(n, 100_000), 100_000, Math.min(scans, 10_000), seed ^ 0x5eed);
  let warmStore!: OrderedStore;
  for (let round = 0; round * warm.keys.length < MIN_OPS_PER_PHASE; round++) {
    warmStore = build(name, warm.keys, warm.values);
    getAll(warmStore, warm.lookups);
  }
  scanAll(warmStore, warm.scanStarts);
  warmStore = undefined!;

  const w = memTableWorkload(n, lookupCount, scans, seed);
  const passes = Math.max(1, Math.ceil(MIN_OPS_PER_PHASE / n));
  const getPasses = Math.max(1, Math.ceil(MIN_OPS_PER_PHASE / w.lookups.length));

  // put: fresh structures from empty; GC the structure causes is part of the cost.
  fullGc();
  let store!: OrderedStore;
  let t0 = process.hrtime.bigint();
  for (let p = 0; p < passes; p++) store = build(name, w.keys, w.values);
  const putSeconds = Number(process.hrtime.bigint() - t0) / 1e9;

  fullGc();
  let found = 0;
  t0 = process.hrtime.bigint();
  for (let p = 0; p < getPasses; p++) found += getAll(store, w.lookups);
  const getSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const gets = w.lookups.length * getPasses;
  if (found !== gets) throw new Error(`${name}: ${gets - found} gets missed`);

  fullGc();
  t0 = process.hrtime.bigint();
  const checksum = scanAll(store, w.scanStarts);
  const scanSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  // Every entry is key (13) + value (40) chars: a short scan would show here.
  const expected = scans * SCAN_LENGTH * (w.keys[0].length + w.values[0].length);
  if (checksum !== expected) throw new Error(`${name}: scans read ${checksum} chars, expected ${expected}`);

  print({ put: (n * passes) / putSeconds, get: gets / getSeconds, scan: scans / scanSeconds });
}

/**
 * Heap bytes per entry, keys and values included: the baseline is taken
 * before any key exists, and everything but the structure is garbage at the
 * second reading. heapUsed misses typed arrays (their backing stores are
 * off-heap), so both readings add `external`, which per Node's docs already
 * includes `arrayBuffers` (adding both would count typed arrays twice).
 */
function memory(name: StructureName, n: number, seed: number): void {
  fullGc();
  const before = process.memoryUsage();
  const store = (() => {
    const w = memTableWorkload(n, 0, 0, seed);
    return build(name, w.keys, w.values);
  })();
  fullGc();
  const after = process.memoryUsage();
  const heap = after.heapUsed - before.heapUsed;
  const offHeap = after.external - before.external;
  print({ bytesPerEntry: (heap + offHeap) / n, heapPerEntry: heap / n, offHeapPerEntry: offHeap / n, alive: store !== undefined });
}

function print(result: object): void {
  process.stdout.write(JSON.stringify(result) + '\n');
}

const [mode, name, ...rest] = process.argv.slice(2);
if (mode === 'time') time(name as StructureName, Number(rest[0]), Number(rest[1]), Number(rest[2]), Number(rest[3]));
else if (mode === 'memory') memory(name as StructureName, Number(rest[0]), Number(rest[1]));
else throw new Error(`usage: memtableChild.js time|memory STRUCTURE ...`);
