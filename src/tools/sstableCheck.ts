/**
 * Reads an SSTable's entries through its reader, so every checksum and
 * order check the node makes is made here too, and goes on past a damaged
 * data block to report every one, not only the first.
 */
import { statSync } from 'node:fs';
import { StorageError } from '../storage/errors.js';
import { nodeFileSystem } from '../storage/env/fileSystem.js';
import { type EntryValue, TOMBSTONE } from '../storage/iterator.js';
import { fromSortKey, toSortKey } from '../storage/keyOrder.js';
import { newReaderCaches, SSTableReader } from '../storage/sstable/reader.js';
import { UsageError } from './output.js';

/** What a walk over [start, end) found. */
export interface SSTableWalk {
  /** Entries read whole, tombstones included. */
  entries: number;
  tombstones: number;
  /** Data blocks read (each one's checksum verified). */
  blocksRead: number;
  /** One line each, naming the file and where; empty when sound. */
  problems: string[];
}

/**
 * Opens `path` read-only with caches of its own: one descriptor and no block
 * cache (a walk reads each block once, and a cache would reserve its budget
 * for every file `verify` opens). Throws the reader's STORAGE_CORRUPTION when
 * its footer, index, filter or properties are damaged.
 */
export function openSSTable(path: string): SSTableReader {
  return SSTableReader.open(nodeFileSystem, path, newReaderCaches(nodeFileSystem, 1, 0));
}

/** Throws UsageError unless `path` is a file this process can stat. */
export function assertReadableFile(path: string): void {
  let isFile;
  try {
    isFile = statSync(path).isFile();
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (!isFile) throw new UsageError(`${path} is not a file`);
}

/**
 * Walks the entries with start <= key < end (real keys; undefined:
 * unbounded), handing each to `onEntry`, and checks each against the
 * reader's own point lookup (index and Bloom filter). A corrupt data block
 * is reported and skipped; the walk goes on with the next block. Over the
 * whole file (no bounds) it also checks the counts and key range against
 * the properties block.
 */
export function walkSSTable(
  reader: SSTableReader,
  range: { start?: string; end?: string } = {},
  onEntry: (key: string, value: EntryValue) => void = () => undefined,
): SSTableWalk {
  const startKey = range.start === undefined ? undefined : toSortKey(range.start);
  const endKey = range.end === undefined ? undefined : toSortKey(range.end);
  const lastKeys = reader.blockLastKeys;
  const walk: SSTableWalk = { entries: 0, tombstones: 0, blocksRead: 0, problems: [] };
  const readsBefore = reader.diskReads;
  let smallest: string | undefined;
  let largest: string | undefined;
  const it = reader.iterator();
  let position = (): void => (startKey === undefined ? it.seekToFirst() : it.seekGE(startKey));
  let lastFailed = -1;
  for (;;) {
    try {
      for (position(); it.valid(); it.next()) {
        const key = it.key();
        if (endKey !== undefined && key >= endKey) break;
        const value = it.value();
        walk.entries++;
        if (value === TOMBSTONE) walk.tombstones++;
        smallest ??= key;
        largest = key;
        if (!reader.get(key).found) walk.problems.push(`${reader.path}: key ${JSON.stringify(fromSortKey(key))} is in the file but a lookup misses it (index or Bloom filter wrong)`);
        onEntry(fromSortKey(key), value);
      }
      break;
    } catch (error) {
      if (!(error instanceof StorageError && error.code === 'STORAGE_CORRUPTION')) throw error;
      walk.problems.push(error.message);
      // The block that failed is the first whose last key is above the last key read whole; go on after it.
      const failed = Math.max(lastFailed + 1, largest === undefined ? firstAtOrAbove(lastKeys, startKey ?? '') : firstAbove(lastKeys, largest));
      lastFailed = failed;
      if (failed >= lastKeys.length - 1) break;
      const resumeAt = `${lastKeys[failed]}\u0000`; // the least string above the failed block's last key
      if (endKey !== undefined && resumeAt >= endKey) break;
      position = () => it.seekGE(resumeAt);
    }
  }
  walk.blocksRead = reader.diskReads - readsBefore;
  if (startKey === undefined && endKey === undefined && walk.problems.length === 0) {
    const props = reader.properties;
    const found = { entries: walk.entries, tombstones: walk.tombstones, smallestKey: fromSortKeyOrNull(smallest), largestKey: fromSortKeyOrNull(largest) };
    for (const name of ['entries', 'tombstones', 'smallestKey', 'largestKey'] as const) {
      if (found[name] !== props[name]) {
        walk.problems.push(`${reader.path}: properties block says ${name} ${JSON.stringify(props[name])}, the data blocks hold ${JSON.stringify(found[name])}`);
      }
    }
  }
  return walk;
}

function fromSortKeyOrNull(sortKey: string | undefined): string | null {
  return sortKey === undefined ? null : fromSortKey(sortKey);
}

/** The first index i with keys[i] >= target, or keys.length. */
function firstAtOrAbove(keys: readonly string[], target: string): number {
  let i = 0;
  while (i < keys.length && keys[i] < target) i++;
  return i;
}

/** The first index i with keys[i] > target, or keys.length. */
function firstAbove(keys: readonly string[], target: string): number {
  let i = 0;
  while (i < keys.length && keys[i] <= target) i++;
  return i;
}
