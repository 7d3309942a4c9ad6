/**
 * `memtable-node sst-dump FILE`: one SSTable's properties, its index, and
 * with --entries its entries, after RocksDB's sst_dump. Every block it reads
 * is checked against its checksum; it reads the data blocks even without
 * --entries, so a clean exit means the whole file verified.
 */
import { TOMBSTONE } from '../storage/iterator.js';
import { fromSortKey } from '../storage/keyOrder.js';
import { FORMAT_VERSION } from '../storage/sstable/format.js';
import type { SSTableReader } from '../storage/sstable/reader.js';
import { count, EXIT_DAMAGED, EXIT_SOUND, fields, json, messageOf, previewValue, quoteKey, table, type ToolFlags, type ToolOutput } from './output.js';
import { assertReadableFile, openSSTable, walkSSTable } from './sstableCheck.js';

interface DumpedEntry {
  key: string;
  kind: 'value' | 'tombstone';
  /** The JSON text; absent for a tombstone. */
  value?: string;
}

/** Runs sst-dump on `file`; returns the exit code. */
export function sstDump(file: string, flags: ToolFlags, out: ToolOutput): number {
  const start = flags.start as string | undefined;
  const end = flags.end as string | undefined;
  const asJson = flags.json === true;
  assertReadableFile(file);
  let reader: SSTableReader;
  try {
    reader = openSSTable(file);
  } catch (error) {
    // A damaged footer, index, filter or properties block: nothing else can be trusted.
    out.write(asJson ? json({ file, ok: false, problems: [messageOf(error)] }) : `${messageOf(error)}\n`);
    return EXIT_DAMAGED;
  }
  try {
    const entries: DumpedEntry[] = [];
    const onEntry = flags.entries === true ? (key: string, value: string | null) => entries.push(value === TOMBSTONE ? { key, kind: 'tombstone' } : { key, kind: 'value', value }) : undefined;
    const walk = walkSSTable(reader, { start, end }, onEntry);
    const report = {
      file,
      ok: walk.problems.length === 0,
      properties: describeProperties(reader),
      index: describeIndex(reader),
      ...(onEntry && { range: { start: start ?? null, end: end ?? null }, entries }),
      verified: { data_blocks_read: walk.blocksRead, entries_read: walk.entries },
      problems: walk.problems,
    };
    out.write(asJson ? json(report) : humanReport(report));
    return report.ok ? EXIT_SOUND : EXIT_DAMAGED;
  } finally {
    reader.close();
  }
}

/** The properties as snake_case fields, the protocol's style. */
export function describeProperties(reader: SSTableReader) {
  const props = reader.properties;
  return {
    format_version: FORMAT_VERSION,
    size_bytes: props.sizeBytes,
    entries: props.entries,
    tombstones: props.tombstones,
    data_blocks: props.dataBlocks,
    bloom_filter_bits: props.bloomFilterBits,
    smallest_key: props.smallestKey,
    largest_key: props.largestKey,
  };
}

function describeIndex(reader: SSTableReader) {
  return reader.blockLastKeys.map((lastKey, block) => ({ block, ...reader.blockHandle(block), last_key: fromSortKey(lastKey) }));
}

function humanReport(report: {
  file: string;
  properties: ReturnType<typeof describeProperties>;
  index: ReturnType<typeof describeIndex>;
  range?: { start: string | null; end: string | null };
  entries?: DumpedEntry[];
  verified: { data_blocks_read: number; entries_read: number };
  problems: string[];
}): string {
  const p = report.properties;
  let text = fields([
    ['file', report.file],
    ['format version', String(p.format_version)],
    ['size', `${p.size_bytes} bytes`],
    ['entries', `${p.entries} (${p.tombstones} tombstones)`],
    ['data blocks', String(p.data_blocks)],
    ['bloom filter', `${p.bloom_filter_bits} bits`],
    ['smallest key', quoteKey(p.smallest_key)],
    ['largest key', quoteKey(p.largest_key)],
  ]);
  text += `\nindex (${count(report.index.length, 'data block')})\n`;
  text += table([['block', 'offset', 'size', 'last key'], ...report.index.map((b) => [String(b.block), String(b.offset), String(b.size), quoteKey(b.last_key)])]);
  if (report.entries !== undefined && report.range !== undefined) {
    const { start, end } = report.range;
    text += `\nentries in [${start === null ? 'first' : quoteKey(start)}, ${end === null ? 'last]' : `${quoteKey(end)})`}: ${report.entries.length}\n`;
    text += table(report.entries.map((e) => [quoteKey(e.key), e.kind, e.value === undefined ? '' : previewValue(e.value)]));
  }
  const { data_blocks_read: blocks, entries_read: entries } = report.verified;
  text += `\nverified: ${count(blocks, 'data block')} read, ${count(entries, 'entry', 'entries')}, every checksum checked\n`;
  if (report.problems.length === 0) return `${text}sound\n`;
  return `${text}DAMAGED:\n${report.problems.map((problem) => `  ${problem}\n`).join('')}`;
}
