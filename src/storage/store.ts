/**
 * The Store: the LSM write path's layers and the operations across them.
 *
 * Invariants:
 *   (1) Layers, newest first: `active`, then `frozen` from last to first,
 *       then `sstables` from first to last. A read stops at the first layer
 *       with an entry for the key; a tombstone there means absent.
 *   (2) Only `active` is written. freezeActive moves it to the end of
 *       `frozen`; frozen MemTables are flushed oldest first (frozen[0]) and
 *       leave the queue only once their SSTable is durable and in the
 *       MANIFEST (installFlushed), so no moment exists where a write is in
 *       neither a MemTable nor a live SSTable.
 *   (3) Reads and writes are synchronous; flushOldest and syncWal are the
 *       only async operations and they change no in-memory state a reader
 *       can see.
 *   (4) With a WAL, every MemTable that has had writes has a segment
 *       (walFileName(id)) holding them, committed (by writeWal and, with
 *       sync, syncWal) before any reply that depends on them leaves. The
 *       MANIFEST's minLiveWal is the id of the oldest MemTable not yet in an
 *       SSTable: segments below it are obsolete and never replayed, so a
 *       lost unlink cannot resurrect old values over newer SSTables.
 * The Store knows nothing of messages or actors: the node machine decides
 * when to freeze and flush; the Store does it.
 */
import { basename, join } from 'node:path';
import { keyHash } from './sstable/bloomFilter.js';
import { type FileSystem, nodeFileSystem } from './env/fileSystem.js';
import { type EntryValue, TOMBSTONE } from './iterator.js';
import { fromSortKey, toSortKey } from './keyOrder.js';
import {
  isSSTableFileName,
  readManifest,
  sstableFileName,
  sstableFileNumber,
  writeManifest,
} from './version/manifest.js';
import { MemTable } from './memtable/memTable.js';
import { MergeIterator } from './mergeIterator.js';
import { corruption, StorageError } from './errors.js';
import { replayWal, walFileName, type WalReplay, walSegmentNumber, WalWriter } from './wal/wal.js';
import { newReaderCaches, type ReaderCaches, SSTableReader } from './sstable/reader.js';
import { type SSTableProperties, writeSSTable } from './sstable/writer.js';

function walCommitFailed(cause: unknown): StorageError {
  return new StorageError('STORAGE_IO', `write-ahead log commit failed: ${(cause as Error).message}`, { cause });
}

/** A MemTable is also frozen when its WAL segment reaches this many times --memtable-max-bytes. */
export const WAL_FREEZE_FACTOR = 4;

export interface StoreOptions {
  dir: string;
  memtableMaxBytes: number;
  maxImmutable: number;
  fs?: FileSystem;
  /**
   * Where SSTable descriptors and blocks are kept (the descriptors over
   * `fs`): the CLI shares them across every store of the process. Default:
   * caches of the store's own, of the default sizes.
   */
  caches?: ReaderCaches;
  /** Write-ahead log: absent for none; `sync` fdatasyncs every commit. */
  wal?: { sync: boolean };
}

/** What Store.open found and did; the node logs it. */
export interface RecoveryReport {
  /** WAL segments replayed into frozen MemTables. */
  replayedSegments: number;
  replayedRecords: number;
  /** Segments whose torn tail was cut off, and where. */
  tornTails: Array<{ file: string; validBytes: number; tornBytes: number }>;
  /** Segments already in SSTables (below the MANIFEST's minLiveWal), removed. */
  obsoleteSegments: number;
}

export type ReadSource = 'memtable' | 'immutable' | 'sstable';

export interface WriteResult {
  /** sizeBytes of the MemTable that took the write, after it. */
  sizeBytes: number;
  /** True iff the write brought that MemTable to the threshold and froze it. */
  frozen: boolean;
}

export interface GetResult {
  found: boolean;
  /** JSON text, or null when absent. */
  value: string | null;
  source: ReadSource;
  sstableFile?: string;
  /** The layer whose tombstone hid the key, when one did. */
  deletedIn?: ReadSource;
}

export interface ScanRange {
  start?: string;
  end?: string;
  limit?: number;
}

export interface ScanResult {
  entries: Array<{ key: string; value: string }>;
  /** The first key not returned, when `limit` cut the scan short. */
  nextStart?: string;
}

export interface FlushedTable {
  memtable: MemTable;
  file: string;
  reader: SSTableReader;
  properties: SSTableProperties;
}

export interface LayerStats {
  entries: number;
  size_bytes: number;
}

export interface StoreStats {
  active: LayerStats;
  /** Frozen MemTables, oldest first (flush order). */
  immutable: LayerStats[];
  /** Live SSTables, newest first (read order). */
  sstables: Array<LayerStats & { file: string }>;
  max_bytes: number;
  max_immutable: number;
}

export interface TableSummary {
  file: string;
  entries: number;
  sizeBytes: number;
  smallestKey: string | null;
  largestKey: string | null;
}

export class Store {
  private active: MemTable;
  /** The active MemTable's WAL segment, when there is a WAL. */
  private activeWal: WalWriter | undefined;
  /** Open segments by MemTable id, ascending: the active one and frozen ones not yet flushed. */
  private readonly walWriters = new Map<number, WalWriter>();
  /** A segment was created since the last commit: its directory entry must be made durable too. */
  private walDirSyncNeeded = false;
  /** Bytes since open, for write amplification: key and value characters put or deleted, and SSTable bytes flushed. */
  readonly written = { userBytes: 0, flushedBytes: 0 };

  private constructor(
    private readonly options: Required<Omit<StoreOptions, 'wal'>> & Pick<StoreOptions, 'wal'>,
    private sstables: SSTableReader[],
    private readonly frozen: MemTable[],
    private nextFileNumber: number,
    private nextMemTableId: number,
    readonly recovery: RecoveryReport,
  ) {
    this.active = this.newMemTable();
  }

  /**
   * Opens (creating if needed) the store in options.dir: reads the MANIFEST,
   * opens live SSTables, replays live WAL segments into frozen MemTables
   * (cutting off torn tails), and removes debris of interrupted flushes.
   * Throws STORAGE_CORRUPTION for damage it must not paper over.
   */
  static async open(options: StoreOptions): Promise<Store> {
    const fs = options.fs ?? nodeFileSystem;
    const resolved = { ...options, fs, caches: options.caches ?? newReaderCaches(fs) };
    const { dir, caches } = resolved;
    await fs.mkdirp(dir);
    const manifest = (await readManifest(fs, dir)) ?? { nextFileNumber: 1, minLiveWal: 0, sstables: [] };
    const live = new Set(manifest.sstables);
    let nextFileNumber = manifest.nextFileNumber;
    const segments: number[] = [];
    const recovery: RecoveryReport = { replayedSegments: 0, replayedRecords: 0, tornTails: [], obsoleteSegments: 0 };
    for (const name of await fs.readdir(dir)) {
      const segment = walSegmentNumber(name);
      if (segment !== undefined) {
        if (segment >= manifest.minLiveWal) segments.push(segment);
        else {
          await fs.unlink(join(dir, name));
          recovery.obsoleteSegments++;
        }
        continue;
      }
      const number = sstableFileNumber(name) ?? sstableFileNumber(name.replace(/\.tmp$/, ''));
      if (number !== undefined) nextFileNumber = Math.max(nextFileNumber, number + 1);
      const debris = name.endsWith('.sst.tmp') || (isSSTableFileName(name) && !live.has(name));
      if (debris) await fs.unlink(join(dir, name));
    }
    const readers: SSTableReader[] = [];
    try {
      for (const name of manifest.sstables) readers.push(SSTableReader.open(fs, join(dir, name), caches));
    } catch (error) {
      for (const reader of readers) reader.close();
      throw error;
    }
    segments.sort((a, b) => a - b);
    let frozen: MemTable[];
    try {
      frozen = await replaySegments(fs, dir, segments, recovery);
    } catch (error) {
      for (const reader of readers) reader.close();
      throw error;
    }
    const nextMemTableId = Math.max(manifest.minLiveWal, ...segments.map((segment) => segment + 1), 1);
    return new Store(resolved, readers, frozen, nextFileNumber, nextMemTableId, recovery);
  }

  get maxBytes(): number {
    return this.options.memtableMaxBytes;
  }

  /** Frozen MemTables waiting for a flush. */
  get frozenCount(): number {
    return this.frozen.length;
  }

  /** True iff writes must wait for a flush: the frozen queue is full. */
  get writesStalled(): boolean {
    return this.frozen.length >= this.options.maxImmutable;
  }

  /** The newest frozen MemTable, which the next sstable_flush reply reports on. */
  get newestFrozen(): MemTable | undefined {
    return this.frozen[this.frozen.length - 1];
  }

  /** REQUIRES: !writesStalled. Writes a JSON text value at `key`; durable after the next writeWal (and, with sync, syncWal). */
  put(key: string, valueJson: string): WriteResult {
    this.activeWal?.appendPut(key, valueJson);
    return this.write(toSortKey(key), valueJson);
  }

  /** REQUIRES: !writesStalled. Writes a tombstone at `key`; durable after the next writeWal (and, with sync, syncWal). */
  delete(key: string): WriteResult {
    this.activeWal?.appendDelete(key);
    return this.write(toSortKey(key), TOMBSTONE);
  }

  /** True iff some write's record is not known durable yet. */
  get walUnsynced(): boolean {
    for (const writer of this.walWriters.values()) if (writer.hasUnsynced) return true;
    return false;
  }

  /**
   * Group commit, first step (the whole of it with --sync none): writes new
   * records to the file, synchronously. With sync, only up to the oldest
   * segment not yet durable: a newer segment's records are written (by
   * syncWal) once the older ones are synced, so after a crash damage at the
   * end of an older segment still means corruption (docs/WAL.md, recovery).
   * Throws STORAGE_IO if the file system refuses; the records are kept and
   * written again, at the same offsets, by the next writeWal or syncWal.
   */
  writeWal(): void {
    if (this.options.wal === undefined) return;
    const { sync } = this.options.wal;
    try {
      this.syncNewSegments();
      for (const writer of this.walWriters.values()) {
        writer.write();
        if (!sync) writer.assumeWrittenDurable();
        if (writer.hasUnsynced) break;
      }
    } catch (cause) {
      throw walCommitFailed(cause);
    }
  }

  /**
   * Group commit, second step: makes every record appended before the call
   * durable, segments oldest first: writes what is not written (a failed
   * sync leaves its records to write again), fdatasyncs off the main thread.
   * REQUIRES: no other syncWal in flight. Rejects with STORAGE_IO; the
   * records are then written again by the next writeWal or syncWal.
   */
  async syncWal(): Promise<void> {
    // Chosen now: a segment retired meanwhile (its MemTable flushed) is closed only after its sync.
    const writers = [...this.walWriters.values()].filter((writer) => writer.hasUnsynced);
    try {
      for (const writer of writers) await writer.sync();
    } catch (cause) {
      throw walCommitFailed(cause);
    }
  }

  /** A segment created since the last commit needs its directory entry made durable too. */
  private syncNewSegments(): void {
    if (!this.walDirSyncNeeded) return;
    this.options.fs.syncDirSync(this.options.dir);
    this.walDirSyncNeeded = false;
  }

  private write(sortKey: string, value: EntryValue): WriteResult {
    const sizeBytes = this.active.put(sortKey, value);
    this.written.userBytes += sortKey.length + (value === TOMBSTONE ? 0 : value.length);
    // Overwrites keep a MemTable small while its log grows; the log's size freezes it too,
    // so no segment (and no replay at restart) grows without bound.
    const frozen =
      sizeBytes >= this.options.memtableMaxBytes ||
      (this.activeWal !== undefined && this.activeWal.bytes >= WAL_FREEZE_FACTOR * this.options.memtableMaxBytes);
    if (frozen) this.freezeActive();
    return { sizeBytes, frozen };
  }

  /** Moves a non-empty active MemTable to the frozen queue; returns false when it was empty. */
  freezeActive(): boolean {
    if (this.active.entries === 0) return false;
    const next = this.newMemTable(); // first, so a failure to create its segment changes nothing
    this.frozen.push(this.active);
    this.active = next;
    return true;
  }

  /** A new MemTable with, when there is a WAL, its own new segment. */
  private newMemTable(): MemTable {
    const id = this.nextMemTableId++;
    if (this.options.wal !== undefined) {
      const writer = WalWriter.create(this.options.fs, join(this.options.dir, walFileName(id)));
      this.walWriters.set(id, writer);
      this.activeWal = writer;
      this.walDirSyncNeeded = true;
    }
    return new MemTable(id);
  }

  /** The newest value of `key` across every layer. */
  get(key: string): GetResult {
    const sortKey = toSortKey(key);
    const inActive = this.active.get(sortKey);
    if (inActive !== undefined) return answered(inActive, 'memtable');
    for (let i = this.frozen.length - 1; i >= 0; i--) {
      const inFrozen = this.frozen[i].get(sortKey);
      if (inFrozen !== undefined) return answered(inFrozen, 'immutable');
    }
    if (this.sstables.length > 0) {
      const hash = keyHash(key); // once for every file's Bloom filter
      for (const reader of this.sstables) {
        const result = reader.get(sortKey, hash);
        if (result.found) return answered(result.value, 'sstable', fileName(reader));
      }
    }
    return { found: false, value: null, source: 'memtable' };
  }

  /** Live entries with start <= key < end in code point order, at most `limit`. */
  scan({ start, end, limit }: ScanRange): ScanResult {
    const entries: ScanResult['entries'] = [];
    const startKey = start === undefined ? undefined : toSortKey(start);
    const endKey = end === undefined ? undefined : toSortKey(end);
    if (startKey !== undefined && endKey !== undefined && startKey >= endKey) return { entries };

    const merged = this.mergedIterator();
    if (startKey === undefined) merged.seekToFirst();
    else merged.seekGE(startKey);
    for (; merged.valid(); merged.next()) {
      const sortKey = merged.key();
      if (endKey !== undefined && sortKey >= endKey) break;
      const value = merged.value();
      if (value === TOMBSTONE) continue;
      if (entries.length === limit) return { entries, nextStart: fromSortKey(sortKey) };
      entries.push({ key: fromSortKey(sortKey), value });
    }
    return { entries };
  }

  /** A merge of every layer, newest first; tombstones included. */
  private mergedIterator(): MergeIterator {
    const children = [this.active.iterator()];
    for (let i = this.frozen.length - 1; i >= 0; i--) children.push(this.frozen[i].iterator());
    for (const reader of this.sstables) children.push(reader.iterator());
    return new MergeIterator(children);
  }

  /**
   * REQUIRES: frozenCount > 0 and no other flush under way.
   * Writes the oldest frozen MemTable to a new SSTable and makes it durable
   * and live on disk: temp file, fdatasync, rename, folder fsync, MANIFEST.
   * Changes nothing in memory; installFlushed does that.
   */
  async flushOldest(): Promise<FlushedTable> {
    const memtable = this.frozen[0];
    if (memtable === undefined) throw new Error('flushOldest: no frozen MemTable');
    const { fs, dir, caches } = this.options;
    const file = sstableFileName(this.nextFileNumber++);
    const tmpPath = join(dir, `${file}.tmp`);
    let reader: SSTableReader | undefined;
    try {
      const properties = await writeSSTable(fs, tmpPath, memtable.iterator());
      await fs.rename(tmpPath, join(dir, file));
      await fs.syncDir(dir);
      reader = SSTableReader.open(fs, join(dir, file), caches);
      await writeManifest(fs, dir, {
        nextFileNumber: this.nextFileNumber,
        // The oldest MemTable still only in memory (and its WAL) once this one is on disk.
        minLiveWal: (this.frozen[1] ?? this.active).id,
        sstables: [file, ...this.sstables.map(fileName)],
      });
      // Obsolete now (below minLiveWal); if the unlink is lost, the next open removes it.
      await fs.unlink(join(dir, walFileName(memtable.id))).catch(() => undefined);
      return { memtable, file, reader, properties };
    } catch (error) {
      reader?.close();
      await fs.unlink(tmpPath).catch(() => undefined);
      throw error;
    }
  }

  /** Makes a finished flush visible: its SSTable replaces the oldest frozen MemTable. */
  installFlushed(flushed: FlushedTable): void {
    if (this.frozen[0] !== flushed.memtable) throw new Error('installFlushed: not the oldest frozen MemTable');
    this.frozen.shift();
    this.sstables.unshift(flushed.reader);
    this.written.flushedBytes += flushed.properties.sizeBytes;
    const writer = this.walWriters.get(flushed.memtable.id);
    if (writer !== undefined) {
      this.walWriters.delete(flushed.memtable.id);
      writer.close();
    }
  }

  /** Point lookup in one named live SSTable. */
  lookupSSTable(file: string, key: string) {
    const reader = this.sstables.find((candidate) => fileName(candidate) === file);
    if (reader === undefined) throw new StorageError('STORAGE_UNKNOWN_SSTABLE', `no live SSTable named ${file}`);
    return reader.get(toSortKey(key));
  }

  stats(): StoreStats {
    const layer = (memtable: MemTable): LayerStats => ({ entries: memtable.entries, size_bytes: memtable.sizeBytes });
    return {
      active: layer(this.active),
      immutable: this.frozen.map(layer),
      sstables: this.sstables.map((reader) => ({
        file: fileName(reader),
        entries: reader.properties.entries,
        size_bytes: reader.properties.sizeBytes,
      })),
      max_bytes: this.options.memtableMaxBytes,
      max_immutable: this.options.maxImmutable,
    };
  }

  /** Live SSTables, newest first, with their key ranges (user keys; null for an empty table). */
  tables(): TableSummary[] {
    return this.sstables.map((reader) => {
      const { entries, sizeBytes, smallestKey, largestKey } = reader.properties;
      return { file: fileName(reader), entries, sizeBytes, smallestKey, largestKey };
    });
  }

  /** Closes every open SSTable and WAL segment; the Store must not be used afterwards. */
  close(): void {
    for (const reader of this.sstables) reader.close();
    this.sstables = [];
    for (const writer of this.walWriters.values()) writer.close();
    this.walWriters.clear();
  }
}

/**
 * Replays WAL segments, oldest first, each into a frozen MemTable; empty ones
 * are removed. A torn tail is accepted only in the newest segment that holds
 * records: a group commit writes (and syncs) segments oldest first, so a
 * newer segment with data means the older one was complete, and damage at
 * its end is corruption, not a crash mid-write.
 */
async function replaySegments(fs: FileSystem, dir: string, segments: number[], recovery: RecoveryReport): Promise<MemTable[]> {
  const replayed: Array<{ name: string; memtable: MemTable; replay: WalReplay }> = [];
  for (const segment of segments) {
    const name = walFileName(segment);
    const memtable = new MemTable(segment);
    const replay = replayWal(await fs.readFile(join(dir, name)), name, (record) => {
      memtable.put(toSortKey(record.key), record.kind === 'put' ? record.valueJson : TOMBSTONE);
    });
    replayed.push({ name, memtable, replay });
  }
  const newestWithRecords = replayed.findLastIndex(({ replay }) => replay.records > 0);
  replayed.forEach(({ name, replay }, index) => {
    if (replay.tornBytes > 0 && index < newestWithRecords) {
      throw corruption(`${name}: damaged at byte ${replay.validBytes}, but ${replayed[newestWithRecords].name} holds newer records`);
    }
  });

  const frozen: MemTable[] = [];
  for (const { name, memtable, replay } of replayed) {
    const path = join(dir, name);
    if (replay.tornBytes > 0) {
      // Cut the tail off so no later reader ever mistakes it for data.
      fs.truncateSync(path, replay.validBytes);
      recovery.tornTails.push({ file: name, validBytes: replay.validBytes, tornBytes: replay.tornBytes });
    }
    recovery.replayedRecords += replay.records;
    if (memtable.entries === 0) {
      await fs.unlink(path);
      continue;
    }
    recovery.replayedSegments++;
    frozen.push(memtable);
  }
  return frozen;
}

/** A get's result when `source` had an entry: a value, or a tombstone that hides the key. */
function answered(value: EntryValue, source: ReadSource, sstableFile?: string): GetResult {
  if (value === TOMBSTONE) return { found: false, value: null, source: 'memtable', deletedIn: source };
  return sstableFile === undefined ? { found: true, value, source } : { found: true, value, source, sstableFile };
}

function fileName(reader: SSTableReader): string {
  return basename(reader.path);
}
