/**
 * `memtable-node repair DIR`: LevelDB's RepairDB in spirit, and as lossy.
 * Keeps every intact SSTable and every intact WAL record before the damage,
 * moves what it does not keep into DIR/lost/ (never deletes), writes a fresh
 * MANIFEST naming the SSTables kept, and reports what was kept and lost.
 *
 * Which SSTable is newer decides every read (there are no sequence numbers:
 * version/version.ts, invariant 4), so repair never reorders files it can
 * avoid reordering:
 *   - The MANIFEST reads: each intact file it names stays at its level, in
 *     its place. Removing a damaged file changes no other file's order; the
 *     keys it held read their next older version (or none). Files it does
 *     not name are debris the next open removes, as without repair.
 *   - The MANIFEST is lost or damaged: every intact SSTable is placed by
 *     the level its name says it was written to. L0 files are flushes, whose
 *     numbers are their age, so when every file is an L0 file (no
 *     compaction ever ran) this is exactly the order the lost MANIFEST had.
 *     Once compaction has run it is a guess: a file moved down without a
 *     rewrite keeps an upper level's name, and LevelDB's own RepairDB, which
 *     puts all files in L0, relies on the sequence numbers we lack. Of files
 *     at a deeper level that overlap, the newest (highest number: the output
 *     of the compaction that took the older as input) is kept. The report
 *     says when the order is a guess.
 * WAL segments stay newer than every SSTable, as recovery replays them.
 *
 * It holds the folder's lock (env/dirLock.ts) from before it reads the
 * folder until it has written the last file, so no node writes the folder
 * under it (or opens it half repaired), and it refuses a folder a node holds.
 */
import { copyFileSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { acquireDirLock, type DirLock } from '../storage/env/dirLock.js';
import { nodeFileSystem } from '../storage/env/fileSystem.js';
import { StorageError } from '../storage/errors.js';
import { fromSortKey } from '../storage/keyOrder.js';
import { type FileMetadata, fileMetadataFromProperties } from '../storage/version/fileMetadata.js';
import { CURRENT_FILE, manifestFileName, parseManifestFileName } from '../storage/version/fileNames.js';
import { ManifestWriter, writeCurrent } from '../storage/version/manifest.js';
import { Version, type VersionEdit } from '../storage/version/version.js';
import { checkFolder, type FolderCheck, type SSTableCheck, type WalCheck } from './folderCheck.js';
import { count, EXIT_SOUND, fields, json, quoteKey, RefusedError, table, type ToolFlags, type ToolOutput } from './output.js';
import { listStoreFolder, LOST_FOLDER } from './storeFolder.js';

interface RepairReport {
  dir: string;
  repaired: boolean;
  /** The new MANIFEST, when one was written. */
  manifest: string | null;
  /** True when the old MANIFEST could not be read and levels were guessed from file names. */
  order_guessed: boolean;
  kept_sstables: Array<{ level: number; name: string; entries: number; smallest_key: string; largest_key: string }>;
  kept_wal_segments: Array<{ name: string; records: number; cut_at: number | null }>;
  /** Every file moved into lost/, and why. */
  lost: Array<{ name: string; moved_to: string | null; reason: string }>;
  /** What a reader may see differ: key ranges that may now read an older value, records dropped. */
  consequences: string[];
}

/**
 * Runs repair on `dir` under its lock; returns the exit code (0 once the
 * folder is sound, repaired or already so). Throws RefusedError, having
 * changed nothing, while another process holds the folder.
 */
export async function repair(dir: string, flags: ToolFlags, out: ToolOutput): Promise<number> {
  listStoreFolder(dir); // a path that is no node folder is a usage error, before any lock file is made in it
  const lock = lockFolder(dir);
  try {
    const check = await checkFolder(dir);
    const report: RepairReport = { dir, repaired: false, manifest: null, order_guessed: false, kept_sstables: [], kept_wal_segments: [], lost: [], consequences: [] };
    if (check.problems.length > 0) {
      await repairFolder(dir, check, report);
      report.repaired = true;
    }
    out.write(flags.json === true ? json(report) : humanReport(report));
    return EXIT_SOUND;
  } finally {
    lock.release();
  }
}

/** The folder's lock, as a node takes it; RefusedError while a node (or another repair) holds it, or when it cannot be made. */
function lockFolder(dir: string): DirLock {
  try {
    return acquireDirLock(dir);
  } catch (error) {
    if (error instanceof StorageError && error.code === 'STORAGE_LOCKED') throw new RefusedError(`${error.message}; stop the node first`);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
    throw new RefusedError(`cannot lock ${dir}: ${code} (repair writes into the folder)`);
  }
}

async function repairFolder(dir: string, check: FolderCheck, report: RepairReport): Promise<void> {
  const lostDir = join(dir, LOST_FOLDER);
  mkdirSync(lostDir, { recursive: true });
  const setAside = async (name: string, reason: string, copy = false): Promise<void> => {
    const movedTo = freeName(lostDir, name);
    if (copy) {
      // Durable before the original is cut: a crash must leave the whole segment somewhere.
      copyFileSync(join(dir, name), join(lostDir, movedTo));
      await fdatasyncPath(join(lostDir, movedTo));
      await nodeFileSystem.syncDir(lostDir);
    } else renameSync(join(dir, name), join(lostDir, movedTo));
    report.lost.push({ name, moved_to: `${LOST_FOLDER}/${movedTo}`, reason });
  };

  // WAL first: a segment cut at its damage keeps the records before it; the whole original goes to lost/.
  for (const wal of check.wals) await repairWal(dir, wal, report, setAside);

  const kept = placeSSTables(check, report);
  for (const sstable of check.sstables) {
    if (kept.some(({ file }) => file.name === sstable.name)) continue;
    // Debris a readable MANIFEST does not name: the next open removes it, with or without repair.
    if (!sstable.live && check.state) continue;
    const reason = sstable.problems[0] ?? 'holds no entries';
    if (existsSync(join(dir, sstable.name))) await setAside(sstable.name, reason);
    else report.lost.push({ name: sstable.name, moved_to: null, reason });
    if (sstable.properties?.entries !== 0) report.consequences.push(lostRangeNote(sstable, check));
  }

  // The fresh MANIFEST: numbered past every one present, named by CURRENT, the old ones set aside.
  const { state, listing } = check;
  const highestFile = Math.max(0, ...listing.sstables.map(({ number }) => number));
  const edit: VersionEdit = {
    nextFileNumber: Math.max(state?.nextFileNumber ?? 1, highestFile + 1),
    minLiveWal: state?.minLiveWal ?? 0,
    compactPointers: state ? [...state.compactPointers].map(([level, key]) => ({ level, key })) : [],
    newFiles: kept,
  };
  const repaired = new Version().apply(edit); // throws if the placement broke a level's order: nothing written yet
  const manifestNumber = Math.max(0, ...listing.manifests.map((name) => parseManifestFileName(name) ?? 0)) + 1;
  const manifest = manifestFileName(manifestNumber);
  const writer = await ManifestWriter.create(nodeFileSystem, dir, manifest, edit);
  await writer.close();
  await writeCurrent(nodeFileSystem, dir, manifest);
  report.manifest = manifest;
  for (const name of listing.manifests) if (name !== CURRENT_FILE) await setAside(name, 'replaced by the MANIFEST repair wrote');
  await nodeFileSystem.syncDir(lostDir);
  await nodeFileSystem.syncDir(dir);
  // In the new Version's order, as `manifest` lists it (L0 newest first, then each level by key).
  report.kept_sstables = [...repaired.allFiles()].map(({ level, file }) => ({ level, name: file.name, entries: file.entries, smallest_key: fromSortKey(file.smallest), largest_key: fromSortKey(file.largest) }));
}

/** A damaged segment: its original copied to lost/, then cut where the damage starts (removed when nothing precedes it). */
async function repairWal(dir: string, wal: WalCheck, report: RepairReport, setAside: (name: string, reason: string, copy?: boolean) => Promise<void>): Promise<void> {
  if (wal.problem === null) {
    report.kept_wal_segments.push({ name: wal.name, records: wal.valid_records, cut_at: null });
    return;
  }
  const dropped = wal.damage !== null ? `records from byte ${wal.damage.at} on` : `the bytes from ${wal.valid_bytes} on`;
  report.consequences.push(`${wal.name}: ${dropped} dropped (${wal.size_bytes - wal.valid_bytes} bytes; the original is in ${LOST_FOLDER}/)`);
  if (wal.valid_records === 0) {
    await setAside(wal.name, wal.problem);
    return;
  }
  await setAside(wal.name, `${wal.problem} (the original, copied; the segment is cut at byte ${wal.valid_bytes})`, true);
  // Cut in place: the node reopens the same segment number; the cut is durable before the MANIFEST changes.
  nodeFileSystem.truncateSync(join(dir, wal.name), wal.valid_bytes);
  await fdatasyncPath(join(dir, wal.name));
  report.kept_wal_segments.push({ name: wal.name, records: wal.valid_records, cut_at: wal.valid_bytes });
}

async function fdatasyncPath(path: string): Promise<void> {
  const fd = nodeFileSystem.openReadSync(path);
  try {
    await nodeFileSystem.fdatasync(fd);
  } finally {
    nodeFileSystem.closeSync(fd);
  }
}

/** The intact SSTables to keep, each at its level (see the file comment for why this order). */
function placeSSTables(check: FolderCheck, report: RepairReport): Array<{ level: number; file: FileMetadata }> {
  const { state } = check;
  const intact = check.sstables.filter((s) => s.intact && s.properties !== null && s.properties.entries > 0);
  if (state) {
    const named = new Map([...state.version.allFiles()].map(({ level, file }) => [file.name, { level, file }]));
    return intact.filter((s) => s.live).map((s) => named.get(s.name)!);
  }
  // No MANIFEST to trust: by the level each file's name says, newest first within a level.
  const byName = check.listing.sstables;
  const candidates = intact
    .map((s) => {
      const { number, level } = byName.find(({ name }) => name === s.name)!;
      return { level, file: fileMetadataFromProperties(number, s.name, s.properties!) };
    })
    .sort((a, b) => b.file.number - a.file.number);
  report.order_guessed = candidates.some(({ level }) => level > 0);
  const placed: Array<{ level: number; file: FileMetadata }> = [];
  for (const candidate of candidates) {
    const { level, file } = candidate;
    const clash = level > 0 && placed.find((p) => p.level === level && p.file.smallest <= file.largest && file.smallest <= p.file.largest);
    if (clash) {
      const sstable = check.sstables.find((s) => s.name === file.name)!;
      sstable.problems.push(`overlaps the newer ${clash.file.name} at L${level} (likely an input of the compaction that wrote it)`);
      continue;
    }
    placed.push(candidate);
  }
  if (report.order_guessed) {
    report.consequences.push('the MANIFEST was unreadable and files had been compacted: levels were taken from file names, a guess (docs/TOOLS.md)');
  }
  return placed;
}

function lostRangeNote(sstable: SSTableCheck, check: FolderCheck): string {
  const named = check.state ? [...check.state.version.allFiles()].find(({ file }) => file.name === sstable.name) : undefined;
  const smallest = named ? fromSortKey(named.file.smallest) : sstable.properties?.smallestKey;
  const largest = named ? fromSortKey(named.file.largest) : sstable.properties?.largestKey;
  if (smallest == null || largest == null) return `${sstable.name}: its keys are unknown; any key may read an older value or none`;
  return `${sstable.name}: keys in [${quoteKey(smallest)}, ${quoteKey(largest)}] may read an older value, or none`;
}

/** `name`, or `name.1`, `name.2`, ... : the first not taken in `folder`, so a second repair never overwrites what the first set aside. */
function freeName(folder: string, name: string): string {
  let candidate = name;
  for (let i = 1; existsSync(join(folder, candidate)); i++) candidate = `${name}.${i}`;
  return candidate;
}

function humanReport(report: RepairReport): string {
  if (!report.repaired) return `repair ${report.dir}\nsound: nothing to repair, nothing changed\n`;
  let text = `repair ${report.dir} (lossy: see docs/TOOLS.md)\n`;
  text += fields([['new MANIFEST', `${report.manifest}${report.order_guessed ? ' (levels guessed from file names)' : ''}`]]);
  text += `\nkept ${count(report.kept_sstables.length, 'SSTable')}\n`;
  if (report.kept_sstables.length > 0) text += table(report.kept_sstables.map((s) => [`L${s.level}`, s.name, count(s.entries, 'entry', 'entries'), `[${quoteKey(s.smallest_key)}, ${quoteKey(s.largest_key)}]`]));
  text += `kept ${count(report.kept_wal_segments.length, 'WAL segment')}\n`;
  if (report.kept_wal_segments.length > 0) text += table(report.kept_wal_segments.map((w) => [w.name, count(w.records, 'record'), w.cut_at === null ? 'whole' : `cut at byte ${w.cut_at}`]));
  text += `lost (moved into ${LOST_FOLDER}/, never deleted): ${report.lost.length}\n`;
  if (report.lost.length > 0) text += table(report.lost.map((l) => [l.name, l.moved_to === null ? '(was missing)' : `-> ${l.moved_to}`, l.reason]));
  if (report.consequences.length > 0) text += `what reads may see differ:\n${report.consequences.map((c) => `  ${c}\n`).join('')}`;
  return text;
}
