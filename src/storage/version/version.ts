/**
 * A Version: one immutable snapshot of which SSTables are live and at which
 * level, after LevelDB's db/version_set.h. Changes come only as a
 * VersionEdit applied to give a new Version (LevelDB's VersionEdit +
 * LogAndApply); nothing mutates a Version once built.
 *
 * Invariants (checked by the constructor):
 *   (1) There are NUM_LEVELS levels; a file number appears at most once in all.
 *   (2) L0 is ordered newest first, i.e. by file number descending: L0 files
 *       come only from flushes, which take numbers in flush order. L0 files
 *       may overlap one another.
 *   (3) In L1 to L6 files are ordered by key and do not overlap:
 *       files[i].largest < files[i + 1].smallest.
 *   (4) What decides "newest" (there are no sequence numbers in entries): for
 *       any key, every entry of it in level n is newer than every entry of it
 *       in level n + 1, and within L0 a file with a higher number is newer
 *       than one with a lower number. Reads rely on it (they stop at the
 *       first file that holds the key, searched in that order); compaction
 *       preserves it by merging a key's versions down together (an L0
 *       compaction takes every L0 file overlapping its range, so no older
 *       version of a key it moves stays above it).
 */
import { type FileMetadata, NUM_LEVELS, overlapsRange, totalBytes } from './fileMetadata.js';
import { LastKeyIndex } from '../sstable/lastKeyIndex.js';

/** A change of the file set, after LevelDB's VersionEdit. Absent fields change nothing. */
export interface VersionEdit {
  /** Greater than every file number used so far. */
  nextFileNumber?: number;
  /** WAL segments numbered below this hold nothing that is not in an SSTable. */
  minLiveWal?: number;
  /** Where the next automatic compaction of a level starts (LevelDB's compact pointer), a sort key. */
  compactPointers?: Array<{ level: number; key: string }>;
  deletedFiles?: Array<{ level: number; number: number }>;
  newFiles?: Array<{ level: number; file: FileMetadata }>;
}

export class Version {
  readonly levels: ReadonlyArray<ReadonlyArray<FileMetadata>>;
  /** Per level from L1, the search over its files' largest keys: derived from `levels`, built by the first get that needs it. */
  private readonly largestKeys: Array<LastKeyIndex | undefined> = [];

  /** REQUIRES: `levels` satisfies the invariants above (checked; a violation throws). */
  constructor(levels: ReadonlyArray<ReadonlyArray<FileMetadata>> = Array.from({ length: NUM_LEVELS }, () => [])) {
    if (levels.length !== NUM_LEVELS) throw new Error(`Version: ${levels.length} levels, not ${NUM_LEVELS}`);
    this.levels = levels;
    assertInvariants(levels);
  }

  /** The Version this edit gives: deleted files removed, new files placed in order. */
  apply(edit: VersionEdit): Version {
    const deleted = new Set((edit.deletedFiles ?? []).map(({ level, number }) => `${level}:${number}`));
    const levels = this.levels.map((files, level) => files.filter((file) => !deleted.has(`${level}:${file.number}`)));
    for (const { level, number } of edit.deletedFiles ?? []) {
      if (!this.levels[level]?.some((file) => file.number === number)) throw new Error(`Version.apply: no file ${number} at L${level}`);
    }
    for (const { level, file } of edit.newFiles ?? []) levels[level].push(file);
    levels[0].sort((a, b) => b.number - a.number);
    for (let level = 1; level < NUM_LEVELS; level++) levels[level].sort((a, b) => (a.smallest < b.smallest ? -1 : a.smallest > b.smallest ? 1 : 0));
    return new Version(levels);
  }

  /** Every live file, with its level. */
  *allFiles(): Generator<{ level: number; file: FileMetadata }> {
    for (let level = 0; level < NUM_LEVELS; level++) for (const file of this.levels[level]) yield { level, file };
  }

  levelBytes(level: number): number {
    return totalBytes(this.levels[level]);
  }

  /** The deepest level holding a file, or -1 when there is none. */
  deepestNonEmptyLevel(): number {
    for (let level = NUM_LEVELS - 1; level >= 0; level--) if (this.levels[level].length > 0) return level;
    return -1;
  }

  /** Files at `level` whose range meets [smallest, largest] (undefined: unbounded), in the level's order. */
  overlapping(level: number, smallest: string | undefined, largest: string | undefined): FileMetadata[] {
    const files = this.levels[level];
    if (level === 0) return files.filter((file) => overlapsRange(file, smallest, largest));
    // Sorted and disjoint: start at the first file whose largest >= smallest.
    let i = smallest === undefined ? 0 : firstEndingAtOrAfter(files, smallest);
    const result: FileMetadata[] = [];
    for (; i < files.length && (largest === undefined || files[i].smallest <= largest); i++) result.push(files[i]);
    return result;
  }

  /**
   * REQUIRES: level >= 1. The one file at `level` whose range holds
   * `sortKey`, found by binary search, or undefined.
   */
  fileFor(level: number, sortKey: string): FileMetadata | undefined {
    const files = this.levels[level];
    if (files.length === 0) return undefined;
    // Numbers, not strings, compared: every get searches each level (sstable/lastKeyIndex.ts).
    const i = (this.largestKeys[level] ??= new LastKeyIndex(files.map((file) => file.largest))).lowerBound(sortKey);
    return i < files.length && files[i].smallest <= sortKey ? files[i] : undefined;
  }
}

/** Index of the first file (sorted, disjoint) whose largest >= key; files.length when none. */
function firstEndingAtOrAfter(files: ReadonlyArray<FileMetadata>, key: string): number {
  let lo = 0;
  let hi = files.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (files[mid].largest < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function assertInvariants(levels: ReadonlyArray<ReadonlyArray<FileMetadata>>): void {
  const seen = new Set<number>();
  levels.forEach((files, level) => {
    files.forEach((file, i) => {
      if (seen.has(file.number)) throw new Error(`Version: file ${file.number} appears twice`);
      seen.add(file.number);
      if (file.smallest > file.largest) throw new Error(`Version: ${file.name} has smallest > largest`);
      if (i === 0) return;
      const before = files[i - 1];
      if (level === 0 ? before.number <= file.number : before.largest >= file.smallest) {
        throw new Error(`Version: L${level} out of order at ${before.name}, ${file.name}`);
      }
    });
  });
}
