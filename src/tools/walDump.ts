/**
 * `memtable-node wal-dump FILE`: one WAL segment's records and where its
 * valid part ends, read with the same scan recovery uses (wal/wal.ts), after
 * RocksDB's `ldb dump_wal`. A torn tail is the trace of a crash and exits 0;
 * damage with valid records after it is what recovery refuses, and exits 1.
 */
import { readFileSync } from 'node:fs';
import { scanWal, type WalScan } from '../storage/wal/wal.js';
import { EXIT_DAMAGED, EXIT_SOUND, fields, json, previewValue, quoteKey, table, type ToolFlags, type ToolOutput } from './output.js';
import { assertReadableFile } from './sstableCheck.js';

interface DumpedRecord {
  /** Byte offset of the record's header in the file. */
  offset: number;
  kind: 'put' | 'delete';
  key: string;
  /** The JSON text a put wrote, and its size in bytes. */
  value?: string;
  value_bytes?: number;
}

/** What a segment holds, as wal-dump, verify and repair describe it. */
export interface WalDescription {
  size_bytes: number;
  /** Whole valid records from the start. */
  valid_records: number;
  /** Bytes of whole valid records from the start: what recovery keeps. */
  valid_bytes: number;
  /** Set when the file ends in a torn tail (a crash mid-write): where it starts and its size. */
  torn_tail: { at: number; bytes: number } | null;
  /** Set when a damaged record has valid ones after it (corruption): where, and where valid records resume. */
  damage: { at: number; resumes_at: number } | null;
}

/** The summary fields of a scan over `sizeBytes` bytes. */
export function describeScan(scan: WalScan, sizeBytes: number): WalDescription {
  const damaged = scan.damagedMidway !== undefined;
  return {
    size_bytes: sizeBytes,
    valid_records: scan.records,
    valid_bytes: scan.validBytes,
    torn_tail: scan.tornBytes > 0 && !damaged ? { at: scan.validBytes, bytes: scan.tornBytes } : null,
    damage: damaged ? { at: scan.validBytes, resumes_at: scan.damagedMidway!.resumesAt } : null,
  };
}

/** Runs wal-dump on `file`; returns the exit code. */
export function walDump(file: string, flags: ToolFlags, out: ToolOutput): number {
  assertReadableFile(file);
  const bytes = readFileSync(file);
  const records: DumpedRecord[] = [];
  const scan = scanWal(bytes, (record, offset) => {
    records.push(
      record.kind === 'put'
        ? { offset, kind: 'put', key: record.key, value: record.valueJson, value_bytes: Buffer.byteLength(record.valueJson, 'utf8') }
        : { offset, kind: 'delete', key: record.key },
    );
  });
  const summary = describeScan(scan, bytes.length);
  out.write(flags.json === true ? json({ file, ...summary, ok: summary.damage === null, records }) : humanReport(file, summary, records));
  return summary.damage === null ? EXIT_SOUND : EXIT_DAMAGED;
}

/** One line on how a segment ends, for wal-dump and verify. */
export function walEnding(summary: WalDescription): string {
  if (summary.damage !== null) {
    const { at, resumes_at } = summary.damage;
    return `DAMAGED at byte ${at}: valid records resume at byte ${resumes_at}, so records were lost in the middle (recovery refuses this segment; repair keeps the ${summary.valid_records} records before byte ${at})`;
  }
  if (summary.torn_tail !== null) {
    const { at, bytes } = summary.torn_tail;
    return `torn tail at byte ${at}: ${bytes} bytes of a write a crash cut short (never acknowledged; recovery cuts it off)`;
  }
  return 'ends cleanly';
}

function humanReport(file: string, summary: WalDescription, records: DumpedRecord[]): string {
  let text = fields([
    ['file', file],
    ['size', `${summary.size_bytes} bytes`],
    ['records', `${summary.valid_records} (${summary.valid_bytes} bytes)`],
  ]);
  if (records.length > 0) {
    text += '\n';
    text += table([
      ['offset', 'kind', 'key', 'value'],
      ...records.map((r) => [String(r.offset), r.kind, quoteKey(r.key), r.value === undefined ? '' : previewValue(r.value)]),
    ]);
  }
  return `${text}\n${walEnding(summary)}\n`;
}
