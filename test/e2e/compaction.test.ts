/**
 * Levels and compaction through the built CLI (SPEC 2b): lsm_level_info,
 * lsm_read, lsm_compact, lsm_compact_status; automatic compaction by score;
 * tombstones dropped only at the base level; writes stopped at
 * --l0-stop-trigger while compaction fails, and nothing lost when it recovers.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LevelInfo } from '../../src/storage/store.js';
import { useTempDirs } from '../support/tempDirs.js';
import { type CliRun, type Envelope, init, logLines, replyTo, request, runCli } from './cli.js';
import { type Body, killLiveNodes, NodeProcess, scanAll, setPlan, withNode } from './nodeProcess.js';

const freshDir = useTempDirs('e2e-compaction');
afterEach(killLiveNodes);

const MANUAL = ['--compaction', 'manual'];
const put = (msgId: number, key: string, value: unknown): Envelope => request(msgId, 'memtable_put', { key, value });

function levelsOf(body: Body): LevelInfo[] {
  expect(body.type, JSON.stringify(body)).toBe('lsm_level_info_ok');
  return body.levels as LevelInfo[];
}

/** Checks SPEC 2b's shape of lsm_level_info with files: L1+ sorted and disjoint, counts and bytes agreeing. */
function expectWellFormedLevels(levels: LevelInfo[]): void {
  expect(levels.map((level) => level.level)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  for (const level of levels) {
    expect(level.sorted).toBe(level.level > 0);
    expect(level.files).toHaveLength(level.sstables);
    expect(level.total_bytes).toBe(level.files!.reduce((total, file) => total + file.size_bytes, 0));
    for (const file of level.files!) {
      expect(file.smallest <= file.largest, `${file.file} range`).toBe(true);
      expect(file.entries).toBeGreaterThan(0);
    }
    if (level.level === 0) continue;
    for (let i = 1; i < level.files!.length; i++) {
      expect(level.files![i - 1].largest < level.files![i].smallest, `L${level.level} disjoint and in key order`).toBe(true);
    }
  }
}

async function run(input: Envelope[], args: string[] = MANUAL): Promise<CliRun> {
  const result = await runCli([init(), ...input], { args });
  expect(result.code, result.stderr.slice(-2000)).toBe(0);
  return result;
}

describe('lsm_level_info', () => {
  it('lists all seven levels of a fresh node, with each level target and L0 against its trigger', async () => {
    const result = await run([request(2, 'lsm_level_info', { files: true }), request(3, 'lsm_level_info')], [
      '--memtable-max-bytes', '1000', '--l0-compaction-trigger', '3', '--level-base-bytes', '5000', '--level-multiplier', '4',
    ]);
    const levels = levelsOf(replyTo(result, 2));
    expectWellFormedLevels(levels);
    expect(levels.map((level) => [level.level, level.sstables, level.total_bytes, level.sorted, level.max_bytes, level.score])).toEqual([
      [0, 0, 0, false, 3000, 0],
      [1, 0, 0, true, 5000, 0],
      [2, 0, 0, true, 20000, 0],
      [3, 0, 0, true, 80000, 0],
      [4, 0, 0, true, 320000, 0],
      [5, 0, 0, true, 1280000, 0],
      [6, 0, 0, true, 5120000, 0],
    ]);
    expect(levelsOf(replyTo(result, 3))[0]).not.toHaveProperty('files');
  });
});

describe('lsm_compact (manual)', () => {
  it('leaves L0 to grow past every trigger with --compaction manual, then compacts it whole into L1', async () => {
    const input: Envelope[] = [];
    let msgId = 10;
    for (let flush = 0; flush < 6; flush++) {
      for (let k = 0; k < 5; k++) input.push(put(msgId++, `key${k}`, `v${flush}-${k}`));
      input.push(put(msgId++, `only${flush}`, flush));
      input.push(request(msgId++, 'sstable_flush'));
    }
    input.push(request(100, 'lsm_level_info'), request(101, 'lsm_compact_status'), request(102, 'lsm_compact'));
    input.push(request(103, 'lsm_level_info', { files: true }), request(104, 'memtable_scan'), request(105, 'lsm_compact_status'));
    const result = await run(input, [...MANUAL, '--l0-compaction-trigger', '2', '--l0-slowdown-trigger', '3', '--l0-stop-trigger', '4']);

    const before = levelsOf(replyTo(result, 100));
    expect(before[0]).toMatchObject({ sstables: 6, score: 3 });
    expect(replyTo(result, 101)).toMatchObject({ pending_compactions: 1, running: null, total_compactions: 0, total_bytes_compacted: 0 });
    const compacted = replyTo(result, 102);
    expect(compacted).toMatchObject({ type: 'lsm_compact_ok', sstables_merged: 6, new_sstables: 1, keys_deduplicated: 25 });
    expect(compacted.bytes_read).toBe(before[0].total_bytes);
    expect(compacted.bytes_written).toBeGreaterThan(0);
    expect(compacted.write_amplification).toBeCloseTo((compacted.bytes_written as number) / (compacted.bytes_read as number), 2);

    const after = levelsOf(replyTo(result, 103));
    expectWellFormedLevels(after);
    expect(after[0].sstables).toBe(0);
    expect(after[1]).toMatchObject({ sstables: 1, score: expect.any(Number) });
    expect(after[1].files![0]).toMatchObject({ smallest: 'key0', largest: 'only5', entries: 11 });
    expect(after[1].files![0].file).toMatch(/^L1_\d{6}\.sst$/);
    expect(replyTo(result, 104).entries).toEqual([
      ...[0, 1, 2, 3, 4].map((k) => ({ key: `key${k}`, value: `v5-${k}` })),
      ...[0, 1, 2, 3, 4, 5].map((flush) => ({ key: `only${flush}`, value: flush })),
    ]);
    expect(replyTo(result, 105)).toMatchObject({ pending_compactions: 0, running: null, total_compactions: 1, total_bytes_compacted: compacted.bytes_written });
    // Writes were never held for L0 in manual mode: every reply came.
    expect(result.messages.filter((message) => message.body.type === 'error')).toEqual([]);
  });

  it('drops a tombstone where no deeper level can hold its key, and keeps it where one can', async () => {
    const input: Envelope[] = [];
    let msgId = 10;
    for (let k = 0; k < 10; k++) input.push(put(msgId++, `k${k}`, k));
    input.push(request(msgId++, 'sstable_flush'));
    for (let k = 0; k < 5; k++) input.push(request(msgId++, 'memtable_delete', { key: `k${k}` }));
    input.push(request(msgId++, 'sstable_flush'));
    input.push(request(100, 'lsm_compact', { source_level: 0, target_level: 1 }));
    input.push(request(101, 'lsm_level_info', { files: true }));
    // Push k5..k9 to L2, then delete k5 above them: compacting L0 into L1 must keep that tombstone.
    input.push(request(102, 'lsm_compact', { source_level: 1, target_level: 2 }));
    input.push(request(103, 'memtable_delete', { key: 'k5' }), request(104, 'sstable_flush'));
    input.push(request(105, 'lsm_compact', { source_level: 0, target_level: 1 }));
    input.push(request(106, 'lsm_level_info', { files: true }), request(107, 'memtable_get', { key: 'k5' }), request(108, 'lsm_read', { key: 'k5' }));
    // Compacting L1 into L2 (the base level for k5 now) drops the tombstone and the value it hid.
    input.push(request(109, 'lsm_compact', { source_level: 1, target_level: 2 }));
    input.push(request(110, 'lsm_level_info', { files: true }), request(111, 'memtable_scan'));
    const result = await run(input);

    expect(replyTo(result, 100)).toMatchObject({ sstables_merged: 2, new_sstables: 1, keys_deduplicated: 10 });
    expect(levelsOf(replyTo(result, 101))[1].files).toEqual([expect.objectContaining({ smallest: 'k5', largest: 'k9', entries: 5 })]);
    expect(replyTo(result, 102)).toMatchObject({ sstables_merged: 1, new_sstables: 1, keys_deduplicated: 0 });
    expect(replyTo(result, 105)).toMatchObject({ sstables_merged: 1, new_sstables: 1, keys_deduplicated: 0 });
    const kept = levelsOf(replyTo(result, 106));
    expect(kept[1].files).toEqual([expect.objectContaining({ smallest: 'k5', largest: 'k5', entries: 1 })]);
    expect(kept[2].files).toEqual([expect.objectContaining({ smallest: 'k5', largest: 'k9', entries: 5 })]);
    expect(replyTo(result, 107)).toMatchObject({ found: false, value: null });
    // A tombstone answers the read: found_at names where it stopped (L1), and the L2 file below is not consulted.
    expect(replyTo(result, 108)).toMatchObject({ found: false, value: null, found_at: 'L1', levels_checked: 2, files_checked: 1 });
    expect(replyTo(result, 109)).toMatchObject({ sstables_merged: 2, new_sstables: 1, keys_deduplicated: 2 });
    const dropped = levelsOf(replyTo(result, 110));
    expect(dropped[1].sstables).toBe(0);
    expect(dropped[2].files).toEqual([expect.objectContaining({ smallest: 'k6', largest: 'k9', entries: 4 })]);
    expect(replyTo(result, 111).entries).toEqual([6, 7, 8, 9].map((k) => ({ key: `k${k}`, value: k })));
  });

  it('without levels, compacts the whole key range down to the deepest level holding data, summing the steps', async () => {
    const input: Envelope[] = [put(10, 'a', 1), put(11, 'b', 1), request(12, 'sstable_flush')];
    input.push(request(13, 'lsm_compact', { source_level: 0, target_level: 1 }), request(14, 'lsm_compact', { source_level: 1, target_level: 2 }));
    input.push(put(15, 'b', 2), put(16, 'c', 2), request(17, 'sstable_flush'), put(18, 'c', 3), request(19, 'sstable_flush'));
    input.push(request(20, 'lsm_compact', { source_level: 0, target_level: 1 }), put(21, 'd', 4), request(22, 'sstable_flush'));
    input.push(request(100, 'lsm_compact'), request(101, 'lsm_level_info', { files: true }), request(102, 'memtable_scan'));
    const result = await run(input);
    // Step L0 -> L1 rewrites d's file alone (L1's file b..c does not overlap it); step L1 -> L2 merges
    // both L1 files with L2's (a, b), where b's older value goes.
    expect(replyTo(result, 100)).toMatchObject({ type: 'lsm_compact_ok', sstables_merged: 1 + 3, new_sstables: 1 + 1, keys_deduplicated: 0 + 1 });
    const levels = levelsOf(replyTo(result, 101));
    expect(levels.map((level) => level.sstables)).toEqual([0, 0, 1, 0, 0, 0, 0]);
    expect(levels[2].files![0]).toMatchObject({ smallest: 'a', largest: 'd', entries: 4 });
    expect(replyTo(result, 102).entries).toEqual([
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
      { key: 'c', value: 3 },
      { key: 'd', value: 4 },
    ]);
  });
});

describe('--max-subcompactions', () => {
  it('splits a large compaction into key ranges run in worker threads side by side, with the same result', async () => {
    // Four flushes of 1,500 keys each (about 40 KB of 4 KiB blocks), the same keys in each with new values.
    const input: Envelope[] = [];
    let msgId = 10;
    for (let flush = 0; flush < 4; flush++) {
      for (let k = 0; k < 1500; k++) input.push(put(msgId++, `key${String(k).padStart(5, '0')}`, `v${flush}-${k}`));
      input.push(request(msgId++, 'sstable_flush'));
    }
    input.push(request(100_000, 'lsm_compact', { source_level: 0, target_level: 1 }), request(100_001, 'lsm_level_info', { files: true }), request(100_002, 'memtable_scan', { limit: 2000 }));
    const args = [...MANUAL, '--target-file-bytes', '4096'];
    const [whole, split] = await Promise.all([run(input, args), run(input, [...args, '--max-subcompactions', '3'])]);
    const finished = (result: CliRun) => logLines(result).filter((log) => log.msg === 'compaction finished');
    expect(finished(whole).map((log) => log.subcompactions)).toEqual([1]);
    expect(finished(split).map((log) => log.subcompactions)).toEqual([3]);
    expect(replyTo(split, 100_000)).toMatchObject({ type: 'lsm_compact_ok', sstables_merged: 4, keys_deduplicated: 3 * 1500 });
    const levels = levelsOf(replyTo(split, 100_001));
    expectWellFormedLevels(levels);
    expect(levels[1].files!.reduce((sum, file) => sum + file.entries, 0)).toBe(1500);
    expect(replyTo(split, 100_002).entries).toEqual(replyTo(whole, 100_002).entries);
    expect((replyTo(split, 100_002).entries as unknown[])[1499]).toEqual({ key: 'key01499', value: 'v3-1499' });
  });
});

describe('lsm_read', () => {
  it('says where each read went: the layer that answered, the levels and the files it consulted', async () => {
    const input: Envelope[] = [put(10, 'a', 'in L1'), request(11, 'sstable_flush'), request(12, 'lsm_compact', { source_level: 0, target_level: 1 })];
    input.push(put(13, 'b', 'in L0'), request(14, 'sstable_flush'), put(15, 'c', 'active too'), put(16, 'd', 'active'));
    input.push(
      request(20, 'lsm_read', { key: 'd' }),
      request(21, 'lsm_read', { key: 'b' }),
      request(22, 'lsm_read', { key: 'a' }),
      request(23, 'lsm_read', { key: 'zz' }),
      request(24, 'memtable_get', { key: 'a' }),
      request(25, 'sstable_lookup', { sstable: 'L1_999999.sst', key: 'a' }),
    );
    const result = await run(input);
    expect(replyTo(result, 20)).toMatchObject({ value: 'active', found: true, found_at: 'memtable', levels_checked: 0, files_checked: 0 });
    expect(replyTo(result, 21)).toMatchObject({ value: 'in L0', found: true, found_at: 'L0', levels_checked: 1, files_checked: 1, sstable_file: expect.stringMatching(/^L0_/) });
    // L0's one file holds only "b": its key range rules it out without a look at its filter.
    expect(replyTo(result, 22)).toMatchObject({ value: 'in L1', found: true, found_at: 'L1', levels_checked: 2, files_checked: 1, sstable_file: expect.stringMatching(/^L1_/) });
    expect(replyTo(result, 23)).toMatchObject({ value: null, found: false, found_at: null, levels_checked: 2, files_checked: 0 });
    expect(replyTo(result, 24)).toMatchObject({ value: 'in L1', found: true, source: 'sstable', sstable_file: replyTo(result, 22).sstable_file });
    expect(replyTo(result, 25)).toMatchObject({ type: 'error', code: 20 });
  });
});

describe('automatic compaction', () => {
  const AUTO = [
    '--memtable-max-bytes', '4096', '--max-immutable', '2',
    '--l0-compaction-trigger', '2', '--l0-slowdown-trigger', '4', '--l0-stop-trigger', '6',
    '--target-file-bytes', '4096', '--level-base-bytes', '8192', '--level-multiplier', '2',
  ];

  it('keeps L0 small and the levels sorted while writes go on, loses nothing, and logs each compaction', async () => {
    const dataDir = freshDir();
    const model = new Map<string, unknown>();
    await withNode(dataDir, { args: [...AUTO, '--log-level', 'info'] }, async (node) => {
      expect(await node.init()).toMatchObject({ type: 'init_ok' });
      let msgId = 10;
      for (let round = 0; round < 6; round++) {
        const burst: Envelope[] = [];
        for (let i = 0; i < 500; i++) {
          const key = `user:${String((i * 7919 + round * 31) % 400).padStart(4, '0')}`;
          if (i % 9 === 0) {
            burst.push(request(msgId++, 'memtable_delete', { key }));
            model.delete(key);
          } else {
            const value = `r${round}-${i}-${'x'.repeat(i % 50)}`;
            burst.push(put(msgId++, key, value));
            model.set(key, value);
          }
        }
        node.send(...burst);
        const last = await node.reply(msgId - 1, 30_000);
        expect(last.type).toMatch(/_ok$/);
      }
      await node.waitForLogs((log) => log.msg === 'compaction finished', 3, 'three compactions', 30_000);
      // Quiescent: nothing pending, nothing running.
      let status: Body;
      do status = await node.call(msgId++, 'lsm_compact_status');
      while (status.pending_compactions !== 0 || status.running !== null);
      expect(status.total_compactions).toBeGreaterThanOrEqual(3);
      expect(status.total_bytes_compacted).toBeGreaterThan(0);
      expect(status.write_amplification).toBeGreaterThan(0);

      const levels = levelsOf(await node.call(msgId++, 'lsm_level_info', { files: true }));
      expectWellFormedLevels(levels);
      expect(levels[0].sstables).toBeLessThan(2);
      expect(levels.slice(1).some((level) => level.sstables > 0)).toBe(true);
      for (const level of levels.slice(1, 6)) expect(level.score).toBeLessThan(1);
      const stats = await node.call(msgId++, 'memtable_stats');
      const sstables = stats.sstables as Array<{ file: string; level: number }>;
      expect(sstables.length).toBe(levels.reduce((total, level) => total + level.sstables, 0));
      for (const table of sstables) expect(levels[table.level].files!.map((file) => file.file)).toContain(table.file);

      expect(Object.fromEntries(await scanAll(node, 5000))).toEqual(Object.fromEntries([...model].sort()));
      const started = node.logs().filter((log) => log.msg === 'compaction started');
      const finished = node.logs().filter((log) => log.msg === 'compaction finished');
      expect(started.length).toBeGreaterThanOrEqual(finished.length);
      expect(finished[0]).toMatchObject({ node_id: 'n1', source_level: expect.any(Number), target_level: expect.any(Number), inputs: expect.any(Array), outputs: expect.any(Array), bytes: expect.any(Number), ms: expect.any(Number) });
      expect(await node.end()).toBe(0);
    });

    // The same files at the same levels after a restart.
    await withNode(dataDir, { args: AUTO }, async (node) => {
      expect(await node.init()).toMatchObject({ type: 'init_ok' });
      expect(Object.fromEntries(await scanAll(node, 10))).toEqual(Object.fromEntries([...model].sort()));
    });
  }, 60_000);

  it('stops writes at --l0-stop-trigger while compactions fail (ENOSPC), retries, and answers them once the disk recovers', async () => {
    const dataDir = freshDir();
    const planFile = join(freshDir(), 'faults.json');
    setPlan(planFile, { createWritable: 'ENOSPC', paths: '/L[1-6]_' });
    const args = ['--memtable-max-bytes', '1000000', '--l0-compaction-trigger', '2', '--l0-slowdown-trigger', '3', '--l0-stop-trigger', '4'];
    const model = new Map<string, unknown>();
    await withNode(dataDir, { args, env: { MEMTABLE_FAULT_FILE: planFile } }, async (node) => {
      expect(await node.init()).toMatchObject({ type: 'init_ok' });
      let msgId = 10;
      // Every file spans a..z, so each L0 compaction takes them all and none is a trivial move (which writes nothing).
      for (let flush = 0; flush < 4; flush++) {
        for (const key of ['a', `k${flush}`, 'z']) {
          expect(await node.call(msgId++, 'memtable_put', { key, value: flush })).toMatchObject({ type: 'memtable_put_ok' });
          model.set(key, flush);
        }
        expect(await node.call(msgId++, 'sstable_flush')).toMatchObject({ type: 'sstable_flush_ok' });
      }
      // Four L0 files: writes stop (and everything behind them: replies keep arrival order).
      const stopped = msgId++;
      node.send(put(stopped, 'late', 'waited'));
      model.set('late', 'waited');
      const failures = await node.waitForLogs((log) => log.msg === 'compaction failed; inputs kept, will retry', 2, 'two failed compactions', 20_000);
      expect(String(failures[0].err && (failures[0].err as { message?: string }).message)).toContain('ENOSPC');
      expect(node.replies.has(stopped), 'a write at the stop trigger waits').toBe(false);
      expect(node.logs().find((log) => log.msg === 'writes stalled: L0 at its stop trigger, waiting for a compaction')).toMatchObject({ level: 30, l0_files: 4, l0_stop_trigger: 4 });
      expect(readdirSync(join(dataDir, 'n1')).filter((name) => /^L0_\d+\.sst$/.test(name))).toHaveLength(4);
      expect(readdirSync(join(dataDir, 'n1')).filter((name) => /^L[1-6]_/.test(name)), 'a failed compaction leaves no output behind').toEqual([]);

      setPlan(planFile, {});
      expect(await node.reply(stopped, 20_000)).toMatchObject({ type: 'memtable_put_ok' });
      await node.waitForLogs((log) => log.msg === 'compaction finished', 1, 'a compaction after the disk recovered', 20_000);
      expect(Object.fromEntries(await scanAll(node, 1000))).toEqual(Object.fromEntries([...model].sort()));
      await node.kill();
    });
    await withNode(dataDir, { args }, async (node) => {
      expect(await node.init()).toMatchObject({ type: 'init_ok' });
      expect(Object.fromEntries(await scanAll(node, 10))).toEqual(Object.fromEntries([...model].sort()));
    });
  }, 60_000);
});

describe('the L0 slowdown', () => {
  it('delays each serving pass that meets a write while L0 holds --l0-slowdown-trigger files, and answers every write', async () => {
    const dataDir = freshDir();
    const planFile = join(freshDir(), 'faults.json');
    // Compactions fail, so L0 stays at the slowdown trigger while the writes go on.
    setPlan(planFile, { createWritable: 'ENOSPC', paths: '/L[1-6]_' });
    const args = ['--memtable-max-bytes', '1000000', '--l0-compaction-trigger', '2', '--l0-slowdown-trigger', '2', '--l0-stop-trigger', '10'];
    await withNode(dataDir, { args, env: { MEMTABLE_FAULT_FILE: planFile } }, async (node) => {
      expect(await node.init()).toMatchObject({ type: 'init_ok' });
      let msgId = 10;
      for (let flush = 0; flush < 2; flush++) {
        for (const key of ['a', 'z']) await node.call(msgId++, 'memtable_put', { key, value: flush });
        expect(await node.call(msgId++, 'sstable_flush')).toMatchObject({ type: 'sstable_flush_ok' });
      }
      // Two L0 files: slowed, not stopped. Each batch of writes waits one pause, then is served.
      for (let i = 0; i < 5; i++) expect(await node.call(msgId++, 'memtable_put', { key: `k${i}`, value: i })).toMatchObject({ type: 'memtable_put_ok' });
      const delayed = node.logs().filter((log) => log.msg === 'transition' && (log.state as { open?: { writes?: string } }).open?.writes === 'delayed');
      expect(delayed.length).toBeGreaterThanOrEqual(5);
      expect(node.logs().filter((log) => log.msg === 'transition' && log.event === 'xstate.done.actor.slowdown').length).toBeGreaterThanOrEqual(5);
    });
  });
});

describe('replies of an lsm_compact', () => {
  it('answers a failed manual compaction 13 and keeps every input', async () => {
    const dataDir = freshDir();
    const planFile = join(freshDir(), 'faults.json');
    setPlan(planFile, { rename: 'EIO', paths: '/L1_' });
    await withNode(dataDir, { args: MANUAL, env: { MEMTABLE_FAULT_FILE: planFile } }, async (node) => {
      await node.init();
      await node.call(10, 'memtable_put', { key: 'a', value: 1 });
      await node.call(11, 'sstable_flush');
      await node.call(12, 'memtable_put', { key: 'a', value: 2 });
      await node.call(13, 'sstable_flush');
      expect(await node.call(14, 'lsm_compact', { source_level: 0, target_level: 1 })).toMatchObject({ type: 'error', code: 13 });
      expect(levelsOf(await node.call(15, 'lsm_level_info')).map((level) => level.sstables)).toEqual([2, 0, 0, 0, 0, 0, 0]);
      expect(await node.call(16, 'memtable_get', { key: 'a' })).toMatchObject({ value: 2 });
      setPlan(planFile, {});
      expect(await node.call(17, 'lsm_compact', { source_level: 0, target_level: 1 })).toMatchObject({ type: 'lsm_compact_ok', sstables_merged: 2 });
      expect(await node.call(18, 'lsm_read', { key: 'a' })).toMatchObject({ value: 2, found_at: 'L1' });
    });
  });
});

describe('logs', () => {
  it('logs nothing at warn or above for a clean run with compactions', async () => {
    const input: Envelope[] = [];
    for (let i = 0; i < 40; i++) input.push(put(10 + i, `k${i % 7}`, i), ...(i % 5 === 4 ? [request(100 + i, 'sstable_flush')] : []));
    const result = await run(input, ['--l0-compaction-trigger', '2']);
    const logs = logLines(result);
    expect(logs.filter((log) => (log.level as number) >= 40)).toEqual([]);
    expect(logs.filter((log) => log.msg === 'compaction finished').length).toBeGreaterThan(0);
  });
});
