/**
 * Version against a brute-force model (a plain list of files per level):
 * apply agrees with set arithmetic on which edits are valid and what they
 * give, overlapping with a filter, fileFor with a linear search.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FileMetadata, NUM_LEVELS } from '../../../src/storage/version/fileMetadata.js';
import { Version, type VersionEdit } from '../../../src/storage/version/version.js';

const keyArb = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'd', '\uD800', '\uF800'), minLength: 1, maxLength: 3 });

function file(number: number, smallest: string, largest: string): FileMetadata {
  return { number, name: `L0_${String(number).padStart(6, '0')}.sst`, smallest, largest, sizeBytes: 100 + number, entries: 1 };
}

/** Sorted disjoint files cut from sorted distinct keys: each group of 1 or 2 neighbours is a file. */
const sortedRunArb = (firstNumber: number) =>
  fc.tuple(fc.uniqueArray(keyArb, { maxLength: 10 }), fc.array(fc.boolean(), { minLength: 10, maxLength: 10 })).map(([keys, pairs]) => {
    keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const files: FileMetadata[] = [];
    for (let i = 0; i < keys.length; ) {
      const width = pairs[files.length] && i + 1 < keys.length ? 2 : 1;
      files.push(file(firstNumber + files.length, keys[i], keys[i + width - 1]));
      i += width;
    }
    return files;
  });

const l0Arb = (firstNumber: number) =>
  fc.array(fc.tuple(keyArb, keyArb), { maxLength: 5 }).map((ranges) =>
    ranges.map(([a, b], i) => file(firstNumber + i, a < b ? a : b, a < b ? b : a)).sort((x, y) => y.number - x.number),
  );

/** A valid Version: L0 numbered 1000+, level n numbered n*100+. */
const versionArb = fc
  .tuple(l0Arb(1000), ...Array.from({ length: NUM_LEVELS - 1 }, (_, i) => sortedRunArb((i + 1) * 100)))
  .map((levels) => new Version(levels));

type Model = FileMetadata[][];

/** True iff the model's levels satisfy Version's invariants once put in Version's order. */
function modelIsValid(levels: Model): boolean {
  const numbers = levels.flat().map((f) => f.number);
  if (new Set(numbers).size !== numbers.length) return false;
  return levels.every((files, level) => {
    if (level === 0) return true;
    const sorted = sortByKey(files);
    return sorted.every((f, i) => i === 0 || sorted[i - 1].largest < f.smallest);
  });
}

function sortByKey(files: FileMetadata[]): FileMetadata[] {
  return [...files].sort((a, b) => (a.smallest < b.smallest ? -1 : a.smallest > b.smallest ? 1 : 0));
}

describe('Version', () => {
  it('apply gives what set arithmetic gives, in level order, and refuses exactly the edits that break an invariant', () => {
    let applied = 0;
    fc.assert(
      fc.property(versionArb, fc.array(fc.nat(), { maxLength: 6 }), fc.array(fc.tuple(fc.nat({ max: NUM_LEVELS - 1 }), keyArb, keyArb, fc.nat({ max: 3 })), { maxLength: 4 }), fc.nat(), (base, deletePicks, additions, moveSeed) => {
        const all = [...base.allFiles()];
        const deleted = all.length === 0 ? [] : [...new Set(deletePicks.map((pick) => pick % all.length))].map((i) => all[i]);
        const edit: VersionEdit = {
          deletedFiles: deleted.map(({ level, file }) => ({ level, number: file.number })),
          // New numbers 5000+; sometimes a deleted file comes back a level down (a trivial move).
          newFiles: additions.map(([level, a, b, reuse], i) => {
            const moved = deleted[(moveSeed + i) % Math.max(deleted.length, 1)];
            if (reuse === 0 && moved !== undefined && moved.level < NUM_LEVELS - 1) return { level: moved.level + 1, file: moved.file };
            return { level, file: file(5000 + i, a < b ? a : b, a < b ? b : a) };
          }),
        };
        const model: Model = base.levels.map((files, level) => files.filter((f) => !deleted.some((d) => d.level === level && d.file.number === f.number)));
        for (const { level, file: added } of edit.newFiles!) model[level].push(added);
        if (!modelIsValid(model)) {
          expect(() => base.apply(edit)).toThrow();
          return;
        }
        const next = base.apply(edit);
        applied++;
        expect(next.levels[0]).toEqual([...model[0]].sort((a, b) => b.number - a.number));
        for (let level = 1; level < NUM_LEVELS; level++) expect(next.levels[level]).toEqual(sortByKey(model[level]));
        // Immutable: the base is unchanged.
        expect([...base.allFiles()]).toEqual(all);
      }),
      { numRuns: 300 },
    );
    expect(applied, 'valid edits among the runs').toBeGreaterThan(50);
  });

  it('apply refuses to delete a file the level does not hold', () => {
    const version = new Version().apply({ newFiles: [{ level: 1, file: file(1, 'a', 'b') }] });
    expect(() => version.apply({ deletedFiles: [{ level: 2, number: 1 }] })).toThrow(/no file 1 at L2/);
    expect(() => version.apply({ deletedFiles: [{ level: 1, number: 7 }] })).toThrow();
  });

  it('overlapping agrees with a filter on the ranges, and fileFor with a linear search', () => {
    fc.assert(
      fc.property(versionArb, fc.option(keyArb, { nil: undefined }), fc.option(keyArb, { nil: undefined }), keyArb, (version, smallest, largest, probe) => {
        for (let level = 0; level < NUM_LEVELS; level++) {
          const files = version.levels[level];
          const expected = files.filter((f) => (largest === undefined || f.smallest <= largest) && (smallest === undefined || f.largest >= smallest));
          expect(version.overlapping(level, smallest, largest)).toEqual(expected);
          if (level === 0) continue;
          expect(version.fileFor(level, probe)).toEqual(files.find((f) => f.smallest <= probe && probe <= f.largest));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('counts bytes a level and finds the deepest non-empty level', () => {
    fc.assert(
      fc.property(versionArb, (version) => {
        for (let level = 0; level < NUM_LEVELS; level++) {
          expect(version.levelBytes(level)).toBe(version.levels[level].reduce((sum, f) => sum + f.sizeBytes, 0));
        }
        const deepest = version.levels.map((files, level) => (files.length > 0 ? level : -1)).reduce((a, b) => Math.max(a, b), -1);
        expect(version.deepestNonEmptyLevel()).toBe(deepest);
      }),
    );
  });

  it('checks its invariants when built: L0 newest first, deeper levels sorted and disjoint, numbers unique', () => {
    const empty = () => Array.from({ length: NUM_LEVELS }, (): FileMetadata[] => []);
    const l0 = empty();
    l0[0] = [file(1, 'a', 'b'), file(2, 'a', 'b')];
    expect(() => new Version(l0)).toThrow(/out of order/);
    const overlapping = empty();
    overlapping[3] = [file(1, 'a', 'c'), file(2, 'c', 'd')];
    expect(() => new Version(overlapping)).toThrow(/out of order/);
    const twice = empty();
    twice[1] = [file(1, 'a', 'b')];
    twice[2] = [file(1, 'c', 'd')];
    expect(() => new Version(twice)).toThrow(/twice/);
    expect(() => new Version(empty().slice(1))).toThrow(/levels/);
  });
});
