/**
 * The Store on a multi-level Version: reads across L0 to L6 and the
 * installs compaction will make, checked against a Map model. Files reach
 * deeper levels through installCompaction with real, durable edits of real
 * files: trivial moves (what the picker does with a file that overlaps
 * nothing below) and a hand-made merge. The unreferenced files open removes,
 * and a store written by the previous node, are here too.
 */
import { appendFileSync, cpSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLockFileName } from '../../src/storage/env/dirLock.js';
import { faultInjectingFileSystem, type FaultPlan } from '../../src/storage/env/faultInjection.js';
import { nodeFileSystem } from '../../src/storage/env/fileSystem.js';
import { TOMBSTONE } from '../../src/storage/iterator.js';
import { MemTable } from '../../src/storage/memtable/memTable.js';
import { MergeIterator } from '../../src/storage/mergeIterator.js';
import { SSTableReader } from '../../src/storage/sstable/reader.js';
import { writeSSTable } from '../../src/storage/sstable/writer.js';
import { Store, type StoreOptions } from '../../src/storage/store.js';
import { type FileMetadata, fileMetadataFromProperties, NUM_LEVELS, overlapsRange } from '../../src/storage/version/fileMetadata.js';
import { sstableFileName } from '../../src/storage/version/fileNames.js';
import type { Version } from '../../src/storage/version/version.js';
import { applyWrite, expectLsmGetAgrees, modelScan } from '../support/storeModel.js';
import { useTempDirs } from '../support/tempDirs.js';

const freshDir = useTempDirs('store-levels-test');

async function flushAll(store: Store): Promise<void> {
  store.freezeActive();
  while (store.frozenCount > 0) store.installFlushed(await store.flushOldest());
}

/**
 * Moves that keep Version invariant (4), as the picker's trivial moves do:
 * `file` may go from `level` to level + 1 iff nothing there overlaps it and,
 * from L0, no older L0 file overlapping it stays above it.
 */
function legalMoves(version: Version): Array<{ level: number; file: FileMetadata }> {
  const moves: Array<{ level: number; file: FileMetadata }> = [];
  for (let level = 0; level < NUM_LEVELS - 1; level++) {
    for (const file of version.levels[level]) {
      if (version.overlapping(level + 1, file.smallest, file.largest).length > 0) continue;
      if (level === 0 && version.levels[0].some((other) => other.number < file.number && overlapsRange(other, file.smallest, file.largest))) continue;
      moves.push({ level, file });
    }
  }
  return moves;
}

function moveDown(store: Store, { level, file }: { level: number; file: FileMetadata }): Promise<Version> {
  return store.installCompaction({ deletedFiles: [{ level, number: file.number }], newFiles: [{ level: level + 1, file }] });
}

const keyArb = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'd', 'é', '\u{1F600}'), minLength: 1, maxLength: 3 });
const valueArb = fc.nat({ max: 999 }).map(String);

type Op =
  | { kind: 'put'; key: string; value: string }
  | { kind: 'delete'; key: string }
  | { kind: 'get'; key: string }
  | { kind: 'scan'; start?: string; end?: string; limit?: number }
  | { kind: 'flush' }
  | { kind: 'move'; pick: number; depth: number }
  | { kind: 'reopen' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('put' as const), key: keyArb, value: valueArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: keyArb }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('get' as const), key: keyArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('scan' as const), start: keyArb, end: keyArb, limit: fc.integer({ min: 1, max: 5 }) }, { requiredKeys: ['kind'] }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'flush' as const }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('move' as const), pick: fc.nat(), depth: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
);


describe('Store across levels', () => {
  it('agrees with a Map model through puts, deletes, flushes, moves down any level and reopenings (property)', async () => {
    let deepest = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 100 }), async (ops) => {
        const options: StoreOptions = { dir: freshDir(), memtableMaxBytes: 120, maxImmutable: 2, wal: { sync: false } };
        let store = await Store.open(options);
        const model = new Map<string, string>();
        const check = (key: string) => expectLsmGetAgrees(store, model, key);
        for (const op of ops) {
          if ((op.kind === 'put' || op.kind === 'delete') && store.writesStalled) store.installFlushed(await store.flushOldest());
          switch (op.kind) {
            case 'put':
            case 'delete':
              applyWrite(store, model, op);
              break;
            case 'get':
              check(op.key);
              break;
            case 'scan':
              expect(store.scan(op)).toEqual(modelScan(model, op));
              break;
            case 'flush':
              await flushAll(store);
              break;
            case 'move': {
              // One file, down as many levels as it may go, up to `depth`.
              const moves = legalMoves(store.currentVersion);
              let move: { level: number; file: FileMetadata } | undefined = moves[op.pick % Math.max(moves.length, 1)];
              for (let step = 0; step < op.depth && move !== undefined; step++) {
                await moveDown(store, move);
                const moved: number = move.file.number;
                move = legalMoves(store.currentVersion).find((next) => next.file.number === moved);
              }
              deepest = Math.max(deepest, store.currentVersion.deepestNonEmptyLevel());
              break;
            }
            case 'reopen':
              store.writeWal();
              store.close();
              store = await Store.open(options);
              break;
          }
        }
        for (const key of model.keys()) check(key);
        expect(store.scan({})).toEqual(modelScan(model, {}));
        // What reads see is what a reopened store sees: the installed Version is the durable one.
        const levels = store.currentVersion.levels;
        store.writeWal();
        store.close();
        const reopened = await Store.open(options);
        expect(reopened.currentVersion.levels).toEqual(levels);
        expect(reopened.scan({})).toEqual(modelScan(model, {}));
        reopened.close();
      }),
      {
        numRuns: 60,
        // Random runs reach L3 or below in most sessions but not all (one CI run saw none in 60): this one always
        // does, with a key on every level from the MemTable down, so the deep levels are covered every time.
        examples: [
          [
            [
              { kind: 'put', key: 'b', value: '1' },
              { kind: 'flush' },
              { kind: 'move', pick: 0, depth: 6 },
              { kind: 'put', key: 'b', value: '2' },
              { kind: 'put', key: 'a', value: '3' },
              { kind: 'flush' },
              { kind: 'move', pick: 0, depth: 3 },
              { kind: 'delete', key: 'b' },
              { kind: 'get', key: 'b' },
              { kind: 'scan' },
              { kind: 'reopen' },
              { kind: 'get', key: 'a' },
            ],
          ],
        ],
      },
    );
    expect(deepest, 'files reached deep levels').toBeGreaterThanOrEqual(3);
  });

  it('lsmGet says where it went: levels and files checked, a file skipped by its range not counted', async () => {
    const store = await Store.open({ dir: freshDir(), memtableMaxBytes: 1 << 20, maxImmutable: 4 });
    const flush = async (entries: Record<string, string>) => {
      for (const [key, value] of Object.entries(entries)) store.put(key, value);
      await flushAll(store);
      return store.currentVersion.levels[0][0];
    };
    const first = await flush({ a: '"a1"', b: '"b1"' });
    await moveDown(store, { level: 0, file: first }); // L1: [a, b]
    const second = await flush({ m: '"m2"', n: '"n2"' });
    await moveDown(store, { level: 0, file: second });
    await moveDown(store, { level: 1, file: second }); // L2: [m, n]
    await flush({ a: '"a3"', z: '"z3"' }); // L0: [a, z]
    store.put('hot', '1');

    expect(store.lsmGet('hot')).toMatchObject({ found: true, foundAt: 'memtable', levelsChecked: 0, filesChecked: 0 });
    expect(store.lsmGet('a')).toMatchObject({ value: '"a3"', foundAt: 'L0', levelsChecked: 1, filesChecked: 1, sstableFile: 'L0_000003.sst' });
    expect(store.lsmGet('b')).toMatchObject({ value: '"b1"', foundAt: 'L1', levelsChecked: 2, filesChecked: 2, sstableFile: 'L0_000001.sst', source: 'sstable' });
    expect(store.lsmGet('n')).toMatchObject({ value: '"n2"', foundAt: 'L2', levelsChecked: 3, filesChecked: 2 });
    expect(store.lsmGet('c')).toMatchObject({ found: false, foundAt: null, levelsChecked: 3, filesChecked: 1 }); // L0's [a, z] only
    expect(store.lsmGet('zz')).toMatchObject({ found: false, foundAt: null, levelsChecked: 3, filesChecked: 0 });
    store.delete('m');
    await flushAll(store);
    expect(store.lsmGet('m')).toMatchObject({ found: false, value: null, foundAt: 'L0', deletedIn: 'sstable', levelsChecked: 1 });

    expect(store.stats().sstables.map(({ file, level }) => [file, level])).toEqual([
      ['L0_000004.sst', 0],
      ['L0_000003.sst', 0],
      ['L0_000001.sst', 1],
      ['L0_000002.sst', 2],
    ]);
    const info = store.levelInfo(true);
    expect(info).toHaveLength(NUM_LEVELS);
    expect(info[2]).toEqual({
      level: 2,
      sstables: 1,
      total_bytes: second.sizeBytes,
      sorted: true,
      max_bytes: 100 * 1024 * 1024,
      score: Math.round((second.sizeBytes / (100 * 1024 * 1024)) * 1000) / 1000,
      files: [{ file: 'L0_000002.sst', smallest: 'm', largest: 'n', size_bytes: second.sizeBytes, entries: 2 }],
    });
    expect(info[0]).toMatchObject({ level: 0, sstables: 2, sorted: false });
    // L6 has no score: nothing lies below it.
    expect(info[6]).toEqual({ level: 6, sstables: 0, total_bytes: 0, sorted: true, max_bytes: 10 * 1024 * 1024 * 10 ** 5, score: 0, files: [] });
    expect(store.levelInfo()[1]).not.toHaveProperty('files');
    const scored = store.levelInfo();
    expect(Object.keys(scored[0])).toEqual(['level', 'sstables', 'total_bytes', 'sorted', 'max_bytes', 'score']);
    // L0: files / --l0-compaction-trigger (4) against 4 MemTables' worth of bytes.
    expect(scored[0]).toMatchObject({ max_bytes: 4 * store.maxBytes, score: 0.5 });
    expect(store.lookupSSTable('L0_000002.sst', 'n')).toMatchObject({ found: true, value: '"n2"' });
    store.close();
  });

  it('installs a merge durably, then closes and unlinks its inputs; a trivial move keeps its file', async () => {
    const dir = freshDir();
    const store = await Store.open({ dir, memtableMaxBytes: 1 << 20, maxImmutable: 4 });
    for (const [key, value] of [['a', '1'], ['b', '1'], ['c', '1']]) store.put(key, value);
    await flushAll(store);
    store.put('b', '2');
    store.delete('c');
    store.put('\u{1F600}', '2');
    await flushAll(store);
    const inputs = store.currentVersion.levels[0];
    // What a compaction job does: merge the inputs newest first into one output, written and published.
    const { fs, caches } = store.files;
    const number = store.newFileNumber();
    const name = sstableFileName(number, 1);
    const merged = new MemTable(0);
    const readers = inputs.map((file) => SSTableReader.open(fs, join(dir, file.name), caches));
    const iterator = new MergeIterator(readers.map((reader) => reader.iterator()));
    for (iterator.seekToFirst(); iterator.valid(); iterator.next()) if (iterator.value() !== TOMBSTONE) merged.put(iterator.key(), iterator.value());
    for (const reader of readers) reader.close();
    const properties = await writeSSTable(fs, join(dir, `${name}.tmp`), merged.iterator());
    await fs.rename(join(dir, `${name}.tmp`), join(dir, name));
    await fs.syncDir(dir);
    const before = store.scan({});
    await store.installCompaction({
      deletedFiles: inputs.map((file) => ({ level: 0, number: file.number })),
      newFiles: [{ level: 1, file: fileMetadataFromProperties(number, name, properties) }],
    });
    expect(store.scan({})).toEqual(before);
    expect(readdirSync(dir).filter((file) => file.endsWith('.sst'))).toEqual(['L1_000003.sst']);
    expect(store.stats().sstables).toEqual([{ file: 'L1_000003.sst', level: 1, entries: 3, size_bytes: properties.sizeBytes }]);
    expect(caches.files.openCount).toBeLessThanOrEqual(1);
    const moved = store.currentVersion.levels[1][0];
    await moveDown(store, { level: 1, file: moved });
    expect(existsSync(join(dir, 'L1_000003.sst'))).toBe(true);
    expect(store.lsmGet('\u{1F600}')).toMatchObject({ value: '2', foundAt: 'L2', sstableFile: 'L1_000003.sst' });
    store.close();
  });

  it('leaves a failed install\'s inputs alone, and removes its outputs only once a later edit has settled their fate', async () => {
    const dir = freshDir();
    let plan: FaultPlan = {};
    const store = await Store.open({ dir, memtableMaxBytes: 1 << 20, maxImmutable: 4, fs: faultInjectingFileSystem(nodeFileSystem, () => plan) });
    store.put('a', '1');
    await flushAll(store);
    const [input] = store.currentVersion.levels[0];
    const number = store.newFileNumber();
    const output = { ...input, number, name: sstableFileName(number, 1) };
    cpSync(join(dir, input.name), join(dir, output.name)); // an output with the same entries
    const [pending, unused] = store.reserveFileNumbers(2); // a compaction still writing, and a number it will not need
    expect(unused).toBe(pending + 1);
    store.releaseFileNumbers([unused]);
    writeFileSync(join(dir, `${sstableFileName(pending, 1)}.tmp`), 'being written');

    plan = { createWritable: 'ENOSPC' };
    await expect(store.installCompaction({ deletedFiles: [{ level: 0, number: input.number }], newFiles: [{ level: 1, file: output }] })).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(store.lsmGet('a')).toMatchObject({ value: '1', foundAt: 'L0' });
    store.releaseFileNumbers([number]);
    expect(await store.removeObsoleteFiles()).toEqual([]); // the failed edit may be on disk yet
    plan = {};
    store.put('b', '2');
    await flushAll(store);
    expect(await store.removeObsoleteFiles()).toEqual([output.name]);
    expect(readdirSync(dir).filter((name) => name.includes('.sst')).sort()).toEqual([input.name, 'L0_000005.sst', `${sstableFileName(pending, 1)}.tmp`]);
    store.close();
  });

  it('removes at open every file no version names: SSTables, every *.tmp, old MANIFESTs', async () => {
    const dir = freshDir();
    const options = { dir, memtableMaxBytes: 1 << 20, maxImmutable: 4 };
    let store = await Store.open(options);
    store.put('a', '1');
    await flushAll(store);
    store.close();
    const debris = ['L3_000050.sst', 'L0_000051.sst.tmp', 'CURRENT.tmp', 'MANIFEST.tmp', 'MANIFEST-000007', 'MANIFEST'];
    for (const name of debris) writeFileSync(join(dir, name), 'debris');
    appendFileSync(join(dir, 'MANIFEST-000001'), Buffer.from([40, 0])); // a crash 2 bytes into an append
    store = await Store.open(options);
    expect(store.recovery.removedFiles.sort()).toEqual([...debris].sort());
    expect(store.recovery.manifestTornTail).toEqual({ file: 'MANIFEST-000001', validBytes: expect.any(Number), tornBytes: 2 });
    expect(readdirSync(dir).filter((name) => !isLockFileName(name)).sort()).toEqual(['CURRENT', 'L0_000001.sst', 'MANIFEST-000001']);
    expect(store.get('a')).toMatchObject({ value: '1' });
    store.close();
  });

  it('opens a store written by the previous node (test/fixtures/legacy-store): its files become L0, its WAL replays, MANIFEST.tmp goes', async () => {
    const dir = freshDir();
    cpSync('test/fixtures/legacy-store', dir, { recursive: true });
    writeFileSync(join(dir, 'MANIFEST.tmp'), 'what a crash mid-replace left');
    const options = { dir, memtableMaxBytes: 1 << 20, maxImmutable: 4, wal: { sync: true } };
    let store = await Store.open(options);
    expect(store.recovery).toMatchObject({ manifestRead: 'MANIFEST', manifest: 'MANIFEST', removedFiles: ['MANIFEST.tmp'], replayedSegments: 1 });
    const expected = { apple: '"v1-apple"', banana: '"v2-banana"', damson: '"v2-damson"', elder: '"wal-only"' };
    const check = () => {
      expect(Object.fromEntries(store.scan({}).entries.map(({ key, value }) => [key, value]))).toEqual(expected);
      expect(store.get('cherry')).toMatchObject({ found: false, deletedIn: 'sstable' });
    };
    check();
    expect(store.stats().sstables.map(({ file, level }) => [file, level])).toEqual([['L0_000002.sst', 0], ['L0_000001.sst', 0]]);
    await flushAll(store); // the first edit: converts
    expect(readdirSync(dir).filter((name) => !isLockFileName(name)).sort()).toEqual(['000004.wal', 'CURRENT', 'L0_000001.sst', 'L0_000002.sst', 'L0_000003.sst', 'MANIFEST-000001']);
    store.close();
    store = await Store.open(options);
    expect(store.recovery.manifestRead).toBe('MANIFEST-000001');
    check();
    store.close();
  });
});
