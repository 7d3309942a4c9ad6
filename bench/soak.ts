/**
 * A long run through the CLI (a development aid, not part of npm run bench):
 * the end-to-end bench's message mix, MESSAGES of them (default 3M, keys
 * from 0.75x as many), fed over a pipe with backpressure to
 * `node dist/cli.js --data-dir <fresh tmp dir> --sync always`. Every 2 s it
 * prints the replies so far, the rate since the last line and the node's
 * resident memory; at the end, the wall time and the error replies (there
 * should be none). With no compaction, SSTables pile up as it runs: this is
 * what showed scans thrashing the block cache (docs/BENCHMARKS.md).
 *
 *   node soak.js [MESSAGES] [CLI]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { e2eKeyspace, maelstromSession } from './workload.js';

const WRITE_SLICE = 1 << 20;
const REPORT_EVERY_MS = 2000;

/** Resident memory of process `pid` in MiB, from /proc (0 where there is none). */
function residentMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

const messages = Number(process.argv[2] ?? 3_000_000);
// Compiled to dist/.bench/bench/soak.js: the repository is three levels up.
const cli = process.argv[3] ?? fileURLToPath(new URL('../../../dist/cli.js', import.meta.url));
const session = maelstromSession(messages, e2eKeyspace(messages), 7);
const dataDir = mkdtempSync(join(tmpdir(), 'memtable-soak-'));
const child = spawn(process.execPath, [cli, '--data-dir', dataDir, '--sync', 'always', '--log-level', 'warn'], { stdio: ['pipe', 'pipe', 'inherit'] });

let replies = 0;
let errors = 0;
let carry = '';
child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
  const lines = (carry + chunk).split('\n');
  carry = lines.pop()!;
  replies += lines.length;
  for (const line of lines) if (line.includes('"type":"error"')) errors++;
});

const started = Date.now();
let lastAt = started;
let lastReplies = 0;
const reporter = setInterval(() => {
  const now = Date.now();
  const rate = (replies - lastReplies) / ((now - lastAt) / 1000);
  process.stdout.write(`${((now - started) / 1000).toFixed(0)} s: ${replies} replies, ${Math.round(rate)} msg/s, ${residentMiB(child.pid!).toFixed(0)} MiB resident\n`);
  lastAt = now;
  lastReplies = replies;
}, REPORT_EVERY_MS);

child.on('close', (code) => {
  clearInterval(reporter);
  process.stdout.write(`exit ${code}: ${replies} replies to ${session.requests} requests, ${errors} errors, in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  rmSync(dataDir, { recursive: true, force: true });
  if (code !== 0 || replies !== session.requests || errors !== 0) process.exitCode = 1;
});

child.stdin.on('error', () => {}); // EPIPE if the node dies: reported on close
let offset = 0;
const pump = (): void => {
  while (offset < session.input.length) {
    const ok = child.stdin.write(session.input.subarray(offset, offset + WRITE_SLICE));
    offset += WRITE_SLICE;
    if (!ok) {
      child.stdin.once('drain', pump);
      return;
    }
  }
  child.stdin.end();
};
pump();
