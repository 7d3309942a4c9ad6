/**
 * Reply latency under a paced load (issue 14; issue 13 adds its compaction
 * comparison as one more entry of latencyNodes): RATE messages a second,
 * 70% memtable_put of LATENCY_VALUE_BYTES-byte values and 30% memtable_get,
 * keys from LATENCY_KEYS, sent in small groups on a 1 ms timer whatever the
 * node does (so a stall shows as latency, not as a slower sender). A
 * message's latency runs from the write of its line to the arrival of its
 * reply line; the first WARMUP_SECONDS (JIT warm-up, first flushes) are
 * sent but not counted.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Figure, figure } from './stats.js';
import { distinctIds, keyOf, rng, valueOf } from './workload.js';

export const LATENCY_RATE = 20_000;
export const LATENCY_KEYS = 200_000;
export const LATENCY_VALUE_BYTES = 100;
export const LATENCY_PUT_SHARE = 0.7;
/** The MemTable size the latency runs give our node, so flushes run every half second or so. */
export const LATENCY_MEMTABLE_BYTES = 1024 * 1024;
const WARMUP_SECONDS = 2;

export interface LatencyNode {
  name: string;
  label: string;
  /** argv after `node`; DATA_DIR stands for a fresh temporary folder. */
  args: string[];
}

/**
 * The nodes the latency figures compare, in the order they run. 'manual'
 * is issue 13's comparison: the same load with `--compaction manual`, so no
 * compaction runs (report.ts judges syncNone's p99, with automatic
 * compactions running, against it).
 */
export function latencyNodes(cli: string, echo: string): LatencyNode[] {
  const ours = (sync: 'none' | 'always'): string[] => [cli, '--data-dir', 'DATA_DIR', '--sync', sync, '--memtable-max-bytes', String(LATENCY_MEMTABLE_BYTES), '--log-level', 'warn'];
  return [
    { name: 'echo', label: 'echo node', args: [echo] },
    { name: 'syncNone', label: 'memtable-node `--sync none`', args: ours('none') },
    { name: 'syncAlways', label: 'memtable-node `--sync always`', args: ours('always') },
    { name: 'manual', label: 'memtable-node `--sync none --compaction manual`', args: [...ours('none'), '--compaction', 'manual'] },
  ];
}

export interface LatencyRun {
  /** Milliseconds. */
  p50: number;
  p99: number;
  p999: number;
  max: number;
  /** Messages counted (after the warm-up), and the rate they were actually sent at. */
  counted: number;
  sentPerSecond: number;
}

/** One paced run against `args`; rejects if a reply is missing or an error. */
export function runPaced(args: string[], seconds: number, seed: number): Promise<LatencyRun> {
  const dataDir = mkdtempSync(join(tmpdir(), 'memtable-bench-latency-'));
  const total = Math.round(LATENCY_RATE * (WARMUP_SECONDS + seconds));
  const warmup = LATENCY_RATE * WARMUP_SECONDS;
  const sentAt = new Float64Array(total + 2);
  const latency = new Float64Array(total + 2).fill(-1);
  const random = rng(seed);
  const ids = distinctIds(LATENCY_KEYS, random);
  const child = spawn(process.execPath, args.map((a) => (a === 'DATA_DIR' ? dataDir : a)), { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-4000)));
  child.stdin.on('error', () => {}); // reported on close

  return new Promise<LatencyRun>((resolve, reject) => {
    let replies = 0;
    let carry = '';
    let sent = 0; // requests after init
    let started = 0;
    let finishedSending = 0;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const now = performance.now();
      const lines = (carry + chunk).split('\n');
      carry = lines.pop()!;
      for (const line of lines) {
        const at = line.indexOf('"in_reply_to":');
        if (at === -1 || line.includes('"type":"error"')) {
          fail(new Error(`bad reply: ${line.slice(0, 300)}`));
          return;
        }
        const id = parseInt(line.slice(at + 14), 10);
        latency[id] = now - sentAt[id];
        replies++;
        if (id === 1) startSending();
      }
      if (replies === total + 1) child.stdin.end();
    });
    child.on('close', (code) => {
      rmSync(dataDir, { recursive: true, force: true });
      if (replies !== total + 1) {
        fail(new Error(`exit ${code} after ${replies} of ${total + 1} replies:\n${stderr}`));
        return;
      }
      const counted = Array.from(latency.subarray(2 + warmup, total + 2)).sort((a, b) => a - b);
      const at = (q: number): number => counted[Math.min(counted.length - 1, Math.floor(q * counted.length))];
      resolve({ p50: at(0.5), p99: at(0.99), p999: at(0.999), max: counted[counted.length - 1], counted: counted.length, sentPerSecond: total / ((finishedSending - started) / 1000) });
    });
    const fail = (error: Error): void => {
      child.kill();
      reject(error);
    };

    const line = (id: number): string => {
      const key = keyOf(ids[(random() * LATENCY_KEYS) | 0]);
      const body =
        random() < LATENCY_PUT_SHARE
          ? `{"type":"memtable_put","msg_id":${id},"key":"${key}","value":${valueOf(random, LATENCY_VALUE_BYTES)}}`
          : `{"type":"memtable_get","msg_id":${id},"key":"${key}"}`;
      return `{"src":"c1","dest":"n1","body":${body}}\n`;
    };
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * LATENCY_RATE));
      if (due > sent) {
        let text = '';
        for (let i = sent; i < due; i++) text += line(i + 2); // msg_id 1 is init
        const now = performance.now();
        for (let i = sent; i < due; i++) sentAt[i + 2] = now;
        child.stdin.write(text);
        sent = due;
      }
      if (sent < total) setTimeout(tick, 1);
      else finishedSending = performance.now();
    };
    const startSending = (): void => {
      started = performance.now();
      tick();
    };
    sentAt[1] = performance.now();
    child.stdin.write(`{"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1"]}}\n`);
  });
}

export interface LatencyNodeResult extends LatencyNode {
  p50: Figure;
  p99: Figure;
  p999: Figure;
  max: Figure;
  sentPerSecond: number[];
}

export interface LatencyResults {
  rate: number;
  seconds: number;
  counted: number;
  nodes: LatencyNodeResult[];
}

/** `runs` paced runs of every node, the nodes alternating within each run; medians of each percentile. */
export async function runLatencyBench(nodes: LatencyNode[], seconds: number, runs: number, progress: (line: string) => void): Promise<LatencyResults> {
  const raw = nodes.map(() => [] as LatencyRun[]);
  for (let run = 0; run < runs; run++) {
    const line: string[] = [];
    for (const [i, node] of nodes.entries()) {
      const result = await runPaced(node.args, seconds, 9 + run);
      raw[i].push(result);
      line.push(`${node.name} p99 ${result.p99.toFixed(1)} max ${result.max.toFixed(1)}`);
    }
    progress(`latency run ${run + 1}/${runs} (ms): ${line.join(', ')}`);
  }
  return {
    rate: LATENCY_RATE,
    seconds,
    counted: raw[0][0].counted,
    nodes: nodes.map((node, i) => ({
      ...node,
      p50: figure(raw[i].map((r) => r.p50)),
      p99: figure(raw[i].map((r) => r.p99)),
      p999: figure(raw[i].map((r) => r.p999)),
      max: figure(raw[i].map((r) => r.max)),
      sentPerSecond: raw[i].map((r) => r.sentPerSecond),
    })),
  };
}
