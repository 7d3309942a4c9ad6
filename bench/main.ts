/**
 * npm run bench [-- [--quick] [--runs N] [--no-write] [--render] [--help]]
 *
 * Measurement only: prints one table of every figure with its target, and
 * (for full runs) regenerates docs/BENCHMARKS.md and docs/benchmarks.svg.
 * Phases run one after another, never in parallel, since on a 2-core
 * machine two measurements at once would each skew the other.
 *
 *   --quick     10k and 100k keys, 1 run, a short session: a smoke test in
 *               under a minute, not figures to quote (docs are left alone)
 *   --runs N    runs per figure (default 3; the median is reported)
 *   --no-write  print only
 *   --render    rebuild the table and docs from the last run's saved results
 *               (dist/.bench/results.json) without measuring: for work on the report
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeBenchmarkDocs } from './docs.js';
import { runE2EBench } from './e2eBench.js';
import { runFlushBench } from './flushBench.js';
import { cpuSnapshot, describeMachine, othersCpuShare } from './machine.js';
import { runMemTableBench } from './memtableBench.js';
import { type BenchResults, detailTables, methodology, systemDetails, targetsSummary, targetsTable } from './report.js';
import { chartSvg } from './svg.js';
import { E2E_MESSAGES, e2eKeyspace } from './workload.js';

const USAGE = 'usage: npm run bench [-- [--quick] [--runs N] [--no-write] [--render] [--help]]\n';
function exitWithUsage(problem: string): never {
  process.stderr.write(`${problem}\n${USAGE}`);
  process.exit(2);
}
let parsed;
try {
  parsed = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      runs: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
      render: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
} catch (error) {
  exitWithUsage((error as Error).message);
}
const flags = parsed.values;
if (flags.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const quick = flags.quick!;
const runs = flags.runs !== undefined ? Number(flags.runs) : quick ? 1 : 3;
if (!(Number.isInteger(runs) && runs >= 1)) exitWithUsage('--runs must be a positive integer');
const write = !flags['no-write'] && !quick;

// Compiled to dist/.bench/bench/main.js: the repository is three levels up.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'dist', 'cli.js');
if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build (npm run bench does)`);
const echo = fileURLToPath(new URL('./echoNode.js', import.meta.url));

const saved = fileURLToPath(new URL('../results.json', import.meta.url));
const results: BenchResults = flags.render ? (JSON.parse(readFileSync(saved, 'utf8')) as BenchResults) : await measure();
writeFileSync(saved, JSON.stringify(results, null, 1));
render(results, write && !results.quick);

async function measure(): Promise<BenchResults> {
  const started = Date.now();
  const cpuAtStart = cpuSnapshot();
  const progress = (line: string): void => {
    process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}\n`);
  };

  const machine = describeMachine();
  progress(`${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load average ${machine.loadAtStart.toFixed(2)}${quick ? ' (quick)' : ''}`);

  const memtable = await runMemTableBench({
    sizes: quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000],
    runs,
    lookups: quick ? 100_000 : 300_000,
    scans: quick ? 5_000 : 20_000,
    memorySize: quick ? 100_000 : 1_000_000,
    progress,
  });

  const messages = quick ? 60_000 : E2E_MESSAGES;
  const e2e = await runE2EBench({ cli, echo, messages, keyspace: e2eKeyspace(messages), runs, progress });

  const flush = await runFlushBench(quick ? 1 : Math.max(runs, 5));
  progress(`flush: SSTable ${flush.sstable.median.toFixed(1)} MB/s, raw ${flush.raw.median.toFixed(1)} MB/s`);

  const seconds = (Date.now() - started) / 1000;
  const othersShare = othersCpuShare(cpuAtStart, cpuSnapshot(), seconds, machine.cores);
  progress(`other processes used ${(othersShare * 100).toFixed(0)}% of the machine's CPU during the bench`);
  return { quick, date: new Date().toISOString(), seconds, machine: { ...machine, othersCpuShare: othersShare }, memtable, e2e, flush };
}

function render(results: BenchResults, toDocs: boolean): void {
  const runs = results.memtable.options.runs;
  const { pass, total } = targetsSummary(results);
  const headline = targetsTable(results);

  process.stdout.write(`\n${headline}\n\n${pass}/${total} targets met. Ratios are ours ÷ theirs; medians of ${runs} run${runs > 1 ? 's' : ''}; ${results.seconds.toFixed(0)} s.\n`);
  if (!toDocs) return;

  const m = results.machine;
  const busy =
    m.othersCpuShare > 0.1
      ? `\n\n> The machine was not idle: other processes used ${(m.othersCpuShare * 100).toFixed(0)}% of its ${m.cores} cores' time while the bench ran, so single runs vary widely (see the ranges below) and ratios are rougher than they look.`
      : ` Other processes used ${(m.othersCpuShare * 100).toFixed(0)}% of the CPU meanwhile.`;
  const generated = `## Results

Generated by \`npm run bench\` on ${results.date.slice(0, 10)} (${results.date}), in ${results.seconds.toFixed(0)} s.
Machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.kernel}; temporary files on ${m.tmpFs}.${busy}

${pass} of ${total} targets met. Ratios are ours ÷ theirs (above 1: we are faster; for bytes, below 1: we are smaller); each figure is the median of ${runs} runs.

${headline}

![MemTable throughput against key count](benchmarks.svg)

### Every key count

${detailTables(results)}

### End to end and flush

${systemDetails(results)}

### How each figure was measured

${methodology(results)}
`;
  writeBenchmarkDocs(root, generated, chartSvg(results.memtable, 'MemTable throughput by key count (median ops/s; higher is better)'));
  process.stderr.write('wrote docs/BENCHMARKS.md and docs/benchmarks.svg\n');
}
