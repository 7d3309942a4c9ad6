/**
 * The MANIFEST of stores written before levels existed (one file, L0 only),
 * read once at open and converted to CURRENT + MANIFEST-NNNNNN. Never written.
 *
 *   line 1: {"version":1,"nextFileNumber":N,"minLiveWal":W,"sstables":["L0_000007.sst", ...]}
 *           sstables newest first
 *   line 2: CRC32C of line 1's UTF-8 bytes, 8 lowercase hex digits
 */
import { join } from 'node:path';
import { crc32c } from '../encoding/crc32c.js';
import { corruption } from '../errors.js';
import { type FileSystem, readFileIfExists } from '../env/fileSystem.js';
import { LEGACY_MANIFEST_FILE, parseSSTableFileName } from './fileNames.js';

const LEGACY_MANIFEST_VERSION = 1;

export interface LegacyManifest {
  nextFileNumber: number;
  minLiveWal: number;
  /** Live SSTable file names, newest first; all in L0. */
  sstables: string[];
}

/** The legacy MANIFEST's state, or null when the folder has none. Throws STORAGE_CORRUPTION when damaged. */
export async function readLegacyManifest(fs: FileSystem, dir: string): Promise<LegacyManifest | null> {
  const bytes = await readFileIfExists(fs, join(dir, LEGACY_MANIFEST_FILE));
  if (bytes === null) return null;
  const [body, checksum] = bytes.toString('utf8').split('\n');
  if (checksum === undefined || checksum !== crcHex(body)) throw corruption(`${LEGACY_MANIFEST_FILE}: checksum mismatch`);
  let state: unknown;
  try {
    state = JSON.parse(body);
  } catch (cause) {
    throw corruption(`${LEGACY_MANIFEST_FILE}: not JSON`, cause);
  }
  if (!isLegacyManifest(state)) throw corruption(`${LEGACY_MANIFEST_FILE}: unexpected layout`);
  return { nextFileNumber: state.nextFileNumber, minLiveWal: state.minLiveWal, sstables: state.sstables };
}

/** The CRC line of a legacy MANIFEST body. */
export function crcHex(text: string): string {
  return crc32c(Buffer.from(text, 'utf8')).toString(16).padStart(8, '0');
}

function isLegacyManifest(value: unknown): value is LegacyManifest & { version: number } {
  if (typeof value !== 'object' || value === null) return false;
  const state = value as Record<string, unknown>;
  return (
    state.version === LEGACY_MANIFEST_VERSION &&
    Number.isSafeInteger(state.nextFileNumber) &&
    Number.isSafeInteger(state.minLiveWal) &&
    Array.isArray(state.sstables) &&
    state.sstables.every((name) => typeof name === 'string' && parseSSTableFileName(name)?.level === 0)
  );
}
