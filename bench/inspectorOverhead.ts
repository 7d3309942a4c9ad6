/**
 * npm run bench:inspector [-- [--messages N] [--runs N]]
 *
 * What `--inspect` costs a node under full load: the same Maelstrom session
 * (driveSession, e2eBench.ts) through the node alone and through the node
 * streaming to a real `memtable-node inspector` process, runs alternated so
 * drift in the machine's load hits both alike. Prints messages a second of
 * each (medians) and their ratio; the target is at least 0.9.
 * The node runs with a small MemTable (256 KiB) so it flushes often and the
 * inspector sees flushes and a growing L0, not just requests.
 *
 * Wall-clock throughput swings with whatever else the machine runs, so the
 * node's CPU time per message is measured too (the children's times the
 * kernel adds to /proc/self/stat once a child is reaped): on a busy machine
 * it is the steadier figure of what inspection costs the node.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { driveSession } from './e2eBench.js';
import { median } from './stats.js';
import { maelstromSession } from './workload.js';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '300000' }, runs: { type: 'string', default: '5' } } });
const messages = Number(values.messages);
const runs = Number(values.runs);
if (!(Number.isInteger(messages) && messages > 0 && Number.isInteger(runs) && runs > 0)) {
  process.stderr.write('usage: npm run bench:inspector [-- [--messages N] [--runs N]]\n');
  process.exit(2);
}

// Compiled to dist/.bench/bench/inspectorOverhead.js: the repository is three levels up.
const cli = join(fileURLToPath(new URL('../../../', import.meta.url)), 'dist', 'cli.js');
const nodeArgs = [cli, '--memtable-max-bytes', String(256 * 1024)];

/** Starts `memtable-node inspector` on a free port; resolves with its ws:// URL and a stop function. */
async function startInspector(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, [cli, 'inspector', '--port', '0', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
      const found = /--inspect (ws:\/\/\S+)/.exec(stderr);
      if (found) resolve(found[1]);
    });
    child.on('close', (code) => reject(new Error(`inspector exited ${code}: ${stderr}`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

/** CPU seconds of this process's reaped children so far (cutime + cstime, fields 16 and 17 of /proc/self/stat). */
function childrenCpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** Messages a second and CPU microseconds a message of one session through the node with `args`. */
async function measure(args: string[]): Promise<{ rate: number; cpuMicros: number }> {
  const cpuBefore = childrenCpuSeconds();
  const { messagesPerSecond } = await driveSession(process.execPath, args, session);
  return { rate: messagesPerSecond, cpuMicros: ((childrenCpuSeconds() - cpuBefore) * 1e6) / session.requests };
}

// As the end-to-end bench: as many distinct keys as messages.
const session = maelstromSession(messages, messages, 11);
const inspector = await startInspector();
const httpBase = inspector.url.replace('ws://', 'http://');
const alone: Array<{ rate: number; cpuMicros: number }> = [];
const inspected: Array<{ rate: number; cpuMicros: number }> = [];
const show = (run: { rate: number; cpuMicros: number }): string => `${run.rate.toFixed(0)} msg/s, ${run.cpuMicros.toFixed(2)} µs CPU/msg`;
try {
  for (let run = 0; run < runs; run++) {
    alone.push(await measure(nodeArgs));
    inspected.push(await measure([...nodeArgs, '--inspect', inspector.url]));
    process.stderr.write(`run ${run + 1}/${runs}: alone ${show(alone[run])}; inspected ${show(inspected[run])}\n`);
  }
  // The inspector must really have been listening: every inspected run is one node it heard from.
  const heard = (await (await fetch(`${httpBase}/api/nodes`)).json()) as unknown[];
  if (heard.length !== runs) throw new Error(`the inspector heard from ${heard.length} nodes, expected ${runs}`);
} finally {
  inspector.stop();
}
const rateRatio = median(inspected.map((run) => run.rate)) / median(alone.map((run) => run.rate));
const cpuRatio = median(alone.map((run) => run.cpuMicros)) / median(inspected.map((run) => run.cpuMicros));
process.stdout.write(
  `${messages} messages, ${runs} runs each (medians):\n` +
    `  throughput: alone ${median(alone.map((run) => run.rate)).toFixed(0)} msg/s, inspected ${median(inspected.map((run) => run.rate)).toFixed(0)} msg/s: ${rateRatio.toFixed(3)}x\n` +
    `  node CPU a message: alone ${median(alone.map((run) => run.cpuMicros)).toFixed(2)} µs, inspected ${median(inspected.map((run) => run.cpuMicros)).toFixed(2)} µs: ${cpuRatio.toFixed(3)}x the messages per CPU second\n` +
    `  target >= 0.9x: throughput ${rateRatio >= 0.9 ? 'met' : 'MISSED'}, CPU ${cpuRatio >= 0.9 ? 'met' : 'MISSED'}\n`,
);
