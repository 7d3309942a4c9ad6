/**
 * A compaction's work, after LevelDB's DBImpl::DoCompactionWork: merge the
 * input files, keep what compactionIterator.ts keeps, write it to new
 * SSTables of the target level cut where outputCutter.ts says. It runs in a
 * worker thread (worker.ts) or in-process (tests); the job and its result are
 * plain structured-cloneable objects for that reason.
 *
 * Invariants:
 *   (1) The job only creates files, named L{targetLevel}_NNNNNN.sst with
 *       numbers in [fileNumbers.first, fileNumbers.limit), which the main
 *       thread reserved; it never touches an input file or the MANIFEST.
 *       Installing the outputs (and deleting the inputs, once the edit that
 *       drops them is durable) is the caller's (picker.ts compactionEdit).
 *   (2) When it resolves, every output is fdatasynced, renamed to its final
 *       name, and the folder fsynced: the outputs are durable before any
 *       edit can name them. When it rejects, every file it created (temp or
 *       final) has been unlinked, best effort: nothing changed, nothing is
 *       lost, and a file left by a crash is named by no version and removed
 *       at open.
 *   (3) Merge order is newest first, Version invariant (4): L0 sources as
 *       one child each, newest first, then a sorted source level as one
 *       concatenating child, then the target level as one.
 *   (4) Entries go from input blocks to output blocks as bytes, never
 *       decoded (TableScanner, ByteMergeIterator, writeSSTableBytes): only
 *       a tombstone's key is, for the drop rule, and each block's first and
 *       last, for the order checks.
 *   (5) A job with a `range` (one subcompaction, subcompactions.ts) reads
 *       and writes only the keys in it: its outputs lie inside the range.
 */
import { join } from 'node:path';
import { BlockCache } from '../cache/blockCache.js';
import { FileHandleCache } from '../cache/fileHandleCache.js';
import type { FileSystem } from '../env/fileSystem.js';
import { StorageError } from '../errors.js';
import { toSortKey } from '../keyOrder.js';
import { ByteMergeIterator } from '../mergeIterator.js';
import { BLOCK_SLOT_BYTES, type ReaderCaches, SSTableReader } from '../sstable/reader.js';
import { type ScanBounds, TableScanner } from '../sstable/tableScanner.js';
import { writeSSTableBytes } from '../sstable/writer.js';
import { type FileMetadata, NUM_LEVELS, totalBytes, totalEntries } from '../version/fileMetadata.js';
import { sstableFileName } from '../version/fileNames.js';
import type { Version } from '../version/version.js';
import { BaseLevelCheck, CompactionIterator, type KeyRange } from './compactionIterator.js';
import { OutputCutter } from './outputCutter.js';
import { type Compaction, maxGrandparentOverlapBytes } from './picker.js';

/** What a worker needs to run one compaction: names and numbers only. */
export interface CompactionJob {
  /** The store folder. */
  dir: string;
  sourceLevel: number;
  targetLevel: number;
  /** File names in `dir`. L0: newest first; below: key order. */
  sourceFiles: string[];
  /** File names in `dir`, key order. */
  targetFiles: string[];
  /** Files of targetLevel + 1 overlapping the inputs, key order (sort keys). */
  grandparents: Array<{ smallest: string; largest: string; sizeBytes: number }>;
  /** The key range of every file in the levels below targetLevel, any order: where a tombstone may still shadow something. */
  deeperRanges: KeyRange[];
  targetFileBytes: number;
  maxGrandparentOverlapBytes: number;
  /** The file numbers this job may use, first <= n < limit, reserved by the main thread (see maxCompactionOutputs). */
  fileNumbers: { first: number; limit: number };
  /** A subcompaction's key range (invariant 5); absent: every key of the inputs. */
  range?: ScanBounds;
}

/** What the inputs were (their sizes and entries) the caller knows from their metadata. */
export interface CompactionJobResult {
  /** In key order; empty when every entry was dropped. */
  outputs: FileMetadata[];
  /** Sizes of the outputs. */
  bytesWritten: number;
  entriesWritten: number;
}

/**
 * How many file numbers to reserve for `compaction`'s job. A cut for size
 * comes once an output's estimated bytes reach targetFileBytes, and the
 * estimates of all outputs sum to at most about the input bytes
 * (outputCutter.ts explains why): at most ceil(inputBytes / target) such
 * cuts. A cut for grandparent overlap needs a whole grandparent passed since
 * the last one (its count restarts at 0 and the limit is >= 0): at most one
 * a grandparent. Plus one for the last output. Should a contrived input
 * ever need more, the job stops cutting at its last number (outputCutter
 * invariant 3): that output grows past its target, nothing fails.
 */
export function maxCompactionOutputs(compaction: Compaction, targetFileBytes: number): number {
  const inputBytes = totalBytes(compaction.sourceInputs) + totalBytes(compaction.targetInputs);
  return Math.ceil(inputBytes / targetFileBytes) + compaction.grandparents.length + 1;
}

/**
 * The job for `compaction` (REQUIRES: not a trivial move) picked from
 * `version`, or for the part of it in `range` (a Subcompaction's), to write
 * into `dir` with file numbers from `firstFileNumber` on; the caller must
 * have reserved maxCompactionOutputs numbers there.
 */
export function compactionJob(version: Version, compaction: Compaction, options: { dir: string; targetFileBytes: number; firstFileNumber: number; range?: ScanBounds }): CompactionJob {
  if (compaction.trivialMove) throw new Error('compactionJob: a trivial move has no job');
  const { sourceLevel, targetLevel } = compaction;
  const deeperRanges: KeyRange[] = [];
  for (let level = targetLevel + 1; level < NUM_LEVELS; level++) {
    for (const { smallest, largest } of version.levels[level]) deeperRanges.push({ smallest, largest });
  }
  const first = options.firstFileNumber;
  return {
    dir: options.dir,
    sourceLevel,
    targetLevel,
    sourceFiles: compaction.sourceInputs.map((file) => file.name),
    targetFiles: compaction.targetInputs.map((file) => file.name),
    grandparents: compaction.grandparents.map(({ smallest, largest, sizeBytes }) => ({ smallest, largest, sizeBytes })),
    deeperRanges,
    targetFileBytes: options.targetFileBytes,
    maxGrandparentOverlapBytes: maxGrandparentOverlapBytes(options.targetFileBytes),
    fileNumbers: { first, limit: first + maxCompactionOutputs(compaction, options.targetFileBytes) },
    ...(options.range === undefined ? {} : { range: options.range }),
  };
}

/**
 * Runs `job` (invariants 1 to 4) and returns its outputs and counts. Input
 * files are read through `caches`' descriptors (default: a cache of its
 * own), in large sequential reads that bypass the block cache, so a
 * compaction does not evict the blocks reads need (LevelDB's fill_cache =
 * false; tableScanner.ts). Rejects with the failure, a
 * StorageError (STORAGE_IO for a file-system refusal, STORAGE_CORRUPTION
 * for a damaged input), after removing its outputs.
 */
export async function runCompactionJob(fs: FileSystem, job: CompactionJob, caches?: ReaderCaches): Promise<CompactionJobResult> {
  assertJob(job);
  // The readers only read their files' index, filter and properties: data blocks go through the scanners, never the block cache.
  const readerCaches = { files: caches?.files ?? new FileHandleCache(fs, JOB_MAX_OPEN_FILES), blocks: new BlockCache(0, BLOCK_SLOT_BYTES) };
  const readers: SSTableReader[] = [];
  const created: string[] = [];
  try {
    const open = (name: string): SSTableReader => {
      const reader = SSTableReader.open(fs, join(job.dir, name), readerCaches);
      readers.push(reader);
      return reader;
    };
    const runOf = (names: string[]) => new TableScanner(readerCaches.files, names, open, { bounds: job.range });
    const children = job.sourceLevel === 0 ? job.sourceFiles.map((name) => runOf([name])) : [runOf(job.sourceFiles)];
    children.push(runOf(job.targetFiles));
    const stream = new CompactionIterator(new ByteMergeIterator(children), new BaseLevelCheck(job.deeperRanges));
    const cutter = new OutputCutter(stream, {
      targetFileBytes: job.targetFileBytes,
      maxGrandparentOverlapBytes: job.maxGrandparentOverlapBytes,
      grandparents: job.grandparents,
      maxOutputs: job.fileNumbers.limit - job.fileNumbers.first,
    });

    const outputs: FileMetadata[] = [];
    for (let slice = cutter.nextSlice(); slice !== null; slice = cutter.nextSlice()) {
      const number = job.fileNumbers.first + outputs.length;
      const name = sstableFileName(number, job.targetLevel);
      const path = join(job.dir, name);
      created.push(`${path}.tmp`, path);
      const properties = await writeSSTableBytes(fs, `${path}.tmp`, slice);
      await fs.rename(`${path}.tmp`, path);
      // A slice is never empty (outputCutter invariant 2), so the file has a smallest and a largest key.
      const smallest = toSortKey(properties.smallestKey!);
      const largest = toSortKey(properties.largestKey!);
      outputs.push({ number, name, smallest, largest, sizeBytes: properties.sizeBytes, entries: properties.entries });
    }
    if (outputs.length > 0) await fs.syncDir(job.dir);
    return { outputs, bytesWritten: totalBytes(outputs), entriesWritten: totalEntries(outputs) };
  } catch (error) {
    for (const path of created) await fs.unlink(path).catch(() => undefined);
    throw asStorageError(error, job);
  } finally {
    for (const reader of readers) {
      try {
        reader.close();
      } catch {
        // Only a descriptor's close failed; the result (or the failure) stands.
      }
    }
  }
}

// Implementation details follow.

/** Descriptors a job keeps open when it has caches of its own (inputs are opened as the merge reaches them). */
const JOB_MAX_OPEN_FILES = 64;

function assertJob(job: CompactionJob): void {
  const { first, limit } = job.fileNumbers;
  if (job.targetLevel !== job.sourceLevel + 1 || job.targetLevel >= NUM_LEVELS) throw new RangeError(`compaction job: L${job.sourceLevel} to L${job.targetLevel}`);
  if (!(Number.isSafeInteger(first) && Number.isSafeInteger(limit) && limit > first)) throw new RangeError('compaction job: no file numbers reserved');
  if (!(job.targetFileBytes > 0)) throw new RangeError('compaction job: targetFileBytes must be positive');
  // A subcompaction's range may fall between two source files of a sorted run: it rewrites target files alone.
  if (job.sourceFiles.length + job.targetFiles.length === 0 || (job.sourceFiles.length === 0 && job.range === undefined)) throw new RangeError('compaction job: no source files');
  const { after, upTo } = job.range ?? {};
  if (after !== undefined && upTo !== undefined && !(after < upTo)) throw new RangeError('compaction job: empty key range');
}

/** A file-system refusal becomes STORAGE_IO with the errno code in its message; a StorageError passes as is. */
function asStorageError(error: unknown, job: CompactionJob): unknown {
  if (error instanceof StorageError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string') return error;
  return new StorageError('STORAGE_IO', `compaction L${job.sourceLevel} to L${job.targetLevel}: ${(error as Error).message}`, { cause: error });
}
