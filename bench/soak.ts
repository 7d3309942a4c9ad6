/**
 * Sustained load (issue 14): the end-to-end bench's message mix, MESSAGES of
 * them over KEYS keys (overwrite-heavy: each key is put about MESSAGES / 2 /
 * KEYS times), generated as it is sent and fed over a pipe with backpressure
 * to `node dist/cli.js --data-dir <fresh tmp dir> --sync always`. Every
 * SAMPLE_SECONDS it records the replies so far, the node's resident memory,
 * the bytes of every file in its folder and its SSTables (all, and L0). At
 * the end: the last minute's throughput against the first's, RSS against
 * its level after the first minute, and disk against the live data.
 *
 * Run by `npm run bench -- --soak [MESSAGES]` (then charted in
 * docs/soak.svg), or alone: `node dist/.bench/bench/soak.js [MESSAGES] [KEYS]`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeFileSystem } from '../src/storage/env/fileSystem.js';
import { readVersionState } from '../src/storage/version/versionSet.js';
import { PALETTE, type Panel } from './svg.js';
import { E2E_VALUE_BYTES, type SessionCounts, sessionChunks } from './workload.js';

export const SOAK_MESSAGES = 10_000_000;
export const SOAK_KEYS = 1_000_000;
const SAMPLE_SECONDS = 10;
const MINUTE_SAMPLES = 60 / SAMPLE_SECONDS;
const KEY_BYTES = 13; // `user:` + 8 hex digits

export interface SoakSample {
  /** Seconds since the first request was written. */
  seconds: number;
  replies: number;
  /** Replies a second over the interval that ends here. */
  rate: number;
  rssMiB: number;
  diskBytes: number;
  sstables: number;
  l0: number;
}

export interface SoakResults {
  date: string;
  messages: number;
  keys: number;
  nodeArgs: string[];
  seconds: number;
  samples: SoakSample[];
  /** Key + value bytes of every key put: what a fully compacted store would hold. */
  liveBytes: number;
  firstMinuteRate: number;
  lastMinuteRate: number;
  /** RSS at the end of the first minute, and the most it reached afterwards. */
  rssAfterFirstMinute: number;
  rssMaxAfter: number;
  finalDiskBytes: number;
  maxL0: number;
  /** Measured by a --quick bench: kept in the saved results, never written to the docs. */
  quick?: boolean;
}

/** Resident memory of process `pid` in MiB, from /proc (0 where there is none). */
function residentMiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** Every file under `dir` (the CLI keeps a node's files in DIR/<node_id>/), with its size. */
function filesUnder(dir: string): Array<{ name: string; bytes: number }> {
  const files: Array<{ name: string; bytes: number }> = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    try {
      files.push({ name: entry.name, bytes: statSync(join(entry.parentPath, entry.name)).size });
    } catch {
      // removed between the listing and the stat: a flush's temp file or an obsolete segment
    }
  }
  return files;
}

/**
 * How many SSTables the node's live Version holds in L0, read from its
 * MANIFEST without changing anything (what `memtable-node manifest` reads;
 * a file's name says the level it was written to, not the one it is at). A
 * MANIFEST being appended to meanwhile reads as the edits before the one in
 * flight. 0 before the first flush.
 */
export async function levelZeroCount(nodeDir: string): Promise<number> {
  try {
    return (await readVersionState(nodeFileSystem, nodeDir))?.version.levels[0].length ?? 0;
  } catch {
    // Between a new MANIFEST and its CURRENT, or an old MANIFEST removed under us: the next sample reads it.
    return Number.NaN;
  }
}

/** A long run through the CLI; rejects if the node fails, or a reply is missing or an error. */
export async function runSoak(cli: string, messages: number, keys: number, progress: (line: string) => void): Promise<SoakResults> {
  const dataDir = mkdtempSync(join(tmpdir(), 'memtable-soak-'));
  const nodeArgs = ['--data-dir', dataDir, '--sync', 'always', '--log-level', 'warn'];
  const child = spawn(process.execPath, [cli, ...nodeArgs], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-4000)));
  let replies = 0;
  let errors = 0;
  let carry = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (carry + chunk).split('\n');
    carry = lines.pop()!;
    replies += lines.length;
    for (const line of lines) if (line.includes('"type":"error"')) errors++;
    if (counts !== undefined && replies === counts.requests) void sample(); // the last reply: the node is still there to measure
  });

  const started = Date.now();
  const samples: SoakSample[] = [];
  let counts: SessionCounts | undefined;
  const sample = async (): Promise<void> => {
    const files = filesUnder(dataDir);
    const l0 = await levelZeroCount(join(dataDir, 'n1'));
    const sstables = files.filter((f) => f.name.endsWith('.sst')).map((f) => f.name);
    const seconds = (Date.now() - started) / 1000;
    const last = samples[samples.length - 1] ?? { seconds: 0, replies: 0 };
    samples.push({
      seconds,
      replies,
      rate: (replies - last.replies) / (seconds - last.seconds),
      rssMiB: residentMiB(child.pid!),
      diskBytes: files.reduce((sum, f) => sum + f.bytes, 0),
      sstables: sstables.length,
      l0,
    });
    const s = samples[samples.length - 1];
    progress(`soak ${s.seconds.toFixed(0)} s: ${s.replies} replies, ${Math.round(s.rate)} msg/s, ${s.rssMiB.toFixed(0)} MiB RSS, ${(s.diskBytes / 1e6).toFixed(0)} MB on disk, ${s.sstables} SSTables (${s.l0} in L0)`);
  };
  const sampler = setInterval(() => void sample(), SAMPLE_SECONDS * 1000);

  const chunks = sessionChunks(messages, keys, 7);
  child.stdin.on('error', () => {}); // EPIPE if the node dies: reported on close
  const pump = (): void => {
    for (;;) {
      const next = chunks.next();
      if (next.done === true) {
        counts = next.value;
        child.stdin.end();
        return;
      }
      if (!child.stdin.write(next.value)) {
        child.stdin.once('drain', pump);
        return;
      }
    }
  };
  pump();

  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(sampler);
  const seconds = (Date.now() - started) / 1000;
  rmSync(dataDir, { recursive: true, force: true });
  if (code !== 0 || counts === undefined || replies !== counts.requests || errors !== 0) {
    throw new Error(`soak: exit ${code}, ${replies} replies to ${counts?.requests ?? '?'} requests, ${errors} errors:\n${stderr}`);
  }
  return summarize(samples, { date: new Date().toISOString(), messages, keys, nodeArgs: nodeArgs.map((a) => (a === dataDir ? 'DATA_DIR' : a)), seconds, liveBytes: counts.keysPut * (KEY_BYTES + E2E_VALUE_BYTES) });
}

function summarize(samples: SoakSample[], run: Pick<SoakResults, 'date' | 'messages' | 'keys' | 'nodeArgs' | 'seconds' | 'liveBytes'>): SoakResults {
  const start = { seconds: 0, replies: 0 };
  /** Replies a second between two samples (or the start); a run under two minutes has overlapping "minutes". */
  const rate = (from: { seconds: number; replies: number }, to: SoakSample): number => (to.replies - from.replies) / Math.max(1e-9, to.seconds - from.seconds);
  const last = samples[samples.length - 1];
  const minute = Math.min(MINUTE_SAMPLES, samples.length) - 1;
  const afterFirstMinute = samples.slice(minute);
  return {
    ...run,
    samples,
    firstMinuteRate: rate(start, samples[minute]),
    lastMinuteRate: rate(samples[samples.length - 1 - MINUTE_SAMPLES] ?? start, last),
    rssAfterFirstMinute: samples[minute].rssMiB,
    rssMaxAfter: Math.max(...afterFirstMinute.map((s) => s.rssMiB)),
    finalDiskBytes: last.diskBytes,
    maxL0: Math.max(0, ...samples.map((s) => s.l0).filter(Number.isFinite)),
  };
}

/** The panels of docs/soak.svg: throughput, RSS, disk against live data, SSTables. */
export function soakPanels(r: SoakResults): Panel[] {
  const at = (value: (s: SoakSample) => number): Array<[number, number]> => r.samples.map((s) => [s.seconds, value(s)]);
  const xLabel = 'seconds';
  return [
    { title: 'throughput (msg/s)', xLabel, series: [{ label: 'replies a second', color: PALETTE[0], points: at((s) => s.rate) }] },
    { title: 'resident memory (MiB)', xLabel, series: [{ label: 'RSS', color: PALETTE[1], points: at((s) => s.rssMiB) }] },
    {
      title: 'disk (MB)',
      xLabel,
      series: [
        { label: 'files in the data folder', color: PALETTE[2], points: at((s) => s.diskBytes / 1e6) },
        { label: 'live data (keys + values at the end)', color: '#777', dashed: true, points: at(() => r.liveBytes / 1e6) },
      ],
    },
    {
      title: 'SSTables',
      xLabel,
      series: [
        { label: 'SSTables', color: PALETTE[3], points: at((s) => s.sstables) },
        { label: 'L0 files', color: PALETTE[4], dashed: true, points: at((s) => s.l0) },
      ],
    },
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [messages = SOAK_MESSAGES, keys = SOAK_KEYS] = process.argv.slice(2).map(Number);
  // Compiled to dist/.bench/bench/soak.js: the repository is three levels up.
  const cli = fileURLToPath(new URL('../../../dist/cli.js', import.meta.url));
  const r = await runSoak(cli, messages, keys, (line) => process.stdout.write(line + '\n'));
  process.stdout.write(
    `${r.seconds.toFixed(0)} s; last minute ${Math.round(r.lastMinuteRate)} vs first ${Math.round(r.firstMinuteRate)} msg/s; RSS max ${r.rssMaxAfter.toFixed(0)} vs ${r.rssAfterFirstMinute.toFixed(0)} MiB after the first minute; disk ${(r.finalDiskBytes / 1e6).toFixed(0)} MB for ${(r.liveBytes / 1e6).toFixed(0)} MB live\n`,
  );
}
