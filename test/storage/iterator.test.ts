/**
 * The iterator contract's one policy (iterator.ts): every iterator, of
 * entries or of bytes, throws "not valid" from its accessors and next()
 * when it is not positioned at an entry, unpositioned or walked past its
 * end, instead of answering with a stale or made-up entry.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BaseLevelCheck, CompactionIterator } from '../../src/storage/compaction/compactionIterator.js';
import { OutputCutter } from '../../src/storage/compaction/outputCutter.js';
import { nodeFileSystem } from '../../src/storage/env/fileSystem.js';
import type { ByteIterator, InternalIterator } from '../../src/storage/iterator.js';
import { LevelIterator } from '../../src/storage/levelIterator.js';
import { MemTable } from '../../src/storage/memtable/memTable.js';
import { ByteMergeIterator, MergeIterator } from '../../src/storage/mergeIterator.js';
import { newReaderCaches, SSTableReader } from '../../src/storage/sstable/reader.js';
import { TableScanner } from '../../src/storage/sstable/tableScanner.js';
import { writeSSTable } from '../../src/storage/sstable/writer.js';
import { fileMetadataFromProperties } from '../../src/storage/version/fileMetadata.js';
import { useTempDirs } from '../support/tempDirs.js';

const tempDir = useTempDirs('iterator-contract');

const ENTRY_CALLS = ['key', 'value', 'next'] as const;
const BYTE_CALLS = ['keyBytes', 'keyLength', 'isTombstone', 'valueBytes', 'valueStart', 'valueEnd', 'next'] as const;

function expectNotValid(iterator: InternalIterator | ByteIterator, calls: readonly string[]): void {
  expect(iterator.valid()).toBe(false);
  for (const call of calls) expect(() => (iterator as unknown as Record<string, () => unknown>)[call](), call).toThrow(/not valid/);
}

/** Positions `iterator` at its first entry, walks it to its end, and checks it refuses every call there. */
function expectRefusesPastTheEnd(iterator: InternalIterator | ByteIterator, calls: readonly string[], entries: number): void {
  iterator.seekToFirst();
  let walked = 0;
  for (; iterator.valid(); iterator.next()) walked++;
  expect(walked).toBe(entries);
  expectNotValid(iterator, calls);
}

function memtable(keys: string[]): MemTable {
  const table = new MemTable(0);
  for (const key of keys) table.put(key, JSON.stringify(key));
  return table;
}

/** Two SSTables of one sorted level (a, b and c, d) and readers sharing caches. */
async function level(): Promise<{ dir: string; readers: SSTableReader[]; names: string[]; caches: ReturnType<typeof newReaderCaches> }> {
  const dir = tempDir();
  const caches = newReaderCaches(nodeFileSystem, 8, 0);
  const names = ['L1_000001.sst', 'L1_000002.sst'];
  const readers: SSTableReader[] = [];
  for (const [i, keys] of [['a', 'b'], ['c', 'd']].entries()) {
    await writeSSTable(nodeFileSystem, join(dir, names[i]), memtable(keys).iterator());
    readers.push(SSTableReader.open(nodeFileSystem, join(dir, names[i]), caches));
  }
  return { dir, readers, names, caches };
}

describe('every iterator refuses to answer when not valid', () => {
  it('the entry iterators: skip list, SSTable, level, merge', async () => {
    const { readers } = await level();
    const metadata = readers.map((reader, i) => fileMetadataFromProperties(i + 1, `L1_00000${i + 1}.sst`, reader.properties));
    const iterators: Array<[() => InternalIterator, number]> = [
      [() => memtable(['a', 'b']).iterator(), 2],
      [() => readers[0].iterator(), 2],
      [() => new LevelIterator(metadata, (file) => readers[file.number - 1].iterator()), 4],
      [() => new MergeIterator([memtable(['a', 'c']).iterator(), readers[0].iterator()]), 3],
    ];
    for (const [make, entries] of iterators) {
      expectNotValid(make(), ENTRY_CALLS);
      expectRefusesPastTheEnd(make(), ENTRY_CALLS, entries);
    }
    for (const reader of readers) reader.close();
  });

  it('the byte iterators of a compaction: table scanner, merge, compaction stream, output slice', async () => {
    const { dir, readers, names, caches } = await level();
    const scanner = () => new TableScanner(caches.files, names, (name) => SSTableReader.open(nodeFileSystem, join(dir, name), caches));
    const iterators: Array<[() => ByteIterator, number]> = [
      [scanner, 4],
      [() => new ByteMergeIterator([scanner(), scanner()]), 4],
      [() => new CompactionIterator(new ByteMergeIterator([scanner()]), new BaseLevelCheck([])), 4],
    ];
    for (const [make, entries] of iterators) {
      expectNotValid(make(), BYTE_CALLS);
      expectRefusesPastTheEnd(make(), BYTE_CALLS, entries);
    }
    // A slice ends at its cut while the stream under it goes on: past the cut it refuses too.
    const cutter = new OutputCutter(scanner(), { targetFileBytes: 1, maxGrandparentOverlapBytes: 0, grandparents: [], maxOutputs: 10 });
    const slice = cutter.nextSlice()!;
    expect(slice.valid()).toBe(true);
    slice.next();
    expectNotValid(slice, BYTE_CALLS);
    expect(cutter.nextSlice()!.valid()).toBe(true);
    for (const reader of readers) reader.close();
  });
});
