/**
 * One compaction from pick to install, after LevelDB's
 * DBImpl::BackgroundCompaction: a trivial move is installed as an edit
 * alone; any other compaction is split into subcompactions when it is large
 * (subcompactions.ts), reserves its output numbers, runs its jobs on the
 * runner (worker threads in the CLI), then installs the edit that swaps
 * inputs for outputs. The host (the Store) owns the file set; this file
 * only sequences the steps and measures them.
 *
 * Invariants:
 *   (1) Nothing visible changes until host.installCompaction resolves: the
 *       job only creates files no version names, and the edit is installed
 *       once durable (version/versionSet.ts). Inputs are unlinked by the
 *       host only after that (Store invariant 5), so a crash at any moment
 *       leaves either the old file set or the new one, whole.
 *   (2) Every number reserved for outputs is either installed or released,
 *       whether the job and the install succeed or fail.
 *   (3) One compaction at a time per host: compactionEdit REQUIRES that
 *       nothing but flushes changed the levels since the pick; the node
 *       machine's single `compaction` region guarantees it.
 */
import { join } from 'node:path';
import type { FileSystem } from '../env/fileSystem.js';
import type { ReaderCaches } from '../sstable/reader.js';
import { totalBytes, totalEntries } from '../version/fileMetadata.js';
import type { Version, VersionEdit } from '../version/version.js';
import { type CompactionJobResult, compactionJob, maxCompactionOutputs } from './job.js';
import { type Compaction, compactionEdit } from './picker.js';
import type { CompactionRunner } from './runner.js';
import { type SplitSource, splitCompaction } from './subcompactions.js';

/** Level targets and triggers (the CLI's compaction settings, SPEC 2b). */
export interface CompactionOptions {
  /** 'manual' leaves compaction to lsm_compact and never slows or stops writes for L0. */
  mode: 'auto' | 'manual';
  levelBaseBytes: number;
  levelMultiplier: number;
  targetFileBytes: number;
  l0CompactionTrigger: number;
  l0SlowdownTrigger: number;
  l0StopTrigger: number;
  /** Key ranges a large compaction is split into, run side by side (RocksDB's max_subcompactions); 1: never split. */
  maxSubcompactions: number;
}

/** SPEC 2b's defaults; compactions are not split by default (docs/COMPACTION.md, "Subcompactions"). */
export const DEFAULT_COMPACTION_OPTIONS: CompactionOptions = {
  mode: 'auto',
  levelBaseBytes: 10 * 1024 * 1024,
  levelMultiplier: 10,
  targetFileBytes: 2 * 1024 * 1024,
  l0CompactionTrigger: 4,
  l0SlowdownTrigger: 8,
  l0StopTrigger: 12,
  maxSubcompactions: 1,
};

/** What a compaction (or a trivial move) installs: deletedFiles are its inputs, newFiles its outputs. */
export type CompactionEdit = Pick<VersionEdit, 'deletedFiles' | 'newFiles' | 'compactPointers'>;

/** What a compaction needs of the Store: the file set, its inputs' indexes (to split it), file numbers, and a durable install. */
export interface CompactionHost extends SplitSource {
  readonly currentVersion: Version;
  readonly files: { dir: string; fs: FileSystem; caches: ReaderCaches };
  reserveFileNumbers(count: number): number[];
  releaseFileNumbers(numbers: Iterable<number>): void;
  installCompaction(edit: CompactionEdit): Promise<Version>;
}

/** What one compaction did, in SPEC 2b's terms (lsm_compact_ok sums these over its steps). */
export interface CompactionResult {
  sourceLevel: number;
  targetLevel: number;
  /** Input file names: source level first. */
  inputs: string[];
  /** Output file names (a trivial move: the moved file). */
  outputs: string[];
  trivialMove: boolean;
  sstablesMerged: number;
  newSstables: number;
  /** Input entries - output entries. */
  keysDeduplicated: number;
  /** Bytes of every input file read (0 for a trivial move: nothing is read). */
  bytesRead: number;
  /** Bytes of the source level's input files read. */
  sourceBytesRead: number;
  bytesWritten: number;
  /** The jobs it ran side by side (subcompactions.ts); 0 for a trivial move. */
  subcompactions: number;
  ms: number;
}

/** The result of a compaction that had nothing to do (lsm_compact of an empty level). */
export const NOTHING_COMPACTED: Readonly<CompactionResult> = Object.freeze({
  sourceLevel: 0,
  targetLevel: 0,
  inputs: [],
  outputs: [],
  trivialMove: false,
  sstablesMerged: 0,
  newSstables: 0,
  keysDeduplicated: 0,
  bytesRead: 0,
  sourceBytesRead: 0,
  bytesWritten: 0,
  subcompactions: 0,
  ms: 0,
});

/** Input file names of `compaction`, source level first. */
export function inputNames(compaction: Compaction): string[] {
  return [...compaction.sourceInputs, ...compaction.targetInputs].map((file) => file.name);
}

export interface RunCompactionOptions {
  runner: CompactionRunner;
  targetFileBytes: number;
  /** Default 1: one job. */
  maxSubcompactions?: number;
  /** Awaited once the outputs are durable, before the install (replay holds installs there). */
  beforeInstall?: () => Promise<void>;
}

/**
 * Carries out `compaction` (picked from host.currentVersion) and installs
 * it durably (invariants 1 to 3). Rejects with the job's or the install's
 * failure, having changed nothing a reader sees.
 */
export async function runCompaction(host: CompactionHost, compaction: Compaction, options: RunCompactionOptions): Promise<CompactionResult> {
  const { runner, targetFileBytes, beforeInstall } = options;
  const started = performance.now();
  const inputs = inputNames(compaction);
  const base = { sourceLevel: compaction.sourceLevel, targetLevel: compaction.targetLevel, inputs, trivialMove: compaction.trivialMove };
  if (compaction.trivialMove) {
    await beforeInstall?.();
    await host.installCompaction(compactionEdit(compaction, []));
    return {
      ...base,
      outputs: inputs,
      sstablesMerged: 1,
      newSstables: 1,
      keysDeduplicated: 0,
      bytesRead: 0,
      sourceBytesRead: 0,
      bytesWritten: 0,
      subcompactions: 0,
      ms: performance.now() - started,
    };
  }
  // Each range a job of its own, at least two output files' worth of input: a smaller share would cut outputs short.
  const parts = splitCompaction(compaction, host, options.maxSubcompactions ?? 1, 2 * targetFileBytes);
  const numbers = parts.map((part) => host.reserveFileNumbers(maxCompactionOutputs(part.compaction, targetFileBytes)));
  try {
    const version = host.currentVersion;
    const jobs = parts.map(({ compaction: part, range }, i) =>
      compactionJob(version, part, { dir: host.files.dir, targetFileBytes, firstFileNumber: numbers[i][0], range }),
    );
    const outputs = (await runAll(host, jobs.map((job) => runner.run(job)))).flatMap((result) => result.outputs);
    await beforeInstall?.();
    await host.installCompaction(compactionEdit(compaction, outputs));
    const inputFiles = [...compaction.sourceInputs, ...compaction.targetInputs];
    return {
      ...base,
      outputs: outputs.map((file) => file.name),
      sstablesMerged: inputs.length,
      newSstables: outputs.length,
      keysDeduplicated: totalEntries(inputFiles) - totalEntries(outputs),
      bytesRead: totalBytes(inputFiles),
      sourceBytesRead: totalBytes(compaction.sourceInputs),
      bytesWritten: totalBytes(outputs),
      subcompactions: parts.length,
      ms: performance.now() - started,
    };
  } finally {
    // Installed outputs left the pending set with the install; the rest (unused, or a failure's) go now.
    for (const reserved of numbers) host.releaseFileNumbers(reserved);
  }
}

// Implementation details follow.

/**
 * The subcompactions' results, in range order, once all have settled. If
 * any failed, the outputs of those that did not are removed (a failed job
 * removes its own, job.ts invariant 2) and the first failure is thrown:
 * nothing was installed, and no file is left that a later sweep must find.
 */
async function runAll(host: CompactionHost, running: Array<Promise<CompactionJobResult>>): Promise<CompactionJobResult[]> {
  const settled = await Promise.allSettled(running);
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed === undefined) return settled.map((result) => (result as PromiseFulfilledResult<CompactionJobResult>).value);
  const { fs, dir } = host.files;
  for (const result of settled) {
    if (result.status === 'fulfilled') for (const file of result.value.outputs) await fs.unlink(join(dir, file.name)).catch(() => undefined);
  }
  throw failed.reason;
}
