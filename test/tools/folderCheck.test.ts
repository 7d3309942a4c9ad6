/** checkFolder against a MANIFEST written here: files at levels below the one their name says are sound; above it, damage. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeFileSystem } from '../../src/storage/env/fileSystem.js';
import { toSortKey } from '../../src/storage/keyOrder.js';
import { MemTable } from '../../src/storage/memtable/memTable.js';
import { writeSSTable } from '../../src/storage/sstable/writer.js';
import { fileMetadataFromProperties } from '../../src/storage/version/fileMetadata.js';
import { manifestFileName, sstableFileName } from '../../src/storage/version/fileNames.js';
import { ManifestWriter, writeCurrent } from '../../src/storage/version/manifest.js';
import { checkFolder } from '../../src/tools/folderCheck.js';
import { useTempDirs } from '../support/tempDirs.js';

const freshDir = useTempDirs('tools-folder-check');

/** A folder holding file 1 (keys a..c), written to L`writtenTo`, which its MANIFEST puts at L`livesAt`. */
async function folderWith(writtenTo: number, livesAt: number): Promise<{ dir: string; name: string }> {
  const dir = freshDir();
  const memtable = new MemTable(1);
  for (const key of ['a', 'b', 'c']) memtable.put(toSortKey(key), JSON.stringify(key));
  const name = sstableFileName(1, writtenTo);
  const properties = await writeSSTable(nodeFileSystem, join(dir, name), memtable.iterator(), {});
  const manifest = manifestFileName(1);
  const writer = await ManifestWriter.create(nodeFileSystem, dir, manifest, { nextFileNumber: 2, minLiveWal: 0, newFiles: [{ level: livesAt, file: fileMetadataFromProperties(1, name, properties) }] });
  await writer.close();
  await writeCurrent(nodeFileSystem, dir, manifest);
  return { dir, name };
}

describe('checkFolder: file names and levels', () => {
  it('a file moved down (an L1 file at L3, as a trivial move leaves it) is sound', async () => {
    const { dir } = await folderWith(1, 3);
    const check = await checkFolder(dir);
    expect(check.problems).toEqual([]);
    expect(check.sstables.map((s) => [s.level, s.intact])).toEqual([[3, true]]);
  });

  it('a file above the level it was written to is damage: files only move down', async () => {
    const { dir, name } = await folderWith(2, 1);
    const check = await checkFolder(dir);
    expect(check.problems).toEqual([`${join(dir, name)}: written to L2, yet the MANIFEST puts it at L1 (files only move down)`]);
    expect(check.sstables[0].intact).toBe(false);
  });
});
