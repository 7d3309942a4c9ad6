/** Log-driven debugging: a debug log names every line, reply and transition, and `replay` reproduces the run. */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../support/tempDirs.js';
import { CLI, type Envelope, init, logLines, replyTo, request, runCli } from './cli.js';

const freshDir = useTempDirs('e2e-replay');

/** A run with every layer in play: tiny MemTables, flushes, stats, scans, errors, garbage. */
function workload(): Array<Envelope | string> {
  const input: Array<Envelope | string> = [request(1, 'memtable_get', { key: 'before init' }), init('n1', 2)];
  let id = 10;
  for (let i = 0; i < 600; i++) {
    const key = `k${(i * 37) % 150}`;
    // Reads go back a few dozen writes, so they meet frozen MemTables and SSTables too.
    if (i % 7 === 3) input.push(request(id++, 'memtable_get', { key: `k${((i - 20) * 37) % 150}` }));
    else if (i % 11 === 5) input.push(request(id++, 'memtable_delete', { key }));
    else if (i % 50 === 0) input.push(request(id++, 'memtable_stats'));
    else if (i % 45 === 0) input.push(request(id++, 'memtable_scan', { start: 'k1', limit: 5 }));
    else if (i % 97 === 0) input.push(request(id++, 'sstable_flush'));
    else input.push(request(id++, 'memtable_put', { key, value: { i, pad: 'x'.repeat(i % 40) } }));
    if (i % 150 === 0) input.push('not json at all');
  }
  input.push(request(id++, 'frobnicate'));
  return input;
}

describe('debug logs and replay', () => {
  it('logs each received line, reply and transition with node_id, msg_id, in_reply_to and state', async () => {
    const run = await runCli([init(), request(2, 'memtable_put', { key: 'a', value: 1 })], { env: { LOG_LEVEL: 'debug' } });
    const logs = logLines(run);
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'received', node_id: 'n1', msg_id: 2, batch: 1 }));
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'request', node_id: 'n1', msg_id: 2, state: 'ready' }));
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'reply', node_id: 'n1', msg_id: 1, in_reply_to: 2, state: 'ready' }));
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'transition', node_id: 'n1', state: { open: { flush: 'idle', compaction: 'idle', writes: 'flowing' } }, event: 'xstate.done.actor.openStore' }));
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'transition', node_id: 'n1', state: 'recovering', event: 'requests' }));
  });

  it('replays a logged run into the same replies, byte for byte, flushes and all', async () => {
    const dir = freshDir();
    // Compaction on request only: when a background compaction picks its inputs is timing (replay.ts).
    const original = await runCli(workload(), { args: ['--memtable-max-bytes', '2048', '--max-immutable', '2', '--compaction', 'manual'], env: { LOG_LEVEL: 'debug' } });
    expect(original.code).toBe(0);
    const logs = logLines(original);
    expect(logs.filter((log) => log.msg === 'flush installed').length).toBeGreaterThan(5);
    expect(original.lines.some((line) => line.includes('"source":"immutable"'))).toBe(true);
    expect(original.lines.some((line) => line.includes('"source":"sstable"'))).toBe(true);
    const logFile = join(dir, 'run.log');
    writeFileSync(logFile, original.stderr);

    const replayed = spawnSync(process.execPath, [CLI, 'replay', logFile], { encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'info' } });
    expect(replayed.status).toBe(0);
    expect(replayed.stdout.split('\n').filter(Boolean)).toEqual(original.lines);
  });

  it('replays a run with automatic compactions into the same values, the file layout aside', async () => {
    const dir = freshDir();
    const original = await runCli(workload(), { args: ['--memtable-max-bytes', '2048', '--max-immutable', '2', '--l0-compaction-trigger', '2'], env: { LOG_LEVEL: 'debug' } });
    expect(original.code).toBe(0);
    expect(logLines(original).filter((log) => log.msg === 'compaction installed').length).toBeGreaterThan(2);
    const logFile = join(dir, 'run.log');
    writeFileSync(logFile, original.stderr);
    const replayed = spawnSync(process.execPath, [CLI, 'replay', logFile], { encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'info' } });
    expect(replayed.status).toBe(0);
    // What reports the layout (memtable_stats, the layer or file that answered: an L0 stall or slowdown, timed by
    // compactions, can move a flush's install within a batch) may differ; every value, error and msg_id may not.
    const values = (lines: string[]) =>
      lines.map((line) => {
        const { body } = JSON.parse(line) as { body: Record<string, unknown> };
        if (body.type === 'memtable_stats_ok') return { msg_id: body.msg_id };
        const { sstable_file: _file, source: _source, deleted_in: _deletedIn, ...rest } = body;
        return rest;
      });
    expect(values(replayed.stdout.split('\n').filter(Boolean))).toEqual(values(original.lines));
  });

  it('splits compactions as the logged run did (--max-subcompactions from its log; a log from before the flag: one job)', async () => {
    const dir = freshDir();
    const input: Envelope[] = [init()];
    let msgId = 10;
    for (let flush = 0; flush < 4; flush++) {
      for (let k = 0; k < 1500; k++) input.push(request(msgId++, 'memtable_put', { key: `key${String(k).padStart(5, '0')}`, value: `v${flush}` }));
      input.push(request(msgId++, 'sstable_flush'));
    }
    input.push(request(msgId++, 'lsm_compact', { source_level: 0, target_level: 1 }), request(msgId++, 'lsm_level_info', { files: true }));
    const args = ['--compaction', 'manual', '--target-file-bytes', '4096'];
    const [split, whole] = await Promise.all([
      runCli(input, { args: [...args, '--max-subcompactions', '3'], env: { LOG_LEVEL: 'debug' } }),
      runCli(input, { args, env: { LOG_LEVEL: 'debug' } }),
    ]);
    expect(split.lines).not.toEqual(whole.lines); // the parts' outputs are cut, and numbered, differently
    const replay = (log: string) => {
      const logFile = join(dir, `run-${msgId++}.log`);
      writeFileSync(logFile, log);
      const replayed = spawnSync(process.execPath, [CLI, 'replay', logFile], { encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'info' } });
      expect(replayed.status, replayed.stderr).toBe(0);
      return replayed.stdout.split('\n').filter(Boolean);
    };
    expect(replay(split.stderr)).toEqual(split.lines);
    const older = split.stderr.replace(/,"maxSubcompactions":3/, '');
    expect(older).not.toBe(split.stderr);
    expect(replay(older)).toEqual(whole.lines);
  });

  it('installs flushes where the logged run did, even when its input arrived slowly', async () => {
    // The logged run gets its reads only after its flush is done, so they answer from the SSTable;
    // a replay that fed all input at once would answer them from the frozen MemTable.
    const child = spawn(process.execPath, [CLI, '--memtable-max-bytes', '100'], { env: { ...process.env, LOG_LEVEL: 'debug' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.write([init(), request(2, 'memtable_put', { key: 'a', value: 'x'.repeat(80) })].map((m) => JSON.stringify(m) + '\n').join(''));
    // Wait for the flush to be installed (it logs so at debug), however long that takes here.
    await new Promise<void>((resolve) => {
      const check = () => (stderr.includes('"msg":"flush installed"') ? resolve() : setTimeout(check, 20));
      check();
    });
    child.stdin.end(JSON.stringify(request(3, 'memtable_get', { key: 'a' })) + '\n');
    await new Promise((resolve) => child.on('close', resolve));
    expect(stdout).toContain('"source":"sstable"');
    const logFile = join(freshDir(), 'slow.log');
    writeFileSync(logFile, stderr);
    const replayed = spawnSync(process.execPath, [CLI, 'replay', logFile], { encoding: 'utf8' });
    expect(replayed.stdout).toBe(stdout);
  });

  it('says what is wrong with a log that cannot be replayed', () => {
    const logFile = join(freshDir(), 'info.log');
    writeFileSync(logFile, '{"level":30,"msg":"starting","pid":1}\n');
    const replayed = spawnSync(process.execPath, [CLI, 'replay', logFile], { encoding: 'utf8' });
    expect(replayed.status).toBe(2);
    expect(replayed.stderr).toContain('--log-level debug');
    expect(replayed.stdout).toBe('');
  });

  it("refuses a settings flag that disagrees with the log, since the logged run's settings win", async () => {
    const original = await runCli([init(), request(2, 'memtable_put', { key: 'a', value: 1 })], { args: ['--max-immutable', '3'], env: { LOG_LEVEL: 'debug' } });
    const logFile = join(freshDir(), 'run.log');
    writeFileSync(logFile, original.stderr);
    const agreeing = spawnSync(process.execPath, [CLI, 'replay', logFile, '--max-immutable', '3'], { encoding: 'utf8' });
    expect(agreeing.status).toBe(0);
    expect(agreeing.stdout.split('\n').filter(Boolean)).toEqual(original.lines);
    const disagreeing = spawnSync(process.execPath, [CLI, 'replay', logFile, '--max-immutable', '5'], { encoding: 'utf8' });
    expect(disagreeing.status).toBe(2);
    expect(disagreeing.stderr).toBe(`memtable-node: replay uses the logged run's settings, and ${logFile} disagrees with --max-immutable 5 (the log has 3)\n`);
  });

  it('warns when the logged run began on a non-empty store: its replies will differ', async () => {
    const dataDir = freshDir();
    await runCli([init(), request(2, 'write', { key: 'old', value: 1 })], { args: ['--data-dir', dataDir] });
    const second = await runCli([init(), request(2, 'read', { key: 'old' })], { args: ['--data-dir', dataDir], env: { LOG_LEVEL: 'debug' } });
    expect(replyTo(second, 2)).toMatchObject({ type: 'read_ok', value: 1 });
    const logFile = join(freshDir(), 'run.log');
    writeFileSync(logFile, second.stderr);
    const replayed = spawnSync(process.execPath, [CLI, 'replay', logFile], { encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'warn' } });
    expect(replayed.status).toBe(0);
    expect(replayed.stdout).toContain('"code":20'); // the replay's store is empty
    const warnings = replayed.stderr.split('\n').filter(Boolean).map((line) => JSON.parse(line));
    expect(warnings).toContainEqual(expect.objectContaining({ level: 40, node_ids: ['n1'], msg: expect.stringContaining('non-empty store') }));
  });
});
