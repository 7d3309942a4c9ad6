/**
 * Reads an SSTable (format: sstableFormat.ts, docs/SSTABLE.md) with
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
 *       strictly ascending order; the decoder iterators use checks the order.
 *       Point lookups search a block in place and decode only their answer.
 */
import { BloomFilter, keyHash } from './bloomFilter.js';
import { corruption, StorageError } from './errors.js';
import { BlockCache, DEFAULT_BLOCK_CACHE_BYTES } from './blockCache.js';
import { DEFAULT_MAX_OPEN_FILES, FileHandleCache } from './fileHandleCache.js';
import type { FileSystem } from './fileSystem.js';
import { type EntryValue, type InternalIterator, TOMBSTONE } from './iterator.js';
import { fromSortKey, toSortKey } from './keyOrder.js';
import {
  BLOCK_TRAILER_SIZE,
  type BlockHandle,
  BlockKind,
  type Cursor,
  decodeFooter,
  EntryKind,
  FOOTER_SIZE,
  readVarint,
  verifyBlock,
} from './sstableFormat.js';
import type { SSTableProperties } from './sstableWriter.js';

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

/** Block cache slots of data block i: its verified bytes (for lookups) and its decoded entries (for iterators). */
const rawSlot = (i: number): number => 2 * i;
const decodedSlot = (i: number): number => 2 * i + 1;

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

  private constructor({ files, blocks }: ReaderCaches, path: string) {
    this.files = files;
    this.blocks = blocks;
    this.owner = blocks.newOwner();
    this.path = path;

    const fileSize = this.io(() => files.size(path));
    if (fileSize < FOOTER_SIZE) throw corruption(`${path}: ${fileSize} bytes is too short for an SSTable`);
    const metaEnd = fileSize - FOOTER_SIZE;
    const footer = decodeFooter(this.readAt(metaEnd, FOOTER_SIZE));

    // The meta blocks are contiguous and end where the footer starts; the data blocks fill the file before them.
    const { filter, properties, index } = footer;
    const end = (handle: BlockHandle) => handle.offset + handle.size + BLOCK_TRAILER_SIZE;
    if (end(filter) !== properties.offset || end(properties) !== index.offset || end(index) !== metaEnd) {
      throw corruption(`${path}: footer block handles do not tile the file`);
    }

    this.filter = BloomFilter.decode(this.readBlockAt(filter, BlockKind.Filter, 'filter block').subarray(0, filter.size));
    const props = decodeProperties(this.readBlockAt(properties, BlockKind.Properties, 'properties block'), properties.size);

    const indexBlock = decodeBlock(this.readBlockAt(index, BlockKind.Index, 'index block'), index.size, 'index block');
    this.lastKeys = indexBlock.keys;
    this.handles = [];
    const cursor: Cursor = { pos: 0 };
    let dataEnd = 0;
    for (let i = 0; i < indexBlock.keys.length; i++) {
      const start = indexBlock.valueStart[i];
      const limit = indexBlock.valueEnd[i];
      if (start < 0) throw corruption(`${path}: index entry is a tombstone`);
      cursor.pos = start;
      const handle = { offset: readVarint(indexBlock.buf, cursor, limit), size: readVarint(indexBlock.buf, cursor, limit) };
      if (cursor.pos !== limit || handle.offset !== dataEnd) throw corruption(`${path}: index entry ${i} is malformed`);
      dataEnd = end(handle);
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
    const key = fromSortKey(sortKey);
    const blockIndex = lowerBound(this.lastKeys, sortKey);
    if (blockIndex < this.lastKeys.length) {
      const what = `${this.path}: data block ${blockIndex}`;
      const block = this.rawDataBlock(blockIndex);
      const entry = findInBlock(block, this.handles[blockIndex].size, Buffer.from(key, 'utf8'), what);
      if (entry !== undefined) {
        const value = entry.valueStart < 0 ? TOMBSTONE : block.toString('utf8', entry.valueStart, entry.valueEnd);
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

  /** Data block i, decoded, from the cache or one positioned read. For SSTableIterator. */
  dataBlock(i: number): DecodedBlock {
    const key = this.blocks.key(this.owner, decodedSlot(i));
    const cached = this.blocks.get<DecodedBlock>(key);
    if (cached !== undefined) return cached;
    const handle = this.handles[i];
    const what = `${this.path}: data block ${i}`;
    const block = decodeBlock(this.rawDataBlock(i), handle.size, what);
    if (block.keys.length === 0 || block.keys[block.keys.length - 1] !== this.lastKeys[i]) {
      throw corruption(`${what} does not end with its index key`);
    }
    if (i > 0 && !(block.keys[0] > this.lastKeys[i - 1])) throw corruption(`${what} overlaps the block before it`);
    this.blocks.set(key, block, block.charge);
    return block;
  }

  /** Data block i's verified bytes, from the cache or one positioned read. */
  private rawDataBlock(i: number): Buffer {
    const key = this.blocks.key(this.owner, rawSlot(i));
    const cached = this.blocks.get<Buffer>(key);
    if (cached !== undefined) return cached;
    const block = this.readBlockAt(this.handles[i], BlockKind.Data, `${this.path}: data block ${i}`);
    this.blocks.set(key, block, block.length);
    return block;
  }

  /** Reads and verifies the block at `handle`: payload, then trailer. */
  private readBlockAt(handle: BlockHandle, kind: BlockKind, what: string): Buffer {
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

/** A decoded data or index block: entry i is keys[i], with its value at buf[valueStart[i], valueEnd[i]) or valueStart[i] = -1 for a tombstone. */
class DecodedBlock {
  constructor(
    readonly buf: Buffer,
    readonly keys: string[],
    readonly valueStart: number[],
    readonly valueEnd: number[],
    /** Bytes it holds, about: the raw block, each key string (header and units) and three array slots an entry. */
    readonly charge: number,
  ) {}

  value(i: number): EntryValue {
    const start = this.valueStart[i];
    return start < 0 ? TOMBSTONE : this.buf.toString('utf8', start, this.valueEnd[i]);
  }
}

/**
 * Finds the entry whose key is exactly `target` (UTF-8) in a verified block
 * payload buf[0, size), without decoding the rest: a binary search over the
 * restart points (whose keys are stored whole), then a walk of at most one
 * restart interval. Returns its value's position (valueStart -1 for a
 * tombstone), or undefined. Throws STORAGE_CORRUPTION on a malformed block.
 */
function findInBlock(buf: Buffer, size: number, target: Buffer, what: string): { valueStart: number; valueEnd: number } | undefined {
  if (size < 4) throw corruption(`${what}: too short`);
  const numRestarts = buf.readUInt32LE(size - 4);
  const restartsAt = size - 4 - 4 * numRestarts;
  if (restartsAt <= 0 || numRestarts === 0) throw corruption(`${what}: bad restart array`);
  const cursor: Cursor = { pos: 0 };
  // Entry header at `at`: returns [shared, unshared, valueLength, kind] with cursor.pos at the key suffix.
  const header = (at: number): [number, number, number, number] => {
    cursor.pos = at;
    const shared = readVarint(buf, cursor, restartsAt);
    const unshared = readVarint(buf, cursor, restartsAt);
    const valueLength = readVarint(buf, cursor, restartsAt);
    if (cursor.pos >= restartsAt || cursor.pos + 1 + unshared + valueLength > restartsAt) throw corruption(`${what}: entry out of bounds`);
    return [shared, unshared, valueLength, buf[cursor.pos++]];
  };
  const restart = (r: number): number => {
    const at = buf.readUInt32LE(restartsAt + 4 * r);
    if (at >= restartsAt) throw corruption(`${what}: restart point out of bounds`);
    return at;
  };
  // The last restart point whose key is <= target.
  let lo = 0;
  let hi = numRestarts - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    const [shared, unshared] = header(restart(mid));
    if (shared !== 0) throw corruption(`${what}: restart entry shares a prefix`);
    if (buf.compare(target, 0, target.length, cursor.pos, cursor.pos + unshared) <= 0) lo = mid;
    else hi = mid - 1;
  }
  // Walk from it, rebuilding prefix-compressed keys, until a key >= target.
  let at = restart(lo);
  let keyLength = 0;
  while (at < restartsAt) {
    const [shared, unshared, valueLength, kind] = header(at);
    if (shared > keyLength) throw corruption(`${what}: entry out of bounds`);
    if (keyScratch.length < shared + unshared) {
      const grown = Buffer.allocUnsafe(Math.max(shared + unshared, keyScratch.length * 2));
      keyScratch.copy(grown, 0, 0, keyLength);
      keyScratch = grown;
    }
    buf.copy(keyScratch, shared, cursor.pos, cursor.pos + unshared);
    keyLength = shared + unshared;
    const valueStart = cursor.pos + unshared;
    const order = keyScratch.compare(target, 0, target.length, 0, keyLength);
    if (order === 0) {
      if (kind === EntryKind.Tombstone && valueLength === 0) return { valueStart: -1, valueEnd: valueStart };
      if (kind !== EntryKind.Value) throw corruption(`${what}: bad entry kind ${kind}`);
      return { valueStart, valueEnd: valueStart + valueLength };
    }
    if (order > 0) return undefined;
    at = valueStart + valueLength;
  }
  return undefined;
}

/** A decoded entry's cost besides its key's units: a string header (16) and three 8-byte array slots. */
const DECODED_ENTRY_BYTES = 40;

/** Key bytes of the entry being decoded; decoding is synchronous, so one buffer serves every reader. */
let keyScratch: Buffer = Buffer.allocUnsafe(256);

/**
 * Decodes a verified block payload buf[0, size) (grammar in sstableFormat.ts).
 * Throws STORAGE_CORRUPTION if the structure is inconsistent or keys do not ascend.
 */
function decodeBlock(buf: Buffer, size: number, what: string): DecodedBlock {
  if (size < 4) throw corruption(`${what}: too short`);
  const numRestarts = buf.readUInt32LE(size - 4);
  const entriesEnd = size - 4 - 4 * numRestarts;
  if (entriesEnd < 0 || (numRestarts === 0) !== (entriesEnd === 0)) throw corruption(`${what}: bad restart array`);

  const keys: string[] = [];
  const valueStart: number[] = [];
  const valueEnd: number[] = [];
  const cursor: Cursor = { pos: 0 };
  let keyLen = 0;
  let keyUnits = 0;
  let prev = '';
  while (cursor.pos < entriesEnd) {
    const shared = readVarint(buf, cursor, entriesEnd);
    const unshared = readVarint(buf, cursor, entriesEnd);
    const valueLength = readVarint(buf, cursor, entriesEnd);
    if (cursor.pos >= entriesEnd) throw corruption(`${what}: truncated entry`);
    const kind = buf[cursor.pos++];
    const keyStart = cursor.pos;
    const valueAt = keyStart + unshared;
    if (shared > keyLen || valueAt + valueLength > entriesEnd) throw corruption(`${what}: entry out of bounds`);
    if (kind !== EntryKind.Value && !(kind === EntryKind.Tombstone && valueLength === 0)) {
      throw corruption(`${what}: bad entry kind ${kind}`);
    }
    if (keyScratch.length < shared + unshared) {
      const grown = Buffer.allocUnsafe(Math.max(shared + unshared, keyScratch.length * 2));
      keyScratch.copy(grown, 0, 0, keyLen);
      keyScratch = grown;
    }
    buf.copy(keyScratch, shared, keyStart, valueAt);
    keyLen = shared + unshared;
    const key = toSortKey(keyScratch.toString('utf8', 0, keyLen));
    if (keys.length > 0 && !(key > prev)) throw corruption(`${what}: keys out of order`);
    keys.push(key);
    keyUnits += key.length;
    valueStart.push(kind === EntryKind.Tombstone ? -1 : valueAt);
    valueEnd.push(valueAt + valueLength);
    prev = key;
    cursor.pos = valueAt + valueLength;
  }
  return new DecodedBlock(buf, keys, valueStart, valueEnd, buf.length + 2 * keyUnits + DECODED_ENTRY_BYTES * keys.length);
}

type StoredProperties = Omit<SSTableProperties, 'sizeBytes' | 'bloomFilterBits'>;

/** properties payload := entries tombstones dataBlocks [smallestKey largestKey] (see sstableFormat.ts). */
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

/** Walks the data blocks in order; unpositioned until seekGE or seekToFirst. */
class SSTableIterator implements InternalIterator {
  private blockIndex = 0;
  private block: DecodedBlock | null = null;
  private i = 0;

  constructor(private readonly reader: SSTableReader) {}

  seekToFirst(): void {
    this.enterBlock(0, 0);
  }

  seekGE(target: string): void {
    const blockIndex = lowerBound(this.reader.blockLastKeys, target);
    if (blockIndex >= this.reader.blockCount) {
      this.block = null;
      return;
    }
    const block = this.reader.dataBlock(blockIndex);
    // Block blockIndex ends with a key >= target, so the lower bound is inside it.
    this.blockIndex = blockIndex;
    this.block = block;
    this.i = lowerBound(block.keys, target);
  }

  valid(): boolean {
    return this.block !== null;
  }

  key(): string {
    return this.positioned().keys[this.i];
  }

  value(): EntryValue {
    return this.positioned().value(this.i);
  }

  next(): void {
    const block = this.positioned();
    if (++this.i < block.keys.length) return;
    this.enterBlock(this.blockIndex + 1, 0);
  }

  private enterBlock(blockIndex: number, i: number): void {
    this.blockIndex = blockIndex;
    this.i = i;
    this.block = blockIndex < this.reader.blockCount ? this.reader.dataBlock(blockIndex) : null;
  }

  private positioned(): DecodedBlock {
    if (this.block === null) throw new Error('SSTableIterator: not valid');
    return this.block;
  }
}
