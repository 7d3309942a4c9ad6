/** --inspect: the node machine's inspection events reach a Stately-inspector WebSocket, sanitized. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { LsmSummary } from '../../src/actors/lsmSummary.js';
import { parseConfig } from '../../src/config.js';
import { CLI, init, request, runCli } from './cli.js';

type Received = { raw: string; event: { type: string; name?: string; snapshot?: { value?: unknown; context?: Record<string, unknown> } } };

/** A WebSocket server that records what nodes send it, as the Stately relay would receive it. */
async function inspectorStub() {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const received: Received[] = [];
  const connected = new Promise<void>((resolve) =>
    server.on('connection', (socket) => {
      socket.on('message', (data) => received.push({ raw: data.toString(), event: JSON.parse(data.toString()) }));
      resolve();
    }),
  );
  return { server, port, received, connected };
}

describe('--inspect', () => {
  it('defaults to ws://localhost:8080 when given no URL', () => {
    expect(parseConfig(['--inspect'], {})).toMatchObject({ inspect: 'ws://localhost:8080' });
    expect(parseConfig(['--inspect', '--log-level', 'warn'], {})).toMatchObject({ inspect: 'ws://localhost:8080', logLevel: 'warn' });
    expect(parseConfig(['--inspect', 'ws://127.0.0.1:9999'], {})).toMatchObject({ inspect: 'ws://127.0.0.1:9999' });
    expect(parseConfig([], {})).toMatchObject({ inspect: undefined });
  });

  it('parses the inspector command: port and host, their defaults, and their errors', () => {
    expect(parseConfig(['inspector'], {})).toMatchObject({ command: { kind: 'inspector', host: '127.0.0.1', port: 8080 } });
    expect(parseConfig(['inspector', '--port', '0', '--host', '::1'], {})).toMatchObject({ command: { kind: 'inspector', host: '::1', port: 0 } });
    expect(() => parseConfig(['inspector', '--port', '70000'], {})).toThrow('--port must be a port number (0 to 65535), got "70000"');
    expect(() => parseConfig(['inspector', '--port', 'x'], {})).toThrow('--port must be a port number');
    expect(() => parseConfig(['inspector', 'extra'], {})).toThrow('inspector takes no arguments, got "extra"');
    expect(() => parseConfig(['--port', '9000'], {})).toThrow('--port belongs to the inspector command');
    expect(() => parseConfig(['--port', '9000', '--host', 'h'], {})).toThrow('--port and --host belong to the inspector command');
    expect(parseConfig(['replay', 'run.log', '--inspect'], {})).toMatchObject({ command: { kind: 'replay', logFile: 'run.log' }, inspect: 'ws://localhost:8080' });
  });

  it('streams the transitions of a real run, with context summarized, and nothing on stdout but replies', async () => {
    const { server, port, received, connected } = await inspectorStub();

    const dataDir = mkdtempSync(join(tmpdir(), 'inspect-test-'));
    const child = spawn(process.execPath, [CLI, '--inspect', `ws://127.0.0.1:${port}`, '--memtable-max-bytes', '2000', '--l0-compaction-trigger', '2', '--data-dir', dataDir], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await connected;
    const input = [init()];
    // Big values: a MemTable full of them must not reach the inspector.
    for (let i = 0; i < 60; i++) input.push(request(10 + i, 'memtable_put', { key: `k${i}`, value: 'v'.repeat(300) }));
    input.push(request(100, 'sstable_flush'));
    child.stdin.end(input.map((message) => JSON.stringify(message) + '\n').join(''));
    const started = Date.now();
    expect(await exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    server.close();
    rmSync(dataDir, { recursive: true, force: true });

    for (const line of stdout.split('\n').filter(Boolean)) expect(JSON.parse(line)).toHaveProperty('body');
    expect(stderr).toContain('"msg":"connected to the Stately inspector"');
    expect(stderr).not.toContain('"level":40');
    expect(received.some(({ event }) => event.type === '@xstate.actor' && event.name === 'node')).toBe(true);
    const values = received
      .filter(({ event }) => event.type === '@xstate.snapshot' && event.snapshot?.context !== undefined)
      .map(({ event }) => JSON.stringify(event.snapshot!.value));
    expect(values).toEqual(expect.arrayContaining(['"uninitialized"', '"recovering"']));
    expect(values.some((value) => value.startsWith('{"open":') && value.includes('"flush":"writing"'))).toBe(true);
    expect(values.some((value) => value.startsWith('{"open":') && value.includes('"flush":"idle"'))).toBe(true);
    const contexts = received.flatMap(({ event }) => (event.snapshot?.context ? [event.snapshot.context] : []));
    expect(contexts.length).toBeGreaterThan(3);
    for (const context of contexts) {
      expect(Object.keys(context).sort()).toEqual([
        'compactWaiter',
        'compactionFailures',
        'flushFailures',
        'flushWaiter',
        'heldBatches',
        'initRequest',
        'initialized',
        'lsm',
        'nextMsgId',
        'nodeId',
        'pending',
        'pid',
        'walSyncing',
      ]);
    }
    // Flushes and, past two L0 files, compactions: one seen under way, and files below L0 after.
    const summaries = contexts.map((context) => context.lsm as LsmSummary | null).filter((lsm): lsm is LsmSummary => lsm != null);
    expect(summaries.some((lsm) => lsm.compaction !== null && lsm.compaction.inputs.length > 0)).toBe(true);
    expect(summaries.some((lsm) => lsm.levels.slice(1).some((level) => level.files.length > 0))).toBe(true);
    // WAL syncs (--data-dir, --sync always) show as events the node receives, not as actors of their own.
    expect(received.some(({ raw }) => raw.includes('xstate.done.actor.walSync'))).toBe(true);
    expect(received.filter(({ event }) => event.type === '@xstate.actor').map(({ raw }) => JSON.parse(raw).name ?? '')).not.toContain('walSync');
    expect(received.some(({ raw }) => /"id":"walSync"/.test(raw) && !raw.includes('xstate.done.actor.walSync'))).toBe(false);
    expect(contexts.some((context) => JSON.stringify(context.lsm).includes('L0_000001.sst'))).toBe(true);
    // 60 values of 300 bytes were written; no event carries them.
    for (const { raw } of received) expect(raw).not.toContain('v'.repeat(300));
  });

  it('warns when the inspector cannot be reached, retries, and logs the connection once it is up', async () => {
    const probe = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => probe.once('listening', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve)); // nothing listens there now
    const url = `ws://127.0.0.1:${port}`;
    const child = spawn(process.execPath, [CLI, '--inspect', url], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } });
    const logs: Array<Record<string, unknown>> = [];
    let tail = '';
    const waiters = new Set<() => void>();
    child.stderr.on('data', (chunk: Buffer) => {
      const lines = (tail + chunk.toString()).split('\n');
      tail = lines.pop()!;
      for (const line of lines) logs.push(JSON.parse(line));
      for (const wake of waiters) wake();
    });
    const logged = (msg: string): Promise<Record<string, unknown>> =>
      new Promise((resolve) => {
        const check = (): void => {
          const found = logs.find((log) => log.msg === msg);
          if (found) resolve(found);
        };
        waiters.add(check);
        check();
      });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdin.write(JSON.stringify(init()) + '\n');

    expect(await logged('cannot reach the Stately inspector; retrying every 5 s')).toMatchObject({ level: 40, url, err: expect.stringContaining('ECONNREFUSED'), retry_ms: 5000 });
    const server = new WebSocketServer({ host: '127.0.0.1', port });
    const received = new Promise<void>((resolve) => server.on('connection', (socket) => socket.once('message', () => resolve())));
    expect(await logged('connected to the Stately inspector')).toMatchObject({ level: 30, url, failed_attempts: 1 });
    await received; // the events held while it was unreachable arrive
    child.stdin.end();
    expect(await exited).toBe(0);
    server.close();
  }, 20_000);
  it('streams a replay: replay LOGFILE --inspect URL', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'inspect-replay-'));
    try {
      const input = [init()];
      for (let i = 0; i < 40; i++) input.push(request(10 + i, 'memtable_put', { key: `k${i}`, value: 'v'.repeat(200) }));
      const original = await runCli(input, { args: ['--memtable-max-bytes', '2000'], env: { LOG_LEVEL: 'debug' } });
      const logFile = join(dataDir, 'run.log');
      writeFileSync(logFile, original.stderr);

      const { server, port, received } = await inspectorStub();
      // Spawned, not spawnSync: the stub's socket needs this process's event loop while the replay runs.
      const replay = spawn(process.execPath, [CLI, 'replay', logFile, '--inspect', `ws://127.0.0.1:${port}`], { env: { ...process.env, LOG_LEVEL: 'warn' } });
      let stdout = '';
      replay.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      expect(await new Promise((resolve) => replay.on('close', resolve))).toBe(0);
      server.close();
      expect(stdout.split('\n').filter(Boolean)).toEqual(original.lines);
      const files = received.flatMap(({ event }) => ((event.snapshot?.context?.lsm as { levels?: Array<{ files: unknown[] }> } | undefined)?.levels?.[0].files ?? []));
      expect(files.length).toBeGreaterThan(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("reaches a viewer through @statelyai/inspect's own relay (createInspectorServer), LSM summary included", async () => {
    const probe = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => probe.once('listening', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const { createInspectorServer } = await import('@statelyai/inspect/server');
    const relay = createInspectorServer({ port, autoOpen: false });
    try {
      const input = [init(), ...Array.from({ length: 40 }, (_, i) => request(10 + i, 'memtable_put', { key: `k${i}`, value: 'v'.repeat(200) }))];
      const run = await runCli(input, { args: ['--inspect', `ws://127.0.0.1:${port}`, '--memtable-max-bytes', '2000'] });
      expect(run.code).toBe(0);
      // A viewer connecting afterwards gets the relay's replay of the last 200 events.
      const viewer = new WebSocket(`ws://127.0.0.1:${port}`);
      const seen: string[] = [];
      viewer.on('message', (data) => seen.push(data.toString()));
      await expect.poll(() => seen.some((raw) => raw.includes('"lsm"') && raw.includes('L0_000001.sst'))).toBe(true);
      expect(seen.some((raw) => JSON.parse(raw).type === '@xstate.actor')).toBe(true);
      viewer.close();
    } finally {
      relay.stop();
    }
  });
});
