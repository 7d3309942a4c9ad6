/**
 * The offline tools (docs/TOOLS.md) through the built CLI, on folders a node
 * really wrote, and on damaged copies of them: a flipped byte mid-SSTable, a
 * torn WAL tail, damage mid-WAL, a missing file.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { useTempDirs } from '../support/tempDirs.js';
import { CLI, type CliRun, type Envelope, init, replyTo, request, runCli, runCliRaw } from './cli.js';

const freshDir = useTempDirs('e2e-tools');

/** Keys k000..k059, each written in three rounds; k005 and k010 deleted last (so in the live WAL). */
const KEYS = Array.from({ length: 60 }, (_, i) => `k${String(i).padStart(3, '0')}`);
const DELETED = new Set(['k005', 'k010']);
const valueOf = (key: string, round: number) => ({ key, round, pad: 'x'.repeat(150) });

/** The newest value of every key the store should hold. */
const MODEL = new Map(KEYS.filter((key) => !DELETED.has(key)).map((key) => [key, valueOf(key, 2)]));

let pristineRoot: string;

/** Nodes whose folders these tests read as flushes left them: compaction only on request. */
const FLUSH_ONLY = ['--compaction', 'manual'];

/**
 * A node folder with several multi-block L0 SSTables (flushes only, their
 * contents known: the first holds round 0 of the first keys) and a live WAL,
 * written once by a real node.
 */
beforeAll(async () => {
  pristineRoot = mkdtempSync(join(tmpdir(), 'e2e-tools-pristine-'));
  const input = [init()];
  let msgId = 2;
  for (let round = 0; round < 3; round++) for (const key of KEYS) input.push(request(msgId++, 'memtable_put', { key, value: valueOf(key, round) }));
  for (const key of DELETED) input.push(request(msgId++, 'memtable_delete', { key }));
  const run = await runCli(input, { args: ['--data-dir', pristineRoot, '--memtable-max-bytes', '8192', ...FLUSH_ONLY], env: { LOG_LEVEL: 'warn' } });
  expect(run.code).toBe(0);
  expect(replyTo(run, msgId - 1)).toMatchObject({ type: 'memtable_delete_ok' });
});

afterAll(() => rmSync(pristineRoot, { recursive: true, force: true }));

/** A fresh copy of the node folder, removed after the test. */
function storeCopy(): string {
  const root = freshDir();
  cpSync(pristineRoot, root, { recursive: true });
  return join(root, 'n1');
}

function tool(...args: string[]): Promise<CliRun & { stdout: string }> {
  return runCliRaw('', { args }).then((run) => ({ ...run, stdout: run.lines.join('\n') }));
}

async function toolJson(...args: string[]): Promise<{ code: number | null; report: Record<string, any> }> {
  const run = await tool(...args, '--json');
  try {
    return { code: run.code, report: JSON.parse(run.stdout) };
  } catch {
    throw new Error(`not JSON (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}

function filesIn(dir: string, pattern: RegExp): string[] {
  return readdirSync(dir)
    .filter((name) => pattern.test(name))
    .sort();
}

const SSTABLE = /^L\d_\d{6,}\.sst$/;
const WAL = /^\d{6,}\.wal$/;

/** Flips one bit of `path` at `offset`. */
function flipByte(path: string, offset: number): void {
  const bytes = readFileSync(path);
  bytes[offset] ^= 0x10;
  writeFileSync(path, bytes);
}

/** Every file under `dir` with its size, mtime and SHA-256, to show a tool changed nothing. */
function fingerprint(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((entry) => join(entry.parentPath, entry.name))
    .sort()
    .map((path) => {
      const stat = statSync(path);
      const hash = stat.isFile() ? createHash('sha256').update(readFileSync(path)).digest('hex') : 'dir';
      return `${path} ${stat.size} ${stat.mtimeMs} ${hash}`;
    });
}

describe('sst-dump', () => {
  it("prints a real SSTable's properties, index and entries, every checksum verified", async () => {
    const dir = storeCopy();
    const [file] = filesIn(dir, SSTABLE);
    const { code, report } = await toolJson('sst-dump', join(dir, file), '--entries');
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
    const props = report.properties;
    expect(props).toMatchObject({ format_version: 1, size_bytes: statSync(join(dir, file)).size, tombstones: 0 });
    expect(props.data_blocks).toBeGreaterThan(1);
    expect(props.bloom_filter_bits).toBeGreaterThan(0);
    expect(report.index).toHaveLength(props.data_blocks);
    expect(report.index[0]).toMatchObject({ block: 0, offset: 0 });
    expect(report.index.at(-1).last_key).toBe(props.largest_key);
    expect(report.entries).toHaveLength(props.entries);
    expect(report.entries[0].key).toBe(props.smallest_key);
    expect(report.entries.at(-1).key).toBe(props.largest_key);
    expect(report.verified).toEqual({ data_blocks_read: props.data_blocks, entries_read: props.entries });
    const keys = report.entries.map((entry: { key: string }) => entry.key);
    expect(keys).toEqual([...keys].sort());
    // The first flush holds round 0 of the first keys.
    expect(report.entries[0]).toEqual({ key: 'k000', kind: 'value', value: JSON.stringify(valueOf('k000', 0)) });

    const { report: bounded } = await toolJson('sst-dump', join(dir, file), '--entries', '--start', 'k003', '--end', 'k007');
    expect(bounded.entries.map((entry: { key: string }) => entry.key)).toEqual(['k003', 'k004', 'k005', 'k006']);
    expect(bounded.range).toEqual({ start: 'k003', end: 'k007' });

    const human = await tool('sst-dump', join(dir, file));
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^smallest key +"k000"$/m);
    expect(human.stdout).toMatch(/^sound$/m);
  });

  it('names the file, data block and byte offset of a flipped byte mid-file, and exits 1', async () => {
    const dir = storeCopy();
    const [file] = filesIn(dir, SSTABLE);
    const path = join(dir, file);
    const { report: sound } = await toolJson('sst-dump', path);
    const block = sound.index[1];
    flipByte(path, block.offset + 10);
    const run = await tool('sst-dump', path, '--entries');
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`${path}: data block 1 at byte ${block.offset}: block checksum mismatch`);
    // The walk goes on past the damaged block: the entries of the other blocks are still listed.
    const { report } = await toolJson('sst-dump', path, '--entries');
    expect(report.ok).toBe(false);
    expect(report.problems).toHaveLength(1);
    expect(report.entries.length).toBeGreaterThan(0);
    expect(report.entries.length).toBeLessThan(sound.properties.entries);
  });

  it('names a damaged footer', async () => {
    const dir = storeCopy();
    const [file] = filesIn(dir, SSTABLE);
    const path = join(dir, file);
    flipByte(path, statSync(path).size - 20);
    const run = await tool('sst-dump', path);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`^${path}: footer at byte \\d+: footer checksum mismatch$`, 'm'));
  });
});

describe('wal-dump', () => {
  it("lists the live segment's records with their offsets", async () => {
    const dir = storeCopy();
    const [segment] = filesIn(dir, WAL);
    const { code, report } = await toolJson('wal-dump', join(dir, segment));
    expect(code).toBe(0);
    expect(report).toMatchObject({ ok: true, torn_tail: null, damage: null, size_bytes: statSync(join(dir, segment)).size });
    expect(report.valid_bytes).toBe(report.size_bytes);
    const deletes = report.records.filter((record: { kind: string }) => record.kind === 'delete');
    expect(deletes).toEqual([...DELETED].map((key) => ({ offset: expect.any(Number), kind: 'delete', key })));
    const put = report.records.find((record: { kind: string }) => record.kind === 'put');
    expect(JSON.parse(put.value)).toEqual(valueOf(put.key, 2));
    expect(put.value_bytes).toBe(Buffer.byteLength(put.value));
    expect(report.records[0].offset).toBe(0);
  });

  it('shows where a torn tail begins, and exits 0: a crash, not damage', async () => {
    const dir = storeCopy();
    const path = join(dir, filesIn(dir, WAL)[0]);
    const { report: whole } = await toolJson('wal-dump', path);
    const lastRecord = whole.records.at(-1).offset;
    truncateSync(path, lastRecord + 5);
    const run = await tool('wal-dump', path);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`torn tail at byte ${lastRecord}: 5 bytes`);
    const { report } = await toolJson('wal-dump', path);
    expect(report).toMatchObject({ ok: true, valid_bytes: lastRecord, torn_tail: { at: lastRecord, bytes: 5 }, damage: null });
    expect(report.records).toHaveLength(whole.records.length - 1);
  });

  it('shows damage mid-segment and where valid records resume, and exits 1', async () => {
    const dir = storeCopy();
    const path = join(dir, filesIn(dir, WAL)[0]);
    const { report: whole } = await toolJson('wal-dump', path);
    const [first, second, third] = whole.records.map((record: { offset: number }) => record.offset);
    flipByte(path, second + 20); // inside the second record's payload
    const run = await tool('wal-dump', path);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`DAMAGED at byte ${second}: valid records resume at byte ${third}`);
    const { report } = await toolJson('wal-dump', path);
    expect(report).toMatchObject({ ok: false, valid_records: 1, valid_bytes: second, damage: { at: second, resumes_at: third } });
    expect(report.records.map((record: { offset: number }) => record.offset)).toEqual([first]);
  });
});

/**
 * Starts a node on the folder's parent, inits it, and scans everything: what
 * a client would read. Compaction only on request, so the folder keeps the
 * files a test inspects afterwards (plus the flush of the replayed WAL).
 */
async function openAndScan(dir: string): Promise<{ init: Record<string, unknown>; scan: Record<string, unknown>; entries: Map<string, unknown> | undefined }> {
  const run = await runCli([init(), request(2, 'memtable_scan', {})], { args: ['--data-dir', dirname(dir), ...FLUSH_ONLY], env: { LOG_LEVEL: 'warn' } });
  const opened = run.messages.find((message) => message.body.in_reply_to === 1)!.body;
  const scan = replyTo(run, 2);
  if (scan.type !== 'memtable_scan_ok') return { init: opened, scan, entries: undefined };
  const scanned = scan.entries as Array<{ key: string; value: unknown }>;
  return { init: opened, scan, entries: new Map(scanned.map(({ key, value }) => [key, value])) };
}

/** Every key reads its newest value, except keys in `mayDiffer`, which read an older value written to them, or nothing. */
function expectModel(entries: Map<string, unknown> | undefined, mayDiffer: (key: string) => boolean = () => false): void {
  expect(entries).toBeDefined();
  for (const key of KEYS) {
    const value = entries!.get(key);
    if (!mayDiffer(key)) expect(value, key).toEqual(MODEL.get(key));
    else if (value !== undefined) expect([0, 1, 2].map((round) => valueOf(key, round)), key).toContainEqual(value);
  }
  for (const key of entries!.keys()) expect(KEYS).toContain(key);
}

describe('manifest', () => {
  it('lists the live files with the metadata the files themselves hold', async () => {
    const dir = storeCopy();
    const { code, report } = await toolJson('manifest', dir);
    expect(code).toBe(0);
    expect(report.manifest_file).toMatch(/^MANIFEST-\d{6}$/);
    expect(report.files.map((file: { name: string }) => file.name).sort()).toEqual(filesIn(dir, SSTABLE));
    for (const file of report.files) {
      const { report: dumped } = await toolJson('sst-dump', join(dir, file.name));
      expect(file).toMatchObject({ level: 0, size_bytes: dumped.properties.size_bytes, entries: dumped.properties.entries, smallest_key: dumped.properties.smallest_key, largest_key: dumped.properties.largest_key });
      expect(file.number).toBeLessThan(report.next_file_number);
    }
    // L0 newest first.
    const numbers = report.files.map((file: { number: number }) => file.number);
    expect(numbers).toEqual([...numbers].sort((a, b) => b - a));
    const [segment] = filesIn(dir, WAL);
    expect(report.live_wal_segments).toEqual([segment]);
    expect(report.min_live_wal).toBe(Number.parseInt(segment, 10));

    const human = await tool('manifest', dir);
    expect(human.stdout).toMatch(new RegExp(`^oldest live WAL +${segment} `, 'm'));
    expect(human.stdout).toMatch(/^ +L0 +L0_\d{6}\.sst +\d+ +\d+ +"k\d{3}" +"k\d{3}"$/m);
  });

  it('exits 1 naming a damaged MANIFEST, and 2 for a --data-dir rather than a node folder', async () => {
    const dir = storeCopy();
    const [manifest] = readdirSync(dir).filter((name) => name.startsWith('MANIFEST-'));
    flipByte(join(dir, manifest), 20);
    const run = await tool('manifest', dir);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(manifest);
    const root = await tool('manifest', dirname(dir));
    expect(root.code).toBe(2);
    expect(root.stderr).toContain(`holds no store files; name a node's folder, e.g. ${dir}`);
  });
});

describe('verify and repair', () => {
  it('verify: a sound folder exits 0', async () => {
    const dir = storeCopy();
    const run = await tool('verify', dir);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^sound$/m);
    const { report } = await toolJson('verify', dir);
    expect(report).toMatchObject({ ok: true, problems: [] });
    expect(report.sstables.every((sstable: { ok: boolean; live: boolean }) => sstable.ok && sstable.live)).toBe(true);
    expect(report.sstables.reduce((sum: number, sstable: { data_blocks_read: number }) => sum + sstable.data_blocks_read, 0)).toBeGreaterThan(report.sstables.length);
    // repair on a sound folder changes nothing.
    const before = fingerprint(dir);
    const repaired = await tool('repair', dir);
    expect(repaired.code).toBe(0);
    expect(repaired.stdout).toContain('sound: nothing to repair, nothing changed');
    expect(fingerprint(dir)).toEqual(before);
  });

  it('repair refuses a folder a running node holds (one line on stderr, exit 2) and changes nothing; once the node is gone it runs', async () => {
    const dir = storeCopy();
    const { report: manifest } = await toolJson('manifest', dir);
    const victim = manifest.files[1];
    const { report: dumped } = await toolJson('sst-dump', join(dir, victim.name));
    flipByte(join(dir, victim.name), dumped.index[1].offset + 10); // damage repair would act on
    await withRunningNode(dir, 'manual', async (pid) => {
      const before = fingerprint(dir);
      const refused = await tool('repair', dir);
      expect(refused.code).toBe(2);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toMatch(new RegExp(`^memtable-node repair: ${dir} is locked by another process \\(pid ${pid}, LOCK\\.${pid}\\.[^)]+\\): [^\\n]*; stop the node first\\n$`));
      expect(fingerprint(dir)).toEqual(before);
    });
    const { code, report } = await toolJson('repair', dir);
    expect(code).toBe(0);
    expect(report.lost).toContainEqual(expect.objectContaining({ name: victim.name, moved_to: `lost/${victim.name}` }));
    expect(readdirSync(dir).filter((name) => name.startsWith('LOCK.'))).toEqual([]);
  });

  it('a flipped byte mid-SSTable: verify names the file and block; repair moves it to lost/ and the node opens with the rest', async () => {
    const dir = storeCopy();
    const { report: manifest } = await toolJson('manifest', dir);
    const victim = manifest.files[1]; // not the newest
    const { report: dumped } = await toolJson('sst-dump', join(dir, victim.name));
    const block = dumped.index[1];
    flipByte(join(dir, victim.name), block.offset + 10);

    const verified = await tool('verify', dir);
    expect(verified.code).toBe(1);
    expect(verified.stdout).toContain(`${join(dir, victim.name)}: data block 1 at byte ${block.offset}: block checksum mismatch`);
    // The node opens (it reads data blocks only when asked), but a read that meets the block fails.
    expect((await openAndScan(dir)).scan).toMatchObject({ type: 'error', code: 13 });

    const { report: opened1 } = await toolJson('manifest', dir); // that open flushed the WAL: one file more
    const { code, report } = await toolJson('repair', dir);
    expect(code).toBe(0);
    expect(report.lost).toContainEqual({ name: victim.name, moved_to: `lost/${victim.name}`, reason: expect.stringContaining('block checksum mismatch') });
    expect(report.kept_sstables.map((s: { name: string }) => s.name)).toEqual(opened1.files.filter((f: { name: string }) => f.name !== victim.name).map((f: { name: string }) => f.name));
    expect(readFileSync(join(dir, 'lost', victim.name)).length).toBe(victim.size_bytes);
    expect((await tool('verify', dir)).code).toBe(0);

    const { init: opened, entries } = await openAndScan(dir);
    expect(opened).toMatchObject({ type: 'init_ok' });
    expectModel(entries, (key) => key >= victim.smallest_key && key <= victim.largest_key);
  });

  it('a torn WAL tail: verify calls it a crash (exit 0), and the node opens', async () => {
    const dir = storeCopy();
    const path = join(dir, filesIn(dir, WAL)[0]);
    const { report: whole } = await toolJson('wal-dump', path);
    const last = whole.records.at(-1);
    truncateSync(path, last.offset + 7);
    const run = await tool('verify', dir);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`torn tail at byte ${last.offset}, 7 bytes \\(a crash mid-write`));
    expect((await tool('repair', dir)).stdout).toContain('nothing to repair');
    const { init: opened, entries } = await openAndScan(dir);
    expect(opened).toMatchObject({ type: 'init_ok' });
    expectModel(entries, (key) => key === last.key);
  });

  it('damage mid-WAL: verify exit 1, the node refuses; repair keeps the records before it and the node opens', async () => {
    const dir = storeCopy();
    const segment = filesIn(dir, WAL)[0];
    const path = join(dir, segment);
    const { report: whole } = await toolJson('wal-dump', path);
    const damaged = whole.records[2];
    flipByte(path, damaged.offset + 15);

    const verified = await tool('verify', dir);
    expect(verified.code).toBe(1);
    expect(verified.stdout).toContain(`${path}: damaged record at byte ${damaged.offset}, valid records resume at byte ${whole.records[3].offset}`);
    expect((await openAndScan(dir)).init).toMatchObject({ type: 'error', code: 13 });

    const { report } = await toolJson('repair', dir);
    expect(report.kept_wal_segments).toEqual([{ name: segment, records: 2, cut_at: damaged.offset }]);
    expect(report.lost).toContainEqual({ name: segment, moved_to: `lost/${segment}`, reason: expect.stringContaining('damaged record') });
    expect(readFileSync(join(dir, 'lost', segment)).length).toBe(whole.size_bytes);
    expect((await tool('verify', dir)).code).toBe(0);

    const { init: opened, entries } = await openAndScan(dir);
    expect(opened).toMatchObject({ type: 'init_ok' });
    const dropped = new Set(whole.records.slice(2).map((record: { key: string }) => record.key));
    expectModel(entries, (key) => dropped.has(key));
    for (const record of whole.records.slice(0, 2)) expect(entries!.get(record.key)).toEqual(MODEL.get(record.key));
  });

  it('a missing file: verify exit 1; repair writes a MANIFEST without it and the node opens', async () => {
    const dir = storeCopy();
    const { report: manifest } = await toolJson('manifest', dir);
    const victim = manifest.files.at(-1); // the oldest
    rmSync(join(dir, victim.name));
    expect((await openAndScan(dir)).init).toMatchObject({ type: 'error', code: 13 });
    const verified = await tool('verify', dir);
    expect(verified.code).toBe(1);
    expect(verified.stdout).toContain(`${join(dir, victim.name)}: missing (the MANIFEST names it at L0)`);
    const { report } = await toolJson('repair', dir);
    expect(report.lost).toContainEqual({ name: victim.name, moved_to: null, reason: expect.stringContaining('missing') });
    const { init: opened, entries } = await openAndScan(dir);
    expect(opened).toMatchObject({ type: 'init_ok' });
    expectModel(entries, (key) => key >= victim.smallest_key && key <= victim.largest_key);
  });

  it('a damaged MANIFEST: repair rebuilds it from the files (all flushes: their numbers are their order), and every value reads back', async () => {
    const dir = storeCopy();
    const [manifest] = readdirSync(dir).filter((name) => name.startsWith('MANIFEST-'));
    flipByte(join(dir, manifest), 30);
    expect((await tool('verify', dir)).code).toBe(1);
    expect((await openAndScan(dir)).init).toMatchObject({ type: 'error', code: 13 });
    const { report } = await toolJson('repair', dir);
    expect(report.order_guessed).toBe(false);
    expect(report.kept_sstables).toHaveLength(filesIn(dir, SSTABLE).length);
    expect(report.lost).toEqual([{ name: manifest, moved_to: `lost/${manifest}`, reason: 'replaced by the MANIFEST repair wrote' }]);
    const { init: opened, entries } = await openAndScan(dir);
    expect(opened).toMatchObject({ type: 'init_ok' });
    expectModel(entries);
  });

  it('a missing CURRENT: verify names it (a node reads the lone MANIFEST); repair rebuilds the MANIFEST and every value reads back', async () => {
    const dir = storeCopy();
    rmSync(join(dir, 'CURRENT'));
    const verified = await tool('verify', dir);
    expect(verified.code).toBe(1);
    expect(verified.stdout).toMatch(new RegExp(`^  ${join(dir, 'CURRENT')}: missing, yet MANIFEST-\\d{6} present`, 'm'));
    const { report } = await toolJson('repair', dir);
    expect(report.kept_sstables).toHaveLength(filesIn(dir, SSTABLE).length);
    const { init: opened, entries } = await openAndScan(dir);
    expect(opened).toMatchObject({ type: 'init_ok' });
    expectModel(entries);
  });

  it('a damaged MANIFEST after compactions: levels come from file names, overlapping files at a deeper level keep the newest', async () => {
    // Two real L0 -> L1 compactions; the second takes the first's output as input. Its unlink fails (injected
    // EIO), as if the node had crashed after installing the compaction: the input stays, debris that overlaps
    // the output at L1, which only the MANIFEST tells apart.
    const root = freshDir();
    const plan = join(freshDir(), 'faults.json');
    writeFileSync(plan, JSON.stringify({ unlink: 'EIO', paths: '/L1_' }));
    const input = [init()];
    let msgId = 2;
    const writeRound = (round: number) => {
      for (const key of KEYS) input.push(request(msgId++, 'memtable_put', { key, value: valueOf(key, round) }));
    };
    const flushAndCompact = () => input.push(request(msgId++, 'sstable_flush'), request(msgId++, 'lsm_compact', { source_level: 0, target_level: 1 }));
    writeRound(0);
    flushAndCompact();
    writeRound(1);
    writeRound(2);
    for (const key of DELETED) input.push(request(msgId++, 'memtable_delete', { key }));
    flushAndCompact();
    const run = await runCli(input, { args: ['--data-dir', root, '--memtable-max-bytes', '8192', ...FLUSH_ONLY], env: { LOG_LEVEL: 'warn', MEMTABLE_FAULT_FILE: plan } });
    expect(run.code).toBe(0);
    expect(replyTo(run, msgId - 1)).toMatchObject({ type: 'lsm_compact_ok', new_sstables: 1 });
    const dir = join(root, 'n1');

    const { report: manifest } = await toolJson('manifest', dir);
    expect(manifest.files.map((file: { level: number }) => file.level)).toEqual([1]);
    const [output] = manifest.files;
    const debris = filesIn(dir, SSTABLE).filter((name) => name.startsWith('L1_') && name !== output.name);
    expect(debris).toHaveLength(1);
    const { report: debrisDump } = await toolJson('sst-dump', join(dir, debris[0]));
    expect(debrisDump.properties.smallest_key <= output.largest_key && output.smallest_key <= debrisDump.properties.largest_key).toBe(true);
    const sound = await tool('verify', dir);
    expect(sound.code).toBe(0);
    expect(sound.stdout).toContain(`${debris[0]}: not in the MANIFEST (debris`);

    const [manifestFile] = readdirSync(dir).filter((name) => name.startsWith('MANIFEST-'));
    flipByte(join(dir, manifestFile), 30);
    const { report } = await toolJson('repair', dir);
    expect(report.order_guessed).toBe(true);
    expect(report.kept_sstables.map((s: { level: number; name: string }) => [s.level, s.name])).toEqual([[1, output.name]]);
    expect(report.lost).toContainEqual({ name: debris[0], moved_to: `lost/${debris[0]}`, reason: expect.stringContaining(`overlaps the newer ${output.name} at L1`) });
    expect(report.consequences).toContainEqual(expect.stringContaining('levels were taken from file names'));
    expect((await tool('verify', dir)).code).toBe(0);
    // The debris holds round 0 and the deleted keys: kept above or below the output, it would show.
    const { init: opened, entries } = await openAndScan(dir);
    expect(opened).toMatchObject({ type: 'init_ok' });
    expectModel(entries);
  });
});

describe('on a folder automatic compactions wrote', () => {
  it('manifest shows files at L1 and deeper, matching the files; verify passes; repair changes nothing', async () => {
    const root = freshDir();
    const input = [init()];
    let msgId = 2;
    // Keys in a scattered order, with some deleted, so compactions rewrite overlapping ranges and keep tombstones above deeper levels.
    for (let i = 0; i < 3000; i++) {
      input.push(request(msgId++, 'memtable_put', { key: `k${String((i * 7919) % 1000).padStart(4, '0')}`, value: { i, pad: 'y'.repeat(60) } }));
      if (i % 97 === 0) input.push(request(msgId++, 'memtable_delete', { key: `k${String((i * 31) % 1000).padStart(4, '0')}` }));
    }
    const args = ['--memtable-max-bytes', '4096', '--l0-compaction-trigger', '2', '--level-base-bytes', '16384', '--target-file-bytes', '8192'];
    const run = await runCli(input, { args: ['--data-dir', root, ...args], env: { LOG_LEVEL: 'warn' } });
    expect(run.code).toBe(0);
    expect(replyTo(run, msgId - 1)).toMatchObject({ type: 'memtable_put_ok' });
    const dir = join(root, 'n1');

    const { code, report: manifest } = await toolJson('manifest', dir);
    expect(code).toBe(0);
    const files = manifest.files as Array<{ level: number; name: string; size_bytes: number; entries: number; smallest_key: string; largest_key: string }>;
    expect(files.some((file) => file.level >= 1)).toBe(true);
    expect(files.map((file) => file.name).sort()).toEqual(filesIn(dir, SSTABLE));
    for (let level = 1; level <= 6; level++) {
      const inLevel = files.filter((file) => file.level === level);
      // Sorted and disjoint.
      for (let i = 1; i < inLevel.length; i++) expect(inLevel[i - 1].largest_key < inLevel[i].smallest_key, `L${level} ${inLevel[i].name}`).toBe(true);
    }
    // verify checks every file against its record; one compaction output checked here by hand.
    const deepest = files.at(-1)!;
    const { report: dumped } = await toolJson('sst-dump', join(dir, deepest.name));
    expect(dumped.ok).toBe(true);
    expect(deepest).toMatchObject({ size_bytes: dumped.properties.size_bytes, entries: dumped.properties.entries, smallest_key: dumped.properties.smallest_key, largest_key: dumped.properties.largest_key });

    const { code: verified, report } = await toolJson('verify', dir);
    expect(verified).toBe(0);
    expect(report.problems).toEqual([]);
    expect(report.sstables.map((s: { name: string; level: number; ok: boolean }) => [s.name, s.level, s.ok])).toEqual(files.map((file) => [file.name, file.level, true]));
    const before = fingerprint(dir);
    expect((await tool('repair', dir)).stdout).toContain('sound: nothing to repair, nothing changed');
    expect(fingerprint(dir)).toEqual(before);
  });
});

describe('bad arguments', () => {
  it('one line on stderr, exit 2 (every case: test/tools/commands.test.ts)', async () => {
    const run = await tool('sst-dump', 'a', '--bogus');
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('memtable-node sst-dump: unknown option --bogus (usage: memtable-node sst-dump FILE [--entries] [--start K] [--end K] [--json])\n');
  });

  it('a tool after node options is told to come first', async () => {
    const run = await tool('--log-level', 'warn', 'verify', 'x');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^memtable-node: verify takes no node options; put it first: memtable-node verify DIR/);
  });

  it('--help lists the tools, and each tool has its own', async () => {
    const help = await tool('--help');
    for (const name of ['sst-dump', 'wal-dump', 'manifest', 'verify', 'repair']) expect(help.stdout).toContain(`memtable-node ${name} `);
    const own = await tool('wal-dump', '--help');
    expect(own.code).toBe(0);
    expect(own.stdout).toMatch(/^Usage: memtable-node wal-dump FILE \[--json\]$/m);
  });
});

/**
 * Runs `body` while a node holds the folder `dir` open, once it has flushed
 * what it replayed and (`auto`) run the compactions that triggers: from
 * then on only a request changes the folder.
 */
async function withRunningNode(dir: string, compaction: 'auto' | 'manual', body: (pid: number) => Promise<void>): Promise<void> {
  const node = spawn(process.execPath, [CLI, '--data-dir', dirname(dir), '--compaction', compaction], { env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    // Replies by in_reply_to, as lines arrive.
    const replies = new Map<number, Record<string, unknown>>();
    let tail = '';
    node.stdout.on('data', (chunk: Buffer) => {
      const lines = (tail + chunk.toString()).split('\n');
      tail = lines.pop()!;
      for (const line of lines) replies.set(JSON.parse(line).body.in_reply_to, JSON.parse(line).body);
    });
    const call = async (envelope: Envelope): Promise<Record<string, unknown>> => {
      node.stdin.write(`${JSON.stringify(envelope)}\n`);
      const id = envelope.body.msg_id as number;
      await vi.waitFor(() => expect(replies.has(id)).toBe(true), { timeout: 10_000 });
      return replies.get(id)!;
    };
    expect(await call(init())).toMatchObject({ type: 'init_ok' });
    let msgId = 2;
    const busy = async () => {
      const flushing = ((await call(request(msgId++, 'memtable_stats'))).immutable as unknown[]).length > 0;
      const status = await call(request(msgId++, 'lsm_compact_status'));
      // pending_compactions counts levels over their trigger, which a manual node leaves so.
      return flushing || status.running !== null || (compaction === 'auto' && status.pending_compactions !== 0);
    };
    while (await busy());
    await body(node.pid!);
  } finally {
    node.stdin.end();
    await new Promise((resolve) => node.once('close', resolve));
  }
}

describe('read-only tools', () => {
  it('leave the folder byte-identical', async () => {
    const dir = storeCopy();
    const before = fingerprint(dir);
    for (const file of filesIn(dir, SSTABLE)) await tool('sst-dump', join(dir, file), '--entries');
    for (const file of filesIn(dir, WAL)) await tool('wal-dump', join(dir, file));
    await tool('manifest', dir);
    await tool('verify', dir);
    expect(fingerprint(dir)).toEqual(before);
  });

  it('leave a folder a running node holds open byte-identical, and read it', async () => {
    const dir = storeCopy();
    // The default node, compacting by itself: it is still only once it has flushed and compacted.
    await withRunningNode(dir, 'auto', async () => {
      const before = fingerprint(dir);
      const verified = await tool('verify', dir);
      expect(verified.code).toBe(0);
      expect((await tool('manifest', dir)).code).toBe(0);
      for (const file of filesIn(dir, WAL)) expect((await tool('wal-dump', join(dir, file))).code).toBe(0);
      expect(fingerprint(dir)).toEqual(before);
    });
  });
});
