/**
 * The VersionSet: the current Version and the state that goes with it
 * (next file number, oldest live WAL segment, compact pointers), and the one
 * way to change them: logAndApply, after LevelDB's VersionSet::LogAndApply.
 *
 * Invariants:
 *   (1) `current` is durable: it is installed only once the MANIFEST record
 *       (or the new MANIFEST and CURRENT) holding its edit is fdatasync'd.
 *       In memory nothing runs ahead of the disk, so a reader never sees a
 *       file set a crash could take back.
 *   (2) Edits are appended one at a time, in logAndApply call order; each is
 *       applied to the Version its predecessor installed, so a flush and a
 *       compaction installing at once compose (edits are deltas).
 *   (3) `writer` is null, or appends to the MANIFEST CURRENT names, whose
 *       records end cleanly at writer.bytes. Any failed append or rollover
 *       sets it to null: the next edit starts a new MANIFEST (a snapshot
 *       including that edit) rather than append after bytes of unknown fate.
 *   (4) Every edit recorded carries nextFileNumber >= every number handed out
 *       by newFileNumber() before it, so a reopened store never reuses the
 *       number of a file a durable version names.
 * Opening writes nothing (a store opens on a full disk); the first edit after
 * it starts a new MANIFEST (writer is null), so a torn tail in the old one is
 * never appended to and a store written before levels is converted then. A
 * MANIFEST past maxManifestBytes is replaced the same way by a new one
 * holding a single snapshot: reopening reads one snapshot plus the edits
 * since, never every edit ever made.
 */
import { join } from 'node:path';
import { corruption } from '../errors.js';
import { type FileSystem, readFileIfExists } from '../env/fileSystem.js';
import { newReaderCaches, type ReaderCaches, SSTableReader } from '../sstable/reader.js';
import { fileMetadataFromProperties, type FileMetadata } from './fileMetadata.js';
import { CURRENT_FILE, LEGACY_MANIFEST_FILE, manifestFileName, parseManifestFileName, parseSSTableFileName } from './fileNames.js';
import { readLegacyManifest } from './legacyManifest.js';
import { type DecodedManifest, decodeManifest, encodeManifestRecord, ManifestRecordKind, ManifestWriter, readCurrent, writeCurrent } from './manifest.js';
import { Version, type VersionEdit } from './version.js';

/** A MANIFEST past this many bytes is replaced by a fresh snapshot at the next edit. */
export const DEFAULT_MAX_MANIFEST_BYTES = 1 << 20;

/** What a store folder's MANIFEST says, read without changing anything on disk. */
export interface VersionState {
  /** The MANIFEST read: `MANIFEST-NNNNNN`, or `MANIFEST` for a store written before levels. */
  manifestFile: string;
  /** Its number; 0 for a legacy MANIFEST. */
  manifestNumber: number;
  legacy: boolean;
  version: Version;
  nextFileNumber: number;
  /** WAL segments numbered below this hold nothing that is not in an SSTable. */
  minLiveWal: number;
  /** Sort keys by level. */
  compactPointers: ReadonlyMap<number, string>;
  /** Records read: the snapshot and the edits after it (1 for a legacy MANIFEST). */
  records: number;
  /** A torn last record (never installed), ignored. */
  tornTail?: { validBytes: number; tornBytes: number };
}

/**
 * Reads the store's live MANIFEST (the one CURRENT names; else a legacy
 * `MANIFEST`, whose files are all L0 and whose metadata is read from each
 * SSTable). Returns null for a folder with neither. Changes nothing on disk.
 * Throws STORAGE_CORRUPTION for damage other than a torn last record.
 */
export async function readVersionState(fs: FileSystem, dir: string, caches?: ReaderCaches): Promise<VersionState | null> {
  const current = await readCurrent(fs, dir);
  if (current !== null) return readManifestFile(fs, dir, current);
  const legacy = await readLegacyManifest(fs, dir);
  if (legacy === null) return readManifestWithoutCurrent(fs, dir);
  const files: FileMetadata[] = [];
  const ownCaches = caches ?? newReaderCaches(fs, 8, 0);
  for (const name of legacy.sstables) {
    const reader = SSTableReader.open(fs, join(dir, name), ownCaches);
    try {
      // An empty file holds nothing to read; left out, it is removed as unreferenced.
      if (reader.properties.entries > 0) files.push(fileMetadataFromProperties(parseSSTableFileName(name)!.number, name, reader.properties));
    } finally {
      reader.close();
    }
  }
  const edit: VersionEdit = { newFiles: files.map((file) => ({ level: 0, file })) };
  return {
    manifestFile: LEGACY_MANIFEST_FILE,
    manifestNumber: 0,
    legacy: true,
    version: applyOrCorrupt(new Version(), edit, LEGACY_MANIFEST_FILE),
    nextFileNumber: legacy.nextFileNumber,
    minLiveWal: legacy.minLiveWal,
    compactPointers: new Map(),
    records: 1,
  };
}

/**
 * No CURRENT and no legacy MANIFEST. CURRENT is written right after a new
 * MANIFEST and only ever replaced by rename, never removed, so a store
 * without one is a store a crash stopped before any CURRENT was durable
 * (nothing was ever installed, so nothing was deleted and the WAL still has
 * every write), or one whose CURRENT damage took. Either way the newest
 * MANIFEST that holds a whole snapshot is the truth, and is read (the next
 * edit writes a new MANIFEST and CURRENT): MANIFESTs are numbered in the
 * order they are started, each begins with a snapshot of the whole state,
 * and one is appended to only once CURRENT durably names it, so an older
 * one holds nothing a newer one lacks, and every file a newer one names was
 * written before it and deleted by nobody since (deletion follows an
 * install). One with no whole record was cut off while being started and
 * never counted; with none left, the store is new.
 */
async function readManifestWithoutCurrent(fs: FileSystem, dir: string): Promise<VersionState | null> {
  const newestFirst = (await fs.readdir(dir))
    .map((name) => ({ name, number: parseManifestFileName(name) }))
    .filter((manifest): manifest is { name: string; number: number } => manifest.number !== undefined)
    .sort((a, b) => b.number - a.number);
  for (const { name } of newestFirst) {
    const bytes = await readFileIfExists(fs, join(dir, name));
    const decoded = bytes === null ? null : decodeManifest(bytes, name);
    if (decoded !== null && decoded.records.length > 0) return stateOfManifest(name, decoded);
  }
  return null;
}

async function readManifestFile(fs: FileSystem, dir: string, name: string): Promise<VersionState> {
  const bytes = await readFileIfExists(fs, join(dir, name));
  if (bytes === null) throw corruption(`CURRENT names ${name}, which does not exist`);
  return stateOfManifest(name, decodeManifest(bytes, name));
}

/** The state MANIFEST `name`'s records give; STORAGE_CORRUPTION if it has none or they do not apply. */
function stateOfManifest(name: string, decoded: DecodedManifest): VersionState {
  if (decoded.records.length === 0) throw corruption(`${name}: no snapshot record`);
  // Edits fold into one map and one Version is built at the end (LevelDB's VersionSet::Builder):
  // replay costs O(edits + files), not O(edits × files).
  const live = new Map<number, { level: number; file: FileMetadata }>();
  let nextFileNumber = 1;
  let minLiveWal = 0;
  const compactPointers = new Map<number, string>();
  decoded.records.forEach(({ edit }, index) => {
    for (const { level, number } of edit.deletedFiles ?? []) {
      if (live.get(number)?.level !== level) throw corruption(`${name}: record ${index} deletes file ${number} at L${level}, which is not there`);
      live.delete(number);
    }
    for (const added of edit.newFiles ?? []) {
      if (live.has(added.file.number)) throw corruption(`${name}: record ${index} adds file ${added.file.number}, which is live already`);
      live.set(added.file.number, added);
    }
    nextFileNumber = Math.max(nextFileNumber, edit.nextFileNumber ?? 0);
    minLiveWal = Math.max(minLiveWal, edit.minLiveWal ?? 0);
    for (const { level, key } of edit.compactPointers ?? []) compactPointers.set(level, key);
  });
  const version = applyOrCorrupt(new Version(), { newFiles: [...live.values()] }, name);
  for (const { file } of version.allFiles()) {
    if (file.number >= nextFileNumber) throw corruption(`${name}: file ${file.name} numbered at or past nextFileNumber ${nextFileNumber}`);
  }
  return {
    manifestFile: name,
    manifestNumber: parseManifestFileName(name)!,
    legacy: false,
    version,
    nextFileNumber,
    minLiveWal,
    compactPointers,
    records: decoded.records.length,
    ...(decoded.tornBytes > 0 && { tornTail: { validBytes: decoded.validBytes, tornBytes: decoded.tornBytes } }),
  };
}

function applyOrCorrupt(version: Version, edit: VersionEdit, name: string): Version {
  try {
    return version.apply(edit);
  } catch (cause) {
    throw corruption(`${name}: an edit does not apply: ${(cause as Error).message}`, cause);
  }
}

export interface VersionSetOptions {
  /** Numbers below this are never handed out (e.g. one past the highest seen in the folder). Default 1. */
  minNextFileNumber?: number;
  maxManifestBytes?: number;
}

export class VersionSet {
  private writer: ManifestWriter | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  /** An append or rollover failed and no install has succeeded since: the failed edit may yet be on disk. */
  private unsettled = false;

  private constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    private readonly maxManifestBytes: number,
    private currentVersion: Version,
    private nextFile: number,
    private minLive: number,
    private readonly pointers: Map<number, string>,
    private manifestNumber: number,
    /** The MANIFEST CURRENT is known to name (or the legacy one), null for a new store. */
    private liveManifest: string | null,
  ) {}

  /**
   * Recovers the state the folder's MANIFEST holds (legacy or none: see
   * readVersionState), writing nothing: the first edit installed starts a
   * new MANIFEST and removes the one read. `state` is what was read (null
   * for a new store), for the recovery report.
   */
  static async open(fs: FileSystem, dir: string, options: VersionSetOptions = {}): Promise<{ versions: VersionSet; state: VersionState | null }> {
    const state = await readVersionState(fs, dir);
    const versions = new VersionSet(
      fs,
      dir,
      options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES,
      state?.version ?? new Version(),
      Math.max(state?.nextFileNumber ?? 1, options.minNextFileNumber ?? 1),
      state?.minLiveWal ?? 0,
      new Map(state?.compactPointers ?? []),
      state?.manifestNumber ?? 0,
      state?.manifestFile ?? null,
    );
    return { versions, state };
  }

  /** The newest durable Version. */
  get current(): Version {
    return this.currentVersion;
  }

  /** The live MANIFEST's file name (`MANIFEST` for a legacy store not yet converted), or null before a new store's first edit. */
  get manifestFile(): string | null {
    return this.liveManifest;
  }

  /** WAL segments numbered below this hold nothing that is not in an SSTable. */
  get minLiveWal(): number {
    return this.minLive;
  }

  /** The next number newFileNumber() hands out. */
  get nextFileNumber(): number {
    return this.nextFile;
  }

  /**
   * True iff no edit has failed since the last one installed, so the durable
   * state is exactly `current`: a file it does not name, and nobody is still
   * writing, can be deleted. After a failed edit it is false until the next
   * install (which starts a new MANIFEST, leaving the failed edit dead).
   */
  get settled(): boolean {
    return !this.unsettled;
  }

  /** Where the next automatic compaction of `level` starts (a sort key), or undefined: at the level's start. */
  compactPointer(level: number): string | undefined {
    return this.pointers.get(level);
  }

  /** A file number never used before; durable with the next edit installed. */
  newFileNumber(): number {
    return this.nextFile++;
  }

  /**
   * Appends `edit` to the MANIFEST (after every edit asked for before it),
   * fdatasyncs, and only then installs and returns the Version it gives.
   * Rejects with the file system's error (nothing installed; the next edit
   * starts a new MANIFEST), or a plain Error when the edit does not apply to
   * the current Version (a caller's bug; nothing written).
   */
  logAndApply(edit: VersionEdit): Promise<Version> {
    const installed = this.queue.then(() => this.install(edit));
    this.queue = installed.catch(() => undefined);
    return installed;
  }

  /** Closes the MANIFEST after the edits already asked for. The VersionSet must not be used afterwards. */
  async close(): Promise<void> {
    await this.queue;
    const writer = this.writer;
    this.writer = null;
    await writer?.close();
  }

  private async install(edit: VersionEdit): Promise<Version> {
    const nextFileNumber = Math.max(edit.nextFileNumber ?? 0, this.nextFile);
    const recorded: VersionEdit = { ...edit, nextFileNumber };
    const next = this.currentVersion.apply(recorded);
    const minLive = Math.max(this.minLive, recorded.minLiveWal ?? 0);
    const pointers = new Map(this.pointers);
    for (const { level, key } of recorded.compactPointers ?? []) pointers.set(level, key);
    if (this.writer === null || this.writer.bytes >= this.maxManifestBytes) {
      // The new MANIFEST's snapshot already holds this edit: it installs with CURRENT.
      try {
        await this.startManifest(this.snapshot(next, nextFileNumber, minLive, pointers));
      } catch (error) {
        this.unsettled = true;
        throw error;
      }
    } else {
      try {
        await this.writer.append(encodeManifestRecord(ManifestRecordKind.Edit, recorded));
      } catch (error) {
        this.unsettled = true;
        await this.abandonWriter();
        throw error;
      }
    }
    this.unsettled = false;
    this.currentVersion = next;
    this.nextFile = Math.max(this.nextFile, nextFileNumber);
    this.minLive = minLive;
    for (const [level, key] of pointers) this.pointers.set(level, key);
    return next;
  }

  /** An edit that rebuilds the whole state from the empty Version. */
  private snapshot(version: Version, nextFileNumber: number, minLiveWal: number, pointers: ReadonlyMap<number, string>): VersionEdit {
    return {
      nextFileNumber,
      minLiveWal,
      compactPointers: [...pointers].map(([level, key]) => ({ level, key })),
      newFiles: [...version.allFiles()],
    };
  }

  /**
   * Writes MANIFEST-(n+1) holding `snapshot`, fdatasyncs it, points CURRENT
   * at it (atomically, durably), then removes the old one. On failure the
   * writer is null, so the next edit tries again with a new number.
   */
  private async startManifest(snapshot: VersionEdit): Promise<void> {
    const previous = this.liveManifest;
    await this.abandonWriter();
    const name = manifestFileName(++this.manifestNumber);
    const writer = await ManifestWriter.create(this.fs, this.dir, name, snapshot);
    try {
      await writeCurrent(this.fs, this.dir, name);
    } catch (error) {
      // CURRENT may or may not name it now: neither it nor the old one may be appended to again.
      await writer.close().catch(() => undefined);
      throw error;
    }
    this.writer = writer;
    this.liveManifest = name;
    // A lost unlink is swept at the next open.
    if (previous !== null) await this.fs.unlink(join(this.dir, previous)).catch(() => undefined);
  }

  private async abandonWriter(): Promise<void> {
    const writer = this.writer;
    this.writer = null;
    await writer?.close().catch(() => undefined);
  }
}
