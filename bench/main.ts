/**
 * npm run bench [-- [--quick] [--runs N] [--soak [MESSAGES]] [--no-write] [--render] [--help]]
 *
 * Measurement only: issue 14's peers side by side, printed as one table of
 * every target, and (for full runs) regenerated into docs/BENCHMARKS.md and
 * docs/benchmarks.svg. Phases run one after another, never in parallel,
 * since on a 2-core machine two measurements at once would each skew the
 * other:
 *   engine    our Store against LevelDB (classic-level) in one process each
 *   e2e       the CLI against the echo node and a LevelDB node over a pipe
 *   latency   reply latency under a paced load, against the echo node
 *   soak      (only with --soak) a long run of the CLI, charted over time
 *
 *   --quick     small sizes, 1 run: a smoke test in about a minute, not
 *               figures to quote (docs are left alone)
 *   --runs N    runs per figure (default 3; the median is reported)
 *   --soak [N]  also run the soak, N messages (default 10M; long: minutes)
 *   --no-write  print only
 *   --render    rebuild the table and docs from the last run's saved results
 *               (dist/.bench/results.json) without measuring: for work on the report
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeBenchmarkDocs } from './docs.js';
import { e2eNodes, runE2EBench } from './e2eBench.js';
import { runEngineBench } from './engineBench.js';
import { latencyNodes, runLatencyBench } from './latencyBench.js';
import { cpuSnapshot, describeMachine, othersCpuShare } from './machine.js';
import { type BenchResults, e2eDetails, engineDetails, latencyDetails, methodology, soakDetails, targetsSummary, targetsTable } from './report.js';
import { runSoak, SOAK_KEYS, SOAK_MESSAGES, soakPanels } from './soak.js';
import { lineChartSvg, PALETTE } from './svg.js';
import { E2E_MESSAGES } from './workload.js';

const USAGE = 'usage: npm run bench [-- [--quick] [--runs N] [--soak [MESSAGES]] [--no-write] [--render] [--help]]\n';
function exitWithUsage(problem: string): never {
  process.stderr.write(`${problem}\n${USAGE}`);
  process.exit(2);
}
// --soak takes an optional count, which parseArgs cannot express: a number right after it is its value.
const argv = process.argv.slice(2);
const soakAt = argv.indexOf('--soak');
const soakCount = soakAt !== -1 && /^\d+$/.test(argv[soakAt + 1] ?? '') ? Number(argv.splice(soakAt + 1, 1)[0]) : SOAK_MESSAGES;
let parsed;
try {
  parsed = parseArgs({
    args: argv,
    options: {
      soak: { type: 'boolean', default: false },
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
if (!(soakCount >= 1)) exitWithUsage('--soak needs a positive message count');
const write = !flags['no-write'] && !quick;

// Compiled to dist/.bench/bench/main.js: the repository is three levels up.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'dist', 'cli.js');
if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build (npm run bench does)`);
const echo = fileURLToPath(new URL('./echoNode.js', import.meta.url));
const level = fileURLToPath(new URL('./levelNode.js', import.meta.url));

const saved = fileURLToPath(new URL('../results.json', import.meta.url));
const previous = existsSync(saved) ? (JSON.parse(readFileSync(saved, 'utf8')) as BenchResults) : undefined;
if (flags.render && previous === undefined) exitWithUsage(`--render: no saved results at ${saved}`);
const results: BenchResults = flags.render ? previous! : await measure();
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

  const engine = await runEngineBench(
    quick ? { keys: 100_000, gets: 20_000, scans: 2_000, overwrites: 1, runs } : { keys: 1_000_000, gets: 200_000, scans: 20_000, overwrites: 3, runs },
    progress,
  );
  const messages = quick ? 100_000 : E2E_MESSAGES;
  const e2e = await runE2EBench({ nodes: e2eNodes(cli, echo, level), messages, keyspace: messages, runs, progress });
  const latency = await runLatencyBench(latencyNodes(cli, echo), quick ? 3 : 20, runs, progress);
  // A soak not run now keeps the last one measured (it carries its own date; a quick one never reaches the docs).
  const soak = flags.soak ? { ...(await runSoak(cli, quick ? Math.min(soakCount, 1_000_000) : soakCount, SOAK_KEYS, progress)), quick } : previous?.soak;

  const seconds = (Date.now() - started) / 1000;
  const othersShare = othersCpuShare(cpuAtStart, cpuSnapshot(), seconds, machine.cores);
  progress(`other processes used ${(othersShare * 100).toFixed(0)}% of the machine's CPU during the bench`);
  return { quick, date: new Date().toISOString(), seconds, machine: { ...machine, othersCpuShare: othersShare }, engine, e2e, latency, ...(soak === undefined ? {} : { soak }) };
}

function render(results: BenchResults, toDocs: boolean): void {
  const runs = results.engine.options.runs;
  let { pass, total } = targetsSummary(results);
  let headline = targetsTable(results);

  process.stdout.write(`\n${headline}\n\n${pass}/${total} targets met. Ratios are ours ÷ theirs; medians of ${runs} run${runs > 1 ? 's' : ''}; ${results.seconds.toFixed(0)} s.\n`);
  if (!toDocs) return;

  // A soak kept from a --quick run is a smoke test: the docs judge only real ones.
  if (results.soak?.quick === true) results = { ...results, soak: undefined };
  ({ pass, total } = targetsSummary(results));
  headline = targetsTable(results);
  const m = results.machine;
  const busy =
    m.othersCpuShare > 0.1
      ? `\n\n> The machine was not idle: other processes used ${(m.othersCpuShare * 100).toFixed(0)}% of its ${m.cores} cores' time while the bench ran, so single runs vary widely (see the runs in small print) and ratios are rougher than they look.`
      : ` Other processes used ${(m.othersCpuShare * 100).toFixed(0)}% of the CPU meanwhile.`;
  const soak = results.soak;
  const generated = `## Results

Generated by \`npm run bench\` on ${results.date.slice(0, 10)} (${results.date}), in ${results.seconds.toFixed(0)} s.
Machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.kernel}; temporary files on ${m.tmpFs}.${busy}

${pass} of ${total} targets met. Ratios are ours ÷ theirs (for throughput above 1 means we are faster; for bytes and milliseconds below 1 means we are smaller or quicker); each figure is the median of ${runs} runs.${soak === undefined ? ' No soak has been run (`npm run bench -- --soak`).' : ''}

${headline}

![Reply latency percentiles under a paced load](benchmarks.svg)

### The engine against LevelDB

${engineDetails(results)}

### End to end over a pipe

${e2eDetails(results)}

### Latency under a paced load

${latencyDetails(results)}
${soak === undefined ? '' : `\n### Sustained load\n\n${soakDetails(soak)}\n`}
### How each figure was measured

${methodology(results)}
`;
  const latencySvg = lineChartSvg(`Reply latency at ${results.latency.rate / 1000}k msg/s (median of runs; lower is better)`, [
    {
      title: 'latency (ms, log scale)',
      xLabel: 'percentile',
      logY: true,
      xCategories: ['p50', 'p99', 'p99.9', 'max'],
      series: results.latency.nodes.map((node, i) => ({ label: node.label.replace(/`/g, ''), color: PALETTE[i % PALETTE.length], points: [node.p50, node.p99, node.p999, node.max].map((f, k) => [k, f.median]) })),
    },
  ]);
  const soakSvg = soak === undefined ? undefined : lineChartSvg(`Soak: ${soak.messages.toLocaleString('en')} messages through the CLI`, soakPanels(soak));
  writeBenchmarkDocs(root, generated, latencySvg, soakSvg);
  process.stderr.write('wrote docs/BENCHMARKS.md and its charts\n');
}
