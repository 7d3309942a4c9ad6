/**
 * Checks a whole node folder, read-only: the MANIFEST against the folder,
 * every live SSTable read whole, every live WAL segment scanned. `verify`
 * prints what it finds; `repair` acts on it.
 *
 * A torn tail at the end of the newest WAL segment holding records is the
 * normal trace of a crash (recovery cuts it off), so it is a note, not
 * damage; everything recovery would refuse is damage (docs/WAL.md).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fromSortKey, toSortKey } from '../storage/keyOrder.js';
import type { SSTableProperties } from '../storage/sstable/writer.js';
import type { FileMetadata } from '../storage/version/fileMetadata.js';
import { CURRENT_FILE, parseSSTableFileName } from '../storage/version/fileNames.js';
import type { VersionState } from '../storage/version/versionSet.js';
import { scanWal, walFileName } from '../storage/wal/wal.js';
import { messageOf } from './output.js';
import { openSSTable, walkSSTable } from './sstableCheck.js';
import { type FolderListing, listStoreFolder, LOST_FOLDER, readLiveFileSet } from './storeFolder.js';
import { describeScan, type WalDescription } from './walDump.js';

export interface SSTableCheck {
  name: string;
  /** The level the MANIFEST puts it at; null when it names none (an orphan) or cannot be read. */
  level: number | null;
  /** The MANIFEST names it. */
  live: boolean;
  /** The file is there and reads whole with every checksum right. */
  intact: boolean;
  /** What the file itself holds, when it could be opened (for repair's new MANIFEST). */
  properties: SSTableProperties | null;
  dataBlocksRead: number;
  problems: string[];
}

export interface WalCheck extends WalDescription {
  name: string;
  segment: number;
  /** Recovery would replay it (at or above the MANIFEST's minLiveWal). */
  live: boolean;
  /** Damage recovery refuses, naming where; null when the segment is sound or only torn by a crash. */
  problem: string | null;
}

export interface FolderCheck {
  listing: FolderListing;
  /** What the MANIFEST says; null when there is none, undefined when it cannot be read (manifestProblem says why). */
  state: VersionState | null | undefined;
  manifestProblem: string | null;
  sstables: SSTableCheck[];
  wals: WalCheck[];
  /** Facts that are not damage: debris a node removes at open, a crash's torn tail, files set aside by repair. */
  notes: string[];
  /** Every problem, each naming the file and where. Empty iff the folder is sound. */
  problems: string[];
}

/** Reads every file of the node folder `dir` that recovery would read, and the rest it can. Changes nothing. */
export async function checkFolder(dir: string): Promise<FolderCheck> {
  const listing = listStoreFolder(dir);
  const check: FolderCheck = { listing, state: undefined, manifestProblem: null, sstables: [], wals: [], notes: [], problems: [] };
  try {
    check.state = await readLiveFileSet(dir);
  } catch (error) {
    check.manifestProblem = messageOf(error);
    check.problems.push(check.manifestProblem);
  }
  const { state } = check;
  // With neither CURRENT nor a legacy MANIFEST (state null), any MANIFEST-NNNNNN left is one CURRENT no longer names.
  if (state === null && listing.manifests.length > 0) {
    check.manifestProblem = `${join(dir, CURRENT_FILE)}: missing, yet ${listing.manifests.join(', ')} present: a node would open the store as empty and remove every SSTable`;
    check.problems.push(check.manifestProblem);
  } else if (state && !state.legacy && !listing.manifests.includes(CURRENT_FILE)) {
    // Without CURRENT a node reads the newest MANIFEST with a whole snapshot as the live one (versionSet.ts): recoverable, but CURRENT is gone.
    check.manifestProblem = `${join(dir, CURRENT_FILE)}: missing, yet ${state.manifestFile} present: a node reads it as the live MANIFEST (the newest with a whole snapshot); repair writes CURRENT again`;
    check.problems.push(check.manifestProblem);
  } else if (state === null && listing.sstables.length > 0) {
    check.manifestProblem = `${join(dir, CURRENT_FILE)}: missing, yet ${listing.sstables.length} SSTables present: a node would open the store as empty and remove them`;
    check.problems.push(check.manifestProblem);
  }

  const live = new Map<string, { level: number; file: FileMetadata }>();
  if (state) for (const { level, file } of state.version.allFiles()) live.set(file.name, { level, file });
  // Live files in the MANIFEST's order (L0 newest first, then each level by key), then the rest by name.
  const present = new Set(listing.sstables.map(({ name }) => name));
  for (const [name, named] of live) {
    const path = join(dir, name);
    if (present.has(name)) check.sstables.push({ name, ...checkSSTable(path, named) });
    else check.sstables.push({ name, level: named.level, live: true, intact: false, properties: null, dataBlocksRead: 0, problems: [`${path}: missing (the MANIFEST names it at L${named.level})`] });
  }
  for (const { name } of listing.sstables) {
    if (live.has(name)) continue;
    check.sstables.push({ name, ...checkSSTable(join(dir, name), undefined) });
    // Not live: debris of a flush or compaction a crash interrupted, whose data is elsewhere.
    if (state) check.notes.push(`${name}: not in the MANIFEST (debris of an interrupted flush or compaction; the next open removes it)`);
  }
  // Debris a readable MANIFEST does not name is removed at open, damaged or not; any other file counts.
  for (const sstable of check.sstables) if (sstable.live || !state) check.problems.push(...sstable.problems);

  checkWals(check, state === undefined ? 0 : (state?.minLiveWal ?? 0));
  for (const name of listing.temporary) check.notes.push(`${name}: a write a crash interrupted (the next open removes it)`);
  if (state?.tornTail) check.notes.push(`${state.manifestFile}: torn tail at byte ${state.tornTail.validBytes} (an edit a crash cut short, never installed; ignored)`);
  const lost = lostFiles(dir);
  if (lost.length > 0) check.notes.push(`${LOST_FOLDER}/ holds ${lost.length} files a repair set aside: ${lost.join(', ')}`);
  return check;
}

/** Opens and reads `path` whole; with `named`, checks it against what the MANIFEST records. */
function checkSSTable(path: string, named: { level: number; file: FileMetadata } | undefined): Omit<SSTableCheck, 'name'> {
  const result: Omit<SSTableCheck, 'name'> = { level: named?.level ?? null, live: named !== undefined, intact: false, properties: null, dataBlocksRead: 0, problems: [] };
  let reader;
  try {
    reader = openSSTable(path);
  } catch (error) {
    result.problems.push(messageOf(error));
    return result;
  }
  try {
    const walk = walkSSTable(reader);
    result.properties = reader.properties;
    result.dataBlocksRead = walk.blocksRead;
    result.problems.push(...walk.problems);
    if (named !== undefined) result.problems.push(...againstManifest(path, named, result.properties));
  } finally {
    reader.close();
  }
  result.intact = result.problems.length === 0;
  return result;
}

/**
 * Where the file disagrees with the MANIFEST's record of it: its name (the
 * number, and the level written to, which is never below where it lives:
 * files only move down), size, entries, or keys outside the recorded range.
 */
function againstManifest(path: string, { level, file }: { level: number; file: FileMetadata }, actual: NonNullable<SSTableCheck['properties']>): string[] {
  const problems: string[] = [];
  const written = parseSSTableFileName(file.name);
  if (written === undefined || written.number !== file.number) problems.push(`${path}: the MANIFEST records it as file ${file.number}, which its name does not say`);
  else if (written.level > level) problems.push(`${path}: written to L${written.level}, yet the MANIFEST puts it at L${level} (files only move down)`);
  const size = statSync(path).size;
  if (size !== file.sizeBytes) problems.push(`${path}: ${size} bytes, the MANIFEST says ${file.sizeBytes}`);
  if (actual.entries !== file.entries) problems.push(`${path}: ${actual.entries} entries, the MANIFEST says ${file.entries}`);
  const smallest = actual.smallestKey === null ? null : toSortKey(actual.smallestKey);
  const largest = actual.largestKey === null ? null : toSortKey(actual.largestKey);
  if (smallest === null || largest === null || smallest < file.smallest || largest > file.largest) {
    const range = (a: string | null, b: string | null) => `[${JSON.stringify(a)}, ${JSON.stringify(b)}]`;
    problems.push(`${path}: holds keys ${range(actual.smallestKey, actual.largestKey)}, outside the MANIFEST's ${range(fromSortKey(file.smallest), fromSortKey(file.largest))}`);
  }
  return problems;
}

/**
 * Scans every WAL segment at or above `minLiveWal` (the rest are obsolete).
 * A torn tail is damage unless it ends the newest segment holding records:
 * segments are written oldest first, so a newer one with records means the
 * older one was whole.
 */
function checkWals(check: FolderCheck, minLiveWal: number): void {
  const { dir, walSegments } = check.listing;
  for (const segment of walSegments) {
    const name = walFileName(segment);
    if (segment < minLiveWal) {
      check.notes.push(`${name}: obsolete, already in SSTables (the next open removes it)`);
      continue;
    }
    const bytes = readFileSync(join(dir, name));
    const summary = describeScan(scanWal(bytes, () => undefined), bytes.length);
    check.wals.push({ name, segment, live: true, ...summary, problem: null });
  }
  const newestWithRecords = check.wals.findLastIndex((wal) => wal.valid_records > 0 || wal.damage !== null);
  check.wals.forEach((wal, index) => {
    const path = join(dir, wal.name);
    if (wal.damage !== null) {
      wal.problem = `${path}: damaged record at byte ${wal.damage.at}, valid records resume at byte ${wal.damage.resumes_at}`;
    } else if (wal.torn_tail !== null && index < newestWithRecords) {
      wal.problem = `${path}: damaged at byte ${wal.torn_tail.at} to its end, but ${check.wals[newestWithRecords].name} holds newer records`;
    } else if (wal.torn_tail !== null) {
      check.notes.push(`${wal.name}: torn tail at byte ${wal.torn_tail.at}, ${wal.torn_tail.bytes} bytes (a crash mid-write, never acknowledged; the next open cuts it off)`);
    }
    if (wal.problem !== null) check.problems.push(wal.problem);
  });
}

function lostFiles(dir: string): string[] {
  try {
    return readdirSync(join(dir, LOST_FOLDER)).sort();
  } catch {
    return [];
  }
}
