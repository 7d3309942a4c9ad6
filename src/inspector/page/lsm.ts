/**
 * The LSM drawing: the active MemTable's fill, the frozen queue, the flush
 * under way, every level's files over the key space, L0 against its
 * triggers, the compaction under way, the last one finished, and stalls,
 * from one LsmSummary (src/actors/lsmSummary.ts). Pure: summary in, HTML and
 * SVG text out.
 *
 * The key space: every file boundary key, past the prefix all of them share,
 * read as a number (its next characters as digits, in the alphabet of the
 * characters the keys use there) and scaled between the smallest and the
 * largest, so keys like user:0000abcd spread as their hex digits do. L0
 * files overlap, so each gets a row (newest on top); a deeper level's files
 * do not, so they share one.
 */
import type { LsmFile, LsmSummary } from '../../actors/lsmSummary.js';
import type { FinishedCompaction } from '../registry.js';
import { escapeHtml, formatBytes } from './format.js';

const WIDTH = 640;
const ROW = 14;
/** L0 rows drawn at most; the rest are counted. */
const MAX_L0_ROWS = 12;
const DIGITS = 4;

/** Maps keys to 0..1 over the range of `keys` (see the top of this file). */
export function keyScale(keys: string[]): (key: string) => number {
  if (keys.length === 0) return () => 0;
  let prefix = keys[0];
  for (const key of keys) while (!key.startsWith(prefix)) prefix = prefix.slice(0, -1);
  // The digits: the characters the keys use past the prefix, so hex keys spread as hex numbers (no gap between 9 and a).
  const alphabet = [...new Set(keys.flatMap((key) => [...key.slice(prefix.length, prefix.length + DIGITS)]))].sort();
  const digit = (char: string | undefined): number => {
    if (char === undefined) return 0;
    const below = alphabet.filter((known) => known < char).length;
    return alphabet.includes(char) ? below + 1 : below + 0.5;
  };
  const numeric = (key: string): number => {
    let value = 0;
    for (let i = 0; i < DIGITS; i++) value = value * (alphabet.length + 1) + digit(key[prefix.length + i]);
    return value;
  };
  const values = keys.map(numeric);
  const low = Math.min(...values);
  const span = Math.max(...values) - low;
  return (key) => (span === 0 ? 0 : (numeric(key) - low) / span);
}

/**
 * HTML for the whole LSM of one node. The running compaction's inputs are
 * marked; so are the outputs of `last`, the last one seen to finish (the
 * registry reads them from the snapshot after it), while no other runs.
 */
export function drawLsm(lsm: LsmSummary, last: FinishedCompaction | null = null): string {
  const boundaries = lsm.levels.flatMap((level) => level.files.flatMap((file) => [file.smallest, file.largest])).filter((key): key is string => key !== null);
  const scale = keyScale(boundaries);
  const inputs = new Set(lsm.compaction?.inputs ?? []);
  const outputs = new Set(lsm.compaction?.outputs ?? (last?.outputs ?? []));
  return [
    lsm.stalled ? '<div class="badge stalled">writes stalled</div>' : '',
    drawMemTables(lsm),
    drawCompaction(lsm),
    drawLastCompaction(last),
    '<div class="levels">',
    ...lsm.levels.map((level) => drawLevel(level, scale, inputs, outputs)),
    '</div>',
    drawL0Triggers(lsm),
  ].join('\n');
}

function bar(fraction: number, label: string, classes: string): string {
  const width = Math.round(Math.max(0, Math.min(1, fraction)) * 200);
  return `<svg class="bar ${classes}" width="200" height="14" role="img"><title>${escapeHtml(label)}</title><rect class="track" width="200" height="14"/><rect class="fill" width="${width}" height="14"/></svg>`;
}

function drawMemTables(lsm: LsmSummary): string {
  const { active, frozen, maxFrozen, flush } = lsm;
  const frozenBoxes = frozen
    .map((layer, i) => `<span class="frozen${i === 0 && flush ? ' flushing' : ''}" title="${layer.entries} entries">${formatBytes(layer.bytes)}</span>`)
    .join('');
  const flushText = flush === null ? '' : `<div class="flush${flush.retrying ? ' retrying' : ''}">${flush.retrying ? 'flush failed, retrying' : 'flushing'}: oldest frozen MemTable (${flush.entries} entries, ${formatBytes(flush.bytes)}) → L0</div>`;
  return `<div class="memtables">
  <div class="row"><span class="name">active MemTable</span>${bar(active.bytes / active.maxBytes, 'active MemTable fill', 'active-fill')}<span class="value" data-field="active">${formatBytes(active.bytes)} / ${formatBytes(active.maxBytes)} · ${active.entries} entries</span></div>
  <div class="row"><span class="name">frozen</span><span class="frozen-queue" data-field="frozen">${frozen.length} / ${maxFrozen}</span>${frozenBoxes}</div>
  ${flushText}
</div>`;
}

function drawCompaction(lsm: LsmSummary): string {
  const { compaction } = lsm;
  if (compaction === null) return '<div class="compaction idle">no compaction running</div>';
  const outputs = compaction.outputs.length > 0 ? compaction.outputs.map(escapeHtml).join(', ') : '…';
  return `<div class="compaction running">compacting L${compaction.sourceLevel} → L${compaction.targetLevel}: ${compaction.inputs.map(escapeHtml).join(', ')} → ${outputs}</div>`;
}

function drawLastCompaction(last: FinishedCompaction | null): string {
  if (last === null) return '';
  const outputs = last.outputs.length > 0 ? last.outputs.map(escapeHtml).join(', ') : 'nothing';
  return `<div class="compaction last">last compaction L${last.sourceLevel} → L${last.targetLevel}: ${last.inputs.map(escapeHtml).join(', ')} → ${outputs}</div>`;
}

function drawLevel(level: LsmSummary['levels'][number], scale: (key: string) => number, inputs: Set<string>, outputs: Set<string>): string {
  const overlapping = level.level === 0;
  const shown = overlapping ? level.files.slice(0, MAX_L0_ROWS) : level.files;
  const rows = overlapping ? Math.max(1, shown.length) : 1;
  const rects = shown.map((file, i) => fileRect(file, overlapping ? i : 0, scale, inputs, outputs)).join('');
  const more = level.files.length - shown.length;
  const target = level.maxBytes === null ? '' : ` / ${formatBytes(level.maxBytes)}`;
  const score = level.score === null ? '' : ` · score ${level.score.toFixed(2)}`;
  return `<div class="level" data-level="${level.level}">
  <div class="level-label">L${level.level} · <span data-field="files">${level.files.length}</span> files · ${formatBytes(level.bytes)}${target}${score}${more > 0 ? ` · ${more} older not drawn` : ''}</div>
  <svg class="keyspace" width="${WIDTH}" height="${rows * ROW}" viewBox="0 0 ${WIDTH} ${rows * ROW}"><rect class="track" width="${WIDTH}" height="${rows * ROW}"/>${rects}</svg>
</div>`;
}

function fileRect(file: LsmFile, row: number, scale: (key: string) => number, inputs: Set<string>, outputs: Set<string>): string {
  const x = file.smallest === null ? 0 : scale(file.smallest) * (WIDTH - 4);
  const right = file.largest === null ? x : scale(file.largest) * (WIDTH - 4);
  const width = Math.max(4, right - x + 4);
  const role = inputs.has(file.file) ? ' input' : outputs.has(file.file) ? ' output' : '';
  const title = `${file.file}: ${file.smallest ?? ''} … ${file.largest ?? ''}, ${file.entries} entries, ${formatBytes(file.sizeBytes)}`;
  const label = width > 70 ? `<text x="${(x + 3).toFixed(1)}" y="${row * ROW + 10}">${formatBytes(file.sizeBytes)}</text>` : '';
  return `<g class="file${role}" data-file="${escapeHtml(file.file)}"><title>${escapeHtml(title)}</title><rect x="${x.toFixed(1)}" y="${row * ROW + 1}" width="${width.toFixed(1)}" height="${ROW - 2}"/>${label}</g>`;
}

function drawL0Triggers(lsm: LsmSummary): string {
  const { files, compactionTrigger, slowdownTrigger, stopTrigger } = lsm.l0;
  const triggers: Array<[string, number | null]> = [['compaction', compactionTrigger], ['slowdown', slowdownTrigger], ['stop', stopTrigger]];
  const known = triggers.filter((entry): entry is [string, number] => entry[1] !== null);
  if (known.length === 0) return `<div class="l0-triggers">L0: ${files} files (this store has no L0 triggers)</div>`;
  const top = Math.max(files, ...known.map(([, at]) => at)) + 1;
  const ticks = known
    .map(([label, at]) => `<line class="tick ${label}" x1="${((at / top) * 200).toFixed(1)}" x2="${((at / top) * 200).toFixed(1)}" y1="0" y2="14"><title>${label} at ${at}</title></line>`)
    .join('');
  return `<div class="l0-triggers">L0: ${files} files · ${known.map(([label, at]) => `${label} at ${at}`).join(' · ')}
  <svg class="bar" width="200" height="14"><rect class="track" width="200" height="14"/><rect class="fill" width="${((files / top) * 200).toFixed(1)}" height="14"/>${ticks}</svg></div>`;
}
