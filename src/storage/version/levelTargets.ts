/**
 * How many bytes each level is meant to hold (SPEC 2b, LevelDB's
 * MaxBytesForLevel): the denominator of a level's compaction score.
 */
import { NUM_LEVELS } from './fileMetadata.js';

export interface LevelTargetOptions {
  /** L1's target (--level-base-bytes). */
  levelBaseBytes: number;
  /** Each level below L1 holds this many times the one above (--level-multiplier). */
  levelMultiplier: number;
  /** L0 files that start a compaction (--l0-compaction-trigger). */
  l0CompactionTrigger: number;
  memtableMaxBytes: number;
}

/**
 * REQUIRES: 0 <= level < NUM_LEVELS. L0: trigger × memtableMaxBytes (L0 is
 * scored by file count; this is for comparison only); L1: levelBaseBytes;
 * each level below: levelMultiplier times the one above.
 */
export function maxBytesForLevel(level: number, options: LevelTargetOptions): number {
  if (!Number.isInteger(level) || level < 0 || level >= NUM_LEVELS) throw new RangeError(`maxBytesForLevel: no level ${level}`);
  if (level === 0) return options.l0CompactionTrigger * options.memtableMaxBytes;
  return options.levelBaseBytes * options.levelMultiplier ** (level - 1);
}
