/**
 * The entries a compaction keeps, after LevelDB's DoCompactionWork drop
 * rules and Pebble's compaction_iter.go: the merge of its inputs (newest
 * first, so the newest version of each key wins and ByteMergeIterator already
 * skips the versions it shadows), minus the tombstones nobody needs.
 *
 * A tombstone is dropped iff no level below the compaction's target can hold
 * its key (LevelDB's IsBaseLevelForKey): no file of those levels has the key
 * in its [smallest, largest]. Then nothing older than the tombstone exists
 * anywhere it could shadow, because the inputs already include every older
 * version at the source and target levels (Version invariant 4, picker
 * invariant 2). A tombstone that might shadow a deeper version is kept.
 *
 * Invariants:
 *   (1) `deeper` is sorted by smallest and disjoint (the constructor
 *       coalesces the deeper files' ranges, from any number of levels).
 *   (2) Keys are asked for in ascending order between seeks, so `next`
 *       (the first deeper range whose largest >= the last key asked) only
 *       moves forward: the check costs amortized O(1) a key.
 */
import { utf8Slice } from '../encoding/bufferStrings.js';
import type { ByteIterator } from '../iterator.js';
import { toSortKey } from '../keyOrder.js';

export interface KeyRange {
  /** Sort keys, smallest <= largest. */
  smallest: string;
  largest: string;
}

/** Answers IsBaseLevelForKey for ascending keys. */
export class BaseLevelCheck {
  private readonly deeper: KeyRange[] = [];
  private next = 0;

  /** `ranges`: the key ranges of every file below the target level, in any order. */
  constructor(ranges: readonly KeyRange[]) {
    const sorted = [...ranges].sort((a, b) => (a.smallest < b.smallest ? -1 : a.smallest > b.smallest ? 1 : 0));
    for (const { smallest, largest } of sorted) {
      const last = this.deeper[this.deeper.length - 1];
      if (last !== undefined && smallest <= last.largest) {
        if (largest > last.largest) last.largest = largest;
      } else {
        this.deeper.push({ smallest, largest });
      }
    }
  }

  /** Returns true iff no deeper range holds `key`. REQUIRES: keys ascending since the last rewind(). */
  isBaseLevelForKey(key: string): boolean {
    while (this.next < this.deeper.length && this.deeper[this.next].largest < key) this.next++;
    return this.next >= this.deeper.length || this.deeper[this.next].smallest > key;
  }

  /** Allows keys to start again from anywhere. */
  rewind(): void {
    this.next = 0;
  }
}

/** The merged inputs with droppable tombstones skipped; entries as bytes (a tombstone's key alone is decoded, for the check). */
export class CompactionIterator implements ByteIterator {
  /** `merged`: a ByteMergeIterator over the inputs, newest first. */
  constructor(
    private readonly merged: ByteIterator,
    private readonly baseLevel: BaseLevelCheck,
  ) {}

  seekToFirst(): void {
    this.baseLevel.rewind();
    this.merged.seekToFirst();
    this.skipDroppable();
  }

  valid(): boolean {
    return this.merged.valid();
  }

  next(): void {
    this.merged.next();
    this.skipDroppable();
  }

  keyBytes(): Uint8Array {
    return this.merged.keyBytes();
  }

  keyLength(): number {
    return this.merged.keyLength();
  }

  isTombstone(): boolean {
    return this.merged.isTombstone();
  }

  valueBytes(): Uint8Array {
    return this.merged.valueBytes();
  }

  valueStart(): number {
    return this.merged.valueStart();
  }

  valueEnd(): number {
    return this.merged.valueEnd();
  }

  private skipDroppable(): void {
    const merged = this.merged;
    while (merged.valid() && merged.isTombstone() && this.baseLevel.isBaseLevelForKey(toSortKey(utf8Slice.call(merged.keyBytes(), 0, merged.keyLength())))) merged.next();
  }
}
