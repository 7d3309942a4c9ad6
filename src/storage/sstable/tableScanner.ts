/**
 * A front-to-back walk of a sorted run of SSTables (one L0 file, or a
 * level's files in key order) with its entries as bytes: what a compaction
 * reads its inputs with. After RocksDB's compaction_readahead_size, data
 * blocks come in sequential reads of READAHEAD_BYTES, not one positioned
 * read a block (a read a block was 9% of a compaction's time, measured),
 * and bypass the block cache (LevelDB's fill_cache = false).
 *
 * Invariants:
 *   (1) valid() iff `entry` is at an entry of data block `blockIndex` of
 *       the file `reader` reads, and that block's bytes were checked against
 *       their CRC before any was used.
 *   (2) `chunk` holds the current file's bytes [chunkStart, chunkStart +
 *       chunkLength); it is refilled only when the walk enters a block it
 *       does not hold, so the current entry's bytes stay put until next().
 *   (3) As SSTableIterator's: each block must end with its index key and
 *       the next one start above it, else STORAGE_CORRUPTION; inside a block
 *       the cursor checks the order (blockIterator.ts). Keys ascend from one
 *       file to the next by the Version's invariant (a level's files are
 *       sorted and disjoint), which is not checked here: the writer checks
 *       that what it is given ascends.
 *   (4) With bounds, valid() only at keys in (after, upTo]: seekToFirst
 *       skips the blocks and entries at or below `after`, and the walk ends
 *       at the first key above `upTo` (a subcompaction's share of a job).
 */
import type { FileHandleCache } from '../cache/fileHandleCache.js';
import { corruption } from '../errors.js';
import type { ByteIterator } from '../iterator.js';
import { utf8OfSortKey } from '../keyOrder.js';
import { BlockIterator } from './blockIterator.js';
import { BLOCK_TRAILER_SIZE, BlockKind, verifyBlock } from './format.js';
import type { SSTableReader } from './reader.js';

/** Bytes read at a time (RocksDB's compaction_readahead_size is 2 MiB; 512 KiB already makes reads a small part of a job). */
export const READAHEAD_BYTES = 512 * 1024;

/** A key range, either end open: keys above `after` and at most `upTo` (sort keys). */
export interface ScanBounds {
  after?: string;
  upTo?: string;
}

export interface TableScannerOptions {
  /** Bytes read at a time (tests make it small); default READAHEAD_BYTES. */
  readaheadBytes?: number;
  bounds?: ScanBounds;
}

export class TableScanner implements ByteIterator {
  private fileIndex = 0;
  private reader: SSTableReader | null = null;
  private blockIndex = 0;
  private readonly entry = new BlockIterator();
  private chunk: Buffer = Buffer.alloc(0);
  /** A plain Uint8Array over the chunk, which values are read from: its subarray() is a cheap native call, a Buffer's is not. */
  private chunkBytes: Uint8Array = new Uint8Array(0);
  private chunkStart = 0;
  private chunkLength = 0;
  /** Where the current block starts in the chunk. */
  private blockAt = 0;
  private readonly readaheadBytes: number;
  /** The bounds (invariant 4): `after` as a sort key, for the index, and both as UTF-8, as entries compare. */
  private readonly afterSortKey: string | undefined;
  private readonly after: Uint8Array | undefined;
  private readonly upTo: Uint8Array | undefined;

  /**
   * `names`: the run's files, in key order; `open` returns the reader of
   * one (opened when the walk reaches it; closing it is the caller's), and
   * `files` is the descriptor cache it reads through. Unpositioned.
   */
  constructor(
    private readonly files: FileHandleCache,
    private readonly names: readonly string[],
    private readonly open: (name: string) => SSTableReader,
    { readaheadBytes = READAHEAD_BYTES, bounds = {} }: TableScannerOptions = {},
  ) {
    this.readaheadBytes = readaheadBytes;
    this.afterSortKey = bounds.after;
    this.after = bounds.after === undefined ? undefined : utf8OfSortKey(bounds.after);
    this.upTo = bounds.upTo === undefined ? undefined : utf8OfSortKey(bounds.upTo);
  }

  seekToFirst(): void {
    this.enterFile(0);
    const after = this.after;
    if (after !== undefined) while (this.reader !== null && this.entry.compareKey(after) <= 0) this.step();
    this.stopPastUpTo();
  }

  valid(): boolean {
    return this.reader !== null;
  }

  next(): void {
    this.assertValid();
    this.step();
    this.stopPastUpTo();
  }

  /** REQUIRES: valid(). Moves to the next entry, checking each block's ends as it leaves it; invalid past the last file. */
  private step(): void {
    if (!this.entry.atLast()) {
      this.entry.next();
      return;
    }
    // Leaving a block: it must end with its index key, and the next one start above it.
    const reader = this.reader!;
    const lastKey = this.entry.sortKey();
    reader.checkBlockEnd(this.blockIndex, lastKey);
    if (this.blockIndex + 1 < reader.blockCount) {
      this.enterBlock(this.blockIndex + 1);
      reader.checkBlockStart(this.blockIndex, this.entry.sortKey(), lastKey);
    } else {
      this.enterFile(this.fileIndex + 1);
    }
  }

  /** Ends the walk at a key above `upTo` (invariant 4). */
  private stopPastUpTo(): void {
    if (this.upTo !== undefined && this.reader !== null && this.entry.compareKey(this.upTo) > 0) this.reader = null;
  }

  keyBytes(): Uint8Array {
    this.assertValid();
    return this.entry.keyBuffer;
  }

  keyLength(): number {
    this.assertValid();
    return this.entry.keyByteLength;
  }

  isTombstone(): boolean {
    this.assertValid();
    return this.entry.isTombstone();
  }

  valueBytes(): Uint8Array {
    this.assertValid();
    return this.chunkBytes;
  }

  valueStart(): number {
    this.assertValid();
    return this.blockAt + this.entry.valueOffset;
  }

  valueEnd(): number {
    this.assertValid();
    return this.blockAt + this.entry.valueLimit;
  }

  /** Accessors and next() throw unless valid() (iterator.ts): the cursor would answer with a finished walk's last entry. */
  private assertValid(): void {
    if (this.reader === null) throw new Error('TableScanner: not valid');
  }

  /**
   * Positions at the first entry of file `index` or of the first non-empty
   * one after it, skipping the blocks whose keys are all below `after`
   * (their last key is); invalid past the last.
   */
  private enterFile(index: number): void {
    this.reader = null;
    for (this.fileIndex = index; this.fileIndex < this.names.length; this.fileIndex++) {
      const reader = this.open(this.names[this.fileIndex]);
      const first = this.afterSortKey === undefined ? 0 : reader.blockFor(this.afterSortKey);
      if (first >= reader.blockCount) continue;
      this.reader = reader;
      this.chunkLength = 0;
      this.enterBlock(first);
      return;
    }
  }

  /** Binds the cursor to data block i of the current file, verified, at its first entry. */
  private enterBlock(i: number): void {
    const reader = this.reader!;
    const { offset, size } = reader.blockHandle(i);
    const end = offset + size + BLOCK_TRAILER_SIZE;
    if (offset < this.chunkStart || end > this.chunkStart + this.chunkLength) this.fill(reader, offset, end);
    const at = offset - this.chunkStart;
    const block = this.chunk.subarray(at, at + size + BLOCK_TRAILER_SIZE);
    const name = reader.blockName(i);
    verifyBlock(block, size, BlockKind.Data, name);
    this.blockIndex = i;
    this.blockAt = at;
    this.entry.reset(block, size, name).seekToFirst();
    if (!this.entry.valid()) throw corruption(`${name} is empty`);
  }

  /** Reads the file from `offset` (a block's start) on: readaheadBytes, or to the end of the data blocks, and at least to `end`. */
  private fill(reader: SSTableReader, offset: number, end: number): void {
    const last = reader.blockHandle(reader.blockCount - 1);
    const dataEnd = last.offset + last.size + BLOCK_TRAILER_SIZE;
    const length = Math.max(end - offset, Math.min(this.readaheadBytes, dataEnd - offset));
    if (this.chunk.length < length) {
      this.chunk = Buffer.allocUnsafe(Math.max(length, this.readaheadBytes));
      this.chunkBytes = new Uint8Array(this.chunk.buffer, this.chunk.byteOffset, this.chunk.length);
    }
    const n = this.files.read(reader.path, this.chunk.subarray(0, length), offset);
    if (n !== length) throw corruption(`${reader.path}: truncated (wanted ${length} bytes at ${offset}, got ${n})`);
    this.chunkStart = offset;
    this.chunkLength = length;
  }
}
