import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeFileSystem } from '../../src/storage/env/fileSystem.js';
import { type EntryValue, TOMBSTONE } from '../../src/storage/iterator.js';
import { toSortKey } from '../../src/storage/keyOrder.js';
import { MemTable } from '../../src/storage/memtable/memTable.js';
import { ByteMergeIterator, MergeIterator } from '../../src/storage/mergeIterator.js';
import { newReaderCaches, SSTableReader } from '../../src/storage/sstable/reader.js';
import { TableScanner } from '../../src/storage/sstable/tableScanner.js';
import { writeSSTable } from '../../src/storage/sstable/writer.js';
import { useTempDirs } from '../support/tempDirs.js';

const tempDir = useTempDirs('merge-iterator');

/** Entries by sort key. */
type Table = Map<string, EntryValue>;

// Few distinct keys, so children share many; some non-ASCII, so byte order and sort-key order must agree.
const keyArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 40 }).map((n) => `k${n}`) },
  { weight: 1, arbitrary: fc.constantFrom('\u{1F600}', '\uE000', 'k1\u00e9', '', 'k') },
);
const valueArb: fc.Arbitrary<EntryValue> = fc.oneof({ weight: 4, arbitrary: fc.nat(999).map(String) }, { weight: 1, arbitrary: fc.constant(TOMBSTONE) });
const tableArb = fc.array(fc.tuple(keyArb, valueArb), { maxLength: 30 }).map((pairs) => new Map(pairs.map(([key, value]) => [toSortKey(key), value])));
const childrenArb = fc.array(tableArb, { minLength: 1, maxLength: 6 });

/** The model: each key once, with the value of the first (newest) table that has it, in sort-key order. */
function newestWins(tables: Table[]): Array<[string, EntryValue]> {
  const newest = new Map<string, EntryValue>();
  for (const table of tables) for (const [key, value] of table) if (!newest.has(key)) newest.set(key, value);
  return [...newest].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function memTableOf(table: Table): MemTable {
  const memtable = new MemTable(0);
  for (const [key, value] of table) memtable.put(key, value);
  return memtable;
}

describe('MergeIterator and ByteMergeIterator', () => {
  it('yield each key once, newest child winning, in key order: strings over MemTables, bytes over SSTables (property)', async () => {
    await fc.assert(
      fc.asyncProperty(childrenArb, async (tables) => {
        const expected = newestWins(tables);

        const strings = new MergeIterator(tables.map((table) => memTableOf(table).iterator()));
        const fromStrings: Array<[string, EntryValue]> = [];
        for (strings.seekToFirst(); strings.valid(); strings.next()) fromStrings.push([strings.key(), strings.value()]);
        expect(fromStrings).toEqual(expected);

        const dir = tempDir();
        const caches = newReaderCaches(nodeFileSystem, 16, 0);
        const readers: SSTableReader[] = [];
        const children = [];
        for (let i = 0; i < tables.length; i++) {
          const name = `L0_${String(i).padStart(6, '0')}.sst`;
          await writeSSTable(nodeFileSystem, join(dir, name), memTableOf(tables[i]).iterator());
          children.push(
            new TableScanner(caches.files, [name], (file) => {
              const reader = SSTableReader.open(nodeFileSystem, join(dir, file), caches);
              readers.push(reader);
              return reader;
            }),
          );
        }
        const bytes = new ByteMergeIterator(children);
        const fromBytes: Array<[string, EntryValue]> = [];
        for (bytes.seekToFirst(); bytes.valid(); bytes.next()) {
          const key = toSortKey(Buffer.from(bytes.keyBytes().subarray(0, bytes.keyLength())).toString('utf8'));
          const value = bytes.isTombstone() ? TOMBSTONE : Buffer.from(bytes.valueBytes().subarray(bytes.valueStart(), bytes.valueEnd())).toString('utf8');
          fromBytes.push([key, value]);
        }
        for (const reader of readers) reader.close();
        expect(fromBytes).toEqual(expected);
      }),
      { numRuns: 80 },
    );
  });
});
