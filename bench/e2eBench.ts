/**
 * End to end: messages per second through a node process over pipes, the
 * way a Maelstrom harness drives it. The same generated session is fed to
 * memtable-node's CLI and to the echo node (echoNode.ts).
 *
 * The clock runs from the first byte written after init was answered to
 * the last expected reply line read. Counting newlines is all the reader does while the clock runs
 * (cheap, so the driver does not steal the node's CPU on two cores); after
 * it stops, every reply is parsed and checked: exactly one per request
 * (in_reply_to covers 1..N once each) and no error replies.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Figure, figure } from './stats.js';
import { maelstromSession, type Session } from './workload.js';

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

export interface E2EOptions {
  cli: string;
  echo: string;
  messages: number;
  keyspace: number;
  runs: number;
  progress: (line: string) => void;
}

export interface E2EResults {
  messages: number;
  keyspace: number;
  requests: number;
  puts: number;
  gets: number;
  scans: number;
  inputBytes: number;
  /** The CLI's argv after the script, DATA_DIR standing for the fresh directory. */
  cliArgs: string[];
  cli: Figure;
  echo: Figure;
  /** Per CLI run: MemTables frozen, and SSTables already on disk at the last reply (the rest were still flushing). */
  freezes: number[];
  sstables: number[];
}

/** Alternates echo and CLI runs over one generated session. */
export async function runE2EBench(options: E2EOptions): Promise<E2EResults> {
  const session = maelstromSession(options.messages, options.keyspace, 42);
  // The WAL is new: pass --sync always (the durable setting) only if this build has it.
  const help = execFileSync(process.execPath, [options.cli, '--help'], { encoding: 'utf8' });
  const cliArgs = ['--data-dir', 'DATA_DIR', ...(help.includes('--sync') ? ['--sync', 'always'] : [])];
  const cli: number[] = [];
  const echo: number[] = [];
  const sstables: number[] = [];
  const freezes: number[] = [];
  for (let run = 0; run < options.runs; run++) {
    const e = await driveSession(process.execPath, [options.echo], session);
    echo.push(e.messagesPerSecond);
    const c = await driveSession(process.execPath, [options.cli, ...cliArgs], session);
    cli.push(c.messagesPerSecond);
    sstables.push(c.sstables);
    freezes.push(c.freezes);
    options.progress(`e2e run ${run + 1}/${options.runs}: echo ${Math.round(e.messagesPerSecond)} msg/s, cli ${Math.round(c.messagesPerSecond)} msg/s (${c.freezes} MemTables frozen, ${c.sstables} on disk by the last reply)`);
  }
  return {
    messages: options.messages,
    keyspace: options.keyspace,
    requests: session.requests,
    puts: session.puts,
    gets: session.gets,
    scans: session.scans,
    inputBytes: session.input.length,
    cliArgs,
    cli: figure(cli),
    echo: figure(echo),
    freezes,
    sstables,
  };
}
