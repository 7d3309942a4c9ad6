/**
 * A concatenating iterator over one sorted level (L1 and below), after
 * LevelDB's TwoLevelIterator over a level's file list and Pebble's levelIter:
 * one child of a merge per level instead of one per file, and a file is
 * opened only when the walk reaches it.
 *
 * Invariant: `files` are sorted by key and disjoint (Version invariant 3),
 * so the level's entries in ascending order are file 0's, then file 1's, ...;
 * `current` is the iterator of files[index] and, when valid(), is valid.
 */
import type { FileMetadata } from './version/fileMetadata.js';
import type { EntryValue, InternalIterator } from './iterator.js';

export class LevelIterator implements InternalIterator {
  private index = 0;
  private current: InternalIterator | null = null;

  /** `open` returns an unpositioned iterator over one file's entries. */
  constructor(
    private readonly files: ReadonlyArray<FileMetadata>,
    private readonly open: (file: FileMetadata) => InternalIterator,
  ) {}

  seekGE(target: string): void {
    // The first file that may hold a key >= target: binary search on largest.
    let lo = 0;
    let hi = this.files.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.files[mid].largest < target) lo = mid + 1;
      else hi = mid;
    }
    this.enter(lo);
    this.current?.seekGE(target);
    this.skipExhaustedFiles();
  }

  seekToFirst(): void {
    this.enter(0);
    this.current?.seekToFirst();
    this.skipExhaustedFiles();
  }

  valid(): boolean {
    return this.current !== null && this.current.valid();
  }

  key(): string {
    return this.positioned().key();
  }

  value(): EntryValue {
    return this.positioned().value();
  }

  next(): void {
    this.positioned().next();
    this.skipExhaustedFiles();
  }

  /** The current file's iterator; throws unless valid() (iterator.ts). Past a seek, `current` is null or valid. */
  private positioned(): InternalIterator {
    if (this.current === null) throw new Error('LevelIterator: not valid');
    return this.current;
  }

  private enter(index: number): void {
    this.index = index;
    this.current = index < this.files.length ? this.open(this.files[index]) : null;
  }

  private skipExhaustedFiles(): void {
    while (this.current !== null && !this.current.valid()) {
      this.enter(this.index + 1);
      this.current?.seekToFirst();
    }
  }
}
