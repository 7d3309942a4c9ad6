/**
 * The Store: the LSM tree's layers and the operations across them.
 *
 * Invariants:
 *   (1) Layers, newest first: `active`, then `frozen` from last to first,
 *       then the current Version's SSTables: L0 newest first (by file
 *       number, descending), then L1 to L6, each level one sorted run of
 *       disjoint files (Version invariants, version/version.ts). A read
 *       stops at the first layer with an entry for the key; a tombstone
 *       there means absent.
 *   (2) Only `active` is written. freezeActive moves it to the end of
 *       `frozen`; frozen MemTables are flushed oldest first (frozen[0]) and
 *       leave the queue only once their SSTable is durable and named by a
 *       durable Version (installFlushed), so no moment exists where a write
 *       is in neither a MemTable nor a live SSTable.
 *   (3) Reads and writes are synchronous. The async operations (flushOldest,
 *       installCompaction, syncWal) change what a reader sees only by
 *       installing a Version that gives every read the same answer: a
 *       flushed file repeats the frozen MemTable still read before it, and a
 *       compaction's outputs replace its inputs in one Version.
 *   (4) With a WAL, every MemTable that has had writes has a segment
 *       (walFileName(id)) holding them, committed (by writeWal and, with
 *       sync, syncWal) before any reply that depends on them leaves. The
 *       VersionSet's minLiveWal is the id of the oldest MemTable not yet in
 *       an SSTable: segments below it are obsolete and never replayed, so a
 *       lost unlink cannot resurrect old values over newer SSTables.
 *   (5) `readers` holds an open reader for every file the current Version
 *       names (and for outputs about to be installed); a file leaves it, and
 *       the folder, only once a durable Version no longer names it.
 *       `pendingOutputs` holds the numbers handed out for files not yet
 *       installed, so removeObsoleteFiles never takes a file being written.
 * The Store knows nothing of messages or actors: the node machine decides
 * when to freeze, flush and compact; the Store does it.
 */
import { basename, join } from 'node:path';
import { LookupKey } from './sstable/lookupKey.js';
import { acquireDirLock, type DirLock } from './env/dirLock.js';
import { type FileSystem, nodeFileSystem } from './env/fileSystem.js';
import { yieldToEventLoop } from './env/yieldToEventLoop.js';
import { type EntryValue, type InternalIterator, TOMBSTONE } from './iterator.js';
import { fromSortKey, toSortKey } from './keyOrder.js';
import { LevelIterator } from './levelIterator.js';
import { MemTable } from './memtable/memTable.js';
import { MergeIterator } from './mergeIterator.js';
import { corruption, StorageError } from './errors.js';
import { replayWal, walFileName, type WalReplay, walSegmentNumber, WalWriter } from './wal/wal.js';
import { newReaderCaches, type ReaderCaches, type SSTableGetResult, SSTableReader } from './sstable/reader.js';
import { type SSTableProperties, writeSSTable } from './sstable/writer.js';
import { type FileMetadata, fileMetadataFromProperties, NUM_LEVELS, overlapsRange } from './version/fileMetadata.js';
import { LEGACY_MANIFEST_FILE, parseManifestFileName, parseSSTableFileName, sstableFileName } from './version/fileNames.js';
import type { Version, VersionEdit } from './version/version.js';
import { VersionSet } from './version/versionSet.js';
import { maxBytesForLevel } from './version/levelTargets.js';
import {
  type CompactionEdit,
  type CompactionOptions,
  type CompactionResult,
  DEFAULT_COMPACTION_OPTIONS,
  NOTHING_COMPACTED,
  runCompaction,
} from './compaction/compactor.js';
import { type Compaction, levelScores, manualCompaction, pickCompaction, type PickerOptions } from './compaction/picker.js';
import { type CompactionRunner, inProcessRunner } from './compaction/runner.js';

export type { CompactionOptions, CompactionResult };

function walCommitFailed(cause: unknown): StorageError {
  return new StorageError('STORAGE_IO', `write-ahead log commit failed: ${(cause as Error).message}`, { cause });
}

/**
 * A flush runs on the thread that answers requests: it hands the event loop
 * back after this much encoding, so no reply waits behind it for longer
 * (a 1 MiB MemTable takes ~5-10 ms to encode).
 */
export const FLUSH_SLICE_MS = 0.5;

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
  /** Level targets and triggers; default DEFAULT_COMPACTION_OPTIONS (SPEC 2b). */
  compaction?: CompactionOptions;
  /**
   * Where compaction jobs run: the CLI passes one worker-thread runner for
   * every store of the process. Default: in-process (tests), over `fs`.
   */
  compactionRunner?: CompactionRunner;
}

/** Since the store opened: what lsm_compact_status reports. */
export interface CompactionStatus {
  /** Levels whose score is at or above 1. */
  pendingCompactions: number;
  totalCompactions: number;
  /** Bytes written by compactions. */
  totalBytesCompacted: number;
  /** (bytes written by flushes and compactions) / (key and value bytes of the writes received); 0 before any write. */
  writeAmplification: number;
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
  /** The MANIFEST the store was read from (`MANIFEST` for a store written before levels), or null for a new store. */
  manifestRead: string | null;
  /** The live MANIFEST (as manifestRead until the first edit starts a new one). */
  manifest: string | null;
  /** A torn last record of the MANIFEST read: an edit never installed, ignored. */
  manifestTornTail?: { file: string; validBytes: number; tornBytes: number };
  /** Files no version names, removed: SSTables, `*.tmp` of every kind, old MANIFESTs. */
  removedFiles: string[];
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

/** Where a read was answered: a MemTable, a level (`L0` to `L6`), or null when no layer had the key. */
export type FoundAt = 'memtable' | 'immutable' | `L${number}`;

/** A get that says where it went (SPEC 2b, lsm_read). */
export interface LsmGetResult extends GetResult {
  /** The layer whose entry (value or tombstone) answered, or null when none had the key. */
  foundAt: FoundAt | null;
  /** On-disk levels from L0 down to the one that answered (Ln: n + 1; a MemTable: 0; a miss: deepest non-empty level + 1). */
  levelsChecked: number;
  /** SSTables whose Bloom filter or index the read consulted (a file skipped by its key range is not). */
  filesChecked: number;
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
  metadata: FileMetadata;
}

export interface LayerStats {
  entries: number;
  size_bytes: number;
}

export interface StoreStats {
  active: LayerStats;
  /** Frozen MemTables, oldest first (flush order). */
  immutable: LayerStats[];
  /** Live SSTables in read order: L0 newest first, then L1 to L6, each in key order. */
  sstables: Array<LayerStats & { file: string; level: number }>;
  max_bytes: number;
  max_immutable: number;
}

/** One level as lsm_level_info shows it. */
export interface LevelInfo {
  level: number;
  sstables: number;
  total_bytes: number;
  /** False for L0 (its files may overlap), true below. */
  sorted: boolean;
  /** The level's target (maxBytesForLevel) and compaction score, as the picker computes them. */
  max_bytes: number;
  score: number;
  /** With `files`: L0 newest first, below in key order; keys are real keys. */
  files?: Array<{ file: string; smallest: string; largest: string; size_bytes: number; entries: number }>;
}


export class Store {
  private active: MemTable;
  /** The active MemTable's WAL segment, when there is a WAL. */
  private activeWal: WalWriter | undefined;
  /** Open segments by MemTable id, ascending: the active one and frozen ones not yet flushed. */
  private readonly walWriters = new Map<number, WalWriter>();
  /** With sync, a segment was created since the last commit: its directory entry must be made durable too. */
  private walDirSyncNeeded = false;
  private dirLock: DirLock | undefined;

  /** Key and value bytes of every write since open (write amplification's denominator). */
  private userBytes = 0;
  private flushBytesWritten = 0;
  private compactions = 0;
  private compactionBytesWritten = 0;
  /** A flush or compaction failed since the last sweep: files no Version names may be left (removeObsoleteFiles). */
  private debrisPossible = false;

  private pickerOptionsMemo: PickerOptions | undefined;
  /** compactionDue's answer for the Version it was computed for. */
  private compactionDueFor: Version | undefined;
  private compactionDueMemo = false;

  /** Open readers by file number: see invariant (5). */
  private readonly readers = new Map<number, SSTableReader>();
  /** Numbers handed out by newFileNumber for files not yet installed: see invariant (5). */
  private readonly pendingOutputs = new Set<number>();
  /** The key every get probes SSTables with, refilled per get (gets are synchronous). */
  private readonly lookupKey = new LookupKey();

  private constructor(
    private readonly options: Required<Omit<StoreOptions, 'wal'>> & Pick<StoreOptions, 'wal'>,
    private readonly versions: VersionSet,
    readers: SSTableReader[],
    private readonly frozen: MemTable[],
    private nextMemTableId: number,
    readonly recovery: RecoveryReport,
  ) {
    for (const reader of readers) this.readers.set(readerNumber(reader), reader);
    this.active = this.newMemTable();
  }

  /**
   * Opens (creating if needed) the store in options.dir: recovers the file
   * set from the MANIFEST CURRENT names (or a store written before levels,
   * converted at the first edit), removes every file no version names
   * (SSTables, `*.tmp`, old MANIFESTs, obsolete WAL segments), opens live
   * SSTables, and replays live WAL segments into frozen MemTables (cutting
   * off torn tails). Throws STORAGE_CORRUPTION for damage it must not paper
   * over, and STORAGE_LOCKED when another process has the folder open
   * (env/dirLock.ts); the folder stays locked until close().
   */
  static async open(options: StoreOptions): Promise<Store> {
    await (options.fs ?? nodeFileSystem).mkdirp(options.dir);
    const lock = acquireDirLock(options.dir);
    try {
      const store = await Store.openLocked(options);
      store.dirLock = lock;
      return store;
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  private static async openLocked(options: StoreOptions): Promise<Store> {
    const fs = options.fs ?? nodeFileSystem;
    const caches = options.caches ?? newReaderCaches(fs);
    const resolved = {
      ...options,
      fs,
      caches,
      compaction: options.compaction ?? DEFAULT_COMPACTION_OPTIONS,
      compactionRunner: options.compactionRunner ?? inProcessRunner(fs, caches),
    };
    const { dir } = resolved;
    await fs.mkdirp(dir);
    // Numbers only grow: past any file a crash left behind, too, even one no MANIFEST names.
    let highestSeen = 0;
    for (const name of await fs.readdir(dir)) highestSeen = Math.max(highestSeen, parseSSTableFileName(name.replace(/\.tmp$/, ''))?.number ?? 0);
    const { versions, state } = await VersionSet.open(fs, dir, { minNextFileNumber: highestSeen + 1 });
    const recovery: RecoveryReport = {
      replayedSegments: 0,
      replayedRecords: 0,
      tornTails: [],
      obsoleteSegments: 0,
      manifestRead: state?.manifestFile ?? null,
      manifest: versions.manifestFile,
      removedFiles: [],
      ...(state?.tornTail && { manifestTornTail: { file: state.manifestFile, ...state.tornTail } }),
    };
    const readers: SSTableReader[] = [];
    try {
      const segments = await removeUnreferencedFiles(fs, dir, versions, recovery);
      for (const { file } of versions.current.allFiles()) readers.push(SSTableReader.open(fs, join(dir, file.name), caches));
      const frozen = await replaySegments(fs, dir, segments, recovery);
      const nextMemTableId = Math.max(versions.minLiveWal, ...segments.map((segment) => segment + 1), 1);
      return new Store(resolved, versions, readers, frozen, nextMemTableId, recovery);
    } catch (error) {
      for (const reader of readers) reader.close();
      await versions.close().catch(() => undefined);
      throw error;
    }
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
    return this.frozen.length >= this.options.maxImmutable || (this.autoCompaction && this.l0Files >= this.options.compaction.l0StopTrigger);
  }

  /** True iff writes are slowed for L0 (--l0-slowdown-trigger, automatic compaction only): each write group waits a moment. */
  get writesSlowed(): boolean {
    return this.autoCompaction && this.l0Files >= this.options.compaction.l0SlowdownTrigger;
  }

  /** Files in L0. */
  get l0Files(): number {
    return this.versions.current.levels[0].length;
  }

  private get autoCompaction(): boolean {
    return this.options.compaction.mode === 'auto';
  }

  private get pickerOptions(): PickerOptions {
    return (this.pickerOptionsMemo ??= { ...this.options.compaction, memtableMaxBytes: this.options.memtableMaxBytes });
  }

  /** True iff some level's score is at or above 1 (LevelDB's score: a compaction is due). */
  compactionDue(): boolean {
    // Asked after every event the node handles; the answer changes only with the Version.
    const version = this.versions.current;
    if (this.compactionDueFor !== version) {
      this.compactionDueFor = version;
      this.compactionDueMemo = levelScores(version, this.pickerOptions).some((score) => score >= 1);
    }
    return this.compactionDueMemo;
  }

  /** The compaction LevelDB's score asks for now, or null when none is due. */
  pickCompaction(): Compaction | null {
    const version = this.versions.current;
    const pointers = Array.from({ length: NUM_LEVELS }, (_, level) => this.versions.compactPointer(level));
    return pickCompaction(version, pointers, this.pickerOptions);
  }

  /** REQUIRES: 0 <= sourceLevel <= 5. Every file of sourceLevel with what it overlaps below (lsm_compact), or null when the level is empty. */
  pickLevelCompaction(sourceLevel: number): Compaction | null {
    return manualCompaction(this.versions.current, sourceLevel);
  }

  /**
   * Carries out a compaction picked from the current Version (REQUIRES: no
   * other compaction since, nor under way: one at a time) on the compaction
   * runner and installs it durably (compaction/compactor.ts), awaiting
   * `beforeInstall` first when given. null, an empty level's pick, compacts
   * nothing and answers zeros.
   */
  async compact(compaction: Compaction | null, beforeInstall?: () => Promise<void>): Promise<CompactionResult> {
    if (compaction === null) return NOTHING_COMPACTED;
    const { compactionRunner, compaction: options } = this.options;
    let result: CompactionResult;
    try {
      result = await runCompaction(this, compaction, { runner: compactionRunner, targetFileBytes: options.targetFileBytes, maxSubcompactions: options.maxSubcompactions, beforeInstall });
    } catch (error) {
      this.debrisPossible = true;
      throw error;
    }
    if (this.debrisPossible) {
      // A failed install left outputs named by no Version; with this edit durable, the state is settled and they can go now.
      this.debrisPossible = false;
      await this.removeObsoleteFiles().catch(() => undefined);
    }
    this.compactions++;
    this.compactionBytesWritten += result.bytesWritten;
    return result;
  }

  /** The deepest level holding a file, or -1 when none does. */
  deepestNonEmptyLevel(): number {
    return this.versions.current.deepestNonEmptyLevel();
  }

  /** lsm_compact_status's figures, since the store opened. */
  compactionStatus(): CompactionStatus {
    const scores = levelScores(this.versions.current, this.pickerOptions);
    const { userBytes, flushedBytes, compactedBytes } = this.writeCounters();
    return {
      pendingCompactions: scores.filter((score) => score >= 1).length,
      totalCompactions: this.compactions,
      totalBytesCompacted: compactedBytes,
      writeAmplification: userBytes === 0 ? 0 : (flushedBytes + compactedBytes) / userBytes,
    };
  }

  /** Bytes since open: key and value bytes written by clients, SSTable bytes written by flushes and by compactions. */
  writeCounters(): { userBytes: number; flushedBytes: number; compactedBytes: number } {
    return { userBytes: this.userBytes, flushedBytes: this.flushBytesWritten, compactedBytes: this.compactionBytesWritten };
  }

  /** The level targets and triggers this store compacts by. */
  get compactionOptions(): Readonly<CompactionOptions> {
    return this.options.compaction;
  }

  /** The newest frozen MemTable, which the next sstable_flush reply reports on. */
  get newestFrozen(): MemTable | undefined {
    return this.frozen[this.frozen.length - 1];
  }

  /** REQUIRES: !writesStalled. Writes a JSON text value at `key`; durable after the next writeWal (and, with sync, syncWal). */
  put(key: string, valueJson: string): WriteResult {
    const wal = this.activeWal;
    this.userBytes += wal !== undefined ? wal.appendPut(key, valueJson) : Buffer.byteLength(key) + Buffer.byteLength(valueJson);
    return this.write(toSortKey(key), valueJson);
  }

  /** REQUIRES: !writesStalled. Writes a tombstone at `key`; durable after the next writeWal (and, with sync, syncWal). */
  delete(key: string): WriteResult {
    this.activeWal?.appendDelete(key);
    this.userBytes += Buffer.byteLength(key);
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
      // With --sync none, whose promise ends at the OS holding the bytes, the OS writes the new
      // entry back with the segment's own bytes: a folder fsync a segment, on the request path,
      // was 5% of a load's main thread (measured).
      this.walDirSyncNeeded = this.options.wal.sync;
    }
    return new MemTable(id);
  }

  /** The newest value of `key` across every layer. */
  get(key: string): GetResult {
    return this.lsmGet(key);
  }

  /**
   * get, saying where it went: active, frozen newest first, every L0 file
   * whose range holds the key (newest first), then at most one file a level
   * below, found by binary search (Version.fileFor).
   */
  lsmGet(key: string): LsmGetResult {
    const sortKey = toSortKey(key);
    const inActive = this.active.get(sortKey);
    if (inActive !== undefined) return answered(inActive, 'memtable', 'memtable', 0, 0);
    for (let i = this.frozen.length - 1; i >= 0; i--) {
      const inFrozen = this.frozen[i].get(sortKey);
      if (inFrozen !== undefined) return answered(inFrozen, 'immutable', 'immutable', 0, 0);
    }
    const version = this.versions.current;
    const lookup = this.lookupKey.set(key, sortKey); // bytes and filter hash once, for every file probed
    let filesChecked = 0;
    for (const file of version.levels[0]) {
      if (sortKey < file.smallest || sortKey > file.largest) continue;
      filesChecked++;
      const value = this.reader(file).find(lookup);
      if (value !== undefined) return answered(value, 'sstable', 'L0', 1, filesChecked, file.name);
    }
    for (let level = 1; level < NUM_LEVELS; level++) {
      const file = version.fileFor(level, sortKey);
      if (file === undefined) continue;
      filesChecked++;
      const value = this.reader(file).find(lookup);
      if (value !== undefined) return answered(value, 'sstable', LEVEL_NAMES[level], level + 1, filesChecked, file.name);
    }
    return { found: false, value: null, source: 'memtable', foundAt: null, levelsChecked: version.deepestNonEmptyLevel() + 1, filesChecked };
  }

  /** Live entries with start <= key < end in code point order, at most `limit`. */
  scan({ start, end, limit }: ScanRange): ScanResult {
    const entries: ScanResult['entries'] = [];
    const startKey = start === undefined ? undefined : toSortKey(start);
    const endKey = end === undefined ? undefined : toSortKey(end);
    if (startKey !== undefined && endKey !== undefined && startKey >= endKey) return { entries };

    const merged = this.mergedIterator(startKey, endKey);
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

  /**
   * A merge of every layer that may hold keys in [startKey, endKey), newest
   * first, tombstones included: one child per MemTable and per L0 file, one
   * LevelIterator per non-empty deeper level.
   */
  private mergedIterator(startKey: string | undefined, endKey: string | undefined): MergeIterator {
    const children: InternalIterator[] = [this.active.iterator()];
    for (let i = this.frozen.length - 1; i >= 0; i--) children.push(this.frozen[i].iterator());
    const version = this.versions.current;
    // endKey is exclusive and overlapping() inclusive: at worst one file too many is merged.
    for (const file of version.levels[0]) if (overlapsRange(file, startKey, endKey)) children.push(this.reader(file).iterator());
    for (let level = 1; level < NUM_LEVELS; level++) {
      const files = version.levels[level];
      if (files.length > 0) children.push(new LevelIterator(files, (file) => this.reader(file).iterator()));
    }
    return new MergeIterator(children);
  }

  /** REQUIRES: `file` is named by the current Version (invariant 5). */
  private reader(file: FileMetadata): SSTableReader {
    const reader = this.readers.get(file.number);
    if (reader === undefined) throw new Error(`Store: no open reader for live file ${file.name}`);
    return reader;
  }

  /**
   * REQUIRES: frozenCount > 0 and no other flush under way.
   * Writes the oldest frozen MemTable to a new L0 SSTable and installs it
   * durably: temp file, fdatasync, rename, folder fsync, then one MANIFEST
   * edit (the file, minLiveWal, nextFileNumber). The frozen MemTable stays
   * readable until installFlushed (invariant 3).
   */
  async flushOldest(): Promise<FlushedTable> {
    const memtable = this.frozen[0];
    if (memtable === undefined) throw new Error('flushOldest: no frozen MemTable');
    const { fs, dir, caches } = this.options;
    const number = this.newFileNumber();
    const file = sstableFileName(number, 0);
    const tmpPath = join(dir, `${file}.tmp`);
    let reader: SSTableReader | undefined;
    try {
      const properties = await writeSSTable(fs, tmpPath, memtable.iterator(), { sliceMs: FLUSH_SLICE_MS });
      await fs.rename(tmpPath, join(dir, file));
      await fs.syncDir(dir);
      reader = SSTableReader.open(fs, join(dir, file), caches);
      const metadata = fileMetadataFromProperties(number, file, properties);
      this.readers.set(number, reader);
      await this.versions.logAndApply({
        newFiles: [{ level: 0, file: metadata }],
        // The oldest MemTable still only in memory (and its WAL) once this one is on disk.
        minLiveWal: (this.frozen[1] ?? this.active).id,
      });
      this.pendingOutputs.delete(number);
      this.flushBytesWritten += properties.sizeBytes;
      // Obsolete now (below minLiveWal); if the unlink is lost, the next open removes it.
      await fs.unlink(join(dir, walFileName(memtable.id))).catch(() => undefined);
      return { memtable, file, reader, properties, metadata };
    } catch (error) {
      // Not installed: the file (if renamed) is left to removeObsoleteFiles (after the next compaction) or the next open,
      // as the edit's fate may be unknown until a later edit settles it.
      this.debrisPossible = true;
      if (reader !== undefined && this.readers.get(number) === reader) this.readers.delete(number);
      reader?.close();
      this.pendingOutputs.delete(number);
      await fs.unlink(tmpPath).catch(() => undefined);
      throw error;
    }
  }

  /** Makes a finished flush final: its MemTable leaves the frozen queue (its SSTable is already live). */
  installFlushed(flushed: FlushedTable): void {
    if (this.frozen[0] !== flushed.memtable) throw new Error('installFlushed: not the oldest frozen MemTable');
    this.frozen.shift();
    const writer = this.walWriters.get(flushed.memtable.id);
    if (writer !== undefined) {
      this.walWriters.delete(flushed.memtable.id);
      writer.close();
    }
  }

  // COMPACTION INTEGRATION: what src/storage/compaction/ and the node call.

  /** The newest durable Version: the file set reads use. */
  get currentVersion(): Version {
    return this.versions.current;
  }

  /** Where the next automatic compaction of `level` starts (a sort key), or undefined for the level's start. */
  compactPointer(level: number): string | undefined {
    return this.versions.compactPointer(level);
  }

  /**
   * A file number never used before, for an output about to be written
   * (name it sstableFileName(number, level)). It stays pending, safe from
   * removeObsoleteFiles, until installCompaction installs it or
   * releaseFileNumbers gives it up.
   */
  newFileNumber(): number {
    const number = this.versions.newFileNumber();
    this.pendingOutputs.add(number);
    return number;
  }

  /** `count` numbers from newFileNumber at once, ascending: for a compaction worker that cuts outputs away from the main thread; release the unused ones. */
  reserveFileNumbers(count: number): number[] {
    return Array.from({ length: count }, () => this.newFileNumber());
  }

  /** Gives up numbers from newFileNumber whose files will not be installed (a failed compaction): removeObsoleteFiles may then take them. */
  releaseFileNumbers(numbers: Iterable<number>): void {
    for (const number of numbers) this.pendingOutputs.delete(number);
  }

  /** About how many bytes of live `file` hold keys below `sortKey`, from its index: where a compaction splits (subcompactions.ts). */
  approximateOffsetOf(file: FileMetadata, sortKey: string): number {
    return this.reader(file).approximateOffsetOf(sortKey);
  }

  /** Up to `count` keys of live `file`, ascending, spread evenly through it: its blocks' last keys. */
  keySamples(file: FileMetadata, count: number): string[] {
    const lastKeys = this.reader(file).blockLastKeys;
    const step = Math.max(1, lastKeys.length / count);
    const samples: string[] = [];
    for (let at = step - 1; at < lastKeys.length; at += step) samples.push(lastKeys[Math.floor(at)]);
    return samples;
  }

  /** Where the store's files are and how to reach them: compaction writes its outputs here, through `fs`. */
  get files(): { dir: string; fs: FileSystem; caches: ReaderCaches } {
    const { dir, fs, caches } = this.options;
    return { dir, fs, caches };
  }

  /**
   * REQUIRES: every newFiles entry is a finished SSTable at its final name
   * (written, fdatasync'd, renamed, folder fsync'd) with a number from
   * newFileNumber; the edit applies to the current Version.
   * Opens the outputs, installs the edit durably (logAndApply), then closes
   * and unlinks every input the new Version no longer names (a trivial move
   * deletes and re-adds the same file: it stays). Resolves with the new
   * Version; on rejection nothing is installed and no input is touched (the
   * outputs stay pending: release them with releaseFileNumbers).
   */
  async installCompaction(edit: CompactionEdit): Promise<Version> {
    const { fs, dir, caches } = this.options;
    const opened: SSTableReader[] = [];
    try {
      for (const { file } of edit.newFiles ?? []) {
        if (this.readers.has(file.number)) continue; // a moved file keeps its reader
        // One open reads and decodes a file's index, filter and properties (~0.3 ms for 2 MiB): a job with ten
        // outputs would hold requests for milliseconds. Nothing reads these readers before the edit is installed.
        if (opened.length > 0) await yieldToEventLoop();
        const reader = SSTableReader.open(fs, join(dir, file.name), caches);
        opened.push(reader);
        this.readers.set(file.number, reader);
      }
      const version = await this.versions.logAndApply(edit);
      for (const { file } of edit.newFiles ?? []) this.pendingOutputs.delete(file.number);
      const live = new Set<number>();
      for (const { file } of version.allFiles()) live.add(file.number);
      for (const { number } of edit.deletedFiles ?? []) {
        const reader = this.readers.get(number);
        if (live.has(number) || reader === undefined) continue;
        this.readers.delete(number);
        reader.close();
        // Durable or not, the unlink is safe now; a lost one is swept at the next open.
        await fs.unlink(reader.path).catch(() => undefined);
      }
      return version;
    } catch (error) {
      for (const reader of opened) {
        this.readers.delete(readerNumber(reader));
        reader.close();
      }
      throw error;
    }
  }

  /**
   * Removes SSTables (and `*.sst.tmp`) that no Version names and nobody is
   * writing (not pending), once the durable state is settled (no failed edit
   * of unknown fate outstanding): the debris of failed flushes and
   * compactions. Returns the names removed.
   */
  async removeObsoleteFiles(): Promise<string[]> {
    const { fs, dir } = this.options;
    const removed: string[] = [];
    if (!this.versions.settled) return removed;
    for (const name of await fs.readdir(dir)) {
      const parsed = parseSSTableFileName(name.replace(/\.tmp$/, ''));
      if (parsed === undefined || this.pendingOutputs.has(parsed.number) || this.readers.has(parsed.number)) continue;
      if (!this.versions.settled) break; // an edit failed meanwhile
      await fs.unlink(join(dir, name)).catch(() => undefined);
      removed.push(name);
    }
    return removed;
  }

  /** Point lookup in one named live SSTable, at any level. */
  lookupSSTable(file: string, key: string): SSTableGetResult {
    for (const live of this.versions.current.allFiles()) {
      if (live.file.name === file) return this.reader(live.file).get(toSortKey(key));
    }
    throw new StorageError('STORAGE_UNKNOWN_SSTABLE', `no live SSTable named ${file}`);
  }

  stats(): StoreStats {
    const layer = (memtable: MemTable): LayerStats => ({ entries: memtable.entries, size_bytes: memtable.sizeBytes });
    return {
      active: layer(this.active),
      immutable: this.frozen.map(layer),
      sstables: [...this.versions.current.allFiles()].map(({ level, file }) => ({
        file: file.name,
        entries: file.entries,
        size_bytes: file.sizeBytes,
        level,
      })),
      max_bytes: this.options.memtableMaxBytes,
      max_immutable: this.options.maxImmutable,
    };
  }

  /**
   * All seven levels, empty ones too, each with its max_bytes and score
   * (the picker's); with `includeFiles` each file's range (real keys), size
   * and entries.
   */
  levelInfo(includeFiles = false): LevelInfo[] {
    const version = this.versions.current;
    const options = this.pickerOptions;
    const scores = levelScores(version, options);
    return version.levels.map((files, level) => {
      const info: LevelInfo = {
        level,
        sstables: files.length,
        total_bytes: version.levelBytes(level),
        sorted: level > 0,
        max_bytes: maxBytesForLevel(level, options),
        // L6 has no score: nothing lies below it.
        score: Math.round((scores[level] ?? 0) * 1000) / 1000,
      };
      if (includeFiles) {
        info.files = files.map((file) => ({
          file: file.name,
          smallest: fromSortKey(file.smallest),
          largest: fromSortKey(file.largest),
          size_bytes: file.sizeBytes,
          entries: file.entries,
        }));
      }
      return info;
    });
  }

  /** Closes every open SSTable, WAL segment and the MANIFEST (in the background) and unlocks the folder; the Store must not be used afterwards. */
  close(): void {
    for (const reader of this.readers.values()) reader.close();
    this.readers.clear();
    for (const writer of this.walWriters.values()) writer.close();
    this.walWriters.clear();
    void this.versions.close().catch(() => undefined);
    this.dirLock?.release();
  }
}

/**
 * Removes, at open, every file no version names: obsolete WAL segments (below
 * minLiveWal), SSTables the Version does not name, `*.tmp` of every kind
 * (`*.sst.tmp`, `CURRENT.tmp`, `MANIFEST.tmp` of stores before levels), and
 * every MANIFEST but the live one. Returns the live segments, ascending.
 */
async function removeUnreferencedFiles(fs: FileSystem, dir: string, versions: VersionSet, recovery: RecoveryReport): Promise<number[]> {
  const live = new Set<string>();
  for (const { file } of versions.current.allFiles()) live.add(file.name);
  const segments: number[] = [];
  for (const name of await fs.readdir(dir)) {
    const segment = walSegmentNumber(name);
    if (segment !== undefined) {
      if (segment >= versions.minLiveWal) segments.push(segment);
      else {
        await fs.unlink(join(dir, name));
        recovery.obsoleteSegments++;
      }
      continue;
    }
    const unreferenced =
      name.endsWith('.tmp') ||
      (parseSSTableFileName(name) !== undefined && !live.has(name)) ||
      ((parseManifestFileName(name) !== undefined || name === LEGACY_MANIFEST_FILE) && name !== versions.manifestFile);
    if (!unreferenced) continue;
    await fs.unlink(join(dir, name));
    recovery.removedFiles.push(name);
  }
  return segments.sort((a, b) => a - b);
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

/** FoundAt of each level, made once: a get that answers from an SSTable builds no string. */
const LEVEL_NAMES: readonly FoundAt[] = Array.from({ length: NUM_LEVELS }, (_, level) => `L${level}` as const);

/** A read's result when `source` had an entry: a value, or a tombstone that hides the key. */
function answered(value: EntryValue, source: ReadSource, foundAt: FoundAt, levelsChecked: number, filesChecked: number, sstableFile?: string): LsmGetResult {
  if (value === TOMBSTONE) return { found: false, value: null, source: 'memtable', deletedIn: source, foundAt, levelsChecked, filesChecked };
  const result: LsmGetResult = { found: true, value, source, foundAt, levelsChecked, filesChecked };
  if (sstableFile !== undefined) result.sstableFile = sstableFile;
  return result;
}

/** The file number in an open reader's file name. */
function readerNumber(reader: SSTableReader): number {
  const parsed = parseSSTableFileName(basename(reader.path));
  if (parsed === undefined) throw new Error(`Store: ${reader.path} is not an SSTable name`);
  return parsed.number;
}
