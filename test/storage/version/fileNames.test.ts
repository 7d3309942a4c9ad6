/** File names: SSTables by level and number, MANIFESTs; each parser reads back what its namer writes and nothing else. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { manifestFileName, parseManifestFileName, parseSSTableFileName, sstableFileName } from '../../../src/storage/version/fileNames.js';

describe('file names', () => {
  it('name SSTables by the level written to and the number, and parse them back', () => {
    expect(sstableFileName(1, 0)).toBe('L0_000001.sst');
    expect(sstableFileName(31, 2)).toBe('L2_000031.sst');
    expect(sstableFileName(1234567, 6)).toBe('L6_1234567.sst');
    fc.assert(
      fc.property(fc.nat({ max: 1e9 }), fc.nat({ max: 6 }), (number, level) => {
        expect(parseSSTableFileName(sstableFileName(number, level))).toEqual({ number, level });
      }),
    );
    for (const name of ['L7_000001.sst', 'L0_00001.sst', 'L0_000001.sst.tmp', 'L0_000001.ss', '000001.sst', 'l0_000001.sst']) {
      expect(parseSSTableFileName(name)).toBeUndefined();
    }
  });

  it('name MANIFESTs by number, and tell them from the legacy MANIFEST and temp files', () => {
    expect(manifestFileName(3)).toBe('MANIFEST-000003');
    expect(parseManifestFileName('MANIFEST-000003')).toBe(3);
    for (const name of ['MANIFEST', 'MANIFEST.tmp', 'MANIFEST-3', 'MANIFEST-000003.tmp', 'CURRENT']) expect(parseManifestFileName(name)).toBeUndefined();
  });
});
