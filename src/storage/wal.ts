/**
 * Write-ahead log segments: one per MemTable, named `NNNNNN.wal` after the
 * MemTable's id. Every put and delete is appended before its reply leaves;
 * a segment is deleted once its MemTable's SSTable is durable and the
 * MANIFEST says so (docs/WAL.md has the whole story).
 *
 *   segment := record*
 *   record  := header payload
 *   header  := checksum: u32 LE   masked CRC32C of kind ++ payload
 *              length:   u32 LE   payload bytes
 *              kind:     u8       PUT = 1, DELETE = 2 (DO NOT CHANGE)
 *   payload := (PUT)    keyLength: u32 LE, key: UTF-8, value: UTF-8 JSON text (the rest)
 *              (DELETE) key: UTF-8
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

/** checksum (4) + length (4) + kind (1). */
export const WAL_HEADER_SIZE = 4 + 4 + 1;
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
    buf[start + 8] = kind;
    buf.writeUInt32LE(payloadBytes, start + 4);
    const checksum = crc32c(buf.subarray(start + 8, start + WAL_HEADER_SIZE + payloadBytes));
    buf.writeUInt32LE(maskCrc(checksum), start);
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
 * Reads a segment's records in order and hands each to `apply`. A damaged
 * record followed by no valid record is a torn tail (a crash mid-write):
 * reported in tornBytes, what precedes it kept. A damaged record followed by
 * a valid one is corruption in the middle: throws STORAGE_CORRUPTION, since
 * records after it were acknowledged and must not be silently skipped.
 */
export function replayWal(bytes: Buffer, name: string, apply: (record: WalRecord) => void): WalReplay {
  let offset = 0;
  let records = 0;
  while (offset < bytes.length) {
    const record = decodeRecordAt(bytes, offset);
    if (record === undefined) {
      if (validRecordAfter(bytes, offset + 1)) {
        throw corruption(`${name}: damaged record at byte ${offset} with valid records after it`);
      }
      return { records, validBytes: offset, tornBytes: bytes.length - offset };
    }
    apply(record.record);
    records++;
    offset = record.end;
  }
  return { records, validBytes: offset, tornBytes: 0 };
}

function decodeRecordAt(bytes: Buffer, offset: number): { record: WalRecord; end: number } | undefined {
  if (bytes.length - offset < WAL_HEADER_SIZE) return undefined;
  const length = bytes.readUInt32LE(offset + 4);
  const kind = bytes[offset + 8];
  const payload = offset + WAL_HEADER_SIZE;
  const end = payload + length;
  if (end > bytes.length || (kind !== WalRecordKind.Put && kind !== WalRecordKind.Delete)) return undefined;
  if (unmaskCrc(bytes.readUInt32LE(offset)) !== crc32c(bytes.subarray(offset + 8, end))) return undefined;
  if (kind === WalRecordKind.Delete) return { record: { kind: 'delete', key: bytes.toString('utf8', payload, end) }, end };
  if (length < 4) return undefined;
  const keyEnd = payload + 4 + bytes.readUInt32LE(payload);
  if (keyEnd > end) return undefined;
  return {
    record: { kind: 'put', key: bytes.toString('utf8', payload + 4, keyEnd), valueJson: bytes.toString('utf8', keyEnd, end) },
    end,
  };
}

/** True iff a valid record starts anywhere at or after `from`. */
function validRecordAfter(bytes: Buffer, from: number): boolean {
  for (let offset = from; offset + WAL_HEADER_SIZE <= bytes.length; offset++) {
    if (decodeRecordAt(bytes, offset) !== undefined) return true;
  }
  return false;
}
