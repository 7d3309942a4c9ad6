/**
 * `memtable-node manifest DIR`: the live file set the folder's MANIFEST
 * names, level by level, with the next file number and the oldest live WAL
 * segment, after `ldb manifest_dump`. Reads the MANIFEST only (the metadata
 * it records for each file); `verify` checks the files against it.
 */
import { fromSortKey } from '../storage/keyOrder.js';
import { walFileName } from '../storage/wal/wal.js';
import { count, EXIT_DAMAGED, EXIT_SOUND, fields, json, messageOf, quoteKey, table, type ToolFlags, type ToolOutput } from './output.js';
import { describeFile, listStoreFolder, liveSegments, readLiveFileSet } from './storeFolder.js';

/** Runs manifest on `dir`; returns the exit code. */
export async function manifestDump(dir: string, flags: ToolFlags, out: ToolOutput): Promise<number> {
  const listing = listStoreFolder(dir);
  const asJson = flags.json === true;
  let state;
  try {
    state = await readLiveFileSet(dir);
  } catch (error) {
    out.write(asJson ? json({ dir, ok: false, problems: [messageOf(error)] }) : `${messageOf(error)}\n`);
    return EXIT_DAMAGED;
  }
  const minLiveWal = state?.minLiveWal ?? 0;
  const files = state === null ? [] : [...state.version.allFiles()].map(({ level, file }) => describeFile(level, file));
  const report = {
    dir,
    ok: true,
    manifest_file: state?.manifestFile ?? null,
    legacy: state?.legacy ?? false,
    records: state?.records ?? 0,
    torn_tail: state?.tornTail === undefined ? null : { at: state.tornTail.validBytes, bytes: state.tornTail.tornBytes },
    next_file_number: state?.nextFileNumber ?? 1,
    min_live_wal: minLiveWal,
    live_wal_segments: liveSegments(listing, minLiveWal).map(walFileName),
    compact_pointers: state === null ? [] : [...state.compactPointers].map(([level, key]) => ({ level, key: fromSortKey(key) })),
    files,
  };
  if (asJson) {
    out.write(json(report));
    return EXIT_SOUND;
  }
  let text = fields([
    ['MANIFEST', report.manifest_file === null ? 'none (a store that never flushed: no SSTables)' : `${report.manifest_file}${report.legacy ? ' (single-file, from before levels)' : ''}, ${count(report.records, 'record')}`],
    ...(report.torn_tail === null ? [] : [['torn tail', `at byte ${report.torn_tail.at}, ${report.torn_tail.bytes} bytes (an edit never installed; ignored)`] as [string, string]]),
    ['next file number', String(report.next_file_number)],
    ['oldest live WAL', `${walFileName(minLiveWal)} (segments below it are already in SSTables)`],
    ['live WAL segments', report.live_wal_segments.join(' ') || 'none'],
    ['live SSTables', `${files.length} (${files.reduce((sum, f) => sum + f.size_bytes, 0)} bytes, ${files.reduce((sum, f) => sum + f.entries, 0)} entries)`],
  ]);
  if (files.length > 0) {
    text += `\n${table([
      ['level', 'file', 'size', 'entries', 'smallest key', 'largest key'],
      ...files.map((f) => [`L${f.level}`, f.name, String(f.size_bytes), String(f.entries), quoteKey(f.smallest_key), quoteKey(f.largest_key)]),
    ])}`;
  }
  for (const { level, key } of report.compact_pointers) text += `compact pointer L${level}: ${quoteKey(key)}\n`;
  out.write(text);
  return EXIT_SOUND;
}
