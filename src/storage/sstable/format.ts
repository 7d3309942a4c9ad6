/**
 * The SSTable file format, version 1: constants and the encode/decode helpers
 * the writer and reader share. docs/SSTABLE.md explains it for users.
 *
 *   file        := dataBlock* filterBlock propertiesBlock indexBlock footer
 *   block       := payload: byte[size]  kind: u8  crc: u32         (trailer: 5 bytes)
 *                  crc = maskCrc(crc32c(payload ++ kind))
 *   handle      := offset: u64  size: u32                          (12 bytes; size excludes the trailer)
 *
 *   data/index payload
 *               := entry*  restart: u32[numRestarts]  numRestarts: u32
 *   entry       := shared: varint  unshared: varint  valueLength: varint  entryKind: u8
 *                  keySuffix: byte[unshared]  value: byte[valueLength]
 *                  key = previous key[0, shared) ++ keySuffix; shared = 0 at every
 *                  RESTART_INTERVAL-th entry, whose payload offset is in restart[]
 *   data entry  := key: the real key's UTF-8 bytes (byte order = code point order),
 *                  VALUE with the JSON text's UTF-8 bytes | TOMBSTONE with no bytes
 *   index entry := key: the last key of data block i, VALUE with
 *                  value = offset: varint  size: varint   (data block i's handle)
 *   filter payload     := bitArray: byte[]  probes: u8         (see bloomFilter.ts)
 *   properties payload := entries: varint  tombstones: varint  dataBlocks: varint
 *                         [smallestKey: varstring  largestKey: varstring]   (iff entries > 0)
 *   varstring   := length: varint  bytes: byte[length]        (UTF-8)
 *   footer      := filterHandle  propertiesHandle  indexHandle
 *                  formatVersion: u32  footerCrc: u32  magic: byte[8]      (FOOTER_SIZE = 52)
 *                  footerCrc = maskCrc(crc32c(footer[0, 40)))
 *
 * Fixed-width integers are little-endian; varints are LEB128 (7 bits a byte,
 * low group first), at most 8 bytes (values < 2^53). Data blocks are in key
 * order, strictly ascending across the file; the blocks after them and the
 * footer follow with no gaps, so every byte of a file is covered by exactly
 * one CRC.
 */
import { crc32c, maskCrc, unmaskCrc } from '../encoding/crc32c.js';
import { corruption } from '../errors.js';

/** "\x89SST\r\n\x1a\n": high bit, name, and the line-ending bytes that text-mode mangling breaks (as PNG). */
export const MAGIC = Buffer.from([0x89, 0x53, 0x53, 0x54, 0x0d, 0x0a, 0x1a, 0x0a]);
export const FORMAT_VERSION = 1;

/** Block kinds, stored in each block trailer. DO NOT CHANGE: embedded in files on disk. */
export const BlockKind = { Data: 1, Filter: 2, Properties: 3, Index: 4 } as const;
export type BlockKind = (typeof BlockKind)[keyof typeof BlockKind];

/** Entry kinds, stored in each entry. DO NOT CHANGE: embedded in files on disk (LevelDB's kTypeDeletion/kTypeValue). */
export const EntryKind = { Tombstone: 0, Value: 1 } as const;
export type EntryKind = (typeof EntryKind)[keyof typeof EntryKind];

/** kind (1) + masked crc32c (4). */
export const BLOCK_TRAILER_SIZE = 1 + 4;
/** offset u64 (8) + size u32 (4). */
export const BLOCK_HANDLE_SIZE = 8 + 4;
/** Bytes of the footer the footer CRC covers: three handles (36) + formatVersion (4). */
const FOOTER_CHECKED_SIZE = 3 * BLOCK_HANDLE_SIZE + 4;
/** three handles (36) + formatVersion (4) + footerCrc (4) + magic (8). */
export const FOOTER_SIZE = FOOTER_CHECKED_SIZE + 4 + MAGIC.length;
/** Entries between restart points (full keys) in a block. */
export const RESTART_INTERVAL = 16;
export const DEFAULT_BLOCK_BYTES = 4096;
/** The longest varint: 8 bytes hold 56 bits, enough for any safe integer. */
export const MAX_VARINT_BYTES = 8;
/** The largest block payload a handle can name (u32 size). */
export const MAX_BLOCK_SIZE = 0xffff_ffff;

export interface BlockHandle {
  offset: number;
  size: number;
}

/** A read position that decoders advance in place, so decoding allocates nothing. */
export interface Cursor {
  pos: number;
}

/** Writes `value` (a safe non-negative integer) as a varint at buf[pos]; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  while (value >= 0x80) {
    buf[pos++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  buf[pos++] = value;
  return pos;
}

/** Reads a varint at cursor.pos (before `limit`) and advances the cursor. Throws STORAGE_CORRUPTION if malformed. */
export function readVarint(buf: Uint8Array, cursor: Cursor, limit: number): number {
  let pos = cursor.pos;
  let value = 0;
  let scale = 1;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (pos >= limit) throw corruption('truncated varint');
    const byte = buf[pos++];
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      cursor.pos = pos;
      return value;
    }
    scale *= 128;
  }
  throw corruption('varint too long');
}

export function writeU64(buf: Buffer, pos: number, value: number): void {
  buf.writeUInt32LE(value % 0x1_0000_0000, pos);
  buf.writeUInt32LE(Math.floor(value / 0x1_0000_0000), pos + 4);
}

export function readU64(buf: Buffer, pos: number): number {
  const value = buf.readUInt32LE(pos) + buf.readUInt32LE(pos + 4) * 0x1_0000_0000;
  if (!Number.isSafeInteger(value)) throw corruption('offset out of range');
  return value;
}

/**
 * REQUIRES: buf has BLOCK_TRAILER_SIZE bytes after the payload buf[0, size).
 * Writes the trailer (kind, masked CRC of payload and kind) after the payload.
 */
export function sealBlock(buf: Buffer, size: number, kind: BlockKind): void {
  buf[size] = kind;
  buf.writeUInt32LE(maskCrc(crc32c(buf.subarray(0, size + 1))), size + 1);
}

/**
 * How errors name a block: a string, or a file that names its block `index`
 * only when an error needs it, so the hot path that reads a block neither
 * formats nor allocates a name it will only need if the block is damaged.
 */
export type BlockName = string | { blockName(index: number): string };

/** The name `what` gives block `index` (ignored for a string). */
export function nameOfBlock(what: BlockName, index: number): string {
  return typeof what === 'string' ? what : what.blockName(index);
}

/**
 * Checks a block read from disk: buf[0, size) is the payload and the trailer
 * follows. Throws STORAGE_CORRUPTION, naming it nameOfBlock(what, index),
 * unless the kind and CRC match.
 */
export function verifyBlock(buf: Buffer, size: number, kind: BlockKind, what: BlockName, index = 0): void {
  if (buf.length < size + BLOCK_TRAILER_SIZE) throw corruption(`${nameOfBlock(what, index)}: truncated block`);
  const expected = unmaskCrc(buf.readUInt32LE(size + 1));
  const actual = crc32c(buf.subarray(0, size + 1));
  if (actual !== expected) throw corruption(`${nameOfBlock(what, index)}: block checksum mismatch`);
  if (buf[size] !== kind) throw corruption(`${nameOfBlock(what, index)}: block kind ${buf[size]}, expected ${kind}`);
}

export interface Footer {
  filter: BlockHandle;
  properties: BlockHandle;
  index: BlockHandle;
}

function writeHandle(buf: Buffer, pos: number, handle: BlockHandle): void {
  writeU64(buf, pos, handle.offset);
  buf.writeUInt32LE(handle.size, pos + 8);
}

function readHandle(buf: Buffer, pos: number): BlockHandle {
  return { offset: readU64(buf, pos), size: buf.readUInt32LE(pos + 8) };
}

/** Writes the FOOTER_SIZE-byte footer at buf[pos]. */
export function encodeFooter(buf: Buffer, pos: number, footer: Footer): void {
  writeHandle(buf, pos, footer.filter);
  writeHandle(buf, pos + BLOCK_HANDLE_SIZE, footer.properties);
  writeHandle(buf, pos + 2 * BLOCK_HANDLE_SIZE, footer.index);
  buf.writeUInt32LE(FORMAT_VERSION, pos + 3 * BLOCK_HANDLE_SIZE);
  const crc = crc32c(buf.subarray(pos, pos + FOOTER_CHECKED_SIZE));
  buf.writeUInt32LE(maskCrc(crc), pos + FOOTER_CHECKED_SIZE);
  MAGIC.copy(buf, pos + FOOTER_CHECKED_SIZE + 4);
}

/** Decodes a FOOTER_SIZE-byte footer. Throws STORAGE_CORRUPTION for a foreign or damaged one. */
export function decodeFooter(buf: Buffer): Footer {
  if (buf.length !== FOOTER_SIZE) throw corruption('truncated footer');
  if (!buf.subarray(FOOTER_SIZE - MAGIC.length).equals(MAGIC)) throw corruption('bad magic: not an SSTable');
  const expected = unmaskCrc(buf.readUInt32LE(FOOTER_CHECKED_SIZE));
  if (crc32c(buf.subarray(0, FOOTER_CHECKED_SIZE)) !== expected) throw corruption('footer checksum mismatch');
  const version = buf.readUInt32LE(3 * BLOCK_HANDLE_SIZE);
  if (version !== FORMAT_VERSION) throw corruption(`unsupported SSTable format version ${version}`);
  return {
    filter: readHandle(buf, 0),
    properties: readHandle(buf, BLOCK_HANDLE_SIZE),
    index: readHandle(buf, 2 * BLOCK_HANDLE_SIZE),
  };
}
