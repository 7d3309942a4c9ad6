/**
 * Write-ahead log segments: one per MemTable, named `NNNNNN.wal` after the
 * MemTable's id. Every put and delete is appended before its reply leaves;
 * a segment is deleted once its MemTable's SSTable is durable and the
 * MANIFEST says so (docs/WAL.md has the whole story).
 *
 *   segment := record*
 *   record  := header payload
 *   header  := length:        u32 LE   payload bytes
 *              kind:          u8       PUT = 1, DELETE = 2 (DO NOT CHANGE)
 *              headerCrc:     u32 LE   masked CRC32C of length ++ kind
 *              payloadCrc:    u32 LE   masked CRC32C of payload
 *   payload := (PUT)    keyLength: u32 LE, key: UTF-8, value: UTF-8 JSON text (the rest)
 *              (DELETE) key: UTF-8
 *
 * The header has a checksum of its own so that a length can be trusted on
 * its own: a record with a sound header that runs past the end of the file
 * was cut short by a crash, whatever bytes its payload holds.
 *
 * Invariants:
 *   (1) Bytes [0, durableLength) of the file are whole records, written and
 *       (with sync) fdatasync'd. Records appended since sit in `pending` and
 *       are written at durableLength by the next commit; a failed commit
 *       keeps them and the next one rewrites them at the same offset, so a
 *       partial write never leaves garbage in the middle of a segment.
 *   (2) Kind 0 is never written, so a zero-filled tail reads as damage.
 */
import { crc32c, maskCrc, unmaskCrc } from './crc32c.js';
import { corruption } from './errors.js';
import type { FileSystem } from './fileSystem.js';

/** length (4) + kind (1) + headerCrc (4) + payloadCrc (4). */
export const WAL_HEADER_SIZE = 4 + 1 + 4 + 4;
export const WalRecordKind = { Put: 1, Delete: 2 } as const;

const WAL_NAME = /^(\d{6,})\.wal$/;

export function walFileName(segment: number): string {
  return `${String(segment).padStart(6, '0')}.wal`;
}

/** The segment number in a WAL file name, or undefined for any other name. */
export function walSegmentNumber(name: string): number | undefined {
  const match = WAL_NAME.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** Appends records to one segment; see invariant (1). */
export class WalWriter {
  private pending = Buffer.allocUnsafe(64 * 1024);
  private pendingBytes = 0;
  private durableLength = 0;

  private constructor(
    private readonly fs: FileSystem,
    readonly path: string,
    private readonly fd: number,
  ) {}

  /** Creates the segment file; it must not exist. */
  static create(fs: FileSystem, path: string): WalWriter {
    return new WalWriter(fs, path, fs.openNewSync(path));
  }

  /** Bytes of every record appended so far, committed or not. */
  get bytes(): number {
    return this.durableLength + this.pendingBytes;
  }

  /** True iff records were appended that no commit has written yet. */
  get hasPending(): boolean {
    return this.pendingBytes > 0;
  }

  appendPut(key: string, valueJson: string): void {
    const keyBytes = Buffer.byteLength(key, 'utf8');
    const payloadBytes = 4 + keyBytes + Buffer.byteLength(valueJson, 'utf8');
    const start = this.reserve(payloadBytes);
    const payload = start + WAL_HEADER_SIZE;
    this.pending.writeUInt32LE(keyBytes, payload);
    this.pending.write(key, payload + 4, 'utf8');
    this.pending.write(valueJson, payload + 4 + keyBytes, 'utf8');
    this.seal(start, payloadBytes, WalRecordKind.Put);
  }

  appendDelete(key: string): void {
    const payloadBytes = Buffer.byteLength(key, 'utf8');
    const start = this.reserve(payloadBytes);
    this.pending.write(key, start + WAL_HEADER_SIZE, 'utf8');
    this.seal(start, payloadBytes, WalRecordKind.Delete);
  }

  /**
   * Writes pending records at durableLength and, when `sync`, fdatasyncs.
   * Throws the file system's error and keeps the records pending if it fails.
   */
  commit(sync: boolean): void {
    if (this.pendingBytes === 0) return;
    const data = this.pending.subarray(0, this.pendingBytes);
    this.fs.writeAtSync(this.fd, data, this.durableLength);
    if (sync) this.fs.fdatasyncSync(this.fd);
    this.durableLength += this.pendingBytes;
    this.pendingBytes = 0;
  }

  close(): void {
    this.fs.closeSync(this.fd);
  }

  /** Makes room for one record; returns its offset in `pending`. */
  private reserve(payloadBytes: number): number {
    const needed = this.pendingBytes + WAL_HEADER_SIZE + payloadBytes;
    if (needed > this.pending.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.pending.length * 2));
      this.pending.copy(grown, 0, 0, this.pendingBytes);
      this.pending = grown;
    }
    const start = this.pendingBytes;
    this.pendingBytes = needed;
    return start;
  }

  private seal(start: number, payloadBytes: number, kind: number): void {
    const buf = this.pending;
    buf.writeUInt32LE(payloadBytes, start);
    buf[start + 4] = kind;
    buf.writeUInt32LE(maskCrc(crc32c(buf.subarray(start, start + 5))), start + 5);
    buf.writeUInt32LE(maskCrc(crc32c(buf.subarray(start + WAL_HEADER_SIZE, start + WAL_HEADER_SIZE + payloadBytes))), start + 9);
  }
}

export type WalRecord = { kind: 'put'; key: string; valueJson: string } | { kind: 'delete'; key: string };

export interface WalReplay {
  records: number;
  /** Bytes of whole, valid records: where a torn tail was cut off. */
  validBytes: number;
  /** Bytes after validBytes: a torn or damaged tail, 0 when the segment ends cleanly. */
  tornBytes: number;
}

/**
 * Reads a segment's records in order and hands each to `apply`, stopping at
 * the first record that does not read back whole:
 *   - a record cut short by the end of the file (a header with fewer than
 *     13 bytes, or a sound header whose length runs past the end), or a bad
 *     record with nothing valid after it, is a torn tail: a crash mid-write.
 *     Reported in tornBytes; everything before it is kept.
 *   - a bad record followed by a valid one is corruption in the middle:
 *     throws STORAGE_CORRUPTION, since the records after it were
 *     acknowledged and must not be silently skipped.
 */
export function replayWal(bytes: Buffer, name: string, apply: (record: WalRecord) => void): WalReplay {
  let offset = 0;
  let records = 0;
  while (offset < bytes.length) {
    const read = readRecordAt(bytes, offset);
    if (read.kind === 'record') {
      apply(read.record);
      records++;
      offset = read.end;
      continue;
    }
    // A damaged header's length cannot be trusted: look anywhere after it. A damaged payload's can.
    const resumeAt = read.kind === 'bad-payload' ? read.end : offset + 1;
    if (read.kind !== 'cut-short' && validRecordFrom(bytes, resumeAt)) {
      throw corruption(`${name}: damaged record at byte ${offset} with valid records after it`);
    }
    return { records, validBytes: offset, tornBytes: bytes.length - offset };
  }
  return { records, validBytes: offset, tornBytes: 0 };
}

type ReadResult =
  | { kind: 'record'; record: WalRecord; end: number }
  | { kind: 'cut-short' }
  | { kind: 'bad-header' }
  | { kind: 'bad-payload'; end: number };

function readRecordAt(bytes: Buffer, offset: number): ReadResult {
  if (bytes.length - offset < WAL_HEADER_SIZE) return { kind: 'cut-short' };
  const length = bytes.readUInt32LE(offset);
  const kind = bytes[offset + 4];
  const headerSound =
    unmaskCrc(bytes.readUInt32LE(offset + 5)) === crc32c(bytes.subarray(offset, offset + 5)) &&
    (kind === WalRecordKind.Put || kind === WalRecordKind.Delete);
  if (!headerSound) return { kind: 'bad-header' };
  const payload = offset + WAL_HEADER_SIZE;
  const end = payload + length;
  if (end > bytes.length) return { kind: 'cut-short' };
  if (unmaskCrc(bytes.readUInt32LE(offset + 9)) !== crc32c(bytes.subarray(payload, end))) return { kind: 'bad-payload', end };
  if (kind === WalRecordKind.Delete) return { kind: 'record', record: { kind: 'delete', key: bytes.toString('utf8', payload, end) }, end };
  const keyEnd = payload + 4 + (length >= 4 ? bytes.readUInt32LE(payload) : Infinity);
  if (keyEnd > end) return { kind: 'bad-payload', end };
  const record: WalRecord = { kind: 'put', key: bytes.toString('utf8', payload + 4, keyEnd), valueJson: bytes.toString('utf8', keyEnd, end) };
  return { kind: 'record', record, end };
}

/** True iff a whole valid record starts anywhere at or after `from`. */
function validRecordFrom(bytes: Buffer, from: number): boolean {
  for (let offset = from; offset + WAL_HEADER_SIZE <= bytes.length; offset++) {
    if (readRecordAt(bytes, offset).kind === 'record') return true;
  }
  return false;
}
