import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compactionEdit,
  levelScores,
  manualCompaction,
  maxBytesForLevel,
  pickCompaction,
  type PickerOptions,
} from '../../../src/storage/compaction/picker.js';
import { type FileMetadata, NUM_LEVELS } from '../../../src/storage/version/fileMetadata.js';
import { Version } from '../../../src/storage/version/version.js';

const MiB = 1024 * 1024;
const options: PickerOptions = { levelBaseBytes: 10 * MiB, levelMultiplier: 10, l0CompactionTrigger: 4, memtableMaxBytes: 4 * MiB, targetFileBytes: 2 * MiB };

function file(number: number, smallest: string, largest: string, sizeBytes = MiB): FileMetadata {
  return { number, name: `L0_${String(number).padStart(6, '0')}.sst`, smallest, largest, sizeBytes, entries: 10 };
}

/** A Version from files per level, given in any order (apply sorts them). */
function version(levels: Partial<Record<number, FileMetadata[]>>): Version {
  const newFiles = Object.entries(levels).flatMap(([level, files]) => files!.map((f) => ({ level: Number(level), file: f })));
  return new Version().apply({ newFiles });
}

/** The smallest and largest key of `files`. */
function span(files: readonly FileMetadata[]): { smallest: string; largest: string } {
  return {
    smallest: files.reduce((min, f) => (f.smallest < min ? f.smallest : min), files[0].smallest),
    largest: files.reduce((max, f) => (f.largest > max ? f.largest : max), files[0].largest),
  };
}

const numbers = (files: readonly FileMetadata[]) => files.map((f) => f.number);
const noPointers: Array<string | undefined> = [];

describe('levelScores and maxBytesForLevel', () => {
  it('scores L0 by file count over the trigger and L1..L5 by bytes over the level target', () => {
    const v = version({
      0: [file(1, 'a', 'b'), file(2, 'c', 'd')],
      1: [file(3, 'a', 'c', 5 * MiB), file(4, 'd', 'f', 10 * MiB)],
      2: [file(5, 'a', 'z', 50 * MiB)],
      6: [file(6, 'a', 'z', 10_000 * MiB)],
    });
    expect(levelScores(v, options)).toEqual([0.5, 1.5, 0.5, 0, 0, 0]);
    expect(maxBytesForLevel(0, options)).toBe(16 * MiB);
    expect([1, 2, 3, 6].map((level) => maxBytesForLevel(level, options))).toEqual([10 * MiB, 100 * MiB, 1000 * MiB, 1_000_000 * MiB]);
  });

  it('picks nothing below a score of 1, and the highest score at or above 1', () => {
    expect(pickCompaction(version({ 0: [file(1, 'a', 'b')] }), noPointers, options)).toBeNull();
    const v = version({
      0: [1, 2, 3, 4].map((n) => file(n, 'a', 'b')), // score 1
      2: [file(10, 'a', 'c', 150 * MiB)], // score 1.5
    });
    const picked = pickCompaction(v, noPointers, options)!;
    expect([picked.sourceLevel, picked.targetLevel, picked.score, picked.manual]).toEqual([2, 3, 1.5, false]);
  });
});

describe('pickCompaction at L1 and below', () => {
  const l1 = [file(11, 'a', 'c', 4 * MiB), file(12, 'd', 'f', 4 * MiB), file(13, 'h', 'i', 4 * MiB)];
  const l2 = [file(21, 'b', 'b'), file(22, 'e', 'g'), file(23, 'j', 'k')];
  const l3 = [file(31, 'a', 'a'), file(32, 'c', 'f'), file(33, 'z', 'z')];
  const v = version({ 1: l1, 2: l2, 3: l3 });

  it('takes the first file past the compact pointer, wrapping to the first', () => {
    expect(numbers(pickCompaction(v, [], options)!.sourceInputs)).toEqual([11]);
    expect(numbers(pickCompaction(v, [undefined, 'c'], options)!.sourceInputs)).toEqual([12]);
    expect(numbers(pickCompaction(v, [undefined, 'e'], options)!.sourceInputs)).toEqual([12]);
    expect(numbers(pickCompaction(v, [undefined, 'i'], options)!.sourceInputs)).toEqual([11]);
  });

  it('takes the overlapping files of the next level and, two down, the grandparents', () => {
    const picked = pickCompaction(v, [undefined, 'c'], options)!;
    expect(numbers(picked.targetInputs)).toEqual([22]);
    // The whole input range is d..g, which meets only c..f at L3.
    expect(numbers(picked.grandparents)).toEqual([32]);
    expect(picked.trivialMove).toBe(false);
    expect(picked.compactPointer).toEqual({ level: 1, key: 'f' });
  });

  it('grows the source inputs when that takes no more target files', () => {
    // L1 a..b and c..d both sit inside L2's a..z: picking one takes the other too, still one L2 file.
    const grown = version({ 1: [file(11, 'a', 'b', 6 * MiB), file(12, 'c', 'd', 6 * MiB)], 2: [file(21, 'a', 'z')] });
    const picked = pickCompaction(grown, [], options)!;
    expect(numbers(picked.sourceInputs)).toEqual([11, 12]);
    expect(numbers(picked.targetInputs)).toEqual([21]);
    expect(picked.compactPointer.key).toBe('d');
  });

  it('moves a file that overlaps nothing below, unless it overlaps too many grandparent bytes', () => {
    const lone = version({ 1: [file(11, 'm', 'n', 12 * MiB)], 2: [file(21, 'a', 'b')], 3: [file(31, 'm', 'm', 20 * MiB)] });
    const moved = pickCompaction(lone, [], options)!;
    expect(moved.trivialMove).toBe(true);
    const edit = compactionEdit(moved, []);
    expect(edit).toEqual({ deletedFiles: [{ level: 1, number: 11 }], newFiles: [{ level: 2, file: lone.levels[1][0] }], compactPointers: [{ level: 1, key: 'n' }] });
    expect(numbers(lone.apply(edit).levels[2])).toEqual([21, 11]);

    const heavy = version({ 1: [file(11, 'm', 'n', 12 * MiB)], 3: [file(31, 'm', 'm', 21 * MiB)] });
    expect(pickCompaction(heavy, [], options)!.trivialMove).toBe(false);
  });
});

describe('pickCompaction at L0', () => {
  it('takes every L0 file overlapping, closed over the range they span', () => {
    // The oldest (1: a..c) meets 3 (c..e), which meets 5 (e..g); 2 and 4 lie outside a..g.
    const l0 = [file(1, 'a', 'c'), file(2, 'x', 'y'), file(3, 'c', 'e'), file(4, 'h', 'i'), file(5, 'e', 'g')];
    const picked = pickCompaction(version({ 0: l0 }), [], options)!;
    expect([numbers(picked.sourceInputs), picked.targetInputs]).toEqual([[5, 3, 1], []]);

    // With L1 f..h overlapping, the whole range a..h takes in L0's h..i without another L1 file: the inputs grow.
    const v = version({ 0: l0, 1: [file(10, 'b', 'b'), file(11, 'f', 'h'), file(12, 'p', 'q')] });
    const grown = pickCompaction(v, [], options)!;
    expect([numbers(grown.sourceInputs), numbers(grown.targetInputs)]).toEqual([[5, 4, 3, 1], [10, 11]]);
  });

  it('leaves no L0 file outside the inputs overlapping their range (property)', () => {
    const key = fc.integer({ min: 0, max: 60 }).map((n) => String(n).padStart(2, '0'));
    const range = fc.tuple(key, key).map(([a, b]) => (a <= b ? [a, b] : [b, a]));
    fc.assert(
      fc.property(fc.array(range, { minLength: 4, maxLength: 12 }), fc.array(range, { maxLength: 6 }), (l0Ranges, l1Ranges) => {
        // L1 must be disjoint: keep ranges that do not meet an earlier one.
        const l1: FileMetadata[] = [];
        for (const [s, l] of l1Ranges) if (!l1.some((f) => f.smallest <= l && s <= f.largest)) l1.push(file(100 + l1.length, s, l));
        const v = version({ 0: l0Ranges.map(([s, l], i) => file(i + 1, s, l)), 1: l1 });
        const picked = pickCompaction(v, [], options)!;
        expect(picked.sourceLevel).toBe(0);
        const { smallest, largest } = span(picked.sourceInputs);
        const inputs = new Set(numbers(picked.sourceInputs));
        for (const f of v.levels[0]) if (!inputs.has(f.number)) expect(f.smallest > largest || f.largest < smallest).toBe(true);
        expect(numbers(picked.sourceInputs)).toEqual([...inputs].sort((a, b) => b - a));
        expect(picked.targetInputs).toEqual(v.overlapping(1, smallest, largest));
        // Installing it (one output spanning all inputs) keeps every Version invariant.
        const all = span([...picked.sourceInputs, ...picked.targetInputs]);
        const outputs = picked.trivialMove ? [] : [{ ...file(1000, all.smallest, all.largest), name: 'L1_001000.sst' }];
        expect(() => v.apply(compactionEdit(picked, outputs))).not.toThrow();
      }),
    );
  });

  it('moves a lone L0 file down when nothing overlaps it', () => {
    const v = version({ 0: [file(1, 'a', 'b'), file(2, 'c', 'd'), file(3, 'e', 'f'), file(4, 'g', 'h')], 1: [file(10, 'x', 'y')] });
    const picked = pickCompaction(v, [], options)!;
    expect([numbers(picked.sourceInputs), picked.trivialMove]).toEqual([[1], true]);
    expect(numbers(v.apply(compactionEdit(picked, [])).levels[1])).toEqual([1, 10]);
  });
});

describe('manualCompaction', () => {
  it('takes every file of the source level and the overlapping files of the next, and never just moves', () => {
    const v = version({ 1: [file(11, 'a', 'b'), file(12, 'm', 'n')], 2: [file(21, 'b', 'c'), file(22, 'x', 'y')], 3: [file(31, 'a', 'z')] });
    const picked = manualCompaction(v, 1)!;
    expect([numbers(picked.sourceInputs), numbers(picked.targetInputs), numbers(picked.grandparents)]).toEqual([[11, 12], [21], [31]]);
    expect([picked.manual, picked.trivialMove, picked.compactPointer]).toEqual([true, false, { level: 1, key: 'n' }]);
    expect(manualCompaction(version({ 1: [file(11, 'a', 'b')] }), 1)!.trivialMove).toBe(false);
  });

  it('is null for an empty level and refuses a level with nothing below', () => {
    expect(manualCompaction(new Version(), 0)).toBeNull();
    expect(() => manualCompaction(new Version(), NUM_LEVELS - 1)).toThrow(RangeError);
  });
});

describe('compactionEdit', () => {
  it('deletes the inputs at their levels and adds the outputs at the target level', () => {
    const v = version({ 0: [file(1, 'a', 'c'), file(2, 'b', 'd')], 1: [file(10, 'c', 'e'), file(11, 'x', 'y')] });
    const picked = manualCompaction(v, 0)!;
    const output = { ...file(20, 'a', 'e'), name: 'L1_000020.sst' };
    const next = v.apply(compactionEdit(picked, [output]));
    expect(next.levels.map(numbers)).toEqual([[], [20, 11], [], [], [], [], []]);
  });
});
