/**
 * Streams a sorted InternalIterator (a flush: strings), or a ByteIterator (a
 * compaction: UTF-8 bytes, never decoded), into an SSTable file (format:
 * sstable/format.ts, docs/SSTABLE.md), after LevelDB's table/table_builder.cc.
 * Both write the same bytes for the same entries.
 *
 * Invariants:
 *   (1) Entries arrive in strictly ascending sort-key order, so their UTF-8
 *       keys are in strictly ascending byte order; the writer checks it.
 *   (2) Bytes go out front to back with no gaps: data blocks, filter,
 *       properties, index, footer. `offset` is always the file offset of the
 *       next byte emitted, buffered or not.
 *   (3) Entries go in batches of up to BATCH_ENTRIES: one native call
 *       encodes a batch's keys and values, concatenated, into the block
 *       buffer, and an all-ASCII batch (the common case) is then encoded
 *       from those bytes (see addBatch); others go entry by entry, encoding
 *       each key straight from its sort key. The hot loop allocates
 *       nothing per entry, only the batch's joined string. Entries given
 *       as bytes go one by one (addBytes), copied from the caller's
 *       buffers. Blocks are copied into reused 256 KiB output chunks.
 *   (4) At most one chunk write is in flight, so encoding overlaps I/O; a
 *       chunk is reused only after its write resolved. REQUIRES of the
 *       WritableFile: write(data) does not keep `data` after it resolves
 *       (nodeFileSystem's does not).
 *   (5) With sliceMs, the encoding loop hands the event loop back (one
 *       setImmediate) between batches once sliceMs have passed since it last
 *       did, so a flush on the main thread holds it for at most sliceMs plus
 *       one batch; the bytes written are the same.
 *
 * The writer fdatasyncs and closes the file but does not rename it: the
 * caller writes to a temporary name and publishes it.
 */
import { BloomFilterBuilder, bloomHash, DEFAULT_BITS_PER_KEY } from './bloomFilter.js';
import { utf8Write } from '../encoding/bufferStrings.js';
import { BlockBuilder, encodeSortKey, grow, join } from './blockBuilder.js';
import type { FileSystem, WritableFile } from '../env/fileSystem.js';
import { yieldToEventLoop } from '../env/yieldToEventLoop.js';
import { type ByteIterator, type EntryValue, type InternalIterator, TOMBSTONE } from '../iterator.js';
import { fromSortKey } from '../keyOrder.js';
import {
  BLOCK_TRAILER_SIZE,
  type BlockHandle,
  BlockKind,
  DEFAULT_BLOCK_BYTES,
  EntryKind,
  encodeFooter,
  FOOTER_SIZE,
  MAX_VARINT_BYTES,
  RESTART_INTERVAL,
  sealBlock,
  writeVarint,
} from './format.js';

/** What a finished SSTable holds. Keys here are real keys, not sort keys. */
export interface SSTableProperties {
  entries: number;
  tombstones: number;
  sizeBytes: number;
  bloomFilterBits: number;
  dataBlocks: number;
  smallestKey: string | null;
  largestKey: string | null;
}

export interface SSTableWriteOptions {
  /** Target data block payload size; a block closes once it reaches this. Default 4096. */
  blockBytes?: number;
  /** Bloom filter bits a key. Default 10. */
  bloomBitsPerKey?: number;
  /**
   * Hand the event loop back (one setImmediate) once this many milliseconds
   * of encoding have passed since it last had it, so a flush on the thread
   * that answers requests never holds it for longer. Default: never (a
   * worker thread has nothing else to run).
   */
  sliceMs?: number;
}

/** Size of the chunks handed to WritableFile.write. */
const OUTPUT_CHUNK_BYTES = 256 * 1024;
/** A batch (see TableBuilder.addBatch) closes at this many entries, or once its text reaches BATCH_CHARS UTF-16 units. */
const BATCH_ENTRIES = 256;
const BATCH_CHARS = 16 * 1024;
/** Entries with more key and value units than this go alone through TableBuilder.add, never in a batch. */
const MAX_BATCHED_CHARS = 1024;

/**
 * Streams `source` (positioned here with seekToFirst) into `path`,
 * fdatasyncs and closes it, and returns what it wrote. Does NOT rename: the
 * caller writes to a temp name and publishes. On failure the file is closed
 * and left for the caller to unlink.
 */
export function writeSSTable(fs: FileSystem, path: string, source: InternalIterator, options: SSTableWriteOptions = {}): Promise<SSTableProperties> {
  const sliceMs = options.sliceMs ?? Infinity;
  return writeTable(fs, path, options, async (table) => {
    source.seekToFirst();
    // Entries go in batches: their keys and values joined into one string,
    // which a single native call encodes (see addBatch); an entry longer
    // than MAX_BATCHED_CHARS goes alone, through add().
    const keys: string[] = [];
    const values: EntryValue[] = [];
    const parts: string[] = [];
    let sliceStart = performance.now();
    while (source.valid()) {
      // Two passes: the first only collects the strings, the second reads
      // them. Strings sit wherever the heap put them, so reading one is
      // usually a cache miss, and a loop that does little else lets the CPU
      // wait on several at once (worth a few percent, measured).
      let n = 0;
      for (; n < BATCH_ENTRIES && source.valid(); source.next()) {
        keys[n] = source.key();
        values[n++] = source.value();
      }
      // Then the batch's text: keys and values in one array, joined. (Joining
      // allocates only the result; concatenating with + allocated a cons
      // string for each key and value, and measured ~10% slower.)
      let m = 0;
      let chars = 0;
      let from = 0;
      for (let i = 0; i < n; i++) {
        const key = keys[i];
        const value = values[i];
        const length = key.length + (value === TOMBSTONE ? 0 : value.length);
        if (length <= MAX_BATCHED_CHARS && chars < BATCH_CHARS) {
          parts[m++] = key;
          parts[m++] = value === TOMBSTONE ? '' : value;
          chars += length;
          continue;
        }
        // A long entry goes alone, after the batch before it; so does the batch that reached BATCH_CHARS.
        if (i > from) table.addBatch(keys, values, from, i, join(parts, m));
        m = 0;
        chars = 0;
        from = i;
        if (length > MAX_BATCHED_CHARS) {
          if (table.add(key, value)) await table.drain();
          from = i + 1;
        } else {
          parts[m++] = key;
          parts[m++] = value === TOMBSTONE ? '' : value;
          chars = length;
        }
      }
      if (n > from) table.addBatch(keys, values, from, n, join(parts, m));
      if (table.readyChunks > 0) await table.drain();
      if (performance.now() - sliceStart >= sliceMs) {
        await yieldToEventLoop();
        sliceStart = performance.now();
      }
    }
  });
}

/**
 * As writeSSTable, from entries given as bytes (compaction: they go from
 * input block to output block as bytes, never decoded). `source`'s keys
 * must ascend bytewise; the writer checks it.
 */
export function writeSSTableBytes(fs: FileSystem, path: string, source: ByteIterator, options: SSTableWriteOptions = {}): Promise<SSTableProperties> {
  return writeTable(fs, path, options, async (table) => {
    for (source.seekToFirst(); source.valid(); source.next()) {
      const value = source.isTombstone() ? null : source.valueBytes();
      const start = value === null ? 0 : source.valueStart();
      const end = value === null ? 0 : source.valueEnd();
      if (table.addBytes(source.keyBytes(), source.keyLength(), value, start, end)) await table.drain();
    }
  });
}

// Implementation details follow.

/** Creates `path`, lets `fill` add the entries to its table, then finishes, fdatasyncs and closes it (see writeSSTable). */
async function writeTable(fs: FileSystem, path: string, options: SSTableWriteOptions, fill: (table: TableBuilder) => Promise<void>): Promise<SSTableProperties> {
  const blockBytes = options.blockBytes ?? DEFAULT_BLOCK_BYTES;
  const bitsPerKey = options.bloomBitsPerKey ?? DEFAULT_BITS_PER_KEY;
  if (!(Number.isInteger(blockBytes) && blockBytes > 0)) throw new RangeError(`blockBytes must be a positive integer`);
  if (!(bitsPerKey > 0)) throw new RangeError(`bloomBitsPerKey must be positive`);

  const file = await fs.createWritable(path);
  let table: TableBuilder | undefined;
  try {
    table = new TableBuilder(file, blockBytes, bitsPerKey);
    await fill(table);
    const properties = await table.finish();
    await file.sync();
    await file.close();
    return properties;
  } catch (error) {
    await table?.settle().catch(() => undefined);
    await file.close().catch(() => undefined);
    throw error;
  }
}

class TableBuilder {
  private readonly data = new BlockBuilder(RESTART_INTERVAL);
  /** Index entries are few and binary searched, so every one is a restart (as LevelDB's index_block_restart_interval = 1). */
  private readonly index = new BlockBuilder(1);
  private readonly bloom: BloomFilterBuilder;
  /** The UTF-8 bytes of the key being added go to `key`; the previous key's are prevKey[0, prevKeyLen). The two swap. */
  private key: Buffer = Buffer.allocUnsafe(256);
  private prevKey: Buffer = Buffer.allocUnsafe(256);
  private prevKeyLen = 0;
  private readonly handleBuf = Buffer.allocUnsafe(2 * MAX_VARINT_BYTES);
  /**
   * Where addBatch stages a batch's bytes in the data block's buffer: past
   * the largest payload the block reaches (under blockBytes, plus an entry
   * of at most MAX_BATCHED_CHARS bytes and its header) with its restarts
   * (4 bytes per 16 entries of at least 4 bytes, plus a count) and trailer.
   */
  private readonly stageOffset: number;

  /** Output: full chunks waiting for drain(), the chunk being filled, the write in flight, chunks free to reuse. */
  private ready: Buffer[] = [];
  /**
   * ready.length, which the hot path reads instead: `ready` starts out an
   * empty array of small integers and changes map at its first push, and
   * optimized code that checked for the other map would deoptimize.
   */
  readyChunks = 0;
  private out: Buffer = Buffer.allocUnsafe(OUTPUT_CHUNK_BYTES);
  private outLen = 0;
  private offset = 0;
  private inFlight: Promise<void> | null = null;
  private inFlightChunk: Buffer | null = null;
  private free: Buffer[] = [];

  private entries = 0;
  private tombstones = 0;
  private dataBlocks = 0;
  private smallestKey: string | null = null;

  constructor(
    private readonly file: WritableFile,
    private readonly blockBytes: number,
    bitsPerKey: number,
  ) {
    this.bloom = new BloomFilterBuilder(bitsPerKey);
    const maxPayload = blockBytes + MAX_BATCHED_CHARS + 3 * MAX_VARINT_BYTES + 1;
    this.stageOffset = maxPayload + 4 * (Math.ceil(maxPayload / (4 * RESTART_INTERVAL)) + 1) + BLOCK_TRAILER_SIZE;
  }

  /**
   * Adds the entries keys[i] and values[i] for i in [start, end), each with at most
   * MAX_BATCHED_CHARS units of key and value; `text` is the concatenation of
   * each key and its value (none for a tombstone).
   *
   * Encoding `text` in one native call costs about what encoding one short
   * string does, and bytes are far cheaper to work with than charCodeAt. If
   * `text` is all ASCII (its UTF-8 is as long as it is), every key is its own
   * sort key and UTF-8 bytes, each value its own UTF-8 bytes, and each
   * entry's bytes sit at offsets the string lengths give; otherwise the batch
   * goes entry by entry through add().
   *
   * The text is encoded into the data block's own buffer at `stage`, past
   * anything the block can reach before it closes (blockBytes, plus one
   * entry, plus its restarts and trailer), so entries move into the block
   * with copyWithin and the text is never overwritten while it is read.
   */
  addBatch(keys: string[], values: EntryValue[], start: number, end: number, text: string): void {
    const data = this.data;
    const stage = this.stageOffset;
    data.ensureCapacity(stage + 3 * text.length);
    if (utf8Write.call(data.buf, text, stage, 3 * text.length) !== text.length) {
      for (let i = start; i < end; i++) this.add(keys[i], values[i]);
      return;
    }
    const bytes = data.bytes;
    const bloom = this.bloom;
    const blockBytes = this.blockBytes;
    // Before the batch's first entry the previous key is this.prevKey's; then the one just before at `prevAt` in `bytes`.
    const first = this.prevKey;
    const firstLen = this.prevKeyLen;
    let prevAt = -1;
    let prevLen = firstLen;
    let pos = stage;
    for (let i = start; i < end; i++) {
      const keyLen = keys[i].length;
      const value = values[i];
      const valueLen = value === TOMBSTONE ? 0 : value.length;

      // Byte order is key order: check it with the prefix the block needs anyway.
      const limit = keyLen < prevLen ? keyLen : prevLen;
      let common = 0;
      let order = 1; // sign of key - previous key over their first `limit` bytes
      if (prevAt >= 0) {
        while (common < limit && bytes[pos + common] === bytes[prevAt + common]) common++;
        if (common < limit) order = bytes[pos + common] - bytes[prevAt + common];
      } else {
        while (common < limit && bytes[pos + common] === first[common]) common++;
        if (common < limit) order = bytes[pos + common] - first[common];
      }
      if (this.entries > 0 && (order < 0 || common === keyLen)) {
        throw new Error(`writeSSTable: keys out of order (${JSON.stringify(keys[i])} after ${JSON.stringify(i > start ? keys[i - 1] : this.previousKey())})`);
      }
      bloom.addHash(bloomHash(bytes, pos, pos + keyLen));

      if (value === TOMBSTONE) {
        data.addStaged(pos, keyLen, common, EntryKind.Tombstone, 0);
        this.tombstones++;
      } else {
        data.addStaged(pos, keyLen, common, EntryKind.Value, valueLen);
      }
      if (this.entries === 0) this.smallestKey = keys[i];
      this.entries++;
      prevAt = pos;
      prevLen = keyLen;
      pos += keyLen + valueLen;
      if (data.estimatedSize() >= blockBytes) this.finishDataBlock(data.buf, prevAt, prevLen);
    }
    if (this.prevKey.length < prevLen) this.prevKey = grow(this.prevKey, prevLen, 0);
    data.buf.copy(this.prevKey, 0, prevAt, prevAt + prevLen);
    this.prevKeyLen = prevLen;
  }

  /** Adds the next entry; returns true iff output chunks are waiting, and the caller should drain(). */
  add(sortKey: string, value: string | typeof TOMBSTONE): boolean {
    if (this.key.length < 3 * sortKey.length) this.key = grow(this.key, 3 * sortKey.length, 0);
    const key = this.key;
    const keyLen = encodeSortKey(sortKey, key);
    if (keyLen < 0) throw new Error(`writeSSTable: key ${JSON.stringify(fromSortKey(sortKey))} is not well-formed UTF-16`);

    const common = this.admitKey(keyLen);
    if (value === TOMBSTONE) {
      this.data.begin(key, keyLen, common, EntryKind.Tombstone, 0);
      this.tombstones++;
    } else {
      this.data.addValue(key, keyLen, common, value);
    }
    return this.keyAdded(keyLen);
  }

  /**
   * As add(), for an entry given as bytes (writeSSTableBytes): the key
   * keyBytes[0, keyLen) in UTF-8, the value value[start, end), or a
   * tombstone when `value` is null. Copies them; keeps no reference.
   */
  addBytes(keyBytes: Uint8Array, keyLen: number, value: Uint8Array | null, start: number, end: number): boolean {
    if (this.key.length < keyLen) this.key = grow(this.key, keyLen, 0);
    const key = this.key;
    for (let i = 0; i < keyLen; i++) key[i] = keyBytes[i];
    const common = this.admitKey(keyLen);
    if (value === null) {
      this.data.begin(key, keyLen, common, EntryKind.Tombstone, 0);
      this.tombstones++;
    } else {
      const at = this.data.begin(key, keyLen, common, EntryKind.Value, end - start); // may grow the block's buffer: read it after
      // set() of a view, not Buffer.copy, whose argument checks cost more than copying 100 bytes (measured).
      this.data.bytes.set(value.subarray(start, end), at);
    }
    return this.keyAdded(keyLen);
  }

  /**
   * For add and addBytes, with the entry's UTF-8 key in this.key[0, keyLen):
   * checks that it is above the previous key (byte order is key order, and
   * the prefix they share is what the block needs anyway), adds it to the
   * filter, and returns that shared prefix's length.
   */
  private admitKey(keyLen: number): number {
    const key = this.key;
    const prev = this.prevKey;
    const prevLen = this.prevKeyLen;
    const limit = keyLen < prevLen ? keyLen : prevLen;
    let common = 0;
    while (common < limit && key[common] === prev[common]) common++;
    if (this.entries > 0 && (common === keyLen || (common < prevLen && key[common] < prev[common]))) {
      throw new Error(`writeSSTable: keys out of order (${JSON.stringify(key.toString('utf8', 0, keyLen))} after ${JSON.stringify(this.previousKey())})`);
    }
    this.bloom.addKeyBytes(key, 0, keyLen);
    return common;
  }

  /** For add and addBytes, once the entry of this.key[0, keyLen) is in the block: it becomes the previous key, and a full block closes. */
  private keyAdded(keyLen: number): boolean {
    const key = this.key;
    if (this.entries === 0) this.smallestKey = key.toString('utf8', 0, keyLen);
    this.key = this.prevKey;
    this.prevKey = key;
    this.prevKeyLen = keyLen;
    this.entries++;
    if (this.data.estimatedSize() >= this.blockBytes) this.finishDataBlock(key, 0, keyLen);
    return this.readyChunks > 0;
  }

  /** The last key added (a real key). */
  private previousKey(): string {
    return this.prevKey.toString('utf8', 0, this.prevKeyLen);
  }

  /** Starts writing every full output chunk, leaving the last write in flight so encoding overlaps it. */
  async drain(): Promise<void> {
    for (const chunk of this.ready) {
      await this.settle();
      const write = this.file.write(chunk);
      write.catch(() => undefined); // settle() observes the failure; until then it must not count as unhandled
      this.inFlight = write;
      this.inFlightChunk = chunk;
    }
    this.ready.length = 0;
    this.readyChunks = 0;
  }

  /** Waits for the write in flight, if any, and frees its chunk for reuse. */
  async settle(): Promise<void> {
    const write = this.inFlight;
    if (write === null) return;
    this.inFlight = null;
    await write;
    if (this.inFlightChunk !== null && this.free.length < 2) this.free.push(this.inFlightChunk);
    this.inFlightChunk = null;
  }

  /** Writes the last data block, filter, properties, index and footer, and everything still buffered. */
  async finish(): Promise<SSTableProperties> {
    this.finishDataBlock(this.prevKey, 0, this.prevKeyLen);

    const filter = this.bloom.finish();
    const filterHandle = this.emitBlock(filter, BlockKind.Filter);

    const largestKey = this.entries > 0 ? this.previousKey() : null;
    const propertiesHandle = this.emitBlock(this.encodeProperties(this.smallestKey, largestKey), BlockKind.Properties);

    const indexSize = this.index.finish();
    sealBlock(this.index.buf, indexSize, BlockKind.Index);
    const indexHandle: BlockHandle = { offset: this.offset, size: indexSize };
    this.emit(this.index.buf, indexSize + BLOCK_TRAILER_SIZE);

    const footer = Buffer.allocUnsafe(FOOTER_SIZE);
    encodeFooter(footer, 0, { filter: filterHandle, properties: propertiesHandle, index: indexHandle });
    this.emit(footer, FOOTER_SIZE);

    await this.drain();
    await this.settle();
    if (this.outLen > 0) await this.file.write(this.out.subarray(0, this.outLen));
    return {
      entries: this.entries,
      tombstones: this.tombstones,
      sizeBytes: this.offset,
      bloomFilterBits: (filter.length - 1) * 8,
      dataBlocks: this.dataBlocks,
      smallestKey: this.smallestKey,
      largestKey,
    };
  }

  /** Closes the current data block, if it has entries, and indexes it by its last key, lastKey[at, at + length). */
  private finishDataBlock(lastKey: Buffer, at: number, length: number): void {
    const block = this.data;
    if (block.entries === 0) return;
    const size = block.finish();
    sealBlock(block.buf, size, BlockKind.Data);
    const offset = this.offset;
    this.emit(block.buf, size + BLOCK_TRAILER_SIZE);
    this.dataBlocks++;

    let handleLen = writeVarint(this.handleBuf, 0, offset);
    handleLen = writeVarint(this.handleBuf, handleLen, size);
    const key = at === 0 ? lastKey : lastKey.subarray(at, at + length);
    const valueAt = this.index.begin(key, length, 0, EntryKind.Value, handleLen);
    this.handleBuf.copy(this.index.buf, valueAt, 0, handleLen);
    block.reset();
  }

  /** properties payload := entries tombstones dataBlocks [smallestKey largestKey] (see sstable/format.ts). */
  private encodeProperties(smallestKey: string | null, largestKey: string | null): Buffer {
    const keys = this.entries > 0 ? [smallestKey ?? '', largestKey ?? ''] : [];
    const buf = Buffer.allocUnsafe(5 * MAX_VARINT_BYTES + 3 * keys.reduce((sum, key) => sum + key.length, 0));
    let pos = writeVarint(buf, 0, this.entries);
    pos = writeVarint(buf, pos, this.tombstones);
    pos = writeVarint(buf, pos, this.dataBlocks);
    for (const key of keys) {
      const length = Buffer.byteLength(key, 'utf8');
      pos = writeVarint(buf, pos, length);
      pos += buf.write(key, pos, length, 'utf8');
    }
    return buf.subarray(0, pos);
  }

  /** Seals `payload` as a block of `kind` and emits it; returns its handle. */
  private emitBlock(payload: Buffer, kind: BlockKind): BlockHandle {
    const block = Buffer.allocUnsafe(payload.length + BLOCK_TRAILER_SIZE);
    payload.copy(block);
    sealBlock(block, payload.length, kind);
    const handle = { offset: this.offset, size: payload.length };
    this.emit(block, block.length);
    return handle;
  }

  /** Appends src[0, length) to the output, moving each chunk that fills to `ready`. */
  private emit(src: Buffer, length: number): void {
    let done = 0;
    while (done < length) {
      const n = Math.min(length - done, this.out.length - this.outLen);
      src.copy(this.out, this.outLen, done, done + n);
      this.outLen += n;
      done += n;
      if (this.outLen === this.out.length) {
        this.readyChunks = this.ready.push(this.out);
        this.out = this.free.pop() ?? Buffer.allocUnsafe(OUTPUT_CHUNK_BYTES);
        this.outLen = 0;
      }
    }
    this.offset += length;
  }
}
