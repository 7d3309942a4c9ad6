/**
 * Write-ahead log segments: one per MemTable, named `NNNNNN.wal` after the
 * MemTable's id. Every put and delete is appended before its reply leaves;
 * a segment is deleted once its MemTable's SSTable is durable and the
 * MANIFEST says so (docs/WAL.md has the whole story).
 *
 *   segment := record*
 *   record  := header payload          (the frame: encoding/recordFrame.ts)
 *   header  := length:        u32 LE   payload bytes
 *              kind:          u8       PUT = 1, DELETE = 2 (DO NOT CHANGE)
 *              headerCrc:     u32 LE   masked CRC32C of length ++ kind
 *              payloadCrc:    u32 LE   masked CRC32C of payload
 *   payload := (PUT)    keyLength: u32 LE, key: UTF-8, value: UTF-8 JSON text (the rest)
 *              (DELETE) key: UTF-8
 *
 * The header has a checksum of its own so that a length can be trusted on
 * its own: a record with a sound header that runs past the end of the file
 * was cut short by a crash, whatever bytes its payload holds. Records are
 * sealed in place in the append buffer (seal), not through encodeFrame, so
 * an append allocates nothing.
 *
 * Invariants:
 *   (1) Bytes [0, durableLength) of the file are whole records, written and
 *       fdatasync'd (or, with --sync none, written). `buffer` holds every
 *       record appended since, in order: buffer[0, written) is in the file
 *       at durableLength but not yet known durable, buffer[written,
 *       buffered) not written yet. Bytes leave the buffer only once durable.
 *       A failed write leaves `written` where it was and a failed sync sets
 *       it to 0, so the next write puts the same bytes at the same offsets:
 *       a partial write never leaves garbage in the middle of a segment.
 *   (2) At most one sync() is in flight; writes may go on meanwhile (they
 *       land after what it covers). close() during a sync waits for it.
 *   (3) Kind 0 is never written, so a zero-filled tail reads as damage.
 */
import { utf8Write, writeShortUtf8 } from '../encoding/bufferStrings.js';
import { crc32cRange, maskCrc } from '../encoding/crc32c.js';
import { type FrameRead, RECORD_HEADER_SIZE, readFrameAt } from '../encoding/recordFrame.js';
import { corruption } from '../errors.js';
import type { FileSystem } from '../env/fileSystem.js';

/** The frame's header (encoding/recordFrame.ts): length (4) + kind (1) + headerCrc (4) + payloadCrc (4). */
export const WAL_HEADER_SIZE = RECORD_HEADER_SIZE;
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
  private buffer = Buffer.allocUnsafe(64 * 1024);
  private buffered = 0;
  private written = 0;
  private durableLength = 0;
  private syncing = false;
  private closeRequested = false;
  private closed = false;

  private constructor(
    private readonly fs: FileSystem,
    readonly path: string,
    private readonly fd: number,
  ) {}

  /** Creates the segment file; it must not exist. */
  static create(fs: FileSystem, path: string): WalWriter {
    return new WalWriter(fs, path, fs.openNewSync(path));
  }

  /** Bytes of every record appended so far, durable or not. */
  get bytes(): number {
    return this.durableLength + this.buffered;
  }

  /** True iff records were appended that are not known durable yet. */
  get hasUnsynced(): boolean {
    return this.buffered > 0;
  }

  /** Appends a put's record; returns the UTF-8 bytes of key and value, which it had to encode anyway. */
  appendPut(key: string, valueJson: string): number {
    const start = this.makeRoom(4 + maxUtf8Bytes(key) + maxUtf8Bytes(valueJson));
    const buf = this.buffer;
    const payload = start + WAL_HEADER_SIZE;
    const keyBytes = writeShortUtf8(buf, key, payload + 4, buf.length - payload - 4);
    const valueBytes = utf8Write.call(buf, valueJson, payload + 4 + keyBytes, buf.length - payload - 4 - keyBytes);
    writeU32(buf, payload, keyBytes);
    this.seal(start, 4 + keyBytes + valueBytes, WalRecordKind.Put);
    return keyBytes + valueBytes;
  }

  appendDelete(key: string): void {
    const start = this.makeRoom(maxUtf8Bytes(key));
    const buf = this.buffer;
    this.seal(start, writeShortUtf8(buf, key, start + WAL_HEADER_SIZE, buf.length - start - WAL_HEADER_SIZE), WalRecordKind.Delete);
  }

  /** Writes the records not written yet, after those that are. Throws the file system's error; they stay unwritten. */
  write(): void {
    if (this.buffered === this.written) return;
    this.fs.writeAtSync(this.fd, this.buffer.subarray(this.written, this.buffered), this.durableLength + this.written);
    this.written = this.buffered;
  }

  /**
   * For --sync none, which promises no more than the OS holding the bytes:
   * what is written counts as durable at once and leaves the buffer.
   * REQUIRES: no sync() in flight (none runs without sync).
   */
  assumeWrittenDurable(): void {
    if (this.syncing) throw new Error('WalWriter.assumeWrittenDurable: a sync() is in flight');
    this.markDurable(this.written);
  }

  /**
   * REQUIRES: no sync() in flight. Writes what is not written yet (after a
   * failed sync, everything kept), then fdatasyncs in the thread pool;
   * resolves once every record appended before the call is durable. On
   * failure the records are kept and written again by the next write or
   * sync, and it rejects.
   */
  async sync(): Promise<void> {
    if (this.syncing) throw new Error('WalWriter.sync: a sync() is in flight');
    // Closed since a Store.syncWal chose it: its MemTable is in an SSTable now, or the store is closing.
    if (this.closed) return;
    this.write();
    const covered = this.written;
    if (covered === 0) return;
    this.syncing = true;
    try {
      await this.fs.fdatasync(this.fd);
      this.markDurable(covered);
    } catch (error) {
      // What reached the file may not have reached the disk: write it all again.
      this.written = 0;
      throw error;
    } finally {
      this.syncing = false;
      if (this.closeRequested) this.close();
    }
  }

  /** Closes the segment, once the sync in flight (if any) is over. Idempotent. */
  close(): void {
    if (this.syncing) {
      this.closeRequested = true;
      return;
    }
    if (this.closed) return;
    this.closed = true;
    this.fs.closeSync(this.fd);
  }

  /** The first `bytes` of the buffer are durable: they leave it. */
  private markDurable(bytes: number): void {
    this.buffer.copyWithin(0, bytes, this.buffered);
    this.buffered -= bytes;
    this.written -= bytes;
    this.durableLength += bytes;
  }

  /** Makes room for a record of at most `maxPayloadBytes`; returns its offset in `buffer`. seal() appends it. */
  private makeRoom(maxPayloadBytes: number): number {
    const needed = this.buffered + WAL_HEADER_SIZE + maxPayloadBytes;
    if (needed > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
      this.buffer.copy(grown, 0, 0, this.buffered);
      this.buffer = grown;
    }
    return this.buffered;
  }

  /** Completes the record at `start` whose payload is written: its header, then it counts as appended. */
  private seal(start: number, payloadBytes: number, kind: number): void {
    const buf = this.buffer;
    writeU32(buf, start, payloadBytes);
    buf[start + 4] = kind;
    writeU32(buf, start + 5, maskCrc(crc32cRange(buf, start, start + 5)));
    const payload = start + WAL_HEADER_SIZE;
    writeU32(buf, start + 9, maskCrc(crc32cRange(buf, payload, payload + payloadBytes)));
    this.buffered = payload + payloadBytes;
  }
}

/** Strings up to this many units are given room for their worst case; longer ones are measured. */
const MEASURE_ABOVE_UNITS = 4096;

/**
 * Bytes to make room for before UTF-8 encoding `text` (the encoder then says
 * what it took): for a short string its worst case, 3 bytes a UTF-16 unit,
 * which costs nothing to know; for a long one its exact length, so a
 * multi-megabyte value does not grow the buffer threefold.
 */
function maxUtf8Bytes(text: string): number {
  return text.length <= MEASURE_ABOVE_UNITS ? 3 * text.length : Buffer.byteLength(text, 'utf8');
}

/** buf.writeUInt32LE without its argument checks, which cost more than the four stores. */
function writeU32(buf: Buffer, at: number, value: number): void {
  buf[at] = value;
  buf[at + 1] = value >>> 8;
  buf[at + 2] = value >>> 16;
  buf[at + 3] = value >>> 24;
}

export type WalRecord = { kind: 'put'; key: string; valueJson: string } | { kind: 'delete'; key: string };

export interface WalReplay {
  records: number;
  /** Bytes of whole, valid records: where a torn tail was cut off. */
  validBytes: number;
  /** Bytes after validBytes: a torn or damaged tail, 0 when the segment ends cleanly. */
  tornBytes: number;
}

/** What scanWal found: a replay's counts, and where damage mid-segment is when there is some. */
export interface WalScan extends WalReplay {
  /**
   * Set iff the record at validBytes is damaged and a valid record starts
   * after it (at resumesAt): corruption, not a torn tail.
   */
  damagedMidway?: { resumesAt: number };
}

/**
 * Reads a segment's records in order and hands each to `apply`, with the
 * byte offset it starts at, stopping at the first record that does not read
 * back whole:
 *   - a record cut short by the end of the file (a header with fewer than
 *     13 bytes, or a sound header whose length runs past the end), or a bad
 *     record with nothing valid after it, is a torn tail: a crash mid-write.
 *     Reported in tornBytes; everything before it is kept.
 *   - a bad record followed by a valid one is corruption in the middle:
 *     reported in damagedMidway, since the records after it were
 *     acknowledged and must not be silently skipped.
 * Never throws for any bytes; replayWal is the strict form recovery uses.
 */
export function scanWal(bytes: Buffer, apply: (record: WalRecord, offset: number) => void): WalScan {
  let offset = 0;
  let records = 0;
  while (offset < bytes.length) {
    const read = readRecordAt(bytes, offset);
    if (read.kind === 'record') {
      apply(read.record, offset);
      records++;
      offset = read.end;
      continue;
    }
    const scan: WalScan = { records, validBytes: offset, tornBytes: bytes.length - offset };
    if (read.kind === 'cut-short') return scan;
    // A damaged header's length cannot be trusted: look anywhere after it. A damaged payload's can.
    const resumesAt = nextValidRecord(bytes, read.kind === 'bad-payload' ? read.end : offset + 1);
    return resumesAt === undefined ? scan : { ...scan, damagedMidway: { resumesAt } };
  }
  return { records, validBytes: offset, tornBytes: 0 };
}

/**
 * scanWal for recovery: hands each record to `apply` and accepts a torn
 * tail, but throws STORAGE_CORRUPTION for damage in the middle.
 */
export function replayWal(bytes: Buffer, name: string, apply: (record: WalRecord) => void): WalReplay {
  const scan = scanWal(bytes, apply);
  if (scan.damagedMidway !== undefined) {
    throw corruption(`${name}: damaged record at byte ${scan.validBytes} with valid records after it`);
  }
  return scan;
}

type ReadResult = Exclude<FrameRead, { kind: 'record' }> | { kind: 'record'; record: WalRecord; end: number };

const isWalRecordKind = (kind: number): boolean => kind === WalRecordKind.Put || kind === WalRecordKind.Delete;

function readRecordAt(bytes: Buffer, offset: number): ReadResult {
  const frame = readFrameAt(bytes, offset, isWalRecordKind);
  if (frame.kind !== 'record') return frame;
  const { recordKind: kind, payload, end } = frame;
  if (kind === WalRecordKind.Delete) return { kind: 'record', record: { kind: 'delete', key: bytes.toString('utf8', payload, end) }, end };
  const keyEnd = payload + 4 + (end - payload >= 4 ? bytes.readUInt32LE(payload) : Infinity);
  if (keyEnd > end) return { kind: 'bad-payload', end };
  const record: WalRecord = { kind: 'put', key: bytes.toString('utf8', payload + 4, keyEnd), valueJson: bytes.toString('utf8', keyEnd, end) };
  return { kind: 'record', record, end };
}

/** Where the first whole valid record at or after `from` starts, or undefined when there is none. */
function nextValidRecord(bytes: Buffer, from: number): number | undefined {
  for (let offset = from; offset + WAL_HEADER_SIZE <= bytes.length; offset++) {
    if (readRecordAt(bytes, offset).kind === 'record') return offset;
  }
  return undefined;
}
