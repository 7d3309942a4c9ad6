/**
 * CRC32C (Castagnoli), the checksum of every persisted byte: SSTable blocks
 * and footers, WAL records, the MANIFEST. A thin wrapper over the native
 * @node-rs/crc32, except for ranges under 256 bytes (WAL headers and most
 * records), where crc32cRange's table lookups beat the cost of the call.
 *
 * Invariants:
 *   (1) crc32c(bytes) is the standard CRC-32C: crc32c("123456789") === 0xe3069283.
 *   (2) crc32c(b, crc32c(a)) === crc32c(a ++ b), so a checksum can be extended
 *       without concatenating buffers.
 *   (3) unmaskCrc(maskCrc(c)) === c for every uint32 c.
 *   (4) crc32cRange(b, start, end) === crc32c(b.subarray(start, end)).
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

/**
 * Below this many bytes crc32cRange runs table lookups in JavaScript: a
 * call into the native library costs ~150-500 ns whatever the length (the
 * subarray it needs included), and a WAL record (header, then a key and a
 * value of a few dozen to a few hundred bytes) is mostly under it. Measured
 * on this machine (noisy): 120 bytes ~290-710 ns native against ~110-250 ns
 * by eight tables; at 300 bytes and more the native call wins.
 */
const SHORT_RANGE_BYTES = 256;

/**
 * CRC32C tables for "slicing by 8" (Intel's method, as in crc32c's
 * portable fallbacks): TABLES[0] is the byte table (reflected polynomial
 * 0x82f63b78); TABLES[k][n] is the CRC of byte n followed by k zero bytes,
 * so eight bytes are folded in with eight lookups and no loop-carried
 * dependency between them.
 */
const TABLES = Array.from({ length: 8 }, () => new Int32Array(256));
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  TABLES[0][n] = c;
}
for (let n = 0; n < 256; n++) {
  for (let k = 1; k < 8; k++) TABLES[k][n] = (TABLES[k - 1][n] >>> 8) ^ TABLES[0][TABLES[k - 1][n] & 0xff];
}
const [T0, T1, T2, T3, T4, T5, T6, T7] = TABLES;

/** CRC32C of bytes[start, end), without a subarray; an unsigned 32-bit number. */
export function crc32cRange(bytes: Uint8Array, start: number, end: number): number {
  if (end - start >= SHORT_RANGE_BYTES) return crc32c(bytes.subarray(start, end));
  let c = ~0;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const low = c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    c = T7[low & 0xff] ^ T6[(low >>> 8) & 0xff] ^ T5[(low >>> 16) & 0xff] ^ T4[low >>> 24] ^ T3[bytes[i + 4]] ^ T2[bytes[i + 5]] ^ T1[bytes[i + 6]] ^ T0[bytes[i + 7]];
  }
  for (; i < end; i++) c = T0[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
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
