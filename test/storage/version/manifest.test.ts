/**
 * The MANIFEST's records: round trip (sort keys in memory, real keys on
 * disk), the torn tail a crash leaves (ignored), and damage (corruption,
 * even in the last record); CURRENT.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeFileSystem } from '../../../src/storage/env/fileSystem.js';
import { toSortKey } from '../../../src/storage/keyOrder.js';
import {
  decodeManifest,
  encodeManifestRecord,
  MANIFEST_HEADER_SIZE,
  ManifestRecordKind,
  readCurrent,
  writeCurrent,
} from '../../../src/storage/version/manifest.js';
import type { VersionEdit } from '../../../src/storage/version/version.js';
import { expectCorruption } from '../../support/expectCorruption.js';
import { useTempDirs } from '../../support/tempDirs.js';

const freshDir = useTempDirs('manifest-test');

const keyArb = fc.string({ unit: fc.constantFrom('a', 'z', 'é', '\u{1F600}', '\uE000', '"', '\\'), maxLength: 4 }).map(toSortKey);
const editArb: fc.Arbitrary<VersionEdit> = fc.record(
  {
    nextFileNumber: fc.nat(),
    minLiveWal: fc.nat(),
    compactPointers: fc.array(fc.record({ level: fc.nat({ max: 6 }), key: keyArb }), { minLength: 1, maxLength: 3 }),
    deletedFiles: fc.array(fc.record({ level: fc.nat({ max: 6 }), number: fc.nat() }), { minLength: 1, maxLength: 3 }),
    newFiles: fc.array(
      fc.record({
        level: fc.nat({ max: 6 }),
        file: fc.record({ number: fc.nat({ max: 999999 }), smallest: keyArb, largest: keyArb, sizeBytes: fc.nat(), entries: fc.nat() }).map((file) => ({ ...file, name: `L3_${String(file.number).padStart(6, '0')}.sst` })),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  },
  { requiredKeys: [] },
);

function manifestOf(edits: VersionEdit[]): Buffer {
  return Buffer.concat(edits.map((edit, i) => encodeManifestRecord(i === 0 ? ManifestRecordKind.Snapshot : ManifestRecordKind.Edit, edit)));
}

const snapshot: VersionEdit = { nextFileNumber: 2, minLiveWal: 1, newFiles: [{ level: 0, file: { number: 1, name: 'L0_000001.sst', smallest: 'a', largest: 'k', sizeBytes: 10, entries: 2 } }] };
const edits: VersionEdit[] = [snapshot, { minLiveWal: 4 }, { deletedFiles: [{ level: 0, number: 1 }], newFiles: [{ level: 1, file: { number: 1, name: 'L0_000001.sst', smallest: 'a', largest: 'k', sizeBytes: 10, entries: 2 } }] }];

describe('MANIFEST records', () => {
  it('read back every edit written, with keys as sort keys in memory and real keys on disk', () => {
    fc.assert(
      fc.property(fc.array(editArb, { minLength: 1, maxLength: 5 }), (written) => {
        const bytes = manifestOf(written);
        const decoded = decodeManifest(bytes, 'MANIFEST-000001');
        expect(decoded).toMatchObject({ validBytes: bytes.length, tornBytes: 0 });
        const normalize = (edit: VersionEdit) => Object.fromEntries(Object.entries(edit).filter(([, value]) => value !== undefined));
        expect(decoded.records.map((record) => record.edit)).toEqual(written.map(normalize));
        expect(decoded.records.map((record) => record.kind)).toEqual(written.map((_, i) => (i === 0 ? ManifestRecordKind.Snapshot : ManifestRecordKind.Edit)));
      }),
    );
    const astral = encodeManifestRecord(ManifestRecordKind.Snapshot, { compactPointers: [{ level: 1, key: toSortKey('\u{1F600}') }] });
    expect(astral.toString('utf8', MANIFEST_HEADER_SIZE)).toBe('{"compactPointers":[{"level":1,"key":"\u{1F600}"}]}');
  });

  it('ignore a last record cut short at any byte, or a zero-filled tail, and keep the records before it', () => {
    const whole = manifestOf(edits);
    const lastStart = manifestOf(edits.slice(0, 2)).length;
    for (let cut = lastStart + 1; cut < whole.length; cut++) {
      const decoded = decodeManifest(whole.subarray(0, cut), 'M');
      expect(decoded.records).toHaveLength(2);
      expect(decoded).toMatchObject({ validBytes: lastStart, tornBytes: cut - lastStart });
    }
    const zeroed = Buffer.concat([manifestOf(edits.slice(0, 2)), Buffer.alloc(300)]);
    expect(decodeManifest(zeroed, 'M')).toMatchObject({ validBytes: lastStart, tornBytes: 300 });
  });

  it('call a checksum failure corruption, in the last record too: an installed edit may have let its inputs go', () => {
    const whole = manifestOf(edits);
    const lastStart = manifestOf(edits.slice(0, 2)).length;
    for (const at of [3, MANIFEST_HEADER_SIZE + 5, lastStart + 2, lastStart + MANIFEST_HEADER_SIZE + 3, whole.length - 1]) {
      const damaged = Buffer.from(whole);
      damaged[at] ^= 0x10;
      expectCorruption(() => decodeManifest(damaged, 'MANIFEST-000009'), /MANIFEST-000009: damaged record/);
    }
  });

  it('call a MANIFEST that does not open with a snapshot, or has a second one, or an edit that is not one, corruption', () => {
    const editFirst = encodeManifestRecord(ManifestRecordKind.Edit, {});
    expectCorruption(() => decodeManifest(editFirst, 'M'), /edit before any snapshot/);
    const twoSnapshots = Buffer.concat([manifestOf([{}]), encodeManifestRecord(ManifestRecordKind.Snapshot, {})]);
    expectCorruption(() => decodeManifest(twoSnapshots, 'M'), /snapshot after the first/);
    const badLevel = encodeManifestRecord(ManifestRecordKind.Snapshot, { deletedFiles: [{ level: 9, number: 1 }] });
    expectCorruption(() => decodeManifest(badLevel, 'M'), /malformed edit/);
    const nameMismatch = encodeManifestRecord(ManifestRecordKind.Snapshot, { newFiles: [{ level: 0, file: { ...snapshot.newFiles![0].file, number: 2 } }] });
    expectCorruption(() => decodeManifest(nameMismatch, 'M'), /malformed edit/);
  });
});

describe('CURRENT', () => {
  it('names the live MANIFEST; a folder without one reads null; anything else in it is corruption', async () => {
    const dir = freshDir();
    expect(await readCurrent(nodeFileSystem, dir)).toBeNull();
    await writeCurrent(nodeFileSystem, dir, 'MANIFEST-000012');
    expect(readFileSync(join(dir, 'CURRENT'), 'utf8')).toBe('MANIFEST-000012\n');
    expect(await readCurrent(nodeFileSystem, dir)).toBe('MANIFEST-000012');
    for (const text of ['MANIFEST-000012', 'MANIFEST-12\n', 'L0_000001.sst\n', '']) {
      writeFileSync(join(dir, 'CURRENT'), text);
      await expect(readCurrent(nodeFileSystem, dir)).rejects.toMatchObject({ code: 'STORAGE_CORRUPTION' });
    }
  });
});
