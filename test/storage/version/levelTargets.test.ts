/** Level targets (SPEC 2b): L0 the trigger times the MemTable size, L1 the base, times the multiplier a level below. */
import { describe, expect, it } from 'vitest';
import { maxBytesForLevel } from '../../../src/storage/version/levelTargets.js';

const defaults = { levelBaseBytes: 10 << 20, levelMultiplier: 10, l0CompactionTrigger: 4, memtableMaxBytes: 4 << 20 };

describe('maxBytesForLevel', () => {
  it('gives the defaults SPEC 2b names', () => {
    expect([0, 1, 2, 3, 6].map((level) => maxBytesForLevel(level, defaults))).toEqual([16 << 20, 10 << 20, 100 << 20, 1000 << 20, (10 << 20) * 10 ** 5]);
  });

  it('follows its options', () => {
    const options = { levelBaseBytes: 1000, levelMultiplier: 3, l0CompactionTrigger: 2, memtableMaxBytes: 64 };
    expect(Array.from({ length: 7 }, (_, level) => maxBytesForLevel(level, options))).toEqual([128, 1000, 3000, 9000, 27000, 81000, 243000]);
  });

  it('refuses a level outside 0 to 6', () => {
    for (const level of [-1, 7, 1.5]) expect(() => maxBytesForLevel(level, defaults)).toThrow(RangeError);
  });
});
