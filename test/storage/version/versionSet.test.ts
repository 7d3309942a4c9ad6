/**
 * The VersionSet: edits installed only once durable, in order, surviving
 * reopening; a new MANIFEST at open and past its size bound, with CURRENT
 * swapped and the old one removed, so reopening reads a snapshot and few
 * edits; a failed append never appended to again; readVersionState reads
 * without writing; a legacy MANIFEST converts.
 */
import { cpSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { faultInjectingFileSystem, type FaultPlan } from '../../../src/storage/env/faultInjection.js';
import { nodeFileSystem } from '../../../src/storage/env/fileSystem.js';
import { toSortKey } from '../../../src/storage/keyOrder.js';
import type { FileMetadata } from '../../../src/storage/version/fileMetadata.js';
import { sstableFileName } from '../../../src/storage/version/fileNames.js';
import { encodeManifestRecord, ManifestRecordKind } from '../../../src/storage/version/manifest.js';
import type { VersionEdit } from '../../../src/storage/version/version.js';
import { readVersionState, VersionSet } from '../../../src/storage/version/versionSet.js';
import { useTempDirs } from '../../support/tempDirs.js';

const freshDir = useTempDirs('version-set-test');

function meta(number: number, smallest: string, largest: string, level = 0): FileMetadata {
  return { number, name: sstableFileName(number, level), smallest: toSortKey(smallest), largest: toSortKey(largest), sizeBytes: 1000, entries: 10 };
}

const manifests = (dir: string) => readdirSync(dir).filter((name) => name.startsWith('MANIFEST')).sort();

describe('VersionSet', () => {
  it('writes nothing at open, starts MANIFEST-000001 and CURRENT at the first edit, and brings back every installed edit after reopening', async () => {
    const dir = freshDir();
    let { versions, state } = await VersionSet.open(nodeFileSystem, dir);
    expect(state).toBeNull();
    expect(readdirSync(dir)).toEqual([]);
    const n1 = versions.newFileNumber();
    const n2 = versions.newFileNumber();
    expect([n1, n2]).toEqual([1, 2]);
    await versions.logAndApply({ newFiles: [{ level: 0, file: meta(n1, 'a', 'm') }], minLiveWal: 3 });
    expect(readFileSync(join(dir, 'CURRENT'), 'utf8')).toBe('MANIFEST-000001\n');
    const installed = await versions.logAndApply({
      deletedFiles: [{ level: 0, number: n1 }],
      newFiles: [{ level: 1, file: meta(n1, 'a', 'm') }, { level: 0, file: meta(n2, 'é', '\u{1F600}') }],
      compactPointers: [{ level: 1, key: toSortKey('\u{1F600}') }],
    });
    expect(versions.current).toBe(installed);
    await versions.close();

    ({ versions, state } = await VersionSet.open(nodeFileSystem, dir));
    expect(state).toMatchObject({ manifestFile: 'MANIFEST-000001', records: 2, nextFileNumber: 3, minLiveWal: 3, legacy: false });
    expect(state!.version.levels).toEqual(installed.levels);
    expect(versions.compactPointer(1)).toBe(toSortKey('\u{1F600}'));
    expect(versions.newFileNumber()).toBe(3);
    // The first edit after reopening starts a new MANIFEST; the old one goes.
    await versions.logAndApply({ minLiveWal: 4 });
    expect(manifests(dir)).toEqual(['MANIFEST-000002']);
    expect(readFileSync(join(dir, 'CURRENT'), 'utf8')).toBe('MANIFEST-000002\n');
    await versions.close();
    expect(await readVersionState(nodeFileSystem, dir)).toMatchObject({ records: 1, nextFileNumber: 4, minLiveWal: 4, version: { levels: installed.levels } });
  });

  it('appends edits asked for at once in call order, each applied to the Version its predecessor installed', async () => {
    const dir = freshDir();
    const { versions } = await VersionSet.open(nodeFileSystem, dir);
    const numbers = Array.from({ length: 20 }, () => versions.newFileNumber());
    const installing = numbers.map((number) => versions.logAndApply({ newFiles: [{ level: 0, file: meta(number, 'a', 'b') }], minLiveWal: number }));
    const results = await Promise.all(installing);
    results.forEach((version, i) => expect(version.levels[0].map((file) => file.number)).toEqual(numbers.slice(0, i + 1).reverse()));
    // A bad edit rejects alone, writes nothing, and the queue goes on.
    await expect(versions.logAndApply({ deletedFiles: [{ level: 3, number: 1 }] })).rejects.toThrow(/no file 1 at L3/);
    await versions.logAndApply({ deletedFiles: [{ level: 0, number: 1 }] });
    await versions.close();
    const state = await readVersionState(nodeFileSystem, dir);
    expect(state).toMatchObject({ records: 21, minLiveWal: 20 });
    expect(state!.version.levels[0]).toHaveLength(19);
  });

  it('installs an edit only once its record is fdatasync\'d', async () => {
    const dir = freshDir();
    const held: Array<() => void> = [];
    let holding = false;
    const fs = {
      ...nodeFileSystem,
      async createWritable(path: string) {
        const file = await nodeFileSystem.createWritable(path);
        return { ...file, sync: async () => { if (holding) await new Promise<void>((resolve) => held.push(resolve)); await file.sync(); } };
      },
    };
    const { versions } = await VersionSet.open(fs, dir);
    await versions.logAndApply({ minLiveWal: 1 }); // the MANIFEST and CURRENT exist: the next edit is one append, one sync
    holding = true;
    let done = false;
    const installing = versions.logAndApply({ newFiles: [{ level: 0, file: meta(versions.newFileNumber(), 'a', 'b') }] }).then(() => (done = true));
    while (held.length === 0) await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);
    expect(versions.current.levels[0]).toHaveLength(0);
    held.shift()!();
    await installing;
    expect(versions.current.levels[0]).toHaveLength(1);
    holding = false;
    await versions.close();
  });

  it('replaces a MANIFEST past its bound with a snapshot: reopening after 500 edits reads a handful of records', async () => {
    const dir = freshDir();
    const { versions } = await VersionSet.open(nodeFileSystem, dir, { maxManifestBytes: 4096 });
    let live: number[] = [];
    for (let i = 0; i < 500; i++) {
      const number = versions.newFileNumber();
      const deleted = live.length >= 5 ? live.shift() : undefined;
      await versions.logAndApply({
        newFiles: [{ level: 0, file: meta(number, `k${String(i).padStart(3, "0")}`, `k${String(i).padStart(3, "0")}z`) }],
        ...(deleted !== undefined && { deletedFiles: [{ level: 0, number: deleted }] }),
        minLiveWal: i,
      });
      live.push(number);
      expect(manifests(dir)).toEqual([versions.manifestFile!]);
    }
    expect(versions.manifestFile).not.toBe('MANIFEST-000001');
    expect(statSync(join(dir, versions.manifestFile!)).size).toBeLessThan(4096 + 1024);
    await versions.close();
    const state = await readVersionState(nodeFileSystem, dir);
    expect(state!.records).toBeLessThan(20);
    expect(state!.version.levels[0].map((file) => file.number)).toEqual([...live].reverse());
    expect(state).toMatchObject({ nextFileNumber: 501, minLiveWal: 499 });
    live = [];
  });

  it('ignores a torn last record at open (reported), and never appends after it', async () => {
    const dir = freshDir();
    const first = await VersionSet.open(nodeFileSystem, dir);
    await first.versions.logAndApply({ newFiles: [{ level: 0, file: meta(first.versions.newFileNumber(), 'a', 'b') }] });
    await first.versions.close();
    const live = join(dir, 'MANIFEST-000001');
    const whole = readFileSync(live);
    appendFileSync(live, whole.subarray(0, 20)); // a crash 20 bytes into the next append
    const { versions, state } = await VersionSet.open(nodeFileSystem, dir);
    expect(state).toMatchObject({ records: 1, tornTail: { validBytes: whole.length, tornBytes: 20 } });
    expect(versions.current.levels[0]).toHaveLength(1);
    await versions.logAndApply({ minLiveWal: 9 });
    expect(manifests(dir)).toEqual(['MANIFEST-000002']);
    await versions.close();
    const after = await readVersionState(nodeFileSystem, dir);
    expect(after).toMatchObject({ records: 1, minLiveWal: 9 });
    expect(after!.tornTail).toBeUndefined();
  });

  it('after a failed append, starts a new MANIFEST rather than append after bytes of unknown fate', async () => {
    const dir = freshDir();
    let plan: FaultPlan = {};
    const fs = faultInjectingFileSystem(nodeFileSystem, () => plan);
    const { versions } = await VersionSet.open(fs, dir);
    await versions.logAndApply({ newFiles: [{ level: 0, file: meta(versions.newFileNumber(), 'a', 'b') }] });
    plan = { createWritable: 'ENOSPC' };
    const lost = versions.newFileNumber();
    await expect(versions.logAndApply({ newFiles: [{ level: 0, file: meta(lost, 'c', 'd') }] })).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(versions.settled).toBe(false);
    expect(versions.current.levels[0]).toHaveLength(1);
    // Still failing: the retry cannot create the new MANIFEST either.
    await expect(versions.logAndApply({ newFiles: [{ level: 0, file: meta(versions.newFileNumber(), 'e', 'f') }] })).rejects.toMatchObject({ code: 'ENOSPC' });
    plan = {};
    await versions.logAndApply({ newFiles: [{ level: 0, file: meta(versions.newFileNumber(), 'g', 'h') }] });
    expect(versions.settled).toBe(true);
    expect(versions.manifestFile).not.toBe('MANIFEST-000001');
    await versions.close();
    const state = await readVersionState(nodeFileSystem, dir);
    expect(state).toMatchObject({ manifestFile: versions.manifestFile, records: 1 });
    expect(state!.version.levels[0].map((file) => file.smallest)).toEqual(['g', 'a']);
  });

  it('calls a MANIFEST whose edits do not apply corruption: a file deleted where it is not, added twice, or numbered past nextFileNumber', async () => {
    const cases: Array<[VersionEdit[], RegExp]> = [
      [[{ nextFileNumber: 5, newFiles: [{ level: 0, file: meta(1, 'a', 'b') }] }, { deletedFiles: [{ level: 1, number: 1 }] }], /deletes file 1 at L1/],
      [[{ nextFileNumber: 5, newFiles: [{ level: 0, file: meta(1, 'a', 'b') }] }, { newFiles: [{ level: 2, file: meta(1, 'a', 'b') }] }], /adds file 1/],
      [[{ nextFileNumber: 5, newFiles: [{ level: 1, file: meta(1, 'a', 'c') }, { level: 1, file: meta(2, 'b', 'd') }] }], /out of order/],
      [[{ nextFileNumber: 1, newFiles: [{ level: 0, file: meta(1, 'a', 'b') }] }], /past nextFileNumber/],
    ];
    for (const [edits, message] of cases) {
      const dir = freshDir();
      writeFileSync(join(dir, 'MANIFEST-000001'), Buffer.concat(edits.map((edit, i) => encodeManifestRecord(i === 0 ? ManifestRecordKind.Snapshot : ManifestRecordKind.Edit, edit))));
      writeFileSync(join(dir, 'CURRENT'), 'MANIFEST-000001\n');
      await expect(readVersionState(nodeFileSystem, dir)).rejects.toMatchObject({ code: 'STORAGE_CORRUPTION', message: expect.stringMatching(message) });
    }
    const dir = freshDir();
    writeFileSync(join(dir, 'CURRENT'), 'MANIFEST-000004\n');
    await expect(readVersionState(nodeFileSystem, dir)).rejects.toMatchObject({ code: 'STORAGE_CORRUPTION', message: expect.stringMatching(/MANIFEST-000004, which does not exist/) });
  });

  it('without CURRENT, reads the newest MANIFEST that holds a whole snapshot (a crash cut off its CURRENT, or damage took it)', async () => {
    const dir = freshDir();
    const { versions } = await VersionSet.open(nodeFileSystem, dir);
    const file = meta(versions.newFileNumber(), 'a', 'm');
    await versions.logAndApply({ newFiles: [{ level: 0, file }], minLiveWal: 3 });
    await versions.close();
    rmSync(join(dir, 'CURRENT'));
    const lone = await readVersionState(nodeFileSystem, dir);
    expect(lone).toMatchObject({ manifestFile: 'MANIFEST-000001', minLiveWal: 3 });
    expect(lone!.version.levels[0].map(({ number }) => number)).toEqual([file.number]);

    // The next edit starts MANIFEST-000002 (the older one's state and the edit); its CURRENT lost too, it is the one read.
    const reopened = (await VersionSet.open(nodeFileSystem, dir)).versions;
    const second = meta(reopened.newFileNumber(), 'n', 'z');
    await reopened.logAndApply({ newFiles: [{ level: 0, file: second }], minLiveWal: 5 });
    await reopened.close();
    rmSync(join(dir, 'CURRENT'));
    expect(readdirSync(dir).filter((name) => name.startsWith('MANIFEST-')).sort()).toEqual(['MANIFEST-000002']);
    const newest = await readVersionState(nodeFileSystem, dir);
    expect(newest).toMatchObject({ manifestFile: 'MANIFEST-000002', minLiveWal: 5 });
    expect(newest!.version.levels[0].map(({ number }) => number).sort()).toEqual([file.number, second.number].sort());

    // The older one left beside it (its unlink lost): still the newest is read.
    writeFileSync(join(dir, 'MANIFEST-000001'), encodeManifestRecord(ManifestRecordKind.Snapshot, { newFiles: [{ level: 0, file }], minLiveWal: 3, nextFileNumber: file.number + 1 }));
    expect(await readVersionState(nodeFileSystem, dir)).toMatchObject({ manifestFile: 'MANIFEST-000002', minLiveWal: 5 });
    // A newest one cut off inside its snapshot was never counted: the one before it is read.
    writeFileSync(join(dir, 'MANIFEST-000003'), readFileSync(join(dir, 'MANIFEST-000002')).subarray(0, 5));
    expect(await readVersionState(nodeFileSystem, dir)).toMatchObject({ manifestFile: 'MANIFEST-000002', minLiveWal: 5 });

    // None with a whole record: a new store.
    for (const name of ['MANIFEST-000001', 'MANIFEST-000002']) writeFileSync(join(dir, name), readFileSync(join(dir, name)).subarray(0, 5));
    expect(await readVersionState(nodeFileSystem, dir)).toBeNull();
  });

  it('readVersionState changes nothing on disk, a torn tail included', async () => {
    const dir = freshDir();
    const { versions } = await VersionSet.open(nodeFileSystem, dir);
    await versions.logAndApply({ newFiles: [{ level: 2, file: meta(versions.newFileNumber(), 'a', 'b', 2) }] });
    await versions.close();
    appendFileSync(join(dir, versions.manifestFile!), Buffer.from([7, 0, 0]));
    writeFileSync(join(dir, 'L0_000009.sst.tmp'), 'debris');
    const before = readdirSync(dir).map((name) => [name, readFileSync(join(dir, name)).toString('hex')]);
    const state = await readVersionState(nodeFileSystem, dir);
    expect(state).toMatchObject({ manifestFile: 'MANIFEST-000001', tornTail: { tornBytes: 3 } });
    expect(state!.version.levels[2]).toHaveLength(1);
    expect(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name)).toString('hex')])).toEqual(before);
    expect(await readVersionState(nodeFileSystem, freshDir())).toBeNull();
  });

  it('reads a store written before levels (test/fixtures/legacy-store, made by the previous node) as L0 files, and converts it at open', async () => {
    const dir = freshDir();
    cpSync('test/fixtures/legacy-store', dir, { recursive: true });
    const legacy = await readVersionState(nodeFileSystem, dir);
    expect(legacy).toMatchObject({ legacy: true, manifestFile: 'MANIFEST', nextFileNumber: 3, minLiveWal: 3 });
    expect(legacy!.version.levels[0]).toEqual([
      { number: 2, name: 'L0_000002.sst', smallest: 'banana', largest: 'damson', sizeBytes: 178, entries: 3 },
      { number: 1, name: 'L0_000001.sst', smallest: 'apple', largest: 'cherry', sizeBytes: 186, entries: 3 },
    ]);
    const { versions } = await VersionSet.open(nodeFileSystem, dir);
    expect(versions.current.levels).toEqual(legacy!.version.levels);
    expect(versions.minLiveWal).toBe(3);
    expect(manifests(dir)).toEqual(['MANIFEST']); // converted at the first edit, not before
    await versions.logAndApply({ minLiveWal: 4 });
    expect(manifests(dir)).toEqual(['MANIFEST-000001']);
    await versions.close();
    expect(await readVersionState(nodeFileSystem, dir)).toMatchObject({ legacy: false, nextFileNumber: 3, minLiveWal: 4, version: { levels: legacy!.version.levels } });
  });
});
