/**
 * Where a compaction's output stream is cut into files, after LevelDB's
 * DoCompactionWork and Compaction::ShouldStopBefore: after the entry that
 * brings an output to about targetFileBytes, and before the entry that
 * would make it overlap more than maxGrandparentOverlapBytes of the level
 * below its own (so a later compaction of that output reads a bounded
 * amount there).
 *
 * writeSSTable writes a whole iterator; the cutter hands it one OutputSlice
 * at a time, an iterator over the shared stream that ends at the cut and
 * leaves the stream on the entry it stopped before, which starts the next
 * slice.
 *
 * Invariants:
 *   (1) Every key of the stream passes through the grandparent check exactly
 *       once, in ascending order (as LevelDB calls ShouldStopBefore once a
 *       key): the first key when the stream starts, every other key as
 *       next() reaches it. `cutBeforeCurrent` says the check (or the size of
 *       the slice before it) ended the slice at the current entry.
 *   (2) Slices are consecutive runs of the stream, each non-empty, so their
 *       key ranges are ascending and disjoint.
 *   (3) At most `maxOutputs` slices: the last one allowed never cuts, so the
 *       file numbers reserved for a job always suffice.
 *
 * An output's size is estimated entry by entry as its bytes in a data block
 * (estimatedEntryBytes): a 4-byte header and a byte of filter, the key units it does not share
 * with the key before it (all of them at every RESTART_INTERVAL-th entry),
 * the value's units. LevelDB measures the builder's file size instead; an
 * estimate keeps the writer untouched. A UTF-16 unit is at most one UTF-8
 * byte, and the previous key is closer in the merged output than in an input
 * file (a <= b < c implies lcp(b, c) >= lcp(a, c)), so an entry costs about
 * its estimate or more in its input file, which also holds an index: the outputs' estimates sum to about the input bytes or less, which
 * the number of file numbers reserved relies on (job.ts
 * maxCompactionOutputs). Files come out a few percent over the target (the
 * index, the restart array, longer varints).
 */
import type { EntryValue, InternalIterator } from '../iterator.js';
import { TOMBSTONE } from '../iterator.js';
import { RESTART_INTERVAL } from '../sstable/format.js';

/** Bytes `key` (after `previousKey` in its block, null for the first) and `value` add to a data block, restarts aside. */
export function estimatedEntryBytes(previousKey: string | null, key: string, value: EntryValue): number {
  let shared = 0;
  if (previousKey !== null) {
    const limit = Math.min(previousKey.length, key.length);
    while (shared < limit && previousKey.charCodeAt(shared) === key.charCodeAt(shared)) shared++;
  }
  return ENTRY_OVERHEAD_BYTES + key.length - shared + (value === TOMBSTONE ? 0 : value.length);
}

/** shared, unshared and value length (one varint byte each at least), the entry kind (sstable/format.ts), and about 10 Bloom filter bits. */
const ENTRY_OVERHEAD_BYTES = 5;

export interface Grandparent {
  /** Sort key. */
  largest: string;
  sizeBytes: number;
}

export interface CutterOptions {
  targetFileBytes: number;
  maxGrandparentOverlapBytes: number;
  /** Files of the level below the target, in key order. */
  grandparents: readonly Grandparent[];
  /** How many slices may be made (file numbers reserved), >= 1. */
  maxOutputs: number;
}

export class OutputCutter {
  private grandparentIndex = 0;
  private overlappedBytes = 0;
  private seenKey = false;
  private cutBeforeCurrent = false;
  private slices = 0;

  /** `stream`: the entries to write, unpositioned; the cutter positions it once, at its first entry. */
  constructor(
    private readonly stream: InternalIterator,
    private readonly options: CutterOptions,
  ) {
    if (!(options.maxOutputs >= 1)) throw new RangeError('OutputCutter: maxOutputs must be >= 1');
    stream.seekToFirst();
    if (stream.valid()) this.shouldStopBefore(stream.key());
  }

  /** The next output's entries, or null when the stream is done. The previous slice must have been walked to its end. */
  nextSlice(): OutputSlice | null {
    if (!this.stream.valid()) return null;
    this.cutBeforeCurrent = false;
    this.slices++;
    return new OutputSlice(this, this.slices >= this.options.maxOutputs);
  }

  /** For OutputSlice. */
  get source(): InternalIterator {
    return this.stream;
  }

  /** For OutputSlice: moves past the current entry, noting whether the slice ends before the next one. */
  advance(sliceBytes: number, last: boolean): boolean {
    this.stream.next();
    if (!this.stream.valid()) return false;
    const stopForOverlap = this.shouldStopBefore(this.stream.key());
    this.cutBeforeCurrent = !last && (sliceBytes >= this.options.targetFileBytes || stopForOverlap);
    return !this.cutBeforeCurrent;
  }

  /**
   * LevelDB's ShouldStopBefore: true iff the output holding the keys before
   * `key` has, since its start, passed over more than the limit of
   * grandparent bytes. Resets the count when it says so.
   */
  private shouldStopBefore(key: string): boolean {
    const { grandparents, maxGrandparentOverlapBytes } = this.options;
    while (this.grandparentIndex < grandparents.length && key > grandparents[this.grandparentIndex].largest) {
      if (this.seenKey) this.overlappedBytes += grandparents[this.grandparentIndex].sizeBytes;
      this.grandparentIndex++;
    }
    this.seenKey = true;
    if (this.overlappedBytes > maxGrandparentOverlapBytes) {
      this.overlappedBytes = 0;
      return true;
    }
    return false;
  }
}

/**
 * One output's entries: the shared stream from where it stands to the cut.
 * seekToFirst only starts the slice (writeSSTable calls it once); seekGE is
 * not supported: a slice is walked once, front to back.
 */
export class OutputSlice implements InternalIterator {
  private open = true;
  private bytes = 0;
  /** Entries walked, and the first and last key (sort keys), for the file's metadata. */
  entries = 0;
  smallest: string | null = null;
  largest: string | null = null;

  constructor(
    private readonly cutter: OutputCutter,
    private readonly last: boolean,
  ) {}

  seekGE(): void {
    throw new Error('OutputSlice: seekGE is not supported');
  }

  seekToFirst(): void {
    if (this.entries > 0) throw new Error('OutputSlice: a slice is walked once');
  }

  valid(): boolean {
    return this.open && this.cutter.source.valid();
  }

  key(): string {
    return this.cutter.source.key();
  }

  value(): EntryValue {
    return this.cutter.source.value();
  }

  next(): void {
    const key = this.key();
    // Every RESTART_INTERVAL-th entry of a block stores its whole key.
    this.bytes += estimatedEntryBytes(this.entries % RESTART_INTERVAL === 0 ? null : this.largest, key, this.value());
    if (this.smallest === null) this.smallest = key;
    this.largest = key;
    this.entries++;
    this.open = this.cutter.advance(this.bytes, this.last);
  }
}
