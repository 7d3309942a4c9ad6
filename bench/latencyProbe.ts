/**
 * Paced latency runs with the pause probe (a development aid, not part of
 * npm run bench): the latency bench's load (latencyBench.ts: 20k msg/s, 70%
 * puts, 1 MiB MemTables) against one or more builds of the CLI, the builds
 * alternating within each round, each node started with pauseProbe.js
 * loaded, so every run prints its reply percentiles beside its GC pauses and
 * event-loop stalls measured inside the node.
 *
 *   node dist/.bench/bench/latencyProbe.js ROUNDS SECONDS CLI_JS... [-- NODE_ARGS...]
 *
 * CLI_JS are paths of built `cli.js` files (e.g. dist/cli.js and a copy of
 * an older dist/; a copy outside the repository needs node_modules beside
 * it); NODE_ARGS go after the CLI's own latency flags (default: --sync none).
 * V8 flags for the node (e.g. --max-semi-space-size=4) can be given as a
 * CLI_JS entry `FLAG...@path/cli.js`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LATENCY_MEMTABLE_BYTES, runPaced } from './latencyBench.js';
import type { ProbeReport } from './pauseProbe.js';

const argv = process.argv.slice(2);
const separator = argv.indexOf('--');
const [roundsArg, secondsArg, ...builds] = separator < 0 ? argv : argv.slice(0, separator);
const nodeArgs = separator < 0 ? ['--sync', 'none'] : argv.slice(separator + 1);
const rounds = Number(roundsArg);
const seconds = Number(secondsArg);
if (!(rounds >= 1 && seconds >= 1 && builds.length > 0)) {
  process.stderr.write('usage: latencyProbe.js ROUNDS SECONDS [V8FLAGS@]CLI_JS... [-- NODE_ARGS...]\n');
  process.exit(2);
}

const probe = fileURLToPath(new URL('./pauseProbe.js', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'memtable-latency-probe-'));
const fixed = (n: number): string => n.toFixed(1);
try {
  for (let round = 1; round <= rounds; round++) {
    for (const build of builds) {
      const at = build.lastIndexOf('@');
      const v8Flags = at < 0 ? [] : build.slice(0, at).split(' ').filter(Boolean);
      const cli = at < 0 ? build : build.slice(at + 1);
      const report = join(scratch, 'probe.json');
      process.env.PAUSE_PROBE_OUT = report;
      const args = [...v8Flags, '--import', probe, cli, '--data-dir', 'DATA_DIR', '--memtable-max-bytes', String(LATENCY_MEMTABLE_BYTES), '--log-level', 'warn', ...nodeArgs];
      const run = await runPaced(args, seconds, 8 + round);
      const { gc, loopDelay, stallsPerSecond, stallExcessMsPerSecond } = JSON.parse(readFileSync(report, 'utf8')) as ProbeReport;
      const pauses = Object.entries(gc)
        .map(([kind, s]) => `${kind} ${s.count} (${s.over1Ms} over 1 ms, max ${fixed(s.maxMs)}, past 1 ms ${fixed(s.excessOver1Ms)})`)
        .join('; ');
      process.stdout.write(
        `${round} ${build}: p50 ${run.p50.toFixed(2)} p99 ${fixed(run.p99)} p99.9 ${fixed(run.p999)} max ${fixed(run.max)} ms | ` +
          `loop delay p99 ${fixed(loopDelay.p99)} max ${fixed(loopDelay.max)} ms, stalls ${fixed(stallsPerSecond)}/s past 1 ms ${fixed(stallExcessMsPerSecond)} ms/s | ${pauses}\n`,
      );
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
