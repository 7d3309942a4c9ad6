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
 */
import type { FileHandleCache } from '../cache/fileHandleCache.js';
import { corruption } from '../errors.js';
import type { ByteIterator } from '../iterator.js';
import { BlockIterator } from './blockIterator.js';
import { BLOCK_TRAILER_SIZE, BlockKind, verifyBlock } from './format.js';
import type { SSTableReader } from './reader.js';

/** Bytes read at a time (RocksDB's compaction_readahead_size is 2 MiB; 512 KiB already makes reads a small part of a job). */
export const READAHEAD_BYTES = 512 * 1024;

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

  /**
   * `names`: the run's files, in key order; `open` returns the reader of
   * one (opened when the walk reaches it; closing it is the caller's), and
   * `files` is the descriptor cache it reads through; `readaheadBytes`, how
   * much it reads at a time (tests make it small). Unpositioned.
   */
  constructor(
    private readonly files: FileHandleCache,
    private readonly names: readonly string[],
    private readonly open: (name: string) => SSTableReader,
    private readonly readaheadBytes = READAHEAD_BYTES,
  ) {}

  seekToFirst(): void {
    this.enterFile(0);
  }

  valid(): boolean {
    return this.reader !== null;
  }

  next(): void {
    if (this.reader === null) throw new Error('TableScanner: not valid');
    if (!this.entry.atLast()) {
      this.entry.next();
      return;
    }
    // Leaving a block: it must end with its index key, and the next one start above it.
    const reader = this.reader;
    const lastKey = this.entry.sortKey();
    reader.checkBlockEnd(this.blockIndex, lastKey);
    if (this.blockIndex + 1 < reader.blockCount) {
      this.enterBlock(this.blockIndex + 1);
      reader.checkBlockStart(this.blockIndex, this.entry.sortKey(), lastKey);
    } else {
      this.enterFile(this.fileIndex + 1);
    }
  }

  keyBytes(): Uint8Array {
    return this.entry.keyBuffer;
  }

  keyLength(): number {
    return this.entry.keyByteLength;
  }

  isTombstone(): boolean {
    return this.entry.isTombstone();
  }

  valueBytes(): Uint8Array {
    return this.chunkBytes;
  }

  valueStart(): number {
    return this.blockAt + this.entry.valueOffset;
  }

  valueEnd(): number {
    return this.blockAt + this.entry.valueLimit;
  }

  /** Positions at the first entry of file `index` or of the first non-empty one after it; invalid past the last. */
  private enterFile(index: number): void {
    this.reader = null;
    for (this.fileIndex = index; this.fileIndex < this.names.length; this.fileIndex++) {
      const reader = this.open(this.names[this.fileIndex]);
      if (reader.blockCount === 0) continue;
      this.reader = reader;
      this.chunkLength = 0;
      this.enterBlock(0);
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
