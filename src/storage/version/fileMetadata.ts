/**
 * What a version knows of one live SSTable, after LevelDB's FileMetaData: all
 * a level needs to place the file, find it by key and weigh it. The level
 * that holds a file is not here: a Version says it (a file moved down
 * without being rewritten keeps its metadata and its name).
 *
 * Invariant: smallest <= largest, both sort keys (keyOrder.ts) of keys the
 * file really holds (tombstones included); the file is immutable, so these
 * never change.
 */
import { toSortKey } from '../keyOrder.js';
import type { SSTableProperties } from '../sstable/writer.js';

/** Levels L0 to L6, as in LevelDB. */
export const NUM_LEVELS = 7;

export interface FileMetadata {
  /** Unique across every level and every file ever written; grows with time. */
  readonly number: number;
  /** The file's name in the store folder, e.g. `L2_000031.sst` (the level it was written to). */
  readonly name: string;
  /** Sort key of the smallest key held. */
  readonly smallest: string;
  /** Sort key of the largest key held. */
  readonly largest: string;
  readonly sizeBytes: number;
  /** Entries, tombstones included. */
  readonly entries: number;
}

/** True iff the file's key range meets [smallest, largest]; an undefined bound is unbounded. */
export function overlapsRange(file: FileMetadata, smallest: string | undefined, largest: string | undefined): boolean {
  return (largest === undefined || file.smallest <= largest) && (smallest === undefined || file.largest >= smallest);
}

/** Total size of `files` in bytes. */
export function totalBytes(files: readonly FileMetadata[]): number {
  let bytes = 0;
  for (const file of files) bytes += file.sizeBytes;
  return bytes;
}

/** Entries of `files`, tombstones included. */
export function totalEntries(files: readonly FileMetadata[]): number {
  let count = 0;
  for (const file of files) count += file.entries;
  return count;
}

/**
 * The metadata of a finished SSTable from what its writer (or its reader's
 * properties block) says. REQUIRES: properties.entries > 0 (an empty file
 * has no key range and is never made live).
 */
export function fileMetadataFromProperties(number: number, name: string, properties: SSTableProperties): FileMetadata {
  const { smallestKey, largestKey } = properties;
  if (smallestKey === null || largestKey === null) throw new Error(`fileMetadataFromProperties: ${name} holds no entries`);
  return {
    number,
    name,
    smallest: toSortKey(smallestKey),
    largest: toSortKey(largestKey),
    sizeBytes: properties.sizeBytes,
    entries: properties.entries,
  };
}
