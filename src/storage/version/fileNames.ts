/**
 * Names of the files a store keeps in its folder, and their parsers.
 *
 *   L<level>_NNNNNN.sst   an SSTable; <level> is the level it was WRITTEN to
 *                         (0 from a flush, n from a compaction into Ln). A
 *                         file moved down without being rewritten keeps its
 *                         name: the MANIFEST, not the name, says where it is.
 *   MANIFEST-NNNNNN       a MANIFEST (version edits); CURRENT names the live one
 *   CURRENT               one line: the live MANIFEST's name
 *   MANIFEST              the MANIFEST of stores written before levels (read once, converted)
 *   *.tmp                 a file being written; debris at open
 *
 * SSTable numbers grow across every level and never repeat; MANIFEST numbers
 * count on their own (each new MANIFEST takes the live one's number + 1).
 */

export const CURRENT_FILE = 'CURRENT';
/** The single-file MANIFEST of stores written before levels existed. */
export const LEGACY_MANIFEST_FILE = 'MANIFEST';

const SSTABLE_NAME = /^L([0-6])_(\d{6,})\.sst$/;
const MANIFEST_NAME = /^MANIFEST-(\d{6,})$/;

/** `L0_000001.sst` for file 1 written to L0: numbers only grow, so names sort by age within a level. */
export function sstableFileName(fileNumber: number, level: number): string {
  return `L${level}_${pad(fileNumber)}.sst`;
}

/** The number and written-to level in an SSTable's file name, or undefined for any other name. */
export function parseSSTableFileName(name: string): { number: number; level: number } | undefined {
  const match = SSTABLE_NAME.exec(name);
  return match ? { level: Number(match[1]), number: Number(match[2]) } : undefined;
}

/** `MANIFEST-000003` for 3. */
export function manifestFileName(manifestNumber: number): string {
  return `MANIFEST-${pad(manifestNumber)}`;
}

/** The number in a MANIFEST-NNNNNN name, or undefined for any other name. */
export function parseManifestFileName(name: string): number | undefined {
  const match = MANIFEST_NAME.exec(name);
  return match ? Number(match[1]) : undefined;
}

function pad(n: number): string {
  return String(n).padStart(6, '0');
}
