/**
 * Where a compaction's output stream is cut into files, after LevelDB's
 * DoCompactionWork and Compaction::ShouldStopBefore: after the entry that
 * brings an output to about targetFileBytes, and before the entry that
 * would make it overlap more than maxGrandparentOverlapBytes of the level
 * below its own (so a later compaction of that output reads a bounded
 * amount there).
 *
 * writeSSTableBytes writes a whole iterator; the cutter hands it one OutputSlice
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
 * (estimatedEntryBytes): a 4-byte header and a byte of filter, the key bytes
 * it does not share with the key before it (all of them at every
 * RESTART_INTERVAL-th entry), the value's bytes. LevelDB measures the
 * builder's file size instead; an estimate keeps the writer a plain
 * consumer of its iterator. The previous key is closer in the merged output
 * than in an input file (a <= b < c implies lcp(b, c) >= lcp(a, c)), so an
 * entry costs about its estimate or more in its input file, which also
 * holds an index: the outputs' estimates sum to about the input bytes or
 * less, which the number of file numbers reserved relies on (job.ts
 * maxCompactionOutputs). Files come out a few percent over the target (the
 * index, the restart array, longer varints).
 */
import { utf8OfSortKey } from '../keyOrder.js';
import type { ByteIterator } from '../iterator.js';
import { compareBytes } from '../mergeIterator.js';
import { RESTART_INTERVAL } from '../sstable/format.js';

/**
 * Bytes an entry adds to a data block, restarts aside: its key key[0,
 * keyLength) after previousKey[0, previousLength) in its block (null for
 * the first), and a value of valueLength bytes (0 for a tombstone).
 */
export function estimatedEntryBytes(previousKey: Uint8Array | null, previousLength: number, key: Uint8Array, keyLength: number, valueLength: number): number {
  let shared = 0;
  if (previousKey !== null) {
    const limit = Math.min(previousLength, keyLength);
    while (shared < limit && previousKey[shared] === key[shared]) shared++;
  }
  return ENTRY_OVERHEAD_BYTES + keyLength - shared + valueLength;
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
  /** The grandparents' largest keys as UTF-8 bytes, which the stream's keys are compared with. */
  private readonly grandparentLargest: Uint8Array[];
  private grandparentIndex = 0;
  private overlappedBytes = 0;
  private seenKey = false;
  private cutBeforeCurrent = false;
  private slices = 0;

  /** `stream`: the entries to write, unpositioned; the cutter positions it once, at its first entry. */
  constructor(
    private readonly stream: ByteIterator,
    private readonly options: CutterOptions,
  ) {
    if (!(options.maxOutputs >= 1)) throw new RangeError('OutputCutter: maxOutputs must be >= 1');
    this.grandparentLargest = options.grandparents.map((file) => utf8OfSortKey(file.largest));
    stream.seekToFirst();
    if (stream.valid()) this.shouldStopBefore();
  }

  /** The next output's entries, or null when the stream is done. The previous slice must have been walked to its end. */
  nextSlice(): OutputSlice | null {
    if (!this.stream.valid()) return null;
    this.cutBeforeCurrent = false;
    this.slices++;
    return new OutputSlice(this, this.slices >= this.options.maxOutputs);
  }

  /** For OutputSlice. */
  get source(): ByteIterator {
    return this.stream;
  }

  /** For OutputSlice: moves past the current entry, noting whether the slice ends before the next one. */
  advance(sliceBytes: number, last: boolean): boolean {
    this.stream.next();
    if (!this.stream.valid()) return false;
    const stopForOverlap = this.shouldStopBefore();
    this.cutBeforeCurrent = !last && (sliceBytes >= this.options.targetFileBytes || stopForOverlap);
    return !this.cutBeforeCurrent;
  }

  /**
   * LevelDB's ShouldStopBefore for the stream's current key: true iff the
   * output holding the keys before it has, since its start, passed over
   * more than the limit of grandparent bytes. Resets the count when it says so.
   */
  private shouldStopBefore(): boolean {
    const { grandparents, maxGrandparentOverlapBytes } = this.options;
    const largest = this.grandparentLargest;
    const key = this.stream.keyBytes();
    const keyLength = this.stream.keyLength();
    while (this.grandparentIndex < largest.length && compareBytes(key, keyLength, largest[this.grandparentIndex], largest[this.grandparentIndex].length) > 0) {
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
 * seekToFirst only starts the slice (the writer calls it once): a slice is
 * walked once, front to back.
 */
export class OutputSlice implements ByteIterator {
  private open = true;
  private bytes = 0;
  /** The last key walked, prevKey[0, prevLength), for the estimate of the next. */
  private prevKey = new Uint8Array(64);
  private prevLength = 0;
  /** Entries walked. */
  entries = 0;

  constructor(
    private readonly cutter: OutputCutter,
    private readonly last: boolean,
  ) {}

  seekToFirst(): void {
    if (this.entries > 0) throw new Error('OutputSlice: a slice is walked once');
  }

  valid(): boolean {
    return this.open && this.cutter.source.valid();
  }

  keyBytes(): Uint8Array {
    return this.source().keyBytes();
  }

  keyLength(): number {
    return this.source().keyLength();
  }

  isTombstone(): boolean {
    return this.source().isTombstone();
  }

  valueBytes(): Uint8Array {
    return this.source().valueBytes();
  }

  valueStart(): number {
    return this.source().valueStart();
  }

  valueEnd(): number {
    return this.source().valueEnd();
  }

  next(): void {
    const source = this.source();
    const key = source.keyBytes();
    const keyLength = source.keyLength();
    const valueLength = source.isTombstone() ? 0 : source.valueEnd() - source.valueStart();
    // Every RESTART_INTERVAL-th entry of a block stores its whole key.
    this.bytes += estimatedEntryBytes(this.entries % RESTART_INTERVAL === 0 ? null : this.prevKey, this.prevLength, key, keyLength, valueLength);
    if (this.prevKey.length < keyLength) this.prevKey = new Uint8Array(2 * keyLength);
    for (let i = 0; i < keyLength; i++) this.prevKey[i] = key[i];
    this.prevLength = keyLength;
    this.entries++;
    this.open = this.cutter.advance(this.bytes, this.last);
  }

  /** The shared stream at this slice's entry; throws unless valid() (iterator.ts): past the cut it is the next slice's. */
  private source(): ByteIterator {
    if (!this.valid()) throw new Error('OutputSlice: not valid');
    return this.cutter.source;
  }
}
