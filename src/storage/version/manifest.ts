/**
 * MANIFEST: which SSTables are live. A file is live iff the MANIFEST names it;
 * anything else in the folder with an SSTable's name is debris of a crash and
 * is removed at open.
 *
 * Layout (text, two lines):
 *   line 1: {"version":1,"nextFileNumber":N,"minLiveWal":W,"sstables":["L0_000007.sst", ...]}
 *           sstables newest first; N is greater than every number ever used;
 *           WAL segments numbered below W are already in SSTables (obsolete)
 *   line 2: CRC32C of line 1's UTF-8 bytes, 8 lowercase hex digits
 *
 * Replaced atomically: written to MANIFEST.tmp, fdatasync'd, renamed over
 * MANIFEST, and the folder fsync'd, so a crash leaves the old or the new
 * MANIFEST, never a mix.
 */
import { join } from 'node:path';
import { crc32c } from '../encoding/crc32c.js';
import { corruption } from '../errors.js';
import { type FileSystem } from '../env/fileSystem.js';

export const MANIFEST_FILE = 'MANIFEST';
const MANIFEST_VERSION = 1;

export interface ManifestState {
  nextFileNumber: number;
  /** WAL segments below this number hold nothing that is not in an SSTable. */
  minLiveWal: number;
  /** Live SSTable file names, newest first. */
  sstables: string[];
}

/** Returns the MANIFEST's state, or null when the folder has none (a new store). */
export async function readManifest(fs: FileSystem, dir: string): Promise<ManifestState | null> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(join(dir, MANIFEST_FILE));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const text = bytes.toString('utf8');
  const [body, checksum] = text.split('\n');
  if (checksum === undefined || checksum !== crcHex(body)) {
    throw corruption(`${MANIFEST_FILE}: checksum mismatch`);
  }
  let state: unknown;
  try {
    state = JSON.parse(body);
  } catch (cause) {
    throw corruption(`${MANIFEST_FILE}: not JSON`, cause);
  }
  if (!isManifest(state)) throw corruption(`${MANIFEST_FILE}: unexpected layout`);
  return { nextFileNumber: state.nextFileNumber, minLiveWal: state.minLiveWal, sstables: state.sstables };
}

/** Atomically replaces the MANIFEST with `state`. */
export async function writeManifest(fs: FileSystem, dir: string, state: ManifestState): Promise<void> {
  const body = JSON.stringify({ version: MANIFEST_VERSION, ...state });
  const tmp = join(dir, `${MANIFEST_FILE}.tmp`);
  const file = await fs.createWritable(tmp);
  try {
    await file.write(Buffer.from(`${body}\n${crcHex(body)}\n`, 'utf8'));
    await file.sync();
  } finally {
    await file.close();
  }
  await fs.rename(tmp, join(dir, MANIFEST_FILE));
  await fs.syncDir(dir);
}

function crcHex(text: string): string {
  return crc32c(Buffer.from(text, 'utf8')).toString(16).padStart(8, '0');
}

function isManifest(value: unknown): value is ManifestState & { version: number } {
  if (typeof value !== 'object' || value === null) return false;
  const state = value as Record<string, unknown>;
  return (
    state.version === MANIFEST_VERSION &&
    Number.isSafeInteger(state.nextFileNumber) &&
    Number.isSafeInteger(state.minLiveWal) &&
    Array.isArray(state.sstables) &&
    state.sstables.every((name) => typeof name === 'string' && isSSTableFileName(name))
  );
}

const SSTABLE_NAME = /^L0_(\d{6,})\.sst$/;

/** `L0_000001.sst` for 1: numbers only grow, so names sort by age. */
export function sstableFileName(fileNumber: number): string {
  return `L0_${String(fileNumber).padStart(6, '0')}.sst`;
}

export function isSSTableFileName(name: string): boolean {
  return SSTABLE_NAME.test(name);
}

/** The number in an SSTable's file name, or undefined for any other name. */
export function sstableFileNumber(name: string): number | undefined {
  const match = SSTABLE_NAME.exec(name);
  return match ? Number(match[1]) : undefined;
}
