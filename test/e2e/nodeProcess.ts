/**
 * An interactive driver of the built CLI for end-to-end tests that need to
 * talk to a running node: write lines, wait for the replies to given msg_ids
 * or for log lines, kill -9 it, and switch injected file-system faults.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { expect } from 'vitest';
import { CLI, type Envelope, init, request } from './cli.js';

export type Body = Envelope['body'];
export type LogLine = Record<string, unknown> & { level: number; msg: string };

const live = new Set<NodeProcess>();

export class NodeProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Replies by in_reply_to. */
  readonly replies = new Map<number, Body>();
  /** in_reply_to of each reply, in arrival order. */
  readonly replyOrder: number[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private stdoutTail = '';
  private readonly wakers = new Set<() => void>();

  constructor(dataDir: string, options: { args?: string[]; env?: Record<string, string> } = {}) {
    this.child = spawn(process.execPath, [CLI, '--data-dir', dataDir, ...(options.args ?? [])], {
      env: { ...process.env, LOG_LEVEL: 'info', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    live.add(this);
    this.child.stdin.on('error', () => undefined); // EPIPE after a kill
    this.child.stdout.on('data', (chunk: Buffer) => {
      const lines = (this.stdoutTail + chunk.toString('utf8')).split('\n');
      this.stdoutTail = lines.pop()!;
      for (const line of lines) {
        if (line.length === 0) continue;
        const message = JSON.parse(line) as Envelope;
        const inReplyTo = message.body.in_reply_to as number;
        this.replies.set(inReplyTo, message.body);
        this.replyOrder.push(inReplyTo);
      }
      this.wake();
    });
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
      this.wake();
    });
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        live.delete(this);
        resolve({ code, signal });
        this.wake();
      });
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Writes lines (objects JSON-encoded) to stdin without waiting for anything. */
  send(...items: Array<object | string>): void {
    this.child.stdin.write(items.map((item) => (typeof item === 'string' ? item : JSON.stringify(item)) + '\n').join(''));
  }

  /** Resolves with check()'s first non-undefined result; rejects on timeout or when the process exits first. */
  until<T>(check: () => T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakers.delete(poll);
      };
      const poll = (): void => {
        const result = check();
        if (result !== undefined) {
          done();
          resolve(result);
        } else if (!this.running) {
          done();
          reject(new Error(`node exited (${this.child.exitCode ?? this.child.signalCode}) while waiting for ${what}\nstderr tail:\n${this.stderr.slice(-3000)}`));
        }
      };
      const timer = setTimeout(() => {
        this.wakers.delete(poll);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${this.replies.size} replies so far\nstderr tail:\n${this.stderr.slice(-3000)}`));
      }, timeoutMs);
      this.wakers.add(poll);
      poll();
    });
  }

  reply(msgId: number, timeoutMs?: number): Promise<Body> {
    return this.until(() => this.replies.get(msgId), `the reply to msg_id ${msgId}`, timeoutMs);
  }

  /** Sends one request and waits for its reply. */
  async call(msgId: number, type: string, fields: Record<string, unknown> = {}, timeoutMs?: number): Promise<Body> {
    this.send(request(msgId, type, fields));
    return this.reply(msgId, timeoutMs);
  }

  async init(msgId = 1, timeoutMs?: number): Promise<Body> {
    this.send(init('n1', msgId));
    return this.reply(msgId, timeoutMs);
  }

  /** Parsed stderr log lines (complete lines only). */
  logs(): LogLine[] {
    const lines = this.stderr.split('\n');
    lines.pop();
    return lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as LogLine);
  }

  waitForLogs(predicate: (log: LogLine) => boolean, count: number, what: string, timeoutMs?: number): Promise<LogLine[]> {
    return this.until(() => {
      const found = this.logs().filter(predicate);
      return found.length >= count ? found : undefined;
    }, what, timeoutMs);
  }

  /** SIGKILL (if still running) and wait for the exit. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Ends stdin and waits for the exit code. */
  async end(timeoutMs = 20_000): Promise<number | null> {
    this.child.stdin.end();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`node did not exit within ${timeoutMs} ms after stdin ended`)), timeoutMs);
    });
    try {
      const { code } = await Promise.race([this.exited, timeout]);
      return code;
    } finally {
      clearTimeout(timer);
    }
  }

  private wake(): void {
    for (const waker of [...this.wakers]) waker();
  }
}

/**
 * SIGKILLs every node still running. Register it with afterEach AFTER
 * useTempDirs, so it runs before the folders are removed (after-hooks run in
 * reverse order).
 */
export async function killLiveNodes(): Promise<void> {
  await Promise.all([...live].map((node) => node.kill()));
}

/** Runs `body` with a fresh node and SIGKILLs it afterwards, whatever happens. */
export async function withNode<T>(
  dataDir: string,
  options: { args?: string[]; env?: Record<string, string> },
  body: (node: NodeProcess) => Promise<T>,
): Promise<T> {
  const node = new NodeProcess(dataDir, options);
  try {
    return await body(node);
  } finally {
    await node.kill();
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Every live key and its value (JSON), read with paginated memtable_scan. */
export async function scanAll(node: NodeProcess, firstMsgId: number, limit = 64): Promise<Map<string, unknown>> {
  const state = new Map<string, unknown>();
  let start: string | undefined;
  let msgId = firstMsgId;
  for (;;) {
    const reply = await node.call(msgId++, 'memtable_scan', { limit, ...(start === undefined ? {} : { start }) });
    expect(reply.type, JSON.stringify(reply)).toBe('memtable_scan_ok');
    const entries = reply.entries as Array<{ key: string; value: unknown }>;
    expect(entries.length).toBeLessThanOrEqual(limit);
    for (const { key, value } of entries) {
      expect(state.has(key), `scan returned ${key} twice`).toBe(false);
      if (start !== undefined) expect(key >= start).toBe(true);
      state.set(key, value);
    }
    if (reply.next_start === undefined) return state;
    start = reply.next_start as string;
  }
}

/** Atomically replaces the fault plan (the node re-reads it before every file-system call; a half-written file must never be seen). */
export function setPlan(planFile: string, plan: Record<string, string>): void {
  writeFileSync(`${planFile}.tmp`, JSON.stringify(plan));
  renameSync(`${planFile}.tmp`, planFile);
}

