/**
 * LevelIterator against a sorted Map: a level cut into files (each a real
 * MemTable) walks as one sorted run, from the start or from any target, and
 * opens a file only when the walk reaches it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type EntryValue, TOMBSTONE } from '../../src/storage/iterator.js';
import { LevelIterator } from '../../src/storage/levelIterator.js';
import { MemTable } from '../../src/storage/memtable/memTable.js';
import type { FileMetadata } from '../../src/storage/version/fileMetadata.js';

const keyArb = fc.string({ unit: fc.constantFrom('a', 'b', 'c', '\uD800', '\uF800'), minLength: 1, maxLength: 3 });

/** Sorted distinct entries cut into consecutive files; `tables` by file number. */
const levelArb = fc
  .tuple(fc.uniqueArray(fc.tuple(keyArb, fc.option(fc.nat({ max: 99 }), { nil: null })), { selector: ([key]) => key, maxLength: 30 }), fc.array(fc.nat({ max: 4 }), { maxLength: 30 }))
  .map(([pairs, widths]) => {
    const entries = pairs
      .map(([key, value]): [string, EntryValue] => [key, value === null ? TOMBSTONE : String(value)])
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const files: FileMetadata[] = [];
    const tables = new Map<number, MemTable>();
    for (let i = 0, w = 0; i < entries.length; w++) {
      const slice = entries.slice(i, i + 1 + (widths[w] ?? 0));
      const table = new MemTable(files.length + 1);
      for (const [key, value] of slice) table.put(key, value);
      files.push({ number: table.id, name: `L1_${table.id}.sst`, smallest: slice[0][0], largest: slice[slice.length - 1][0], sizeBytes: 1, entries: slice.length });
      tables.set(table.id, table);
      i += slice.length;
    }
    return { entries, files, tables };
  });

function walk(iterator: LevelIterator): Array<[string, EntryValue]> {
  const seen: Array<[string, EntryValue]> = [];
  for (; iterator.valid(); iterator.next()) seen.push([iterator.key(), iterator.value()]);
  return seen;
}

describe('LevelIterator', () => {
  it('walks a level as one sorted run from the first entry or from any target, tombstones included', () => {
    fc.assert(
      fc.property(levelArb, keyArb, ({ entries, files, tables }, target) => {
        const opened: number[] = [];
        const iterator = new LevelIterator(files, (file) => {
          opened.push(file.number);
          return tables.get(file.number)!.iterator();
        });
        expect(iterator.valid()).toBe(false);
        iterator.seekToFirst();
        expect(walk(iterator)).toEqual(entries);
        expect(opened).toEqual(files.map((file) => file.number)); // each file once, in order

        opened.length = 0;
        iterator.seekGE(target);
        // The first file that can hold a key >= target always does (its largest): one open, no more.
        expect(opened.length).toBe(files.some((file) => file.largest >= target) ? 1 : 0);
        expect(walk(iterator)).toEqual(entries.filter(([key]) => key >= target));
      }),
      { numRuns: 300 },
    );
  });

  it('is invalid over an empty level', () => {
    const iterator = new LevelIterator([], () => {
      throw new Error('nothing to open');
    });
    iterator.seekToFirst();
    expect(iterator.valid()).toBe(false);
    iterator.seekGE('a');
    expect(iterator.valid()).toBe(false);
  });
});
