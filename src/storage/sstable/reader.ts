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
import { BloomFilter, keyHash } from './bloomFilter.js';
import { corruption, StorageError } from '../errors.js';
import { BlockCache, DEFAULT_BLOCK_CACHE_BYTES } from '../cache/blockCache.js';
import { BlockIterator } from './blockIterator.js';
import { DEFAULT_MAX_OPEN_FILES, FileHandleCache } from '../cache/fileHandleCache.js';
import type { FileSystem } from '../env/fileSystem.js';
import { type EntryValue, type InternalIterator, TOMBSTONE } from '../iterator.js';
import { fromSortKey, toSortKey } from '../keyOrder.js';
import {
  BLOCK_TRAILER_SIZE,
  type BlockHandle,
  BlockKind,
  type BlockName,
  type Cursor,
  decodeFooter,
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

export function newReaderCaches(fs: FileSystem, maxOpenFiles = DEFAULT_MAX_OPEN_FILES, blockCacheBytes = DEFAULT_BLOCK_CACHE_BYTES): ReaderCaches {
  return { files: new FileHandleCache(fs, maxOpenFiles), blocks: new BlockCache(blockCacheBytes) };
}

export class SSTableReader {
  readonly path: string;
  readonly properties: SSTableProperties;

  /** Where this file's descriptor is kept (and, past its capacity, closed and opened again). */
  private readonly files: FileHandleCache;
  private readonly blocks: BlockCache;
  /** This reader's part of the block cache's keys. */
  private readonly owner: number;
  private closed = false;
  private readonly filter: BloomFilter;
  /** Data block i holds keys <= lastKeys[i] (sort keys) and sits at handles[i]. */
  private readonly lastKeys: string[];
  private readonly handles: BlockHandle[];
  private reads = 0;
  /** The cursor point lookups search blocks with (reads are synchronous, so one serves them all). */
  private readonly lookup = new BlockIterator();

  private constructor({ files, blocks }: ReaderCaches, path: string) {
    this.files = files;
    this.blocks = blocks;
    this.owner = blocks.newOwner();
    this.path = path;

    const fileSize = this.io(() => files.size(path));
    if (fileSize < FOOTER_SIZE) throw corruption(`${path}: ${fileSize} bytes is too short for an SSTable`);
    const metaEnd = fileSize - FOOTER_SIZE;
    let footer;
    try {
      footer = decodeFooter(this.readAt(metaEnd, FOOTER_SIZE));
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
      this.lastKeys.push(indexBlock.keyIsAscii() ? indexBlock.key() : toSortKey(indexBlock.key()));
      this.handles.push(handle);
    }
    if (dataEnd !== filter.offset || this.handles.length !== props.dataBlocks) {
      throw corruption(`${path}: index does not match the data blocks`);
    }
    this.properties = { ...props, sizeBytes: fileSize, bloomFilterBits: this.filter.bits };
  }

  /**
   * Opens synchronously: reads the footer, index, filter and properties and
   * keeps them in memory. Throws STORAGE_CORRUPTION for a truncated, damaged
   * or foreign file, STORAGE_IO if the file system fails. `caches` hold its
   * descriptor and blocks (a store passes its shared ones); by default the
   * reader gets caches of its own.
   */
  static open(fs: FileSystem, path: string, caches = newReaderCaches(fs)): SSTableReader {
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
   * Point lookup by sort key: the Bloom filter (a negative answer costs no
   * read), then the index, then one block, searched in place by its restart
   * points: nothing of the block but the answer is decoded. `hash` is
   * keyHash of the key, for a caller that probes several files.
   */
  get(sortKey: string, hash = keyHash(fromSortKey(sortKey))): SSTableGetResult {
    if (!this.filter.mayContainHash(hash)) return FILTERED_OUT;
    const before = this.reads;
    const blockIndex = lowerBound(this.lastKeys, sortKey);
    if (blockIndex < this.lastKeys.length) {
      const target = utf8KeyOf(sortKey);
      const entry = this.readBlock(blockIndex, this.lookup);
      entry.seekGE(target);
      if (entry.valid() && entry.compareKey(target) === 0) {
        const value = entry.isTombstone() ? TOMBSTONE : entry.value();
        return { found: true, value, bloomMayContain: true, diskReads: this.reads - before };
      }
    }
    return { found: false, value: null, bloomMayContain: true, diskReads: this.reads - before };
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

  /** The last key of each data block, ascending. For SSTableIterator. */
  get blockLastKeys(): readonly string[] {
    return this.lastKeys;
  }

  /** Where data block i is in the file (payload; the trailer follows). */
  blockHandle(i: number): BlockHandle {
    return { ...this.handles[i] };
  }

  /** How errors name data block i, with where it starts so an operator can find it (formatted only if an error needs it). */
  blockName(i: number): BlockName {
    return new DataBlockName(this.path, i, this.handles[i].offset);
  }

  /** Binds `cursor` to data block i: its bytes from the block cache, or one positioned read. For lookups and SSTableIterator. */
  readBlock(i: number, cursor: BlockIterator): BlockIterator {
    const name = this.blockName(i);
    return cursor.reset(this.dataBlock(i, name), this.handles[i].size, name);
  }

  /** Data block i's verified bytes (payload, then trailer), from the cache or one positioned read. */
  private dataBlock(i: number, name: BlockName): Buffer {
    const key = this.blocks.key(this.owner, i);
    const cached = this.blocks.get<Buffer>(key);
    if (cached !== undefined) return cached;
    const block = this.readBlockAt(this.handles[i], BlockKind.Data, name);
    this.blocks.set(key, block, block.length);
    return block;
  }

  /** Reads and verifies the block at `handle`: payload, then trailer. */
  private readBlockAt(handle: BlockHandle, kind: BlockKind, what: BlockName): Buffer {
    const buf = this.readAt(handle.offset, handle.size + BLOCK_TRAILER_SIZE);
    if (kind === BlockKind.Data) this.reads++;
    verifyBlock(buf, handle.size, kind, what);
    return buf;
  }

  private readAt(position: number, length: number): Buffer {
    if (this.closed) throw new Error(`${this.path}: SSTableReader is closed`);
    const buf = Buffer.allocUnsafe(length);
    const n = this.io(() => this.files.read(this.path, buf, position));
    if (n !== length) throw corruption(`${this.path}: truncated (wanted ${length} bytes at ${position}, got ${n})`);
    return buf;
  }

  /** Runs a file-system call, reporting its failure as STORAGE_IO. */
  private io<T>(call: () => T): T {
    try {
      return call();
    } catch (error) {
      throw new StorageError('STORAGE_IO', `${this.path}: ${(error as Error).message}`, { cause: error });
    }
  }
}

// Implementation details follow.

/** A data block's name in errors, built only when one is thrown. */
class DataBlockName implements BlockName {
  constructor(
    private readonly file: string,
    private readonly block: number,
    private readonly offset: number,
  ) {}

  toString(): string {
    return `${this.file}: data block ${this.block} at byte ${this.offset}`;
  }
}

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
 * The UTF-8 bytes of the key behind a sort key, which blocks compare as
 * bytes. The last answer is kept: a merged seek asks every file for the same
 * key, and so does a get that passes several Bloom filters. Read only.
 */
function utf8KeyOf(sortKey: string): Buffer {
  if (sortKey !== lastSortKey) {
    lastKeyBytes = Buffer.from(fromSortKey(sortKey), 'utf8');
    lastSortKey = sortKey;
  }
  return lastKeyBytes;
}
let lastSortKey = '';
let lastKeyBytes = Buffer.alloc(0);

/** The first index i with keys[i] >= target, or keys.length. */
function lowerBound(keys: readonly string[], target: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Walks the data blocks in order, one block cursor over the current block's
 * bytes; unpositioned until seekGE or seekToFirst. key() decodes the current
 * key once, however often the merge asks for it.
 */
class SSTableIterator implements InternalIterator {
  private blockIndex = 0;
  private readonly entry = new BlockIterator();
  private positioned = false;
  private currentKey: string | null = null;

  constructor(private readonly reader: SSTableReader) {}

  seekToFirst(): void {
    this.enterBlock(0);
  }

  seekGE(target: string): void {
    const lastKeys = this.reader.blockLastKeys;
    const blockIndex = lowerBound(lastKeys, target);
    if (blockIndex >= lastKeys.length) {
      this.positioned = false;
      return;
    }
    // Block blockIndex ends with a key >= target, so the lower bound is inside it.
    this.bind(blockIndex);
    this.entry.seekGE(utf8KeyOf(target));
    if (!this.entry.valid()) throw corruption(`${this.reader.blockName(blockIndex)} does not end with its index key`);
    this.positioned = true;
  }

  valid(): boolean {
    return this.positioned;
  }

  key(): string {
    if (!this.positioned) throw new Error('SSTableIterator: not valid');
    if (this.currentKey === null) this.currentKey = this.entry.keyIsAscii() ? this.entry.key() : toSortKey(this.entry.key());
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
    if (lastKey !== this.reader.blockLastKeys[this.blockIndex]) throw corruption(`${this.reader.blockName(this.blockIndex)} does not end with its index key`);
    this.enterBlock(this.blockIndex + 1);
    if (this.positioned && !(this.key() > lastKey)) throw corruption(`${this.reader.blockName(this.blockIndex)} overlaps the block before it`);
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
    this.reader.readBlock(blockIndex, this.entry);
  }
}
