/**
 * End to end: messages per second through a node process over pipes, the
 * way a Maelstrom harness drives it. The same generated session is fed to
 * memtable-node's CLI, the echo node (echoNode.ts) and the LevelDB node
 * (levelNode.ts).
 *
 * The clock runs from the first byte written after init was answered to
 * the last expected reply line read. Counting newlines is all the reader does while the clock runs
 * (cheap, so the driver does not steal the node's CPU on two cores); after
 * it stops, every reply is parsed and checked: exactly one per request
 * (in_reply_to covers 1..N once each) and no error replies.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Figure, figure } from './stats.js';
import { maelstromSession, type Session, type SessionCounts } from './workload.js';

export interface SessionResult {
  seconds: number;
  messagesPerSecond: number;
  /** SSTables on disk at the last reply, from the memtable_stats reply (0 for the echo node). */
  sstables: number;
  /** MemTables frozen during the run (put replies with frozen: true). */
  freezes: number;
}

const WRITE_SLICE = 1 << 20;
const STALL_TIMEOUT_MS = 120_000;

/**
 * Runs `command args` over the session; `args` may use the DATA_DIR
 * placeholder for a fresh temporary directory. The init line goes first and
 * its reply is awaited before the clock starts, so process start-up (module
 * loading, opening the store) is not counted as throughput.
 */
export async function driveSession(command: string, args: string[], session: Session): Promise<SessionResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'memtable-bench-e2e-'));
  try {
    const child = spawn(command, args.map((a) => (a === 'DATA_DIR' ? dataDir : a)), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr = (stderr + s).slice(-4000);
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const input = child.stdin;
    input.on('error', () => {}); // EPIPE if the node dies; reported by waitForLines

    const chunks: Buffer[] = [];
    let lines = 0;
    let lastProgress = Date.now();
    let waiter: { target: number; resolve: (at: bigint) => void } | null = null;
    child.stdout.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
      lastProgress = Date.now();
      if (waiter !== null && lines >= waiter.target) waiter.resolve(process.hrtime.bigint());
    });
    /** Resolves with the time at which the `target`-th reply line arrived. */
    const waitForLines = (target: number): Promise<bigint> =>
      new Promise<bigint>((resolve, reject) => {
        const watchdog = setInterval(() => {
          if (Date.now() - lastProgress > STALL_TIMEOUT_MS) fail(new Error(`no reply for ${STALL_TIMEOUT_MS / 1000}s after ${lines}/${session.requests}`));
        }, 1000);
        const onClose = (code: number | null): void => fail(new Error(`${command} exited ${code} after ${lines}/${session.requests} replies:\n${stderr}`));
        const settle = (): void => {
          clearInterval(watchdog);
          child.off('close', onClose);
          waiter = null;
        };
        const fail = (error: Error): void => {
          settle();
          reject(error);
        };
        child.on('close', onClose);
        waiter = {
          target,
          resolve: (at) => {
            settle();
            resolve(at);
          },
        };
        if (lines >= target) waiter.resolve(process.hrtime.bigint());
      });

    const firstNewline = session.input.indexOf(10) + 1;
    input.write(session.input.subarray(0, firstNewline));
    await waitForLines(1);

    lastProgress = Date.now();
    const started = process.hrtime.bigint();
    const done = waitForLines(session.requests);
    done.catch(() => {}); // awaited below; keep an early failure from counting as "unhandled" meanwhile
    for (let offset = firstNewline; offset < session.input.length; offset += WRITE_SLICE) {
      if (!input.write(session.input.subarray(offset, Math.min(offset + WRITE_SLICE, session.input.length)))) {
        await new Promise<void>((resolve) => input.once('drain', resolve));
      }
    }
    input.end();
    const finished = await done;
    const seconds = Number(finished - started) / 1e9;

    const code = await exited;
    if (code !== 0) throw new Error(`${command} exited ${code}:\n${stderr}`);
    const check = checkReplies(Buffer.concat(chunks).toString('utf8'), session.requests);
    // The init exchange was before the clock: it is not counted.
    return { seconds, messagesPerSecond: (session.requests - 1) / seconds, ...check };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Exactly one reply per request, none an error; returns how many MemTables froze and what the final memtable_stats reply says. */
function checkReplies(output: string, requests: number): { sstables: number; freezes: number } {
  const lines = output.split('\n');
  if (lines.pop() !== '') throw new Error('output does not end with a newline');
  if (lines.length !== requests) throw new Error(`${lines.length} replies to ${requests} requests`);
  const seen = new Uint8Array(requests + 1);
  let stats: { sstables?: unknown[] } | undefined;
  let freezes = 0;
  for (const line of lines) {
    const body = (JSON.parse(line) as { body: { type: string; in_reply_to: number; frozen?: boolean } }).body;
    if (body.frozen === true) freezes++;
    if (body.type === 'error') throw new Error(`error reply: ${line}`);
    const id = body.in_reply_to;
    if (!(id >= 1 && id <= requests) || seen[id]++ !== 0) throw new Error(`unexpected or duplicate in_reply_to ${id}`);
    if (body.type === 'memtable_stats_ok') stats = body as typeof stats;
  }
  return { sstables: stats?.sstables?.length ?? 0, freezes };
}

/** A node under test: a label for the report and the argv after `node` (DATA_DIR: a fresh temporary folder). */
export interface E2ENode {
  name: string;
  label: string;
  args: string[];
}

/**
 * The peers (issue 14): the echo node (the practical limit), our CLI and the
 * LevelDB node (levelNode.ts), each in memory or at default settings, and
 * durable (our `--sync always` against the batch's `sync: true`).
 */
export function e2eNodes(cli: string, echo: string, level: string): E2ENode[] {
  return [
    { name: 'echo', label: 'JSON-lines echo node', args: [echo] },
    { name: 'ours', label: 'memtable-node, default settings (no WAL)', args: [cli] },
    { name: 'level', label: 'LevelDB node, default settings (log unsynced)', args: [level, 'DATA_DIR'] },
    { name: 'oursDurable', label: 'memtable-node `--data-dir` `--sync always`', args: [cli, '--data-dir', 'DATA_DIR', '--sync', 'always'] },
    { name: 'levelDurable', label: 'LevelDB node, batches `sync: true`', args: [level, 'DATA_DIR', '--sync'] },
  ];
}

export interface E2EOptions {
  nodes: E2ENode[];
  messages: number;
  keyspace: number;
  runs: number;
  progress: (line: string) => void;
}

export interface E2ENodeResult extends E2ENode {
  throughput: Figure;
  /** Per run: MemTables frozen and SSTables on disk at the last reply (0 for the peers). */
  freezes: number[];
  sstables: number[];
}

export interface E2EResults extends SessionCounts {
  messages: number;
  keyspace: number;
  inputBytes: number;
  nodes: E2ENodeResult[];
}

/** Runs every node over one generated session, the nodes alternating within each run. */
export async function runE2EBench(options: E2EOptions): Promise<E2EResults> {
  const session = maelstromSession(options.messages, options.keyspace, 42);
  const { input, ...counts } = session;
  const nodes: E2ENodeResult[] = options.nodes.map((node) => ({ ...node, throughput: figure([]), freezes: [], sstables: [] }));
  for (let run = 0; run < options.runs; run++) {
    const line: string[] = [];
    for (const node of nodes) {
      const result = await driveSession(process.execPath, node.args, session);
      node.throughput.runs.push(result.messagesPerSecond);
      node.freezes.push(result.freezes);
      node.sstables.push(result.sstables);
      line.push(`${node.name} ${Math.round(result.messagesPerSecond / 1000)}k`);
    }
    options.progress(`e2e run ${run + 1}/${options.runs} (msg/s): ${line.join(', ')}`);
  }
  for (const node of nodes) node.throughput = figure(node.throughput.runs);
  return { messages: options.messages, keyspace: options.keyspace, inputBytes: input.length, ...counts, nodes };
}
