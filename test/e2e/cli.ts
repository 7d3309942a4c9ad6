/**
 * Spawns the built CLI (dist/cli.js) the way a harness does: lines on stdin,
 * replies on stdout, logs on stderr.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface Envelope {
  src: string;
  dest: string;
  body: { type: string; [key: string]: unknown };
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Raw stdout lines. */
  lines: string[];
  /** stdout lines parsed (those that are JSON). */
  messages: Envelope[];
  stderr: string;
}

export interface CliOptions {
  args?: string[];
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Runs the CLI under `ulimit -n` of this many descriptors. */
  openFilesLimit?: number;
}

/** Feeds `input` (objects are JSON-encoded, strings written as they are, each plus '\n') and waits for exit. */
export function runCli(input: Array<object | string>, options: CliOptions = {}): Promise<CliRun> {
  const text = input.map((item) => (typeof item === 'string' ? item : JSON.stringify(item)) + '\n').join('');
  return runCliRaw(text, options);
}

export function runCliRaw(stdin: string | Buffer, options: CliOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const argv = [CLI, ...(options.args ?? [])];
    const [command, args] =
      options.openFilesLimit === undefined
        ? [process.execPath, argv]
        : ['/bin/sh', ['-c', `ulimit -n ${options.openFilesLimit} && exec "$0" "$@"`, process.execPath, ...argv]];
    const child = spawn(command, args, {
      env: { ...process.env, LOG_LEVEL: 'info', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`CLI did not exit within ${options.timeoutMs ?? 20000} ms`));
    }, options.timeoutMs ?? 20000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const lines = stdout.split('\n').filter((line) => line.length > 0);
      resolve({ code, signal, lines, messages: lines.flatMap(parseOrSkip), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  });
}

/** stdout lines that are not JSON (only --help prints such) are left out of `messages`; tests of stdout check `lines`. */
function parseOrSkip(line: string): Envelope[] {
  try {
    return [JSON.parse(line) as Envelope];
  } catch {
    return [];
  }
}

/** Parsed stderr log lines. */
export function logLines(run: CliRun): Array<Record<string, unknown>> {
  return run.stderr
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line));
}

export const init = (node = 'n1', msgId = 1): Envelope => ({
  src: 'c0',
  dest: node,
  body: { type: 'init', msg_id: msgId, node_id: node, node_ids: [node] },
});

export const request = (msgId: number, type: string, fields: Record<string, unknown> = {}, node = 'n1'): Envelope => ({
  src: 'c1',
  dest: node,
  body: { type, msg_id: msgId, ...fields },
});

/** The reply to `msgId` from client c1. */
export function replyTo(run: CliRun, msgId: number, client = 'c1'): Envelope['body'] {
  const found = run.messages.find((message) => message.dest === client && message.body.in_reply_to === msgId);
  if (!found) throw new Error(`no reply to msg_id ${msgId}; stdout:\n${run.lines.join('\n')}\nstderr:\n${run.stderr}`);
  return found.body;
}
