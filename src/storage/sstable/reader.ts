/**
 * Reads an SSTable (format: sstable/format.ts, docs/SSTABLE.md) with
 * synchronous positioned reads, so a request is answered in the turn it
 * arrives.
 *
 * Invariants:
 *   (1) After open, the footer, index, filter and properties are in memory
 *       and verified; only data blocks are read afterwards, one positioned
 *       read each, and `diskReads` counts exactly those reads.
 *   (2) Every block is checked against its CRC32C before any byte of it is
 *       used: damage surfaces as STORAGE_CORRUPTION, never as a wrong value.
 *   (3) Keys leave the reader as sort keys (toSortKey of the UTF-8 key), in
 *       strictly ascending order: the block cursor (blockIterator.ts) checks
 *       the order inside a block, and SSTableIterator that each block it
 *       walks ends with its index key and starts above the block before.
 *       Lookups and seeks search a block in place by its restart points; only
 *       the entries a caller reaches are decoded, and only data blocks as
 *       read are cached.
 */
import { BloomFilter } from './bloomFilter.js';
import { corruption, StorageError } from '../errors.js';
import { BlockCache, type CacheOwner, DEFAULT_BLOCK_CACHE_BYTES } from '../cache/blockCache.js';
import { BlockIterator } from './blockIterator.js';
import { DEFAULT_MAX_OPEN_FILES, FileHandleCache } from '../cache/fileHandleCache.js';
import type { FileSystem } from '../env/fileSystem.js';
import { type EntryValue, type InternalIterator, TOMBSTONE } from '../iterator.js';
import { fromSortKey } from '../keyOrder.js';
import { LastKeyIndex } from './lastKeyIndex.js';
import { LookupKey } from './lookupKey.js';
import {
  BLOCK_TRAILER_SIZE,
  type BlockHandle,
  BlockKind,
  type Cursor,
  decodeFooter,
  DEFAULT_BLOCK_BYTES,
  EntryKind,
  FOOTER_SIZE,
  readVarint,
  verifyBlock,
} from './format.js';
import type { SSTableProperties } from './writer.js';

export interface SSTableGetResult {
  /** An entry exists, maybe a tombstone. */
  readonly found: boolean;
  readonly value: EntryValue;
  readonly bloomMayContain: boolean;
  /** Positioned reads this call made (0 when the filter or the block cache answered). */
  readonly diskReads: number;
}

/** The answer of every lookup the Bloom filter rules out: one object, not one a file a miss. */
const FILTERED_OUT: SSTableGetResult = Object.freeze({ found: false, value: null, bloomMayContain: false, diskReads: 0 });

/**
 * Where readers keep descriptors and data blocks: shared by every SSTable of
 * a store, and in the CLI by every store of the process, so neither grows
 * with the number of SSTables.
 */
export interface ReaderCaches {
  files: FileHandleCache;
  blocks: BlockCache;
}

/**
 * The block cache's slot size: a data block cut at DEFAULT_BLOCK_BYTES, its last entry of up to 251 bytes
 * over the cut, and its trailer. A larger block gets a buffer of its own; larger slots would cache fewer blocks.
 */
export const BLOCK_SLOT_BYTES = DEFAULT_BLOCK_BYTES + 256;

/**
 * The block cache of a reader opened without caches: a cache reserves its budget when made (BlockCache), and
 * the default 32 MiB for each lone reader made the SSTable tests, which open thousands, six times slower.
 */
const LONE_READER_CACHE_BYTES = 256 * 1024;

export function newReaderCaches(fs: FileSystem, maxOpenFiles = DEFAULT_MAX_OPEN_FILES, blockCacheBytes = DEFAULT_BLOCK_CACHE_BYTES): ReaderCaches {
  return { files: new FileHandleCache(fs, maxOpenFiles), blocks: new BlockCache(blockCacheBytes, BLOCK_SLOT_BYTES) };
}

export class SSTableReader {
  readonly path: string;
  readonly properties: SSTableProperties;

  /** Where this file's descriptor is kept (and, past its capacity, closed and opened again). */
  private readonly files: FileHandleCache;
  private readonly blocks: BlockCache;
  /** This reader's part of the block cache. */
  private readonly owner: CacheOwner;
  private closed = false;
  private readonly filter: BloomFilter;
  /** Data block i holds keys <= lastKeys[i] (sort keys) and sits at handles[i]. */
  private readonly lastKeys: string[];
  /** Searches lastKeys. */
  private readonly lastKeyIndex: LastKeyIndex;
  private readonly handles: BlockHandle[];
  private reads = 0;
  /** The cursor point lookups search blocks with (reads are synchronous, so one serves them all). */
  private readonly lookup = new BlockIterator();

  private constructor({ files, blocks }: ReaderCaches, path: string) {
    this.files = files;
    this.blocks = blocks;
    this.path = path;

    const fileSize = this.io(() => files.size(path));
    if (fileSize < FOOTER_SIZE) throw corruption(`${path}: ${fileSize} bytes is too short for an SSTable`);
    const metaEnd = fileSize - FOOTER_SIZE;
    let footer;
    try {
      footer = decodeFooter(this.readAt(metaEnd, Buffer.allocUnsafe(FOOTER_SIZE)));
    } catch (error) {
      throw error instanceof StorageError ? corruption(`${path}: footer at byte ${metaEnd}: ${error.message}`, error) : error;
    }

    // The meta blocks are contiguous and end where the footer starts; the data blocks fill the file before them.
    const { filter, properties, index } = footer;
    const end = (handle: BlockHandle) => handle.offset + handle.size + BLOCK_TRAILER_SIZE;
    if (end(filter) !== properties.offset || end(properties) !== index.offset || end(index) !== metaEnd) {
      throw corruption(`${path}: footer block handles do not tile the file`);
    }

    const metaName = (what: string, handle: BlockHandle) => `${path}: ${what} block at byte ${handle.offset}`;
    this.filter = BloomFilter.decode(this.readBlockAt(filter, BlockKind.Filter, metaName('filter', filter)).subarray(0, filter.size));
    const props = decodeProperties(this.readBlockAt(properties, BlockKind.Properties, metaName('properties', properties)), properties.size);

    // The index: one entry a data block, its last key and its handle, every entry a restart.
    const indexName = metaName('index', index);
    const indexBlock = this.lookup.reset(this.readBlockAt(index, BlockKind.Index, indexName), index.size, indexName);
    this.lastKeys = [];
    this.handles = [];
    const cursor: Cursor = { pos: 0 };
    let dataEnd = 0;
    for (indexBlock.seekToFirst(); indexBlock.valid(); indexBlock.next()) {
      const i = this.handles.length;
      if (indexBlock.isTombstone()) throw corruption(`${path}: index entry is a tombstone`);
      const limit = indexBlock.valueLimit;
      cursor.pos = indexBlock.valueOffset;
      const handle = { offset: readVarint(indexBlock.block, cursor, limit), size: readVarint(indexBlock.block, cursor, limit) };
      if (cursor.pos !== limit || handle.offset !== dataEnd) throw corruption(`${path}: index entry ${i} is malformed`);
      dataEnd = end(handle);
      this.lastKeys.push(indexBlock.sortKey());
      this.handles.push(handle);
    }
    if (dataEnd !== filter.offset || this.handles.length !== props.dataBlocks) {
      throw corruption(`${path}: index does not match the data blocks`);
    }
    this.owner = blocks.newOwner(this.handles.length);
    this.lastKeyIndex = new LastKeyIndex(this.lastKeys);
    this.properties = { ...props, sizeBytes: fileSize, bloomFilterBits: this.filter.bits };
  }

  /**
   * Opens synchronously: reads the footer, index, filter and properties and
   * keeps them in memory. Throws STORAGE_CORRUPTION for a truncated, damaged
   * or foreign file, STORAGE_IO if the file system fails. `caches` hold its
   * descriptor and blocks (a store passes its shared ones); by default the
   * reader gets caches of its own, sized for one file (LONE_READER_CACHE_BYTES).
   */
  static open(fs: FileSystem, path: string, caches = newReaderCaches(fs, 1, LONE_READER_CACHE_BYTES)): SSTableReader {
    try {
      return new SSTableReader(caches, path);
    } catch (error) {
      caches.files.forget(path);
      throw error;
    }
  }

  /** Total positioned data block reads since open. */
  get diskReads(): number {
    return this.reads;
  }

  /**
   * Point lookup: the Bloom filter (a negative answer costs no read), then
   * the index, then one block, searched in place by its restart points:
   * nothing of the block but the answer is decoded. Returns the value or
   * TOMBSTONE, or undefined when the file has no entry for the key. A Store
   * probes every file with one LookupKey; this allocates nothing but the
   * value's string (and, on a cache miss the cache cannot recycle, the
   * block's buffer).
   */
  find(key: LookupKey): EntryValue | undefined {
    if (!this.filter.mayContainHash(key.hash)) return undefined;
    const blockIndex = this.lastKeyIndex.lowerBound(key.sortKey);
    if (blockIndex === this.lastKeys.length) return undefined;
    // In place: the cursor is done with the block before this returns (BlockCache invariant 3).
    const entry = this.bindBlock(blockIndex, this.lookup);
    entry.seekGE(key.bytes, key.length);
    if (!entry.valid() || entry.compareKey(key.bytes, key.length) !== 0) return undefined;
    return entry.isTombstone() ? TOMBSTONE : entry.value();
  }

  /** find by sort key, saying what it cost: whether the Bloom filter let it through and the positioned reads it made. */
  get(sortKey: string): SSTableGetResult {
    const key = new LookupKey().set(fromSortKey(sortKey), sortKey);
    if (!this.filter.mayContainHash(key.hash)) return FILTERED_OUT;
    const before = this.reads;
    const value = this.find(key);
    return { found: value !== undefined, value: value ?? null, bloomMayContain: true, diskReads: this.reads - before };
  }

  /** An unpositioned InternalIterator over the file (sort keys out), reading blocks as it goes. */
  iterator(): InternalIterator {
    return new SSTableIterator(this);
  }

  /** Closes the file; later reads throw. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.io(() => this.files.forget(this.path));
  }

  /** The number of data blocks. For SSTableIterator. */
  get blockCount(): number {
    return this.handles.length;
  }

  /** The first data block whose last key is >= sortKey (the only one that may hold it), or blockCount. */
  blockFor(sortKey: string): number {
    return this.lastKeyIndex.lowerBound(sortKey);
  }

  /**
   * About how many bytes of the file hold keys below `sortKey`: where the
   * first data block that may hold it starts (LevelDB's
   * Table::ApproximateOffsetOf), the whole file when every key is below. From
   * the index in memory, no read: what a compaction splits its inputs by.
   */
  approximateOffsetOf(sortKey: string): number {
    const i = this.blockFor(sortKey);
    return i < this.handles.length ? this.handles[i].offset : this.properties.sizeBytes;
  }

  /** The last key of each data block, ascending. For SSTableIterator. */
  get blockLastKeys(): readonly string[] {
    return this.lastKeys;
  }

  /** Where data block i is in the file (payload; the trailer follows). */
  blockHandle(i: number): BlockHandle {
    return { ...this.handles[i] };
  }

  /** On leaving data block i (SSTableIterator, and TableScanner in compactions): its last key must be its index key, else STORAGE_CORRUPTION. */
  checkBlockEnd(i: number, lastKey: string): void {
    if (lastKey !== this.lastKeys[i]) throw corruption(`${this.blockName(i)} does not end with its index key`);
  }

  /** On entering data block i from block i - 1, whose last key was `previousKey`: its first key must be above it, else STORAGE_CORRUPTION. */
  checkBlockStart(i: number, firstKey: string, previousKey: string): void {
    if (!(firstKey > previousKey)) throw corruption(`${this.blockName(i)} overlaps the block before it`);
  }

  /** How errors name data block i, with where it starts so an operator can find it. */
  blockName(i: number): string {
    return `${this.path}: data block ${i} at byte ${this.handles[i].offset}`;
  }

  /**
   * Binds `cursor` to a copy of data block i in `into`, or in a larger
   * buffer when it is too small: returns the buffer used, for the next
   * call. For a holder that keeps the block past the call (SSTableIterator):
   * a cached block's slot is written over once the block is evicted
   * (BlockCache invariant 3).
   */
  copyBlock(i: number, cursor: BlockIterator, into: Buffer): Buffer {
    const size = this.handles[i].size;
    const block = this.blockBytes(i);
    // An eighth to spare, so the next block, a shade larger, fits too.
    const copy = into.length >= size ? into : Buffer.allocUnsafeSlow(size + (size >>> 3));
    block.copy(copy, 0, 0, size);
    return cursor.reset(copy, size, this, i).block;
  }

  /** Binds `cursor` to data block i where it is cached: the cursor must be done with it before the next block read. */
  private bindBlock(i: number, cursor: BlockIterator): BlockIterator {
    // The reader names its blocks (blockName) only if the cursor throws.
    return cursor.reset(this.blockBytes(i), this.handles[i].size, this, i);
  }

  /** Data block i and its trailer, verified, from the block cache or one positioned read; valid until the next read (BlockCache invariant 3). */
  private blockBytes(i: number): Buffer {
    const cached = this.blocks.get(this.owner, i);
    if (cached !== undefined) return cached;
    const handle = this.handles[i];
    // The slot's buffer may be longer than the block: the read fills its start, and the rest is garbage nobody reads.
    const slot = this.blocks.takeSlot(handle.size + BLOCK_TRAILER_SIZE);
    try {
      this.readAt(handle.offset, slot.buffer, handle.size + BLOCK_TRAILER_SIZE);
      this.reads++;
      verifyBlock(slot.buffer, handle.size, BlockKind.Data, this, i);
    } catch (error) {
      this.blocks.giveBack(slot);
      throw error;
    }
    this.blocks.insert(this.owner, i, slot);
    return slot.buffer;
  }

  /** Reads and verifies the meta block at `handle`: payload, then trailer. */
  private readBlockAt(handle: BlockHandle, kind: BlockKind, what: string): Buffer {
    const buf = this.readAt(handle.offset, Buffer.allocUnsafe(handle.size + BLOCK_TRAILER_SIZE));
    verifyBlock(buf, handle.size, kind, what);
    return buf;
  }

  /** Fills buf[0, needed) from the file at `position`; returns buf. */
  private readAt(position: number, buf: Buffer, needed = buf.length): Buffer {
    if (this.closed) throw new Error(`${this.path}: SSTableReader is closed`);
    let n: number;
    try {
      n = this.files.read(this.path, buf, position, needed);
    } catch (error) {
      throw this.ioError(error);
    }
    if (n < needed) throw corruption(`${this.path}: truncated (wanted ${needed} bytes at ${position}, got ${n})`);
    return buf;
  }

  /** Runs a file-system call, reporting its failure as STORAGE_IO. */
  private io<T>(call: () => T): T {
    try {
      return call();
    } catch (error) {
      throw this.ioError(error);
    }
  }

  private ioError(error: unknown): StorageError {
    return new StorageError('STORAGE_IO', `${this.path}: ${(error as Error).message}`, { cause: error });
  }
}

// Implementation details follow.

type StoredProperties = Omit<SSTableProperties, 'sizeBytes' | 'bloomFilterBits'>;

/** properties payload := entries tombstones dataBlocks [smallestKey largestKey] (see sstable/format.ts). */
function decodeProperties(buf: Buffer, size: number): StoredProperties {
  const cursor: Cursor = { pos: 0 };
  const entries = readVarint(buf, cursor, size);
  const tombstones = readVarint(buf, cursor, size);
  const dataBlocks = readVarint(buf, cursor, size);
  const readString = () => {
    const length = readVarint(buf, cursor, size);
    if (cursor.pos + length > size) throw corruption('properties block: key out of bounds');
    cursor.pos += length;
    return buf.toString('utf8', cursor.pos - length, cursor.pos);
  };
  const smallestKey = entries > 0 ? readString() : null;
  const largestKey = entries > 0 ? readString() : null;
  if (cursor.pos !== size || tombstones > entries || (entries > 0) !== (dataBlocks > 0)) {
    throw corruption('properties block: malformed');
  }
  return { entries, tombstones, dataBlocks, smallestKey, largestKey };
}

/**
 * Walks the data blocks in order, one block cursor over the current block's
 * bytes; unpositioned until seekGE or seekToFirst. key() decodes the current
 * key once, however often the merge asks for it.
 */
class SSTableIterator implements InternalIterator {
  private blockIndex = 0;
  private readonly entry = new BlockIterator();
  /** The current block's bytes, copied out of the block cache (SSTableReader.copyBlock); reused from block to block. */
  private blockCopy: Buffer = NO_BYTES;
  /** A seek's target, as blocks compare keys (UTF-8 bytes); made at the first seek, reused by the next ones. */
  private seekKey: LookupKey | null = null;
  private positioned = false;
  private currentKey: string | null = null;

  constructor(private readonly reader: SSTableReader) {}

  seekToFirst(): void {
    this.enterBlock(0);
  }

  seekGE(target: string): void {
    const blockIndex = this.reader.blockFor(target);
    if (blockIndex >= this.reader.blockCount) {
      this.positioned = false;
      return;
    }
    // Block blockIndex ends with a key >= target, so the lower bound is inside it.
    this.bind(blockIndex);
    const key = (this.seekKey ??= new LookupKey()).set(fromSortKey(target), target);
    this.entry.seekGE(key.bytes, key.length);
    if (!this.entry.valid()) throw corruption(`${this.reader.blockName(blockIndex)} does not end with its index key`);
    this.positioned = true;
  }

  valid(): boolean {
    return this.positioned;
  }

  key(): string {
    if (!this.positioned) throw new Error('SSTableIterator: not valid');
    if (this.currentKey === null) this.currentKey = this.entry.sortKey();
    return this.currentKey;
  }

  value(): EntryValue {
    if (!this.positioned) throw new Error('SSTableIterator: not valid');
    return this.entry.isTombstone() ? TOMBSTONE : this.entry.value();
  }

  next(): void {
    if (!this.positioned) throw new Error('SSTableIterator: not valid');
    if (!this.entry.atLast()) {
      this.currentKey = null;
      this.entry.next();
      return;
    }
    // Leaving a block: it must end with its index key, and the next one start above it.
    const lastKey = this.key();
    this.reader.checkBlockEnd(this.blockIndex, lastKey);
    this.enterBlock(this.blockIndex + 1);
    if (this.positioned) this.reader.checkBlockStart(this.blockIndex, this.key(), lastKey);
  }

  private enterBlock(blockIndex: number): void {
    if (blockIndex >= this.reader.blockCount) {
      this.positioned = false;
      return;
    }
    this.bind(blockIndex);
    this.entry.seekToFirst();
    if (!this.entry.valid()) throw corruption(`${this.reader.blockName(blockIndex)} is empty`);
    this.positioned = true;
  }

  /** Points the cursor at data block i, unpositioned: if reading it throws, the iterator is left invalid, not half moved. */
  private bind(blockIndex: number): void {
    this.positioned = false;
    this.blockIndex = blockIndex;
    this.currentKey = null;
    this.blockCopy = this.reader.copyBlock(blockIndex, this.entry, this.blockCopy);
  }
}

const NO_BYTES = Buffer.alloc(0);
