/** walkSSTable: every damaged data block named, the walk going on past each; bounds; the properties cross-check. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeFileSystem } from '../../src/storage/env/fileSystem.js';
import { TOMBSTONE } from '../../src/storage/iterator.js';
import { toSortKey } from '../../src/storage/keyOrder.js';
import { MemTable } from '../../src/storage/memtable/memTable.js';
import { writeSSTable } from '../../src/storage/sstable/writer.js';
import { openSSTable, walkSSTable } from '../../src/tools/sstableCheck.js';
import { useTempDirs } from '../support/tempDirs.js';

const freshDir = useTempDirs('tools-sstable-check');

/** An SSTable of keys k000..k099 (every tenth a tombstone) in small blocks; returns its path. */
async function smallBlockTable(): Promise<string> {
  const memtable = new MemTable(1);
  for (let i = 0; i < 100; i++) memtable.put(toSortKey(`k${String(i).padStart(3, '0')}`), i % 10 === 0 ? TOMBSTONE : JSON.stringify({ i }));
  const path = join(freshDir(), 'L0_000001.sst');
  await writeSSTable(nodeFileSystem, path, memtable.iterator(), { blockBytes: 128 });
  return path;
}

function walk(path: string, range: { start?: string; end?: string } = {}) {
  const reader = openSSTable(path);
  try {
    const keys: string[] = [];
    const result = walkSSTable(reader, range, (key) => keys.push(key));
    return { ...result, keys, handles: reader.blockLastKeys.map((_, i) => reader.blockHandle(i)) };
  } finally {
    reader.close();
  }
}

describe('walkSSTable', () => {
  it('reads a sound file whole: every block, every entry, the properties agreeing', async () => {
    const path = await smallBlockTable();
    const sound = walk(path);
    expect(sound.problems).toEqual([]);
    expect(sound.entries).toBe(100);
    expect(sound.tombstones).toBe(10);
    expect(sound.blocksRead).toBe(sound.handles.length);
    expect(sound.handles.length).toBeGreaterThan(5);
    expect(walk(path, { start: 'k010', end: 'k013' }).keys).toEqual(['k010', 'k011', 'k012']);
  });

  it('names each damaged block and goes on with the next, so the entries of every sound block are read', async () => {
    const path = await smallBlockTable();
    const { handles, keys: all } = walk(path);
    const bytes = readFileSync(path);
    for (const i of [1, 3]) bytes[handles[i].offset + 2] ^= 0x01;
    writeFileSync(path, bytes);

    const damaged = walk(path);
    expect(damaged.problems).toEqual([1, 3].map((i) => `${path}: data block ${i} at byte ${handles[i].offset}: block checksum mismatch`));
    // Blocks 1 and 3 are skipped whole; every other key is read, in order.
    expect(damaged.keys.length).toBeLessThan(all.length);
    expect(damaged.keys).toEqual([...damaged.keys].sort());
    const reader = openSSTable(path);
    const lastKeys = reader.blockLastKeys.slice();
    reader.close();
    const blockOf = (key: string) => lastKeys.findIndex((last) => key <= last);
    expect(damaged.keys).toEqual(all.filter((key) => blockOf(key) !== 1 && blockOf(key) !== 3));
  });

  it('a damaged last block ends the walk with the entries before it', async () => {
    const path = await smallBlockTable();
    const { handles } = walk(path);
    const last = handles.length - 1;
    const bytes = readFileSync(path);
    bytes[handles[last].offset + 1] ^= 0x01;
    writeFileSync(path, bytes);
    const damaged = walk(path);
    expect(damaged.problems).toEqual([`${path}: data block ${last} at byte ${handles[last].offset}: block checksum mismatch`]);
    expect(damaged.keys.at(-1)! < 'k099').toBe(true);
  });
});
