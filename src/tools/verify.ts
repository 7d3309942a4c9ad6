/**
 * `memtable-node verify DIR`: reads every live file of a node folder whole
 * and checks every checksum, and the MANIFEST against the folder (files
 * exist, numbers, sizes and entry counts match, each file at or below the
 * level its name says, its keys within the range the MANIFEST records; the level order itself is checked as the MANIFEST is
 * read). After RocksDB's `ldb checkconsistency` and `sst_dump --command=verify`.
 * Exit 0 when sound, 1 with a report naming each damaged file and where.
 */
import { walFileName } from '../storage/wal/wal.js';
import { type FolderCheck, checkFolder } from './folderCheck.js';
import { count, EXIT_DAMAGED, EXIT_SOUND, json, table, type ToolFlags, type ToolOutput } from './output.js';
import { walEnding } from './walDump.js';

/** Runs verify on `dir`; returns the exit code. */
export async function verify(dir: string, flags: ToolFlags, out: ToolOutput): Promise<number> {
  const check = await checkFolder(dir);
  const ok = check.problems.length === 0;
  out.write(flags.json === true ? json(jsonReport(dir, check)) : humanReport(dir, check));
  return ok ? EXIT_SOUND : EXIT_DAMAGED;
}

function jsonReport(dir: string, check: FolderCheck) {
  const { state } = check;
  return {
    dir,
    ok: check.problems.length === 0,
    manifest:
      state === undefined
        ? { file: null, ok: false, problem: check.manifestProblem }
        : { file: state?.manifestFile ?? null, ok: check.manifestProblem === null, problem: check.manifestProblem, next_file_number: state?.nextFileNumber ?? 1, min_live_wal: state?.minLiveWal ?? 0 },
    sstables: check.sstables.map((s) => ({
      name: s.name,
      level: s.level,
      live: s.live,
      ok: s.intact,
      data_blocks_read: s.dataBlocksRead,
      entries: s.properties?.entries ?? null,
      problems: s.problems,
    })),
    wal_segments: check.wals.map(({ segment: _, problem, ...wal }) => ({ ...wal, ok: problem === null, problem })),
    notes: check.notes,
    problems: check.problems,
  };
}

function humanReport(dir: string, check: FolderCheck): string {
  const { state } = check;
  let text = `verify ${dir}\n`;
  if (state === undefined) text += `MANIFEST: DAMAGED (${check.manifestProblem}); every SSTable in the folder checked on its own\n`;
  else if (state === null) text += `MANIFEST: none${check.manifestProblem === null ? ' (a store that never flushed)' : ''}\n`;
  else {
    const files = [...state.version.allFiles()].length;
    text += `${state.manifestFile}: ${count(files, 'live SSTable')}, next file number ${state.nextFileNumber}, oldest live WAL ${walFileName(state.minLiveWal)}\n`;
  }
  const rows = check.sstables
    .filter((s) => s.live || !state)
    .map((s) => [s.intact ? 'ok' : 'DAMAGED', s.level === null ? '-' : `L${s.level}`, s.name, s.properties === null ? (s.intact ? '' : 'unreadable') : `${count(s.dataBlocksRead, 'data block')} read, ${count(s.properties.entries, 'entry', 'entries')}`]);
  rows.push(...check.wals.map((w) => [w.problem === null ? 'ok' : 'DAMAGED', 'WAL', w.name, `${count(w.valid_records, 'record')}, ${walEnding(w)}`]));
  if (rows.length > 0) text += table(rows);
  if (check.notes.length > 0) text += `notes (not damage):\n${check.notes.map((note) => `  ${note}\n`).join('')}`;
  if (check.problems.length === 0) return `${text}sound\n`;
  return `${text}DAMAGED: ${count(check.problems.length, 'problem')}\n${check.problems.map((problem) => `  ${problem}\n`).join('')}`;
}
