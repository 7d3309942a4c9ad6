/**
 * Turns results into the tables printed on stdout and written to
 * docs/BENCHMARKS.md, with the targets judged PASS or MISS. Ratios are
 * always ours ÷ theirs, so above 1 means we are faster (for bytes per entry
 * below 1 means we are smaller).
 */
import type { E2EResults } from './e2eBench.js';
import type { FlushResults } from './flushBench.js';
import type { Machine } from './machine.js';
import type { MemTableResults } from './memtableBench.js';
import type { Figure } from './stats.js';
import { LABELS, PEERS, type StructureName } from './structures.js';
import { E2E_SCAN_LIMIT, E2E_VALUE_BYTES, MEMTABLE_VALUE_BYTES, SCAN_LENGTH } from './workload.js';

export interface BenchResults {
  quick: boolean;
  date: string;
  seconds: number;
  machine: Machine;
  memtable: MemTableResults;
  e2e: E2EResults;
  flush: FlushResults;
}

const TARGET = { putGet: 1.5, scanVsBtree: 1.0, bytes: 1.0, e2e: 0.75, flush: 0.5 };

export function ops(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(n >= 1e5 ? 0 : 1)}k`;
  return n.toFixed(0);
}

export function keyCount(n: number): string {
  return n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n);
}

const x = (ratio: number): string => `${ratio.toFixed(2)}x`;
const verdict = (pass: boolean): string => (pass ? '**PASS**' : '**MISS**');

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** The peer with the highest (or, for bytes, lowest) median. */
function bestPeer(value: (peer: StructureName) => number, higherIsBetter: boolean): StructureName {
  return PEERS.reduce((best, peer) => ((higherIsBetter ? value(peer) > value(best) : value(peer) < value(best)) ? peer : best));
}

/** The headline: every target, judged at the largest key count measured. */
export function targetsTable(r: BenchResults): string {
  const { memtable, e2e, flush } = r;
  const size = Math.max(...memtable.options.sizes);
  const header = ['figure', LABELS.skiplist, ...PEERS.map((p) => `${LABELS[p]} (ours ÷ it)`), 'judged ratio', 'target', 'result'];
  const rows: string[][] = [];
  for (const op of ['put', 'get', 'scan'] as const) {
    const of = (s: StructureName): number => memtable.ops[s][size][op].median;
    const ours = of('skiplist');
    const best = op === 'scan' ? 'sorted-btree' : bestPeer(of, true);
    const ratio = ours / of(best);
    const pass = ratio >= (op === 'scan' ? TARGET.scanVsBtree : TARGET.putGet);
    rows.push([
      `${op === 'scan' ? `seekGE + ${SCAN_LENGTH}-entry scan` : op}, ${keyCount(size)} keys (ops/s)`,
      ops(ours),
      ...PEERS.map((p) => `${ops(of(p))} (${x(ours / of(p))})`),
      `${x(ratio)} vs ${LABELS[best]}`,
      op === 'scan' ? `≥ ${TARGET.scanVsBtree.toFixed(1)}x sorted-btree` : `≥ ${TARGET.putGet}x fastest peer`,
      verdict(pass),
    ]);
  }
  const bytes = (s: StructureName): number => memtable.memory[s].bytesPerEntry.median;
  const smallest = bestPeer(bytes, false);
  rows.push([
    `bytes per entry (heap + typed arrays), ${keyCount(memtable.options.memorySize)} keys (lower is better)`,
    bytes('skiplist').toFixed(1),
    ...PEERS.map((p) => `${bytes(p).toFixed(1)} (${x(bytes('skiplist') / bytes(p))})`),
    `${x(bytes('skiplist') / bytes(smallest))} vs ${LABELS[smallest]}`,
    `≤ ${TARGET.bytes.toFixed(1)}x smallest peer`,
    verdict(bytes('skiplist') <= bytes(smallest) * TARGET.bytes),
  ]);

  const e2eRatio = e2e.cli.median / e2e.echo.median;
  const flushRatio = flush.sstable.median / flush.raw.median;
  const systemRows = [
    ['end to end (messages/s)', `${ops(e2e.cli.median)}`, `${ops(e2e.echo.median)} (JSON-lines echo node)`, x(e2eRatio), `≥ ${TARGET.e2e}x echo`, verdict(e2eRatio >= TARGET.e2e)],
    ['flush (MB/s of SSTable file)', flush.sstable.median.toFixed(1), `${flush.raw.median.toFixed(1)} (raw sequential write)`, x(flushRatio), `≥ ${TARGET.flush}x raw write`, verdict(flushRatio >= TARGET.flush)],
  ];
  return [
    table(header, rows),
    '',
    table(['figure', 'memtable-node', 'baseline', 'ratio', 'target', 'result'], systemRows),
  ].join('\n');
}

/** A flat one-byte V8 string on a 64-bit heap: 16-byte header (map, hash, length), then the characters, 8-byte aligned. */
function stringBytes(length: number): number {
  return Math.ceil((16 + length) / 8) * 8;
}

function spread(f: Figure): string {
  return f.runs.length > 1 ? `${ops(Math.min(...f.runs))}–${ops(Math.max(...f.runs))}` : '';
}

/** Every size and operation, with the range of runs behind each median. */
export function detailTables(r: BenchResults): string {
  const { memtable } = r;
  const parts: string[] = [];
  for (const op of ['put', 'get', 'scan'] as const) {
    const header = ['keys', LABELS.skiplist, ...PEERS.map((p) => LABELS[p]), ...PEERS.map((p) => `ours ÷ ${LABELS[p]}`)];
    const rows = memtable.options.sizes.map((size) => {
      const of = (s: StructureName): Figure => memtable.ops[s][size][op];
      const cell = (s: StructureName): string => `${ops(of(s).median)}${of(s).runs.length > 1 ? ` <sub>${spread(of(s))}</sub>` : ''}`;
      return [keyCount(size), cell('skiplist'), ...PEERS.map(cell), ...PEERS.map((p) => x(of('skiplist').median / of(p).median))];
    });
    parts.push(`**${op === 'scan' ? `seekGE + ${SCAN_LENGTH}-entry scan` : op}** (ops/s, median; runs' range in small print)\n\n${table(header, rows)}`);
  }
  const memRows = (['skiplist', ...PEERS] as StructureName[]).map((s) => {
    const m = memtable.memory[s];
    return [LABELS[s], m.bytesPerEntry.median.toFixed(1), m.heapPerEntry.toFixed(1), m.offHeapPerEntry.toFixed(1), m.bytesPerEntry.runs.map((v) => v.toFixed(1)).join(', ')];
  });
  parts.push(
    `**bytes per entry** at ${keyCount(memtable.options.memorySize)} keys, keys and values included: ${stringBytes(13) + stringBytes(MEMTABLE_VALUE_BYTES)} bytes of each entry are the key and value strings themselves, so that much is the floor for any structure\n\n` +
      table(['structure', 'total', 'V8 heap', 'off-heap (typed arrays)', 'runs'], memRows),
  );
  return parts.join('\n\n');
}

export function systemDetails(r: BenchResults): string {
  const { e2e, flush } = r;
  const fmtRuns = (f: Figure, digits = 0): string => f.runs.map((v) => v.toFixed(digits)).join(', ');
  return [
    `- End to end: ${e2e.requests.toLocaleString('en')} requests (init, ${e2e.puts.toLocaleString('en')} puts, ${e2e.gets.toLocaleString('en')} gets, ${e2e.scans.toLocaleString('en')} scans, one memtable_stats), ${(e2e.inputBytes / 2 ** 20).toFixed(1)} MiB of input, keys from ${e2e.keyspace.toLocaleString('en')}; ` +
      `\`node dist/cli.js ${e2e.cliArgs.join(' ').replace('DATA_DIR', '<fresh tmp dir>')}\`. Runs (msg/s): CLI ${fmtRuns(e2e.cli)}; echo ${fmtRuns(e2e.echo)}. MemTables frozen in each CLI run: ${e2e.freezes.join(', ')}; of those, flushed to SSTables by the last reply: ${e2e.sstables.join(', ')} (the others were still flushing, so part of their cost falls after the clock stops).`,
    `- Flush: a MemTable of ${flush.entries.toLocaleString('en')} entries (${flush.accountedBytes.toLocaleString('en')} accounted bytes) becomes a ${flush.fileBytes.toLocaleString('en')}-byte SSTable. Runs (MB/s): SSTable ${fmtRuns(flush.sstable, 1)}; raw ${fmtRuns(flush.raw, 1)}.`,
  ].join('\n');
}

export function methodology(r: BenchResults): string {
  const o = r.memtable.options;
  return `- **MemTable** (${o.runs} run${o.runs > 1 ? 's' : ''} of every figure; the median is reported). Each run of each structure at each key count is a fresh \`node --expose-gc\` child, so no structure inherits another's heap or JIT state. Keys are \`user:\` + 8 hex digits (distinct, random order), values ${MEMTABLE_VALUE_BYTES}-byte JSON strings; every structure gets the same strings and orders them by native \`<\`. A child first warms up on a separate data set (≥ 300k puts, gets and scans), then times: **put** = building the structure from empty (upsert; repeated on fresh structures up to 300k puts for small sizes; GC included); **get** = ${o.lookups.toLocaleString('en')} present keys (or all, if fewer) in another random order, looked up with equal but distinct string objects (as a parsed request carries); **scan** = ${o.scans.toLocaleString('en')} × seekGE to an absent key then ${SCAN_LENGTH} entries read (key and value). Peers: sorted-btree with its \`simpleComparator\` and \`forRange\` + \`{break}\`; @js-sdsl/ordered-map with \`setElement\`/\`getElementByKey\`/\`lowerBound\` + iterator \`pointer\`; functional-red-black-tree with \`find\` + \`update\`/\`insert\` for upserts (insert alone would keep duplicates), \`get\`, \`ge\` + iterator.
- **Bytes per entry**: a fresh child per structure and run builds ${keyCount(o.memorySize)} entries; (heapUsed + external) after two forced GCs minus the same before any key existed, divided by entries. \`external\` holds typed-array backing stores (our skip list's links), which heapUsed misses; Node's \`arrayBuffers\` is a subset of \`external\`, so it is not added again.
- **End to end**: the session is fed over a pipe in 1 MiB writes honouring backpressure; init is sent alone and answered before the clock starts (so process start-up and opening the store are not counted); the clock then runs from the first byte written to the last expected reply line read (the reader only counts newlines meanwhile), and throughput counts the requests after init. Afterwards every reply is parsed: exactly one per request (by \`in_reply_to\`), no errors, or the bench fails. Requests: 50% memtable_put, 48% memtable_get, 2% memtable_scan (start key + limit ${E2E_SCAN_LIMIT}), ${E2E_VALUE_BYTES}-byte values, keys drawn from a keyspace sized so the default 4 MiB MemTable freezes several times (so flushes run during the measurement). The echo node (bench/echoNode.ts) reads lines, \`JSON.parse\`s them and answers \`{src, dest, body: {type: type + "_ok", msg_id, in_reply_to}}\` via \`JSON.stringify\`, one batched write per input chunk, pausing input until \`drain\`: the practical limit of a Node process on this pipe. Runs alternate echo and CLI.
- **Flush**: in one fresh child, \`writeSSTable\` (src/storage/sstable/writer.ts) over a MemTable filled to 4 MiB accounted with the end-to-end key/value shape, timed from open to close including its fdatasync, as file bytes per second; against a raw write of the same byte count (256 KiB writes, fdatasync, close) into the same directory. One untimed warm-up of each, then runs alternate.`;
}

export function targetsSummary(r: BenchResults): { pass: number; total: number } {
  const text = targetsTable(r);
  return { pass: (text.match(/\*\*PASS\*\*/g) ?? []).length, total: (text.match(/\*\*(PASS|MISS)\*\*/g) ?? []).length };
}
