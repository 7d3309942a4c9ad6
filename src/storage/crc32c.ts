/**
 * CRC32C (Castagnoli), the checksum of every persisted byte: SSTable blocks
 * and footers, the MANIFEST. A thin wrapper over the native @node-rs/crc32.
 *
 * Invariants:
 *   (1) crc32c(bytes) is the standard CRC-32C: crc32c("123456789") === 0xe3069283.
 *   (2) crc32c(b, crc32c(a)) === crc32c(a ++ b), so a checksum can be extended
 *       without concatenating buffers.
 *   (3) unmaskCrc(maskCrc(c)) === c for every uint32 c.
 *
 * Masking (from LevelDB's util/crc32c.h): "it is problematic to compute the
 * CRC of a string that contains embedded CRCs", so checksums stored inside
 * data that is itself checksummed are stored masked. SSTables store masked
 * CRCs; the MANIFEST stores a plain one as hex text.
 */
import { crc32c as nativeCrc32c } from '@node-rs/crc32';

/** CRC32C of `bytes`, continuing from `initial` (the CRC of the bytes before); an unsigned 32-bit number. */
export function crc32c(bytes: Uint8Array, initial = 0): number {
  return nativeCrc32c(bytes, initial) >>> 0;
}

const MASK_DELTA = 0xa282ead8;

/** The masked form of a CRC for storing: rotate right 15 bits, add a constant. */
export function maskCrc(crc: number): number {
  return (((crc >>> 15) | (crc << 17)) + MASK_DELTA) >>> 0;
}

/** Inverse of maskCrc. */
export function unmaskCrc(masked: number): number {
  const rotated = (masked - MASK_DELTA) >>> 0;
  return ((rotated >>> 17) | (rotated << 15)) >>> 0;
}
