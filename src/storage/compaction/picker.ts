/**
 * Which files a compaction merges, after LevelDB's VersionSet::Finalize,
 * PickCompaction and SetupOtherInputs (db/version_set.cc) and Pebble's
 * compaction_picker.go. Pure: it reads a Version and returns a plan; the job
 * (job.ts) does the work and compactionEdit says how to install it.
 *
 * Invariants of every Compaction returned:
 *   (1) targetLevel = sourceLevel + 1 <= 6; sourceInputs is non-empty and
 *       in its level's order (L0: newest first; below: key order);
 *       targetInputs are exactly the files of targetLevel that overlap the
 *       source inputs' range, in key order.
 *   (2) L0 closure. When sourceLevel is 0, no L0 file outside sourceInputs
 *       overlaps the range [smallest, largest] of sourceInputs. This is what
 *       keeps Version invariant (4), "newest" decided by level and L0 file
 *       number, true without sequence numbers: the outputs land in L1, below
 *       every L0 file left behind, so if a file left behind held a key of
 *       the range and were older than an input holding it, the older version
 *       would end up above the newer one and win every read. Taking every
 *       overlapping file (and again over the range they span, until it stops
 *       growing) rules that out whatever the files' ages. LevelDB does the
 *       same (GetOverlappingInputs restarts at L0 when the range grows).
 *   (3) A trivial move has exactly one source file, no target inputs, and
 *       grandparent overlap <= maxGrandparentOverlapBytes; it is never manual
 *       (a manual compaction rewrites, as LevelDB's CompactRange does, so it
 *       drops what it can).
 *   (4) grandparents are the files of sourceLevel + 2 overlapping the whole
 *       input range (empty when sourceLevel + 2 > 6).
 */
import { type FileMetadata, NUM_LEVELS, totalBytes } from '../version/fileMetadata.js';
import { maxBytesForLevel } from '../version/levelTargets.js';
import type { Version, VersionEdit } from '../version/version.js';

/** The knobs the picker reads (the CLI's --level-base-bytes and friends). */
export interface PickerOptions {
  levelBaseBytes: number;
  levelMultiplier: number;
  l0CompactionTrigger: number;
  memtableMaxBytes: number;
  targetFileBytes: number;
}

export interface Compaction {
  sourceLevel: number;
  targetLevel: number;
  /** Chosen by lsm_compact, not by score. */
  manual: boolean;
  /** The source level's score when picked by score; 0 for a manual compaction. */
  score: number;
  /** L0: newest first; below: key order. */
  sourceInputs: FileMetadata[];
  /** Key order. */
  targetInputs: FileMetadata[];
  /** Files of sourceLevel + 2 overlapping the inputs' range: where outputs are cut (see job.ts). */
  grandparents: FileMetadata[];
  /** The single source file moves down unchanged; nothing is read or written. */
  trivialMove: boolean;
  /** The source level's next round-robin start: the largest key (sort key) of sourceInputs. */
  compactPointer: { level: number; key: string };
}

/**
 * The most bytes of L(n+2) one output file of a compaction into L(n+1) may
 * overlap (LevelDB's MaxGrandParentOverlapBytes): a later compaction of that
 * output then reads at most this much below it.
 */
export function maxGrandparentOverlapBytes(targetFileBytes: number): number {
  return 10 * targetFileBytes;
}

/** Input bytes past which the picker does not grow the source inputs (LevelDB's ExpandedCompactionByteSizeLimit). */
export function expandedCompactionByteLimit(targetFileBytes: number): number {
  return 25 * targetFileBytes;
}

/** A level's size target (version/levelTargets.ts), re-exported beside the scores it divides. */
export { maxBytesForLevel };


/**
 * Each level's score, index = level, L0 to L5 (L6 has none: nothing is
 * below it). L0: file count / l0CompactionTrigger; below: bytes / target.
 * A score >= 1 means the level wants compacting.
 */
export function levelScores(version: Version, options: PickerOptions): number[] {
  const scores: number[] = [];
  for (let level = 0; level < NUM_LEVELS - 1; level++) {
    scores.push(level === 0 ? version.levels[0].length / options.l0CompactionTrigger : version.levelBytes(level) / maxBytesForLevel(level, options));
  }
  return scores;
}

/**
 * The compaction the highest score >= 1 asks for (ties: the upper level),
 * or null when no level needs one. `compactPointers[level]` is where that
 * level's last compaction ended (a sort key), undefined if none yet.
 */
export function pickCompaction(version: Version, compactPointers: ReadonlyArray<string | undefined>, options: PickerOptions): Compaction | null {
  const scores = levelScores(version, options);
  let level = -1;
  for (let candidate = 0; candidate < scores.length; candidate++) {
    if (scores[candidate] >= 1 && (level < 0 || scores[candidate] > scores[level])) level = candidate;
  }
  if (level < 0) return null;
  const files = version.levels[level];
  let seed: FileMetadata;
  if (level === 0) {
    // The oldest L0 file (as Pebble and RocksDB start): the closure adds every L0 file it meets.
    seed = files[files.length - 1];
  } else {
    // Round robin (LevelDB): the first file past where the last compaction of this level ended, else wrap.
    const pointer = compactPointers[level];
    seed = files.find((file) => pointer === undefined || file.largest > pointer) ?? files[0];
  }
  const sourceInputs = level === 0 ? l0Closure(version, [seed]) : [seed];
  return finishCompaction(version, level, sourceInputs, { manual: false, score: scores[level], targetFileBytes: options.targetFileBytes });
}

/**
 * REQUIRES: 0 <= sourceLevel <= 5. Every file of sourceLevel and the files
 * of sourceLevel + 1 they overlap (SPEC's lsm_compact); null when
 * sourceLevel is empty. Never a trivial move.
 */
export function manualCompaction(version: Version, sourceLevel: number): Compaction | null {
  if (!(Number.isInteger(sourceLevel) && sourceLevel >= 0 && sourceLevel < NUM_LEVELS - 1)) throw new RangeError(`manualCompaction: no level ${sourceLevel} to compact from`);
  const files = version.levels[sourceLevel];
  if (files.length === 0) return null;
  return finishCompaction(version, sourceLevel, [...files], { manual: true, score: 0, targetFileBytes: 0 });
}

/**
 * The VersionEdit that installs `compaction` once its `outputs` (job.ts) are
 * durable: inputs deleted at their levels, outputs added at targetLevel, the
 * source level's compact pointer advanced. For a trivial move `outputs` must
 * be empty and the edit moves the file: deleted at sourceLevel, the same
 * metadata added at targetLevel. The caller adds nextFileNumber.
 * REQUIRES: applied to a Version in which every input is still live and no
 * file overlapping the inputs was added to sourceLevel (L0: no file older
 * than the inputs) or targetLevel since the pick; flushes adding newer L0
 * files meanwhile are fine, they stay above the outputs.
 */
export function compactionEdit(compaction: Compaction, outputs: readonly FileMetadata[]): VersionEdit {
  const { sourceLevel, targetLevel, sourceInputs, targetInputs } = compaction;
  if (compaction.trivialMove && outputs.length > 0) throw new Error('compactionEdit: a trivial move has no outputs');
  const deletedFiles = [
    ...sourceInputs.map((file) => ({ level: sourceLevel, number: file.number })),
    ...targetInputs.map((file) => ({ level: targetLevel, number: file.number })),
  ];
  const moved = compaction.trivialMove ? sourceInputs : outputs;
  return {
    deletedFiles,
    newFiles: moved.map((file) => ({ level: targetLevel, file })),
    compactPointers: [compaction.compactPointer],
  };
}

// Implementation details follow.

/** Smallest and largest key of `files` (non-empty). */
export function rangeOf(files: readonly FileMetadata[]): { smallest: string; largest: string } {
  let smallest = files[0].smallest;
  let largest = files[0].largest;
  for (const file of files) {
    if (file.smallest < smallest) smallest = file.smallest;
    if (file.largest > largest) largest = file.largest;
  }
  return { smallest, largest };
}

/**
 * Every L0 file overlapping the range of `seed`, and every one overlapping
 * the range those span, until the range stops growing (invariant 2). Newest first.
 */
function l0Closure(version: Version, seed: readonly FileMetadata[]): FileMetadata[] {
  let inputs = [...seed];
  for (;;) {
    const { smallest, largest } = rangeOf(inputs);
    const grown = version.overlapping(0, smallest, largest);
    if (grown.length === inputs.length) return grown;
    inputs = grown;
  }
}

/** Source inputs at level, for a level >= 1 range or an L0 closure, overlapping at `level` with [smallest, largest]. */
function sourceFilesOverlapping(version: Version, level: number, smallest: string, largest: string): FileMetadata[] {
  const files = version.overlapping(level, smallest, largest);
  return level === 0 ? l0Closure(version, files) : files;
}

/**
 * LevelDB's SetupOtherInputs: the target inputs; the source inputs grown
 * when that takes no more target files and stays under the expansion
 * limit; grandparents; trivial move; compact pointer.
 */
function finishCompaction(
  version: Version,
  sourceLevel: number,
  initialSource: FileMetadata[],
  { manual, score, targetFileBytes }: { manual: boolean; score: number; targetFileBytes: number },
): Compaction {
  const targetLevel = sourceLevel + 1;
  let sourceInputs = initialSource;
  let range = rangeOf(sourceInputs);
  let targetInputs = version.overlapping(targetLevel, range.smallest, range.largest);
  let all = rangeOf([...sourceInputs, ...targetInputs]);

  if (!manual && targetInputs.length > 0) {
    const expanded = sourceFilesOverlapping(version, sourceLevel, all.smallest, all.largest);
    if (expanded.length > sourceInputs.length && totalBytes(expanded) + totalBytes(targetInputs) < expandedCompactionByteLimit(targetFileBytes)) {
      const expandedRange = rangeOf(expanded);
      const expandedTarget = version.overlapping(targetLevel, expandedRange.smallest, expandedRange.largest);
      if (expandedTarget.length === targetInputs.length) {
        sourceInputs = expanded;
        range = expandedRange;
        targetInputs = expandedTarget;
        all = rangeOf([...sourceInputs, ...targetInputs]);
      }
    }
  }

  const grandparents = targetLevel + 1 < NUM_LEVELS ? version.overlapping(targetLevel + 1, all.smallest, all.largest) : [];
  const trivialMove =
    !manual && sourceInputs.length === 1 && targetInputs.length === 0 && totalBytes(grandparents) <= maxGrandparentOverlapBytes(targetFileBytes);
  return {
    sourceLevel,
    targetLevel,
    manual,
    score,
    sourceInputs,
    targetInputs,
    grandparents,
    trivialMove,
    compactPointer: { level: sourceLevel, key: range.largest },
  };
}
