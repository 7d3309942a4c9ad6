import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeFileSystem } from '../../../src/storage/env/fileSystem.js';
import { type ByteIterator, type EntryValue, TOMBSTONE } from '../../../src/storage/iterator.js';
import { toSortKey } from '../../../src/storage/keyOrder.js';
import { MemTable } from '../../../src/storage/memtable/memTable.js';
import { newReaderCaches, SSTableReader } from '../../../src/storage/sstable/reader.js';
import { type ScanBounds, TableScanner } from '../../../src/storage/sstable/tableScanner.js';
import { writeSSTable, writeSSTableBytes } from '../../../src/storage/sstable/writer.js';
import { expectCorruption } from '../../support/expectCorruption.js';
import { useTempDirs } from '../../support/tempDirs.js';

const tempDir = useTempDirs('table-scanner');

/** Entries by sort key. */
type Table = Map<string, EntryValue>;

// Keys with a few outside the BMP, above U+E000 and non-ASCII, so byte order and sort-key order both matter.
const keyArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 300 }).map((n) => `k${String(n).padStart(3, '0')}`) },
  { weight: 1, arbitrary: fc.constantFrom('\u{1F600}', '\uE000x', 'k050\u00e9', '', 'k1\u{10000}') },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }).filter((s) => !/[\uD800-\uDFFF]/.test(s)) },
);
const valueArb: fc.Arbitrary<EntryValue> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 60 }).map((s) => JSON.stringify(s)) },
  { weight: 1, arbitrary: fc.string({ minLength: 1100, maxLength: 1300 }).map((s) => JSON.stringify(s)) },
  { weight: 1, arbitrary: fc.constant(TOMBSTONE) },
);
const tableArb = fc.array(fc.tuple(keyArb, valueArb), { maxLength: 120 }).map((pairs) => new Map(pairs.map(([key, value]) => [toSortKey(key), value])));

/** `table` in sort-key order. */
function sorted(table: Table): Array<[string, EntryValue]> {
  return [...table].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Writes entries (any order) as SSTable `name` in `dir` with the string writer. */
async function writeTable(dir: string, name: string, entries: Iterable<[string, EntryValue]>, blockBytes: number): Promise<void> {
  const memtable = new MemTable(0);
  for (const [key, value] of entries) memtable.put(key, value);
  await writeSSTable(nodeFileSystem, join(dir, name), memtable.iterator(), { blockBytes });
}

/** Writes sorted `entries` as a sorted run of `fileCount` files (consecutive runs of them, some maybe empty); returns their names. */
async function writeRun(dir: string, entries: Array<[string, EntryValue]>, fileCount: number, blockBytes: number): Promise<string[]> {
  const names: string[] = [];
  const per = Math.ceil(entries.length / fileCount);
  for (let f = 0; f < fileCount; f++) {
    names.push(`L1_${String(f).padStart(6, '0')}.sst`);
    await writeTable(dir, names[f], entries.slice(f * per, (f + 1) * per), blockBytes);
  }
  return names;
}

/** Every entry a ByteIterator yields, decoded: [sortKey, value]. */
function drain(iterator: ByteIterator): Array<[string, EntryValue]> {
  const entries: Array<[string, EntryValue]> = [];
  for (iterator.seekToFirst(); iterator.valid(); iterator.next()) {
    const key = toSortKey(Buffer.from(iterator.keyBytes().subarray(0, iterator.keyLength())).toString('utf8'));
    const value = iterator.isTombstone() ? TOMBSTONE : Buffer.from(iterator.valueBytes().subarray(iterator.valueStart(), iterator.valueEnd())).toString('utf8');
    entries.push([key, value]);
  }
  return entries;
}

/** A scanner over the files `names` of `dir`; `readers` collects what it opens, for closing. */
function scanner(dir: string, names: string[], readaheadBytes: number, readers: SSTableReader[] = [], bounds?: ScanBounds): TableScanner {
  const caches = newReaderCaches(nodeFileSystem, 8, 0);
  return new TableScanner(caches.files, names, (name) => {
    const reader = SSTableReader.open(nodeFileSystem, join(dir, name), caches);
    readers.push(reader);
    return reader;
  }, { readaheadBytes, bounds });
}

describe('TableScanner', () => {
  it('yields every entry of a sorted run of files in order, as bytes, whatever the readahead (property)', async () => {
    await fc.assert(
      fc.asyncProperty(tableArb, fc.integer({ min: 1, max: 4 }), fc.integer({ min: 32, max: 600 }), fc.integer({ min: 1, max: 5000 }), async (table, fileCount, blockBytes, readahead) => {
        const dir = tempDir();
        const entries = sorted(table);
        const names = await writeRun(dir, entries, fileCount, blockBytes);
        const readers: SSTableReader[] = [];
        expect(drain(scanner(dir, names, readahead, readers))).toEqual(entries);
        for (const reader of readers) reader.close();
      }),
      { numRuns: 60 },
    );
  });

  it('keeps to its bounds: exactly the entries in (after, upTo], either end open (property)', async () => {
    // Bounds drawn from the table's own keys (so a bound often equals a key or a block's last key) and from anywhere.
    const boundArb = (table: Table) => fc.option(fc.oneof(fc.constantFrom(...table.keys(), 'k'), keyArb.map(toSortKey)), { nil: undefined });
    await fc.assert(
      fc.asyncProperty(
        tableArb.filter((table) => table.size > 0).chain((table) => fc.tuple(fc.constant(table), boundArb(table), boundArb(table))),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 32, max: 400 }),
        fc.integer({ min: 1, max: 3000 }),
        async ([table, after, upTo], fileCount, blockBytes, readahead) => {
          const dir = tempDir();
          const entries = sorted(table);
          const names = await writeRun(dir, entries, fileCount, blockBytes);
          const readers: SSTableReader[] = [];
          const inBounds = entries.filter(([key]) => (after === undefined || key > after) && (upTo === undefined || key <= upTo));
          expect(drain(scanner(dir, names, readahead, readers, { after, upTo }))).toEqual(inBounds);
          for (const reader of readers) reader.close();
        },
      ),
      { numRuns: 80 },
    );
  });

  it('feeds writeSSTableBytes, which writes the very bytes writeSSTable writes for the same entries (property)', async () => {
    await fc.assert(
      fc.asyncProperty(tableArb, fc.integer({ min: 32, max: 600 }), async (table, blockBytes) => {
        const dir = tempDir();
        await writeTable(dir, 'L0_000001.sst', table, blockBytes);
        const readers: SSTableReader[] = [];
        await writeSSTableBytes(nodeFileSystem, join(dir, 'copy.sst'), scanner(dir, ['L0_000001.sst'], 4096, readers), { blockBytes });
        for (const reader of readers) reader.close();
        expect(readFileSync(join(dir, 'copy.sst')).equals(readFileSync(join(dir, 'L0_000001.sst')))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('rejects keys that do not ascend bytewise in writeSSTableBytes', async () => {
    const dir = tempDir();
    await writeTable(dir, 'L1_000001.sst', [['b', '"1"']], 4096);
    await writeTable(dir, 'L1_000002.sst', [['a', '"2"']], 4096);
    const run = scanner(dir, ['L1_000001.sst', 'L1_000002.sst'], 4096);
    await expect(writeSSTableBytes(nodeFileSystem, join(dir, 'out.sst'), run)).rejects.toThrow(/keys out of order \("a" after "b"\)/);
  });

  it('reports a flipped bit in any data block as STORAGE_CORRUPTION', async () => {
    const dir = tempDir();
    const table: Table = new Map([...Array(300).keys()].map((i) => [`k${String(i).padStart(3, '0')}`, JSON.stringify('v'.repeat(i % 40))]));
    await writeTable(dir, 'L0_000001.sst', table, 256);
    const path = join(dir, 'L0_000001.sst');
    const reader = SSTableReader.open(nodeFileSystem, path);
    const last = reader.blockHandle(reader.blockCount - 1);
    reader.close();
    const original = readFileSync(path);
    for (let at = 0; at < last.offset + last.size; at += 97) {
      const damaged = Buffer.from(original);
      damaged[at] ^= 0x10;
      writeFileSync(path, damaged);
      expectCorruption(() => drain(scanner(dir, ['L0_000001.sst'], 1000)), /checksum/);
    }
  });
});
