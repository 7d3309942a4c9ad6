/**
 * Turns results into the tables printed on stdout and written to
 * docs/BENCHMARKS.md, with issue 14's targets judged PASS or MISS. Ratios
 * are ours ÷ theirs: above 1 we are faster (for bytes and milliseconds,
 * below 1 we are smaller or quicker).
 */
import type { E2EResults } from './e2eBench.js';
import type { EngineResults } from './engineBench.js';
import type { LatencyResults } from './latencyBench.js';
import type { Machine } from './machine.js';
import { DEFAULT_COMPACTION_OPTIONS } from '../src/storage/compaction/compactor.js';
import type { SoakResults } from './soak.js';
import type { Figure } from './stats.js';
import { E2E_SCAN_LIMIT, E2E_VALUE_BYTES, ENGINE_BATCH, ENGINE_VALUE_BYTES, SCAN_LENGTH } from './workload.js';
import { LATENCY_KEYS, LATENCY_MEMTABLE_BYTES, LATENCY_PUT_SHARE, LATENCY_VALUE_BYTES } from './latencyBench.js';

export interface BenchResults {
  quick: boolean;
  date: string;
  seconds: number;
  machine: Machine;
  engine: EngineResults;
  e2e: E2EResults;
  latency: LatencyResults;
  /** The last soak run (`--soak`), carried over from an earlier invocation when this one ran none. */
  soak?: SoakResults;
}

/** The node's default --l0-stop-trigger, which the soak runs with. */
const L0_STOP_TRIGGER = DEFAULT_COMPACTION_OPTIONS.l0StopTrigger;

export const TARGET = { engine: 1.0, durable: 2.0, inMemory: 0.75, p99: 2.0, maxMs: 50, lastMinute: 0.8, rss: 1.2, disk: 1.5, autoVsManualP99: 1.5 };

/** A rate in short form: 1.23M, 456k, 12.3k. */
export function ops(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(n >= 1e5 ? 0 : 1)}k`;
  return n.toFixed(0);
}

/** A count in short form: 1M, 100k. */
export function count(n: number): string {
  return n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n);
}

const x = (ratio: number): string => `${ratio.toFixed(2)}x`;
const ms = (v: number): string => `${v.toFixed(v < 10 ? 2 : 1)} ms`;
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
const verdict = (pass: boolean): string => (pass ? '**PASS**' : '**MISS**');

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function e2eNode(r: BenchResults, name: string): Figure {
  const node = r.e2e.nodes.find((n) => n.name === name);
  if (node === undefined) throw new Error(`no end-to-end node named ${name}`);
  return node.throughput;
}

function latencyNode(r: BenchResults, name: string) {
  const node = r.latency.nodes.find((n) => n.name === name);
  if (node === undefined) throw new Error(`no latency node named ${name}`);
  return node;
}

/** The headline: every target of issue 14, one row each, judged. */
export function targetsTable(r: BenchResults): string {
  const { ours, leveldb } = r.engine.engines;
  const keys = count(r.engine.options.keys);
  const rows: string[][] = [];
  const engineRow = (label: string, a: Figure, b: Figure): void => {
    const ratio = a.median / b.median;
    rows.push([`engine: ${label}, ${keys} keys (ops/s)`, ops(a.median), `${ops(b.median)} (LevelDB)`, x(ratio), `≥ ${TARGET.engine.toFixed(1)}x`, verdict(ratio >= TARGET.engine)]);
  };
  engineRow(`put, batches of ${ENGINE_BATCH} until quiescent`, ours.put, leveldb.put);
  engineRow('get, present keys', ours.getPresent, leveldb.getPresent);
  engineRow('get, absent keys', ours.getAbsent, leveldb.getAbsent);
  engineRow(`seek + ${SCAN_LENGTH}-entry scan`, ours.scan, leveldb.scan);

  const durable = e2eNode(r, 'oursDurable').median / e2eNode(r, 'levelDurable').median;
  rows.push(['end to end, durable (msg/s)', ops(e2eNode(r, 'oursDurable').median), `${ops(e2eNode(r, 'levelDurable').median)} (LevelDB node, \`sync: true\`)`, x(durable), `≥ ${TARGET.durable.toFixed(1)}x`, verdict(durable >= TARGET.durable)]);
  const inMemory = e2eNode(r, 'ours').median / e2eNode(r, 'echo').median;
  rows.push(['end to end, default settings (msg/s)', ops(e2eNode(r, 'ours').median), `${ops(e2eNode(r, 'echo').median)} (echo node)`, x(inMemory), `≥ ${TARGET.inMemory}x`, verdict(inMemory >= TARGET.inMemory)]);

  const none = latencyNode(r, 'syncNone');
  const echo = latencyNode(r, 'echo');
  const p99 = none.p99.median / echo.p99.median;
  rows.push([`latency at ${ops(r.latency.rate)} msg/s, p99, \`--sync none\``, ms(none.p99.median), `${ms(echo.p99.median)} (echo node)`, x(p99), `≤ ${TARGET.p99.toFixed(1)}x`, verdict(p99 <= TARGET.p99)]);
  rows.push([`latency at ${ops(r.latency.rate)} msg/s, max, \`--sync none\``, ms(none.max.median), `${ms(echo.max.median)} (echo node)`, x(none.max.median / echo.max.median), `≤ ${TARGET.maxMs} ms`, verdict(none.max.median <= TARGET.maxMs)]);

  // Issue 13's comparison, judged once latencyNodes has an entry named 'manual' (`--compaction manual` on the same load).
  const manual = r.latency.nodes.find((n) => n.name === 'manual');
  if (manual !== undefined) {
    const ratio = none.p99.median / manual.p99.median;
    rows.push(['latency p99, automatic compaction against `--compaction manual`', ms(none.p99.median), `${ms(manual.p99.median)} (manual)`, x(ratio), `≤ ${TARGET.autoVsManualP99}x`, verdict(ratio <= TARGET.autoVsManualP99)]);
  }

  const s = r.soak;
  if (s !== undefined) {
    const soak = `soak (${count(s.messages)} messages)`;
    const rate = s.lastMinuteRate / s.firstMinuteRate;
    rows.push([`${soak}: last minute (msg/s)`, ops(s.lastMinuteRate), `${ops(s.firstMinuteRate)} (first minute)`, x(rate), `≥ ${TARGET.lastMinute}x`, verdict(rate >= TARGET.lastMinute)]);
    const rss = s.rssMaxAfter / s.rssAfterFirstMinute;
    rows.push([`${soak}: most RSS after the first minute`, `${s.rssMaxAfter.toFixed(0)} MiB`, `${s.rssAfterFirstMinute.toFixed(0)} MiB (at 1 minute)`, x(rss), `≤ ${TARGET.rss}x`, verdict(rss <= TARGET.rss)]);
    const disk = s.finalDiskBytes / s.liveBytes;
    rows.push([`${soak}: disk at the end`, mb(s.finalDiskBytes), `${mb(s.liveBytes)} (live keys + values)`, x(disk), `≤ ${TARGET.disk}x`, verdict(disk <= TARGET.disk)]);
    // Issue 13: L0 never reaches the stop trigger (writes would wait outright), read from the MANIFEST at every sample.
    rows.push([`${soak}: most L0 files at any sample`, String(s.maxL0), `${L0_STOP_TRIGGER} (--l0-stop-trigger)`, x(s.maxL0 / L0_STOP_TRIGGER), '< 1.0x', verdict(s.maxL0 < L0_STOP_TRIGGER)]);
  }
  return table(['figure', 'memtable-node', 'peer', 'ratio', 'target', 'result'], rows);
}

function spread(f: Figure, format: (v: number) => string): string {
  return f.runs.length > 1 ? ` <sub>${f.runs.map(format).join(', ')}</sub>` : '';
}

/** The engine's every figure, both engines, with the runs behind each median. */
export function engineDetails(r: BenchResults): string {
  const { ours, leveldb } = r.engine.engines;
  const cell = (f: Figure, format: (v: number) => string = ops): string => `${format(f.median)}${spread(f, format)}`;
  const rows: string[][] = [
    ['put (load, until quiescent), ops/s', cell(ours.put), cell(leveldb.put), x(ours.put.median / leveldb.put.median)],
    [`overwrite every key ${r.engine.options.overwrites}x (until quiescent), ops/s`, cell(ours.overwrite), cell(leveldb.overwrite), x(ours.overwrite.median / leveldb.overwrite.median)],
    ['get, present keys, ops/s', cell(ours.getPresent), cell(leveldb.getPresent), x(ours.getPresent.median / leveldb.getPresent.median)],
    ['get, absent keys, ops/s', cell(ours.getAbsent), cell(leveldb.getAbsent), x(ours.getAbsent.median / leveldb.getAbsent.median)],
    [`seek + ${SCAN_LENGTH}-entry scan, ops/s`, cell(ours.scan), cell(leveldb.scan), x(ours.scan.median / leveldb.scan.median)],
  ];
  const amp = (e: typeof ours): Record<string, Figure> => ({
    loaded: ratioFigure(e.diskAfterLoad, e.userBytesLoad),
    overwritten: ratioFigure(e.diskAfterOverwrite, e.userBytesLoad),
    writeLoad: ratioFigure(e.writtenLoad, e.userBytesLoad),
    writeTotal: ratioFigure(e.writtenTotal, e.userBytesTotal),
  });
  const [a, b] = [amp(ours), amp(leveldb)];
  const fixed = (v: number): string => v.toFixed(2);
  rows.push(
    ['disk ÷ live data after loading (space amplification)', cell(a.loaded, fixed), cell(b.loaded, fixed), x(a.loaded.median / b.loaded.median)],
    [`disk ÷ live data after overwriting every key ${r.engine.options.overwrites}x`, cell(a.overwritten, fixed), cell(b.overwritten, fixed), x(a.overwritten.median / b.overwritten.median)],
    ['bytes written ÷ user bytes, load (write amplification)', cell(a.writeLoad, fixed), cell(b.writeLoad, fixed), x(a.writeLoad.median / b.writeLoad.median)],
    ['bytes written ÷ user bytes, load and overwrites', cell(a.writeTotal, fixed), cell(b.writeTotal, fixed), x(a.writeTotal.median / b.writeTotal.median)],
    ['SSTables at the end', String(ours.tables.median), `${leveldb.tables.median} (per level: ${leveldb.levels[0]?.join(' / ') ?? '?'})`, ''],
  );
  return table(['figure', 'memtable-node Store', 'LevelDB (classic-level)', 'ours ÷ LevelDB'], rows);
}

function ratioFigure(numerator: Figure, denominator: Figure): Figure {
  const runs = numerator.runs.map((v, i) => v / denominator.runs[i]);
  const sorted = [...runs].sort((p, q) => p - q);
  const mid = sorted.length >> 1;
  return { runs, median: sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2 };
}

/** Every end-to-end node's throughput, with its runs and its ratio to the echo node. */
export function e2eDetails(r: BenchResults): string {
  const rows = r.e2e.nodes.map((node) => [
    node.label,
    `${ops(node.throughput.median)}${spread(node.throughput, ops)}`,
    x(node.throughput.median / e2eNode(r, 'echo').median),
    node.sstables.some((n) => n > 0) ? `${node.freezes.join(', ')} frozen; ${node.sstables.join(', ')} on disk at the last reply` : '',
  ]);
  return table(['node', 'msg/s (runs)', '÷ echo node', 'MemTables'], rows);
}

/** Every paced node's percentiles, with their runs. */
export function latencyDetails(r: BenchResults): string {
  const rows = r.latency.nodes.map((node) => [node.label, ...[node.p50, node.p99, node.p999, node.max].map((f) => `${ms(f.median)}${spread(f, (v) => v.toFixed(1))}`)]);
  return table(['node', 'p50', 'p99', 'p99.9', 'max'], rows);
}

/** The soak's settings, chart and about a dozen of its samples. */
export function soakDetails(s: SoakResults): string {
  const every = Math.max(1, Math.ceil(s.samples.length / 12));
  const rows = s.samples
    .filter((_, i) => i % every === 0 || i === s.samples.length - 1)
    .map((p) => [p.seconds.toFixed(0), ops(p.replies), ops(p.rate), p.rssMiB.toFixed(0), mb(p.diskBytes), String(p.sstables), String(p.l0)]);
  return (
    `Run on ${s.date.slice(0, 16).replace('T', ' ')} UTC: ${s.messages.toLocaleString('en')} messages of the end-to-end mix over ${s.keys.toLocaleString('en')} keys, ` +
    `\`node dist/cli.js ${s.nodeArgs.join(' ')}\`, ${s.seconds.toFixed(0)} s; live data at the end ${mb(s.liveBytes)}; at most ${s.maxL0} SSTables in L0.\n\n` +
    `![Soak: throughput, RSS, disk and SSTables over time](soak.svg)\n\n` +
    table(['s', 'replies', 'msg/s', 'RSS MiB', 'disk', 'SSTables', 'L0'], rows)
  );
}

/** How each figure was measured, with this run's sizes. */
export function methodology(r: BenchResults): string {
  const e = r.engine.options;
  const l = r.latency;
  return `- **Engine** (${e.runs} run${e.runs > 1 ? 's' : ''}; medians). Each run of each engine is a fresh Node process (\`bench/engineChild.ts\`), the engines alternating, on the same data: ${e.keys.toLocaleString('en')} keys \`user:\` + 8 hex digits in random order, values a ${ENGINE_VALUE_BYTES}-byte JSON string of random hex digits (the same bytes for both engines; nothing for LevelDB's Snappy to win). **put**: batches of ${ENGINE_BATCH}, no fsync: our Store (\`Store.open\`, \`put\`, \`writeWal\` with \`sync: false\`, 4 MiB MemTables; flushes and compactions run in the background side by side as in the node and are waited for only when writes stall, and a batch waits 1 ms first while L0 is at its slowdown trigger, as the node's write groups and LevelDB's do: \`bench/engineDriver.ts\`) against classic-level's \`batch()\` (its log written unsynced, 4 MiB write buffer); the clock stops when the engine is quiescent: for ours when neither background loop has anything left to do, for LevelDB at its last write to disk once nothing was written for 1 s (polled every 10 ms). **get**: ${e.gets.toLocaleString('en')} present keys in another random order, then as many absent keys (fresh strings; ours \`Store.get\`, LevelDB \`getSync\`). **scan**: ${e.scans.toLocaleString('en')} seeks to a random key, each reading ${SCAN_LENGTH} entries (ours \`Store.scan\` with a limit; LevelDB one iterator, \`seek\` then \`nextv(${SCAN_LENGTH})\`). Then every key is overwritten ${e.overwrites} times, until quiescent. Disk bytes are the sizes of every file in the folder; live data is the keys and values of one version of every key. Bytes written are \`/proc/self/io\` \`wchar\` (every byte the process, all threads, passed to write calls: WAL or log, SSTables, MANIFEST) over the user bytes put.
- **End to end** (${r.e2e.nodes[0].throughput.runs.length} runs, nodes alternating): ${r.e2e.requests.toLocaleString('en')} requests (init, ${r.e2e.puts.toLocaleString('en')} puts, ${r.e2e.gets.toLocaleString('en')} gets, ${r.e2e.scans.toLocaleString('en')} scans of limit ${E2E_SCAN_LIMIT}, one memtable_stats) over ${r.e2e.keyspace.toLocaleString('en')} keys, ${E2E_VALUE_BYTES}-byte values, ${(r.e2e.inputBytes / 2 ** 20).toFixed(0)} MiB of input, fed over a pipe in 1 MiB writes honouring backpressure. Init is answered before the clock starts; it stops at the last expected reply line; afterwards every reply is checked (one per request, no errors). The echo node (\`bench/echoNode.ts\`) parses each line and answers with \`JSON.stringify\`; the LevelDB node (\`bench/levelNode.ts\`) serves the same messages on classic-level: one batch per stdin chunk (\`sync: true\` when durable) before the chunk's replies leave, \`getSync\` for gets, an iterator for scans, the chunk's own pending puts merged in.
- **Latency** (${l.nodes[0].p99.runs.length} runs, nodes alternating; medians of each percentile): ${ops(l.rate)} messages a second for ${l.seconds} s after a 2 s warm-up (${l.counted.toLocaleString('en')} counted), ${Math.round(LATENCY_PUT_SHARE * 100)}% puts of ${LATENCY_VALUE_BYTES}-byte values and the rest gets, over ${LATENCY_KEYS.toLocaleString('en')} keys; our node with \`--data-dir\` and ${LATENCY_MEMTABLE_BYTES / 2 ** 20} MiB MemTables (a flush about every half second). Lines are written on a 1 ms timer whatever the node does; a message's latency runs from the write of its line to the arrival of its reply.
- **Soak** (\`--soak [N]\`, \`bench/soak.ts\`): the end-to-end mix generated as it is sent, sampled every 10 s (replies, the node's RSS from /proc, the bytes of every file in its data folder, its \`.sst\` files). First and last minute are the first and last six whole 10 s intervals.`;
}

/** How many targets the headline judged, and how many of them passed. */
export function targetsSummary(r: BenchResults): { pass: number; total: number } {
  const text = targetsTable(r);
  return { pass: (text.match(/\*\*PASS\*\*/g) ?? []).length, total: (text.match(/\*\*(PASS|MISS)\*\*/g) ?? []).length };
}
