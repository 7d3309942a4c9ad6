/**
 * Subcompactions, after RocksDB's (CompactionJob::GenSubcompactionBoundaries):
 * a large compaction is cut by key into ranges holding about equal input
 * bytes, and each range runs as a job of its own, so a runner with several
 * workers runs them side by side. In the CLI they use the cores the main
 * thread leaves idle (the workers run at a lower priority than it). The
 * ranges' outputs are disjoint and ascend range by range, so together they
 * replace the inputs in one edit, as one job's outputs would (cut at other
 * places).
 *
 * Invariants:
 *   (1) The ranges (after, upTo] tile the key space in ascending order: the
 *       first has no `after`, the last no `upTo`, and each range's `upTo` is
 *       the next one's `after`. So every key of every input lies in exactly
 *       one range, whose job sees all of its versions and keeps the newest.
 *   (2) A range's part of the compaction keeps the inputs and grandparents
 *       that overlap the range, in their order, so the job's merge order
 *       (job.ts invariant 3) holds in each part.
 *   (3) Every range holds an input key: each `upTo` is a key of some input
 *       (a sampled block's last key) and is below the largest input key.
 */
import type { ScanBounds } from '../sstable/tableScanner.js';
import { type FileMetadata, totalBytes } from '../version/fileMetadata.js';
import { type Compaction, rangeOf } from './picker.js';

/** What a split needs of the store: where keys fall in an input file, from the file's index in memory. */
export interface SplitSource {
  /** About how many bytes of `file` hold keys below `sortKey`. */
  approximateOffsetOf(file: FileMetadata, sortKey: string): number;
  /** Up to `count` keys of `file`, ascending, spread evenly through it. */
  keySamples(file: FileMetadata, count: number): string[];
}

/** One range of a split compaction and the part of the compaction it runs (invariant 2); no range: the whole compaction, unsplit. */
export interface Subcompaction {
  range?: ScanBounds;
  compaction: Compaction;
}

/** Candidate boundaries taken from each input file; with a few files per job, enough to land near each share. */
const SAMPLES_PER_FILE = 8;

/**
 * `compaction` cut into at most `maxRanges` ranges, each with at least about
 * `minRangeBytes` of input (a smaller job is not worth a second worker's
 * start-up and the extra output file it may cut); a single range, the whole
 * compaction, when it is not worth splitting.
 */
export function splitCompaction(compaction: Compaction, source: SplitSource, maxRanges: number, minRangeBytes: number): Subcompaction[] {
  const inputs = [...compaction.sourceInputs, ...compaction.targetInputs];
  const total = totalBytes(inputs);
  const wanted = Math.min(maxRanges, Math.floor(total / minRangeBytes));
  const whole = [{ compaction }];
  if (wanted < 2) return whole;

  // Boundaries inside the source files' span: a range beyond it would only copy target files.
  const { smallest, largest } = rangeOf(compaction.sourceInputs);
  const candidates = [...new Set(inputs.flatMap((file) => source.keySamples(file, SAMPLES_PER_FILE)))]
    .filter((key) => key >= smallest && key < largest)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const bytesBelow = (key: string): number => inputs.reduce((sum, file) => sum + source.approximateOffsetOf(file, key), 0);

  const boundaries: string[] = [];
  let from = 0;
  for (let i = 1; i < wanted && from < candidates.length; i++) {
    // The candidate whose bytes below come nearest i/wanted of the total: bytesBelow ascends with the key,
    // so a binary search finds the first at or past the share, and the one before it may be nearer.
    const share = (total * i) / wanted;
    let lo = from;
    let hi = candidates.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (bytesBelow(candidates[mid]) < share) lo = mid + 1;
      else hi = mid;
    }
    if (lo > from && (lo === candidates.length || share - bytesBelow(candidates[lo - 1]) < bytesBelow(candidates[lo]) - share)) lo--;
    boundaries.push(candidates[lo]);
    from = lo + 1;
  }
  if (boundaries.length === 0) return whole;

  return Array.from({ length: boundaries.length + 1 }, (_, i) => {
    const range: ScanBounds = {};
    if (i > 0) range.after = boundaries[i - 1];
    if (i < boundaries.length) range.upTo = boundaries[i];
    const inRange = (files: FileMetadata[]) => files.filter((file) => overlaps(file, range));
    const part = { ...compaction, sourceInputs: inRange(compaction.sourceInputs), targetInputs: inRange(compaction.targetInputs), grandparents: inRange(compaction.grandparents) };
    return { range, compaction: part };
  });
}

/** True iff `file` holds keys that may lie in (after, upTo]. */
function overlaps(file: FileMetadata, { after, upTo }: ScanBounds): boolean {
  return (after === undefined || file.largest > after) && (upTo === undefined || file.smallest <= upTo);
}

