/**
 * The one merge every scan and every multi-source walk uses: a k-way merge
 * of children given newest first. It comes in two forms that share the heap
 * and the rule below (HeapMerge) and differ only in how keys compare:
 * MergeIterator over InternalIterators (sort-key strings), for scans and
 * flushes, and ByteMergeIterator over ByteIterators (UTF-8 bytes, compared
 * bytewise: the same order, keyOrder.ts), for compaction, which moves
 * entries from input to output without decoding them (decoding and
 * re-encoding every key and value was a third of a compaction, measured).
 *
 * Invariants:
 *   (1) It yields each key once, in ascending key order, with the value of
 *       the newest child that has the key (lowest child index wins).
 *   (2) Tombstones are yielded like values: the caller decides whether a
 *       deletion hides the key (a scan) or must be kept (a flush to L0).
 *   (3) `heap` holds exactly the indexes of the valid children, as a binary
 *       min-heap ordered by (key, child index); its top is the current entry.
 *   (4) keys[i] is children[i].key() (MergeIterator) or the buffer and
 *       length of its key bytes (ByteMergeIterator, which reads them in
 *       place: nothing is decoded) for every child in the heap, read once
 *       each time the child moves: the heap compares keys far more often
 *       than children move, and key() is a call through the child's layers
 *       (it was 12% of a scan, measured).
 */
import type { ByteIterator, EntryValue, InternalIterator } from './iterator.js';

/** What the heap needs of a child. */
interface MergeChild {
  seekToFirst(): void;
  valid(): boolean;
  next(): void;
}

/** The heap and the newest-wins rule of both forms; a form says how two children's current keys compare. */
abstract class HeapMerge<Child extends MergeChild> {
  protected heap: number[] = [];

  /** `children` newest first; they are positioned by this iterator's seeks. */
  constructor(protected readonly children: readonly Child[]) {}

  /** Sign of (child a's key - child b's key). REQUIRES: both valid. */
  protected abstract compareKeys(a: number, b: number): number;
  /** True iff children a and b are at the same key (one string comparison where compareKeys may take two). REQUIRES: both valid. */
  protected abstract sameKey(a: number, b: number): boolean;
  /** Child i has moved and is valid: the form reads what compareKeys and sameKey need. */
  protected abstract moved(i: number): void;

  seekToFirst(): void {
    for (const child of this.children) child.seekToFirst();
    this.rebuildHeap();
  }

  valid(): boolean {
    return this.heap.length > 0;
  }

  /** The child at the top of the heap, the current entry's; throws unless valid() (iterator.ts). */
  protected top(): number {
    if (this.heap.length === 0) throw new Error(`${this.constructor.name}: not valid`);
    return this.heap[0];
  }

  /**
   * Moves past the current key in every child that has it, so older
   * versions are skipped. Those children sit just below the top (the heap
   * orders by key first), so they move first, each re-sifted from where it
   * is; then the top itself. Nothing remembers the key being left.
   */
  next(): void {
    const heap = this.heap;
    const top = this.top();
    while (heap.length > 1) {
      const second = heap.length > 2 && this.before(heap[2], heap[1]) ? 2 : 1;
      if (!this.sameKey(heap[second], top)) {
        // The top's smaller child is known: the sift need not compare the two again.
        this.advance(0, second);
        return;
      }
      this.advance(second, -1);
    }
    this.advance(0, -1);
  }

  protected rebuildHeap(): void {
    this.heap = [];
    for (let i = 0; i < this.children.length; i++) {
      if (!this.children[i].valid()) continue;
      this.moved(i);
      this.heap.push(i);
    }
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  /**
   * Moves the child at heap position `position` (0, or a child of the top
   * at the top's key) and restores the heap. `smaller`: the position of the
   * smaller of its children, if known (-1 if not).
   */
  private advance(position: number, smaller: number): void {
    const heap = this.heap;
    const i = heap[position];
    const child = this.children[i];
    child.next();
    if (child.valid()) {
      this.moved(i);
    } else {
      // The last leaf replaces it: its key is >= the top's, so it only needs to go down.
      const last = heap.pop()!;
      if (position === heap.length) return;
      heap[position] = last;
      smaller = -1; // the leaf may have been one of its children
    }
    this.siftDown(position, smaller);
  }

  /** True iff child a's entry comes before child b's: smaller key, or same key and newer. */
  private before(a: number, b: number): boolean {
    const order = this.compareKeys(a, b);
    return order < 0 || (order === 0 && a < b);
  }

  /** Moves the entry at `position` down to its place; `knownSmaller`, if >= 0, is the position of the smaller of its children. */
  private siftDown(position: number, knownSmaller = -1): void {
    const heap = this.heap;
    for (;;) {
      const left = 2 * position + 1;
      if (left >= heap.length) return;
      const right = left + 1;
      const smaller = knownSmaller >= 0 ? knownSmaller : right < heap.length && this.before(heap[right], heap[left]) ? right : left;
      knownSmaller = -1;
      if (!this.before(heap[smaller], heap[position])) return;
      [heap[smaller], heap[position]] = [heap[position], heap[smaller]];
      position = smaller;
    }
  }
}

/** The merge over InternalIterators: sort-key strings. */
export class MergeIterator extends HeapMerge<InternalIterator> implements InternalIterator {
  private readonly keys: string[];

  constructor(children: readonly InternalIterator[]) {
    super(children);
    this.keys = new Array<string>(children.length).fill('');
  }

  seekGE(target: string): void {
    for (const child of this.children) child.seekGE(target);
    this.rebuildHeap();
  }

  key(): string {
    return this.keys[this.top()];
  }

  value(): EntryValue {
    return this.children[this.top()].value();
  }

  protected compareKeys(a: number, b: number): number {
    const keyA = this.keys[a];
    const keyB = this.keys[b];
    return keyA < keyB ? -1 : keyA === keyB ? 0 : 1;
  }

  protected sameKey(a: number, b: number): boolean {
    return this.keys[a] === this.keys[b];
  }

  protected moved(i: number): void {
    this.keys[i] = this.children[i].key();
  }
}

/** The merge over ByteIterators: keys compared as bytes where the children hold them. */
export class ByteMergeIterator extends HeapMerge<ByteIterator> implements ByteIterator {
  /** keys[i][0, keyLengths[i]) is child i's key while it is in the heap (invariant 4): two array reads a side, not two calls through the child's layers. */
  private readonly keys: Uint8Array[];
  private readonly keyLengths: Int32Array;

  constructor(children: readonly ByteIterator[]) {
    super(children);
    this.keys = new Array<Uint8Array>(children.length).fill(new Uint8Array(0));
    this.keyLengths = new Int32Array(children.length);
  }

  keyBytes(): Uint8Array {
    return this.keys[this.top()];
  }

  keyLength(): number {
    return this.keyLengths[this.top()];
  }

  isTombstone(): boolean {
    return this.children[this.top()].isTombstone();
  }

  valueBytes(): Uint8Array {
    return this.children[this.top()].valueBytes();
  }

  valueStart(): number {
    return this.children[this.top()].valueStart();
  }

  valueEnd(): number {
    return this.children[this.top()].valueEnd();
  }

  protected moved(i: number): void {
    const child = this.children[i];
    this.keys[i] = child.keyBytes();
    this.keyLengths[i] = child.keyLength();
  }

  protected compareKeys(a: number, b: number): number {
    return compareBytes(this.keys[a], this.keyLengths[a], this.keys[b], this.keyLengths[b]);
  }

  protected sameKey(a: number, b: number): boolean {
    return this.compareKeys(a, b) === 0;
  }
}

/** Sign of (a[0, aLength) - b[0, bLength)), bytewise. A loop, not Buffer.compare: keys are short, and a native call costs more than the bytes. */
export function compareBytes(a: Uint8Array, aLength: number, b: Uint8Array, bLength: number): number {
  const limit = aLength < bLength ? aLength : bLength;
  for (let i = 0; i < limit; i++) {
    const difference = a[i] - b[i];
    if (difference !== 0) return difference;
  }
  return aLength - bLength;
}
