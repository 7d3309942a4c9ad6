/**
 * One engine run in a fresh process (spawned by engineBench.ts): our Store
 * or LevelDB (classic-level) in a fresh temporary folder, the same keys,
 * values and queries for both. Prints one JSON line (EngineRun).
 *
 *   node engineChild.js ours|leveldb KEYS GETS SCANS OVERWRITES SEED [BLOCK_CACHE_BYTES]
 *
 * Phases, in order:
 *   load       KEYS puts (random order) in batches of BATCH, no fsync, timed
 *              until the engine is quiescent (every flush and compaction done)
 *   get        GETS present keys, then GETS absent keys, in random order
 *   scan       SCANS seeks to a random key, each followed by SCAN_LENGTH entries
 *   overwrite  every key OVERWRITES more times (new values), then quiescent
 * Disk bytes are read after load and after overwrite; bytes written come
 * from /proc/self/io `wchar` (every byte the process passed to write(2) and
 * its kin, whichever thread wrote it: LevelDB's compaction thread included),
 * which counts the WAL, SSTables and MANIFEST alike, before any page cache.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { DEFAULT_BLOCK_CACHE_BYTES } from '../src/storage/cache/blockCache.js';
import { DEFAULT_COMPACTION_OPTIONS } from '../src/storage/compaction/compactor.js';
import { workerRunner } from '../src/storage/compaction/runner.js';
import { nodeFileSystem } from '../src/storage/env/fileSystem.js';
import { newReaderCaches } from '../src/storage/sstable/reader.js';
import { Store } from '../src/storage/store.js';
import { StoreDriver } from './engineDriver.js';
import { distinctIds, ENGINE_BATCH, ENGINE_VALUE_BYTES, hexValueOf, keyOf, permutation, rng, SCAN_LENGTH } from './workload.js';

/** Our MemTable size in the engine bench: the CLI's default, and LevelDB's write_buffer_size (4 MiB) too. */
const ENGINE_MEMTABLE_BYTES = 4 * 1024 * 1024;
/** LevelDB is quiescent once nothing was written for this long (its compactions run back to back while any is due). */
const LEVELDB_IDLE_MS = 1000;
const POLL_MS = 10;

export interface EngineRun {
  /** ops/s; load and overwrite include reaching quiescence. */
  put: number;
  overwrite: number;
  getPresent: number;
  getAbsent: number;
  scan: number;
  /** Bytes of every file in the folder. */
  diskAfterLoad: number;
  diskAfterOverwrite: number;
  /** wchar during load, and during load and overwrite together. */
  writtenLoad: number;
  writtenTotal: number;
  /** Key + value bytes put during load, and in all. */
  userBytesLoad: number;
  userBytesTotal: number;
  /** Files in the folder after overwrite, SSTables (.sst/.ldb) and the rest. */
  tables: number;
  /** LevelDB's own account: files per level after overwrite (empty for ours). */
  levels: number[];
}

interface Engine {
  putBatch(keys: string[], values: string[], from: number, to: number, valueOffset: number): Promise<void>;
  /** Resolves once no background work is left; with the time the last of it finished. */
  quiesce(): Promise<number>;
  get(key: string): string | undefined;
  /** Seeks to `start` and reads `limit` entries; returns the characters read (key + value). */
  scan(start: string, limit: number): Promise<number>;
  levels(): number[];
  close(): Promise<void>;
}

/** `blockCacheBytes`: our block cache (default --block-cache-bytes'; the bench uses the default, a larger one measures what the cache bounds). */
async function openOurs(dir: string, blockCacheBytes = DEFAULT_BLOCK_CACHE_BYTES): Promise<Engine> {
  // Compactions in worker threads, as the CLI runs them, one a subcompaction (LevelDB's run in its one background thread).
  const runner = workerRunner({ workers: DEFAULT_COMPACTION_OPTIONS.maxSubcompactions });
  const caches = newReaderCaches(nodeFileSystem, undefined, blockCacheBytes);
  const store = await Store.open({ dir, memtableMaxBytes: ENGINE_MEMTABLE_BYTES, maxImmutable: 4, wal: { sync: false }, compactionRunner: runner, caches });
  const driver = new StoreDriver(store);
  return {
    putBatch: (keys, values, from, to, offset) => driver.putBatch(keys, values, from, to, offset),
    quiesce: async () => {
      await driver.quiesce();
      return performance.now();
    },
    get: (key) => store.get(key).value ?? undefined,
    scan: async (start, limit) => {
      let chars = 0;
      for (const entry of store.scan({ start, limit }).entries) chars += entry.key.length + entry.value.length;
      return chars;
    },
    levels: () => store.levelInfo().map((level) => level.sstables),
    close: async () => {
      store.close();
      await runner.close();
    },
  };
}

async function openLevelDb(dir: string): Promise<Engine> {
  const db = new ClassicLevel<string, string>(dir);
  await db.open();
  let iterator: ReturnType<typeof db.iterator> | undefined;
  return {
    putBatch: async (keys, values, from, to, offset) => {
      const n = values.length;
      const ops = new Array<{ type: 'put'; key: string; value: string }>(to - from);
      for (let i = from; i < to; i++) ops[i - from] = { type: 'put', key: keys[i], value: values[(i + offset) % n] };
      await db.batch(ops);
    },
    quiesce: async () => {
      // LevelDB has no "idle" signal: wait until the process stops writing, and take the last write's time.
      let last = writtenBytes();
      let lastChange = performance.now();
      while (performance.now() - lastChange < LEVELDB_IDLE_MS) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        const now = writtenBytes();
        if (now !== last) {
          last = now;
          lastChange = performance.now();
        }
      }
      return lastChange;
    },
    get: (key) => db.getSync(key),
    scan: async (start, limit) => {
      iterator ??= db.iterator(); // one iterator, reseeked: the cheapest way classic-level offers
      iterator.seek(start);
      let chars = 0;
      for (const [key, value] of (await iterator.nextv(limit)) as Array<[string, string]>) chars += key.length + value.length;
      return chars;
    },
    levels: () => [0, 1, 2, 3, 4, 5, 6].map((level) => Number(db.getProperty(`leveldb.num-files-at-level${level}`))),
    close: async () => {
      await iterator?.close();
      await db.close();
    },
  };
}

/** /proc/self/io wchar: bytes this process (all its threads) passed to write calls. */
function writtenBytes(): number {
  return Number(/wchar:\s+(\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))![1]);
}

function folderBytes(dir: string): { bytes: number; tables: number } {
  let bytes = 0;
  let tables = 0;
  for (const name of readdirSync(dir)) {
    bytes += statSync(join(dir, name)).size;
    if (name.endsWith('.sst') || name.endsWith('.ldb')) tables++;
  }
  return { bytes, tables };
}

/** Puts every key once, value i + offset, in batches; returns the seconds until quiescent. */
async function putAll(engine: Engine, keys: string[], values: string[], offset: number): Promise<number> {
  const t0 = performance.now();
  for (let from = 0; from < keys.length; from += ENGINE_BATCH) {
    await engine.putBatch(keys, values, from, Math.min(keys.length, from + ENGINE_BATCH), offset);
  }
  return ((await engine.quiesce()) - t0) / 1000;
}

async function main(): Promise<void> {
  const [engineName, ...numbers] = process.argv.slice(2);
  const [n, gets, scans, overwrites, seed, blockCacheBytes] = numbers.map(Number);
  if (engineName !== 'ours' && engineName !== 'leveldb') throw new Error('usage: engineChild.js ours|leveldb KEYS GETS SCANS OVERWRITES SEED [BLOCK_CACHE_BYTES]');

  const random = rng(seed);
  const ids = distinctIds(n + gets, random); // the last `gets` ids are never put: the absent keys
  const keys = new Array<string>(n);
  const values = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    keys[i] = keyOf(ids[i]);
    values[i] = hexValueOf(random, ENGINE_VALUE_BYTES);
  }
  const order = permutation(n, random);
  // Fresh strings equal to the stored ones, as a parsed request would carry.
  const present = Array.from({ length: gets }, (_, i) => keyOf(ids[order[i % n]]));
  const absent = Array.from({ length: gets }, (_, i) => keyOf(ids[n + i]));
  const scanStarts = Array.from({ length: scans }, () => keyOf((random() * 4294967296) >>> 0));
  const entryBytes = keys[0].length + ENGINE_VALUE_BYTES;

  const dir = mkdtempSync(join(tmpdir(), `memtable-bench-engine-${engineName}-`));
  try {
    const engine = engineName === 'ours' ? await openOurs(dir, blockCacheBytes || undefined) : await openLevelDb(dir);
    const written0 = writtenBytes();
    const loadSeconds = await putAll(engine, keys, values, 0);
    const writtenLoad = writtenBytes() - written0;
    const diskAfterLoad = folderBytes(dir).bytes;

    let t0 = performance.now();
    let found = 0;
    for (const key of present) if (engine.get(key) !== undefined) found++;
    const getPresentSeconds = (performance.now() - t0) / 1000;
    if (found !== gets) throw new Error(`${engineName}: ${gets - found} present keys not found`);
    t0 = performance.now();
    for (const key of absent) if (engine.get(key) !== undefined) found++;
    const getAbsentSeconds = (performance.now() - t0) / 1000;
    if (found !== gets) throw new Error(`${engineName}: ${found - gets} absent keys found`);

    t0 = performance.now();
    let chars = 0;
    for (const start of scanStarts) chars += await engine.scan(start, SCAN_LENGTH);
    const scanSeconds = (performance.now() - t0) / 1000;
    // Scans that start near the end read fewer entries; both engines read the same ones.
    if (chars < scans * SCAN_LENGTH * entryBytes * 0.9) throw new Error(`${engineName}: scans read too little (${chars} chars)`);

    let overwriteSeconds = 0;
    for (let pass = 1; pass <= overwrites; pass++) overwriteSeconds += await putAll(engine, keys, values, pass * 7919);
    const writtenTotal = writtenBytes() - written0;
    const after = folderBytes(dir);
    const levels = engine.levels();
    await engine.close();

    const result: EngineRun = {
      put: n / loadSeconds,
      overwrite: overwrites > 0 ? (n * overwrites) / overwriteSeconds : 0,
      getPresent: gets / getPresentSeconds,
      getAbsent: gets / getAbsentSeconds,
      scan: scans / scanSeconds,
      diskAfterLoad,
      diskAfterOverwrite: after.bytes,
      writtenLoad,
      writtenTotal,
      userBytesLoad: n * entryBytes,
      userBytesTotal: n * (1 + overwrites) * entryBytes,
      tables: after.tables,
      levels,
    };
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
