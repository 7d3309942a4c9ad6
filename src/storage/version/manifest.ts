/**
 * The MANIFEST: a log of version edits, after LevelDB's descriptor log
 * (db/log_format.h, db/version_edit.cc). CURRENT names the live one.
 *
 *   CURRENT         := "MANIFEST-NNNNNN\n"     replaced atomically (CURRENT.tmp,
 *                                              fdatasync, rename, folder fsync)
 *   MANIFEST-NNNNNN := snapshotRecord editRecord*
 *   record  := the WAL's frame (encoding/recordFrame.ts), kind SNAPSHOT = 1,
 *              EDIT = 2 (DO NOT CHANGE), around
 *   payload := UTF-8 JSON of one edit, every field optional:
 *              {"nextFileNumber": N, "minLiveWal": W,
 *               "compactPointers": [{"level": L, "key": K}],
 *               "deletedFiles": [{"level": L, "number": N}],
 *               "newFiles": [{"level": L, "number": N, "name": "L0_000007.sst",
 *                             "smallest": K, "largest": K, "sizeBytes": B, "entries": E}]}
 *              K is a real key (as a client wrote it), never a sort key.
 *
 * A SNAPSHOT is an edit applied to the empty version: it names every live
 * file, nextFileNumber, minLiveWal and every compact pointer, so a MANIFEST
 * reads on its own. Each record is fdatasync'd before its edit counts as
 * installed; a record cut short or damaged at the very end (nothing valid
 * after it) is a torn tail: a crash mid-append of an edit that was never
 * installed. Damage with a valid record after it is corruption.
 *
 * As in the WAL (wal.ts), the frame's header has a checksum of its own, so
 * a sound header's length can be trusted and a record running past the end
 * of the file is known to be cut short. Kind 0 is never written.
 */
import { encodeFrame, type FrameRead, RECORD_HEADER_SIZE, readFrameAt } from '../encoding/recordFrame.js';
import { corruption } from '../errors.js';
import { type FileSystem, readFileIfExists, type WritableFile } from '../env/fileSystem.js';
import { fromSortKey, toSortKey } from '../keyOrder.js';
import { join } from 'node:path';
import { NUM_LEVELS, type FileMetadata } from './fileMetadata.js';
import { CURRENT_FILE, parseManifestFileName, parseSSTableFileName } from './fileNames.js';
import type { VersionEdit } from './version.js';

/** The frame's header: length (4) + kind (1) + headerCrc (4) + payloadCrc (4). */
export const MANIFEST_HEADER_SIZE = RECORD_HEADER_SIZE;
/** DO NOT CHANGE: persisted. */
export const ManifestRecordKind = { Snapshot: 1, Edit: 2 } as const;
export type ManifestRecordKind = (typeof ManifestRecordKind)[keyof typeof ManifestRecordKind];

export interface ManifestRecord {
  kind: ManifestRecordKind;
  edit: VersionEdit;
}

export interface DecodedManifest {
  records: ManifestRecord[];
  /** Bytes of whole, valid records. */
  validBytes: number;
  /** Bytes after validBytes: a torn last record, 0 when the file ends cleanly. */
  tornBytes: number;
}

/** One framed record holding `edit` (sort keys in memory, real keys on disk). */
export function encodeManifestRecord(kind: ManifestRecordKind, edit: VersionEdit): Buffer {
  return encodeFrame(kind, Buffer.from(JSON.stringify(editToJson(edit)), 'utf8'));
}

/**
 * Reads a MANIFEST's records, ignoring a torn tail (see above). Throws
 * STORAGE_CORRUPTION for a checksum failure, a first record that is not a
 * SNAPSHOT, a SNAPSHOT after the first, or a sound record whose payload is
 * not an edit.
 */
export function decodeManifest(bytes: Buffer, name: string): DecodedManifest {
  const records: ManifestRecord[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const read = readRecordAt(bytes, offset);
    if (read.kind === 'record') {
      const expected = records.length === 0 ? ManifestRecordKind.Snapshot : ManifestRecordKind.Edit;
      if (read.recordKind !== expected) throw corruption(`${name}: record at byte ${offset} is ${read.recordKind === ManifestRecordKind.Snapshot ? 'a snapshot after the first' : 'an edit before any snapshot'}`);
      records.push({ kind: read.recordKind, edit: parseEdit(bytes.toString('utf8', read.payload, read.end), `${name} at byte ${offset}`) });
      offset = read.end;
      continue;
    }
    // Only what a crash mid-append leaves is a torn tail; a checksum failure is damage, as in LevelDB.
    if (read.kind !== 'cut-short' && !allZero(bytes, offset)) throw corruption(`${name}: damaged record at byte ${offset}`);
    return { records, validBytes: offset, tornBytes: bytes.length - offset };
  }
  return { records, validBytes: offset, tornBytes: 0 };
}

const isManifestRecordKind = (kind: number): boolean => kind === ManifestRecordKind.Snapshot || kind === ManifestRecordKind.Edit;

function readRecordAt(bytes: Buffer, offset: number): FrameRead {
  return readFrameAt(bytes, offset, isManifestRecordKind);
}

/** True iff every byte from `from` on is zero: a file extended by a crash before its data reached the disk. */
function allZero(bytes: Buffer, from: number): boolean {
  for (let i = from; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** The on-disk shape of an edit: keys as real keys. */
function editToJson(edit: VersionEdit): unknown {
  return {
    ...(edit.nextFileNumber !== undefined && { nextFileNumber: edit.nextFileNumber }),
    ...(edit.minLiveWal !== undefined && { minLiveWal: edit.minLiveWal }),
    ...(edit.compactPointers?.length && { compactPointers: edit.compactPointers.map(({ level, key }) => ({ level, key: fromSortKey(key) })) }),
    ...(edit.deletedFiles?.length && { deletedFiles: edit.deletedFiles }),
    ...(edit.newFiles?.length && {
      newFiles: edit.newFiles.map(({ level, file }) => ({
        level,
        number: file.number,
        name: file.name,
        smallest: fromSortKey(file.smallest),
        largest: fromSortKey(file.largest),
        sizeBytes: file.sizeBytes,
        entries: file.entries,
      })),
    }),
  };
}

/** Parses and checks one edit's JSON; throws STORAGE_CORRUPTION naming `where`. */
function parseEdit(text: string, where: string): VersionEdit {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw corruption(`${where}: edit is not JSON`, cause);
  }
  const bad = (): never => {
    throw corruption(`${where}: malformed edit`);
  };
  if (!isObject(json)) return bad();
  const edit: VersionEdit = {};
  if (json.nextFileNumber !== undefined) edit.nextFileNumber = count(json.nextFileNumber) ?? bad();
  if (json.minLiveWal !== undefined) edit.minLiveWal = count(json.minLiveWal) ?? bad();
  if (json.compactPointers !== undefined) {
    edit.compactPointers = arrayOf(json.compactPointers, bad).map((p) => ({ level: level(p.level) ?? bad(), key: typeof p.key === 'string' ? toSortKey(p.key) : bad() }));
  }
  if (json.deletedFiles !== undefined) {
    edit.deletedFiles = arrayOf(json.deletedFiles, bad).map((d) => ({ level: level(d.level) ?? bad(), number: count(d.number) ?? bad() }));
  }
  if (json.newFiles !== undefined) {
    edit.newFiles = arrayOf(json.newFiles, bad).map((f) => {
      const file: FileMetadata = {
        number: count(f.number) ?? bad(),
        name: typeof f.name === 'string' && parseSSTableFileName(f.name)?.number === f.number ? f.name : bad(),
        smallest: typeof f.smallest === 'string' ? toSortKey(f.smallest) : bad(),
        largest: typeof f.largest === 'string' ? toSortKey(f.largest) : bad(),
        sizeBytes: count(f.sizeBytes) ?? bad(),
        entries: count(f.entries) ?? bad(),
      };
      return { level: level(f.level) ?? bad(), file };
    });
  }
  return edit;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function arrayOf(value: unknown, bad: () => never): Array<Record<string, unknown>> {
  if (!Array.isArray(value) || !value.every(isObject)) return bad();
  return value;
}

function count(value: unknown): number | undefined {
  return Number.isSafeInteger(value) && (value as number) >= 0 ? (value as number) : undefined;
}

function level(value: unknown): number | undefined {
  const n = count(value);
  return n !== undefined && n < NUM_LEVELS ? n : undefined;
}

/** Appends records to a new MANIFEST; each append is durable when it resolves. */
export class ManifestWriter {
  private constructor(
    private readonly file: WritableFile,
    readonly name: string,
    private written: number,
  ) {}

  /** Creates (truncating) `name` in `dir`, with `snapshot` as its first record, fdatasync'd. */
  static async create(fs: FileSystem, dir: string, name: string, snapshot: VersionEdit): Promise<ManifestWriter> {
    const file = await fs.createWritable(join(dir, name));
    const writer = new ManifestWriter(file, name, 0);
    try {
      await writer.append(encodeManifestRecord(ManifestRecordKind.Snapshot, snapshot));
    } catch (error) {
      await writer.close().catch(() => undefined);
      throw error;
    }
    return writer;
  }

  /** Bytes appended so far. */
  get bytes(): number {
    return this.written;
  }

  /** Writes one encoded record and fdatasyncs. After a rejection the file must not be appended to again. */
  async append(record: Buffer): Promise<void> {
    await this.file.write(record);
    await this.file.sync();
    this.written += record.length;
  }

  close(): Promise<void> {
    return this.file.close();
  }
}

/** The MANIFEST name CURRENT holds, or null when there is no CURRENT. Throws STORAGE_CORRUPTION for anything else in it. */
export async function readCurrent(fs: FileSystem, dir: string): Promise<string | null> {
  const bytes = await readFileIfExists(fs, join(dir, CURRENT_FILE));
  if (bytes === null) return null;
  const text = bytes.toString('utf8');
  const name = text.slice(0, -1);
  if (!text.endsWith('\n') || parseManifestFileName(name) === undefined) throw corruption(`${CURRENT_FILE}: does not name a MANIFEST`);
  return name;
}

/** Points CURRENT at `manifestName` atomically and durably: CURRENT.tmp, fdatasync, rename, folder fsync. */
export async function writeCurrent(fs: FileSystem, dir: string, manifestName: string): Promise<void> {
  const tmp = join(dir, `${CURRENT_FILE}.tmp`);
  const file = await fs.createWritable(tmp);
  try {
    await file.write(Buffer.from(`${manifestName}\n`, 'utf8'));
    await file.sync();
  } finally {
    await file.close();
  }
  await fs.rename(tmp, join(dir, CURRENT_FILE));
  await fs.syncDir(dir);
}
