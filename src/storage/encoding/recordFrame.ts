/**
 * The record frame the WAL and the MANIFEST share (docs/WAL.md):
 *
 *   record  := header payload
 *   header  := length:     u32 LE   payload bytes
 *              kind:       u8       the log's own record kinds (0 is never one)
 *              headerCrc:  u32 LE   masked CRC32C of length ++ kind
 *              payloadCrc: u32 LE   masked CRC32C of payload
 *
 * The header has a checksum of its own so that a length can be trusted on
 * its own: a record with a sound header that runs past the end of the file
 * was cut short by a crash, whatever bytes its payload holds.
 */
import { crc32cRange, maskCrc, unmaskCrc } from './crc32c.js';

/** length (4) + kind (1) + headerCrc (4) + payloadCrc (4). */
export const RECORD_HEADER_SIZE = 4 + 1 + 4 + 4;

/** What is at an offset of a log: a whole sound record, a record a crash cut short, or damage. */
export type FrameRead =
  | { kind: 'record'; recordKind: number; payload: number; end: number }
  | { kind: 'cut-short' }
  | { kind: 'bad-header' }
  | { kind: 'bad-payload'; end: number };

/** One framed record of `kind` holding `payload`. */
export function encodeFrame(kind: number, payload: Buffer): Buffer {
  const record = Buffer.allocUnsafe(RECORD_HEADER_SIZE + payload.length);
  record.writeUInt32LE(payload.length, 0);
  record[4] = kind;
  record.writeUInt32LE(maskCrc(crc32cRange(record, 0, 5)), 5);
  record.writeUInt32LE(maskCrc(crc32cRange(payload, 0, payload.length)), 9);
  payload.copy(record, RECORD_HEADER_SIZE);
  return record;
}

/** Reads the frame at `offset`; a header whose kind `isKnownKind` refuses counts as damaged. */
export function readFrameAt(bytes: Buffer, offset: number, isKnownKind: (kind: number) => boolean): FrameRead {
  if (bytes.length - offset < RECORD_HEADER_SIZE) return { kind: 'cut-short' };
  const recordKind = bytes[offset + 4];
  const headerSound = unmaskCrc(bytes.readUInt32LE(offset + 5)) === crc32cRange(bytes, offset, offset + 5) && isKnownKind(recordKind);
  if (!headerSound) return { kind: 'bad-header' };
  const payload = offset + RECORD_HEADER_SIZE;
  const end = payload + bytes.readUInt32LE(offset);
  if (end > bytes.length) return { kind: 'cut-short' };
  if (unmaskCrc(bytes.readUInt32LE(offset + 9)) !== crc32cRange(bytes, payload, end)) return { kind: 'bad-payload', end };
  return { kind: 'record', recordKind, payload, end };
}
