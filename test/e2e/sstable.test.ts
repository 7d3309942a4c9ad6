/** Flushes, SSTable reads, stalls and the data folder, through the CLI. */
import { spawn } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../support/tempDirs.js';
import { CLI, init, logLines, replyTo, request, runCli } from './cli.js';

const freshDir = useTempDirs('e2e-sstable');

describe('sstable_flush and sstable_lookup', () => {
  it('flushes on request, reads through every layer, and looks keys up in a named file', async () => {
    const run = await runCli([
      init(),
      request(2, 'sstable_flush'),
      request(3, 'memtable_put', { key: 'a', value: 'old' }),
      request(4, 'memtable_put', { key: 'b', value: [1, 2] }),
      request(5, 'memtable_delete', { key: 'gone' }),
      request(6, 'sstable_flush'),
      request(20, 'sstable_lookup', { sstable: 'L0_000001.sst', key: 'a' }),
      request(21, 'sstable_lookup', { sstable: 'L0_000001.sst', key: 'a' }),
      request(7, 'memtable_put', { key: 'a', value: 'new' }),
      request(8, 'memtable_get', { key: 'a' }),
      request(9, 'memtable_get', { key: 'b' }),
      request(10, 'sstable_lookup', { sstable: 'L0_000001.sst', key: 'a' }),
      request(11, 'sstable_lookup', { sstable: 'L0_000001.sst', key: 'gone' }),
      request(12, 'sstable_lookup', { sstable: 'L0_000001.sst', key: 'absent' }),
      request(13, 'memtable_scan', {}),
      request(14, 'memtable_stats'),
    ]);
    expect(replyTo(run, 2)).toMatchObject({ type: 'sstable_flush_ok', sstable_file: null, entries: 0 });
    const flushed = replyTo(run, 6);
    expect(flushed).toMatchObject({ type: 'sstable_flush_ok', sstable_file: 'L0_000001.sst', entries: 3 });
    expect(flushed.bloom_filter_bits as number).toBeGreaterThanOrEqual(30);
    expect(flushed.size_bytes as number).toBeGreaterThan(0);
    expect(replyTo(run, 8)).toMatchObject({ value: 'new', found: true, source: 'memtable' });
    expect(replyTo(run, 9)).toMatchObject({ value: [1, 2], found: true, source: 'sstable', sstable_file: 'L0_000001.sst' });
    // The first lookup reads its block from disk; the block cache answers the second.
    expect(replyTo(run, 20)).toMatchObject({ found: true, value: 'old', bloom_checked: true, bloom_may_contain: true, disk_reads: 1 });
    expect(replyTo(run, 21)).toMatchObject({ found: true, value: 'old', disk_reads: 0 });
    expect(replyTo(run, 10)).toMatchObject({ found: true, value: 'old' });
    expect(replyTo(run, 11)).toMatchObject({ found: false, value: null, deleted: true });
    expect(replyTo(run, 12)).toMatchObject({ found: false, value: null });
    expect(replyTo(run, 13).entries).toEqual([
      { key: 'a', value: 'new' },
      { key: 'b', value: [1, 2] },
    ]);
    expect(replyTo(run, 14)).toMatchObject({
      state: 'ready',
      active: { entries: 1 },
      immutable: [],
      sstables: [{ file: 'L0_000001.sst', entries: 3 }],
    });
  });

  it('stalls writes at --max-immutable 1 with a tiny threshold: thousands of pipelined writes, nothing lost or reordered', async () => {
    const input = [init()];
    const writes = 4000;
    for (let i = 0; i < writes; i++) input.push(request(10 + i, 'memtable_put', { key: `key${i % 1500}`, value: `value-${i}` }));
    for (let k = 0; k < 1500; k++) input.push(request(100_000 + k, 'memtable_get', { key: `key${k}` }));
    input.push(request(200_000, 'memtable_stats'));
    // Compaction left to lsm_compact, so every flush stays an SSTable of its own to count.
    const run = await runCli(input, { args: ['--memtable-max-bytes', '4096', '--max-immutable', '1', '--compaction', 'manual'], timeoutMs: 60_000 });
    expect(run.code).toBe(0);
    expect(run.messages.map((m) => m.body.in_reply_to)).toEqual(input.map((m) => m.body.msg_id));
    for (let k = 0; k < 1500; k++) {
      const last = k + 1500 * Math.floor((writes - 1 - k) / 1500);
      expect(replyTo(run, 100_000 + k).value).toBe(`value-${last}`);
    }
    const stats = replyTo(run, 200_000);
    expect((stats.sstables as unknown[]).length).toBeGreaterThan(10);
    expect((stats.immutable as unknown[]).length).toBeLessThanOrEqual(1);
  });
});

describe('data folder', () => {
  it('leaves no files behind without --data-dir', async () => {
    const temp = freshDir();
    const input = [init()];
    for (let i = 0; i < 200; i++) input.push(request(10 + i, 'memtable_put', { key: `k${i}`, value: i }));
    const run = await runCli(input, { args: ['--memtable-max-bytes', '1024'], env: { TMPDIR: temp } });
    expect(run.code).toBe(0);
    expect(readdirSync(temp)).toEqual([]);
  });

  it('removes the temporary folder on SIGTERM', async () => {
    const temp = freshDir();
    const child = spawn(process.execPath, [CLI], { env: { ...process.env, TMPDIR: temp }, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.write(JSON.stringify(init()) + '\n');
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    expect(readdirSync(temp)).toHaveLength(1);
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(readdirSync(temp)).toEqual([]);
  });

  it('opens a data dir written by the previous node (an L0-only MANIFEST): its SSTables become L0, its log replays, and it converts at the next flush', async () => {
    const dataDir = freshDir();
    cpSync('test/fixtures/legacy-store', join(dataDir, 'n1'), { recursive: true });
    const gets = ['apple', 'banana', 'cherry', 'elder'].map((key, i) => request(2 + i, 'memtable_get', { key }));
    const run = await runCli([init(), ...gets, request(10, 'memtable_stats'), request(11, 'sstable_flush')], { args: ['--data-dir', dataDir] });
    expect([2, 3, 4, 5].map((msgId) => [replyTo(run, msgId).found, replyTo(run, msgId).value])).toEqual([
      [true, 'v1-apple'],
      [true, 'v2-banana'],
      [false, null],
      [true, 'wal-only'],
    ]);
    expect(replyTo(run, 10).sstables).toEqual([
      { file: 'L0_000002.sst', level: 0, entries: 3, size_bytes: 178 },
      { file: 'L0_000001.sst', level: 0, entries: 3, size_bytes: 186 },
    ]);
    expect(replyTo(run, 11).sstable_file).toBe('L0_000003.sst');
    expect(readdirSync(join(dataDir, 'n1')).sort()).toEqual(['000004.wal', 'CURRENT', 'L0_000001.sst', 'L0_000002.sst', 'L0_000003.sst', 'MANIFEST-000001']);
  });

  it('keeps files under DIR/<node_id>/ with --data-dir, and reads flushed SSTables back after a restart', async () => {
    const dataDir = freshDir();
    const first = await runCli([init(), request(2, 'memtable_put', { key: 'kept', value: { n: 1 } }), request(3, 'sstable_flush')], {
      args: ['--data-dir', dataDir],
    });
    expect(replyTo(first, 3).sstable_file).toBe('L0_000001.sst');
    expect(readdirSync(join(dataDir, 'n1')).sort()).toEqual(expect.arrayContaining(['CURRENT', 'L0_000001.sst']));
    const second = await runCli([init(), request(2, 'memtable_get', { key: 'kept' }), request(3, 'sstable_flush'), request(4, 'memtable_put', { key: 'x', value: 1 }), request(5, 'sstable_flush')], {
      args: ['--data-dir', dataDir],
    });
    expect(replyTo(second, 2)).toMatchObject({ found: true, value: { n: 1 }, source: 'sstable' });
    expect(replyTo(second, 5).sstable_file).toBe('L0_000002.sst');
  });

  it('holds at most --max-open-files SSTables open: 150 flushes under ulimit -n 64, every key read back through a 4 KiB block cache, before and after a restart', async () => {
    // Node itself holds about 20 descriptors once started (its module loader
    // needs 40-odd at once to start the CLI). Before the limit existed, each
    // SSTable kept one for good: under ulimit -n 48 the 28th flush failed with
    // EMFILE and retried forever, and every request behind its sstable_flush waited.
    const dataDir = freshDir();
    const flushes = 150;
    const options = { args: ['--data-dir', dataDir, '--max-open-files', '8', '--block-cache-bytes', '4096'], openFilesLimit: 64, timeoutMs: 60_000 };
    const writes = Array.from({ length: flushes }, (_, i) => [
      request(10 + 2 * i, 'memtable_put', { key: `k${String(i).padStart(3, '0')}`, value: i }),
      request(11 + 2 * i, 'sstable_flush'),
    ]).flat();
    const reads = (from: number) => Array.from({ length: flushes }, (_, i) => request(from + i, 'memtable_get', { key: `k${String(i).padStart(3, '0')}` }));
    const first = await runCli([init(), ...writes, ...reads(1000)], options);
    expect(first.code).toBe(0);
    expect(replyTo(first, 11 + 2 * (flushes - 1)).sstable_file).toBe(`L0_000${flushes}.sst`);
    for (let i = 0; i < flushes; i++) expect(replyTo(first, 1000 + i)).toMatchObject({ found: true, value: i, source: 'sstable' });
    expect(logLines(first).find((log) => log.msg === 'starting')).toMatchObject({ max_open_files: 8, block_cache_bytes: 4096 });
    expect(logLines(first).filter((log) => (log.level as number) >= 40)).toEqual([]);

    const second = await runCli([init(), ...reads(2000), request(3000, 'memtable_scan', { limit: 1000 })], options);
    expect(second.code).toBe(0);
    for (let i = 0; i < flushes; i++) expect(replyTo(second, 2000 + i)).toMatchObject({ found: true, value: i });
    expect((replyTo(second, 3000).entries as unknown[]).length).toBe(flushes);
  });

  it('answers 13 for a read that meets a damaged block, and keeps serving', async () => {
    const dataDir = freshDir();
    await runCli([init(), request(2, 'memtable_put', { key: 'k', value: 'a value long enough to flip' }), request(3, 'sstable_flush')], {
      args: ['--data-dir', dataDir],
    });
    const file = join(dataDir, 'n1', 'L0_000001.sst');
    const bytes = readFileSync(file);
    bytes[bytes.indexOf('a value long') + 3] ^= 0x01; // a flipped bit inside the data block
    writeFileSync(file, bytes);
    const run = await runCli([init(), request(2, 'memtable_get', { key: 'k' }), request(3, 'memtable_put', { key: 'z', value: 1 }), request(4, 'memtable_get', { key: 'z' })], {
      args: ['--data-dir', dataDir],
    });
    expect(replyTo(run, 2)).toMatchObject({ type: 'error', code: 13 });
    expect(replyTo(run, 4)).toMatchObject({ found: true, value: 1 });
  });
});

describe('backpressure', () => {
  it('stops reading stdin while writes are stalled, so memory stays bounded, and resumes in order', async () => {
    // Flushes fail (an injected full disk), so after one frozen MemTable every write waits.
    const dir = freshDir();
    const plan = join(dir, 'faults.json');
    writeFileSync(plan, JSON.stringify({ createWritable: 'ENOSPC' }));
    const child = spawn(process.execPath, [CLI, '--memtable-max-bytes', '4096', '--max-immutable', '1'], {
      env: { ...process.env, MEMTABLE_FAULT_FILE: plan, LOG_LEVEL: 'silent' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let replies = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) replies++;
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdin.write(JSON.stringify(init()) + '\n');

    // Offer 64 MiB of writes as fast as the pipe takes them, for one second.
    const line = (i: number) => JSON.stringify(request(10 + i, 'memtable_put', { key: `k${i % 5000}`, value: 'x'.repeat(1000) })) + '\n';
    let offered = 0;
    let accepted = 0;
    const deadline = Date.now() + 1000;
    while (Date.now() < deadline && accepted < 64 << 20) {
      const text = line(offered++);
      accepted += text.length;
      if (!child.stdin.write(text)) {
        await Promise.race([new Promise((resolve) => child.stdin.once('drain', resolve)), new Promise((resolve) => setTimeout(resolve, deadline - Date.now()))]);
      }
    }
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) * 1024;
    // The node took a few pipe buffers' worth, not the 64 MiB offered, and holds little of it.
    expect(child.stdin.writableLength).toBeGreaterThan(0);
    expect(replies).toBeLessThan(200);
    expect(rss).toBeLessThan(200 << 20);

    writeFileSync(plan, '{}'); // the disk heals: flushes succeed, writes resume
    child.stdin.end();
    expect(await exited).toBe(0);
    expect(replies).toBe(offered + 1);
  });
});
