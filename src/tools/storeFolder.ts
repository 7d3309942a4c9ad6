/**
 * A node's folder as the folder tools see it: what files it holds, by kind,
 * and what its MANIFEST says is live, read through the store's own reader
 * (readVersionState), which changes nothing on disk.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { nodeFileSystem } from '../storage/env/fileSystem.js';
import { fromSortKey } from '../storage/keyOrder.js';
import type { FileMetadata } from '../storage/version/fileMetadata.js';
import { CURRENT_FILE, LEGACY_MANIFEST_FILE, parseManifestFileName, parseSSTableFileName } from '../storage/version/fileNames.js';
import { readVersionState, type VersionState } from '../storage/version/versionSet.js';
import { walSegmentNumber } from '../storage/wal/wal.js';
import { UsageError } from './output.js';

/** Where repair moves the files it does not keep; the store ignores it. */
export const LOST_FOLDER = 'lost';

/** The files of a store folder by kind, each list ascending by name. */
export interface FolderListing {
  dir: string;
  sstables: Array<{ name: string; number: number; level: number }>;
  /** WAL segment numbers. */
  walSegments: number[];
  /** MANIFEST-NNNNNN files, CURRENT and a legacy MANIFEST, as present. */
  manifests: string[];
  /** *.tmp files: a write a crash interrupted. */
  temporary: string[];
}

/**
 * Lists `dir`. Throws UsageError when it is not a folder, or when it looks
 * like a --data-dir (no store files, but node folders inside) rather than a
 * node's folder.
 */
export function listStoreFolder(dir: string): FolderListing {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new UsageError(`${dir} is not a folder`);
    names = readdirSync(dir).sort();
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot read ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const listing: FolderListing = { dir, sstables: [], walSegments: [], manifests: [], temporary: [] };
  for (const name of names) {
    const sstable = parseSSTableFileName(name);
    const segment = walSegmentNumber(name);
    if (sstable !== undefined) listing.sstables.push({ name, ...sstable });
    else if (segment !== undefined) listing.walSegments.push(segment);
    else if (name === CURRENT_FILE || name === LEGACY_MANIFEST_FILE || parseManifestFileName(name) !== undefined) listing.manifests.push(name);
    else if (name.endsWith('.tmp')) listing.temporary.push(name);
  }
  const empty = listing.sstables.length + listing.walSegments.length + listing.manifests.length === 0;
  if (empty) {
    const nodes = names.filter((name) => name !== LOST_FOLDER && statSync(join(dir, name)).isDirectory());
    if (nodes.length > 0) throw new UsageError(`${dir} holds no store files; name a node's folder, e.g. ${join(dir, nodes[0])}`);
  }
  return listing;
}

/**
 * What the folder's MANIFEST says is live (CURRENT's MANIFEST, or a legacy
 * one), or null when there is none: a store that never flushed. Changes
 * nothing. Throws STORAGE_CORRUPTION when the MANIFEST is damaged.
 */
export function readLiveFileSet(dir: string): Promise<VersionState | null> {
  return readVersionState(nodeFileSystem, dir);
}

/** The WAL segments recovery would replay: those at or above minLiveWal. */
export function liveSegments(listing: FolderListing, minLiveWal: number): number[] {
  return listing.walSegments.filter((segment) => segment >= minLiveWal);
}

/** A live file as the folder tools print it: real keys, snake_case. */
export function describeFile(level: number, file: FileMetadata) {
  return {
    level,
    number: file.number,
    name: file.name,
    smallest_key: fromSortKey(file.smallest),
    largest_key: fromSortKey(file.largest),
    size_bytes: file.sizeBytes,
    entries: file.entries,
  };
}
