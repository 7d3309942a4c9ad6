/**
 * What one compaction job costs (a development aid, not part of npm run
 * bench): the L0 -> L1 job the engine bench's load runs most, made here
 * from fixed inputs and run in this thread, so its CPU time can be measured
 * without the noise of the rest of the load.
 *
 *   inputs  4 L0 files of 4 MiB MemTables (random `user:` keys, 100-byte
 *           hex values, as bench/engineChild.ts writes them) and an L1 of
 *           L1_ENTRIES keys of the same kind in 2 MiB files, overlapping them
 *   cpu     runCompactionJob into a file system that discards its outputs
 *           (inputs are read from real files, through the page cache)
 *   file    the same job writing real files, fdatasync included
 * Each is timed RUNS times, builds interleaved within each round; prints the
 * median time and CPU time (user + system, this process) per input entry.
 *
 *   node compactionProfile.js [RUNS] [SEED] [JOB_MODULE...]
 *
 * Each JOB_MODULE (a path of a compiled compaction/job.js exporting
 * runCompactionJob, e.g. an older build's) is timed alongside the current one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readdir, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CompactionJob, runCompactionJob } from '../src/storage/compaction/job.js';
import { type FileSystem, nodeFileSystem, type WritableFile } from '../src/storage/env/fileSystem.js';
import { MemTable } from '../src/storage/memtable/memTable.js';
import { writeSSTable } from '../src/storage/sstable/writer.js';
import { sstableFileName } from '../src/storage/version/fileNames.js';
import { median } from './stats.js';
import { distinctIds, ENGINE_VALUE_BYTES, hexValueOf, keyOf, rng } from './workload.js';

const MEMTABLE_BYTES = 4 * 1024 * 1024;
const L0_FILES = 4;
const L1_ENTRIES = 120_000;
const TARGET_FILE_BYTES = 2 * 1024 * 1024;
/** Entries of one L1 file: about TARGET_FILE_BYTES of `user:` keys and 100-byte values. */
const L1_FILE_ENTRIES = 17_000;

type RunJob = typeof runCompactionJob;

const nullFile: WritableFile = { write: async () => undefined, sync: async () => undefined, close: async () => undefined };
const discardingFileSystem: FileSystem = { ...nodeFileSystem, createWritable: async () => nullFile, rename: async () => undefined, syncDir: async () => undefined };

/** Writes `keys` (sorted or not) with fresh values as one SSTable named for `number` at `level`. */
async function writeInput(dir: string, level: number, number: number, keys: string[], random: () => number): Promise<string> {
  const table = new MemTable(number);
  for (const key of keys) table.put(key, hexValueOf(random, ENGINE_VALUE_BYTES));
  const name = sstableFileName(number, level);
  await writeSSTable(nodeFileSystem, join(dir, name), table.iterator());
  return name;
}

async function makeInputs(dir: string, seed: number): Promise<{ job: CompactionJob; entries: number }> {
  const random = rng(seed);
  const perMemTable = Math.floor(MEMTABLE_BYTES / (13 + ENGINE_VALUE_BYTES + 32));
  const ids = distinctIds(L0_FILES * perMemTable + L1_ENTRIES, random);
  let number = 1;
  const l1Ids = ids.slice(0, L1_ENTRIES).sort();
  const targetFiles: string[] = [];
  for (let at = 0; at < l1Ids.length; at += L1_FILE_ENTRIES) {
    targetFiles.push(await writeInput(dir, 1, number++, [...l1Ids.subarray(at, at + L1_FILE_ENTRIES)].map(keyOf), random));
  }
  const sourceFiles: string[] = [];
  for (let f = 0; f < L0_FILES; f++) {
    // Half new keys, half overwrites of L1's, as a random load's L0 files hold once L1 has filled.
    const keys: string[] = [];
    for (let i = 0; i < perMemTable; i++) keys.push(keyOf(i % 2 === 0 ? ids[L1_ENTRIES + f * perMemTable + i] : l1Ids[(random() * L1_ENTRIES) | 0]));
    sourceFiles.unshift(await writeInput(dir, 0, number++, keys, random)); // newest first
  }
  const job: CompactionJob = {
    dir,
    sourceLevel: 0,
    targetLevel: 1,
    sourceFiles,
    targetFiles,
    grandparents: [],
    deeperRanges: [],
    targetFileBytes: TARGET_FILE_BYTES,
    maxGrandparentOverlapBytes: 10 * TARGET_FILE_BYTES,
    fileNumbers: { first: 1000, limit: 2000 },
  };
  return { job, entries: L0_FILES * perMemTable + L1_ENTRIES };
}

function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e3;
}

async function main(runs: number, seed: number, variants: string[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'memtable-bench-compactprof-'));
  try {
    const { job, entries } = await makeInputs(dir, seed);
    const builds: Array<[string, RunJob]> = [['current', runCompactionJob]];
    for (const v of variants) builds.push([v, ((await import(v)) as { runCompactionJob: RunJob }).runCompactionJob]);
    const times: Record<string, number[]> = {};
    for (const [name] of builds) for (const kind of ['cpu', 'cpu time', 'file', 'file time']) times[`${kind} ${name}`] = [];
    let written = 0;
    for (let r = 0; r < runs + 1; r++) {
      const keep = r >= 1; // the first round warms up
      for (const [name, run] of builds) {
        let t = now();
        let c = cpuMs();
        await run(discardingFileSystem, job);
        if (keep) times[`cpu ${name}`].push(now() - t);
        if (keep) times[`cpu time ${name}`].push(cpuMs() - c);

        t = now();
        c = cpuMs();
        const result = await run(nodeFileSystem, job);
        if (keep) times[`file ${name}`].push(now() - t);
        if (keep) times[`file time ${name}`].push(cpuMs() - c);
        written = result.bytesWritten;
        for (const output of result.outputs) await unlink(join(dir, output.name));
      }
    }
    const m = (k: string): number => median(times[k]);
    const ns = (ms: number): string => ((ms * 1e6) / entries).toFixed(0);
    let line = `${(await readdir(dir)).length} inputs, ${entries} entries, ${written} B written; medians of ${runs} (ns/entry)\n`;
    for (const [name] of builds) {
      line += `  ${name}: discard ${m(`cpu ${name}`).toFixed(0)} ms (${ns(m(`cpu ${name}`))}, cpu ${ns(m(`cpu time ${name}`))}); `;
      line += `file ${m(`file ${name}`).toFixed(0)} ms (${ns(m(`file ${name}`))}, cpu ${ns(m(`file time ${name}`))})\n`;
    }
    process.stdout.write(line);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main(Number(process.argv[2] ?? 5), Number(process.argv[3] ?? 7), process.argv.slice(4));
