/**
 * One SSTable data or index block being built (grammar in sstable/format.ts),
 * and the byte helpers the writer shares with it: UTF-8 and ASCII fast
 * paths that encode without allocating, after LevelDB's table/block_builder.cc.
 *
 * Invariant: the block buffer holds the entries added since reset(), keys
 * prefix-compressed against the previous key, a full key every
 * restartInterval entries; finish() appends the restart array.
 */
import { latin1Write, utf8Write } from '../encoding/bufferStrings.js';
import { BLOCK_TRAILER_SIZE, EntryKind, MAX_BLOCK_SIZE, MAX_VARINT_BYTES, writeVarint } from './format.js';

/** parts[0, m) joined; `parts` keeps its length unless that differs from m. */
export function join(parts: string[], m: number): string {
  if (parts.length !== m) parts.length = m;
  return parts.join('');
}

/** Grows `buf` to hold at least `needed` bytes, keeping buf[0, keep). */
export function grow(buf: Buffer, needed: number, keep: number): Buffer {
  if (buf.length >= needed) return buf;
  const grown = Buffer.allocUnsafe(Math.max(needed, buf.length * 2));
  buf.copy(grown, 0, 0, keep);
  return grown;
}

/** Copies src[from, to) to dst[at]: a loop for the few bytes a key suffix usually has, Buffer.copy beyond. */
function copyBytes(src: Buffer, from: number, to: number, dst: Buffer, at: number): number {
  if (to - from > 32) return src.copy(dst, at, from, to);
  for (let i = from; i < to; i++) dst[at++] = src[i];
  return to - from;
}

/**
 * Encodes the key behind `sortKey` (see keyOrder.ts) as UTF-8 at buf[0],
 * straight from the sort key. Returns the byte length, or -1 if the key
 * holds a lone surrogate, which UTF-8 cannot carry.
 * REQUIRES: buf.length >= 3 * sortKey.length.
 */
export function encodeSortKey(sortKey: string, buf: Buffer): number {
  let pos = 0;
  const n = sortKey.length;
  for (let i = 0; i < n; i++) {
    let unit = sortKey.charCodeAt(i);
    if (unit < 0x80) {
      buf[pos++] = unit;
    } else if (unit < 0x800) {
      buf[pos++] = 0xc0 | (unit >> 6);
      buf[pos++] = 0x80 | (unit & 0x3f);
    } else if (unit < 0xf800) {
      if (unit >= 0xd800) unit += 0x800; // sort-key space [D800, F7FF] holds U+E000..U+FFFF
      buf[pos++] = 0xe0 | (unit >> 12);
      buf[pos++] = 0x80 | ((unit >> 6) & 0x3f);
      buf[pos++] = 0x80 | (unit & 0x3f);
    } else {
      // Sort-key space [F800, FFFF] holds surrogates: a high one must be followed by a low one.
      const high = unit - 0x2000;
      const low = i + 1 < n ? sortKey.charCodeAt(i + 1) - 0x2000 : 0;
      if (high >= 0xdc00 || low < 0xdc00 || low > 0xdfff) return -1;
      i++;
      const codePoint = 0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00);
      buf[pos++] = 0xf0 | (codePoint >> 18);
      buf[pos++] = 0x80 | ((codePoint >> 12) & 0x3f);
      buf[pos++] = 0x80 | ((codePoint >> 6) & 0x3f);
      buf[pos++] = 0x80 | (codePoint & 0x3f);
    }
  }
  return pos;
}

/** A Uint8Array (not a Buffer) over buf's bytes. */
function asBytes(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

/** Copies up to this many bytes in a JavaScript loop rather than with copyWithin. */
const SHORT_COPY = 16;

/** Strings up to this long are measured and copied in JavaScript, which beats a native call for them. */
const SHORT_STRING = 32;
/** Longer strings are measured before they are written, so room for 3 bytes a unit is never reserved for them. */
const LONG_STRING = 64 * 1024;

/** Bytes writeVarint takes for `value` (a block offset or length, below 2^32). */
function varintSize(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x20_0000 ? 3 : value < 0x1000_0000 ? 4 : 5;
}

/** UTF-8 byte length of `value`. */
function utf8Length(value: string): number {
  if (value.length <= SHORT_STRING) {
    let i = 0;
    while (i < value.length && value.charCodeAt(i) < 0x80) i++;
    if (i === value.length) return i;
  }
  return Buffer.byteLength(value, 'utf8');
}

/** Writes `value`, whose UTF-8 length is `length`, at buf[at]. */
function writeUtf8(buf: Buffer, value: string, at: number, length: number): void {
  if (length !== value.length) {
    utf8Write.call(buf, value, at, length);
  } else if (length <= SHORT_STRING) {
    for (let i = 0; i < length; i++) buf[at + i] = value.charCodeAt(i); // ASCII: UTF-8 length = UTF-16 length
  } else {
    latin1Write.call(buf, value, at, length);
  }
}

/** Writes an entry's shared, unshared and valueLength varints and its kind at bytes[pos]; returns the position after them. */
function writeEntryFields(bytes: Uint8Array, pos: number, shared: number, unshared: number, valueLength: number, kind: EntryKind): number {
  // Varints below 128, the common case, are one byte.
  if (shared < 0x80) bytes[pos++] = shared;
  else pos = writeVarint(bytes, pos, shared);
  if (unshared < 0x80) bytes[pos++] = unshared;
  else pos = writeVarint(bytes, pos, unshared);
  if (valueLength < 0x80) bytes[pos++] = valueLength;
  else pos = writeVarint(bytes, pos, valueLength);
  bytes[pos++] = kind;
  return pos;
}

/** Builds one data or index block payload with prefix-compressed keys and restart points. */
export class BlockBuilder {
  /** The payload so far is buf[0, size); room is kept for restarts and the trailer. */
  buf: Buffer = Buffer.allocUnsafe(16 * 1024);
  /** A plain Uint8Array over buf's bytes: V8 indexes it faster than a Buffer. */
  bytes: Uint8Array = asBytes(this.buf);
  size = 0;
  entries = 0;
  private restarts: number[] = [];
  private sinceRestart = 0;

  constructor(private readonly restartInterval: number) {}

  reset(): void {
    this.size = 0;
    this.entries = 0;
    this.restarts.length = 0;
    this.sinceRestart = 0;
  }

  /** The payload size if the block were finished now. */
  estimatedSize(): number {
    return this.size + 4 * this.restarts.length + 4;
  }

  /**
   * REQUIRES: key[0, keyLen) is greater than every key added since reset(),
   * and shares its first `common` bytes with the key added just before.
   * Writes an entry's header and key; returns the offset where its
   * `valueLength` value bytes go (room for them is reserved).
   */
  begin(key: Buffer, keyLen: number, common: number, kind: EntryKind, valueLength: number): number {
    const shared = this.nextShared(common);
    this.reserve(keyLen - shared + valueLength);
    const at = this.writeHeader(key, keyLen, shared, kind, valueLength, this.size);
    this.size = at + valueLength;
    return at;
  }

  /** As begin(), for a value: writes the entry whole, its value as UTF-8. */
  addValue(key: Buffer, keyLen: number, common: number, value: string): void {
    if (value.length <= SHORT_STRING || value.length > LONG_STRING) {
      const valueLength = utf8Length(value);
      const at = this.begin(key, keyLen, common, EntryKind.Value, valueLength); // may grow this.buf: read it after
      writeUtf8(this.buf, value, at, valueLength);
      return;
    }
    // Saves measuring the value first: guess that its length's varint is as
    // long as that of its UTF-16 length (right for ASCII), encode it where
    // that puts it, then write the header in front, moving the value in the
    // rare case the guess was wrong.
    const shared = this.nextShared(common);
    const unshared = keyLen - shared;
    this.reserve(unshared + 3 * value.length);
    const guess = varintSize(value.length);
    let valueAt = this.size + varintSize(shared) + varintSize(unshared) + guess + 1 + unshared;
    const valueLength = utf8Write.call(this.buf, value, valueAt, 3 * value.length);
    const actual = varintSize(valueLength);
    if (actual !== guess) {
      this.buf.copyWithin(valueAt + actual - guess, valueAt, valueAt + valueLength);
      valueAt += actual - guess;
    }
    const at = this.writeHeader(key, keyLen, shared, EntryKind.Value, valueLength, this.size);
    if (at !== valueAt) throw new Error('BlockBuilder: value misplaced'); // cannot happen: the varint sizes agree
    this.size = valueAt + valueLength;
  }

  /**
   * As begin(), for an entry whose key and value bytes are already in this
   * block's buffer, past the payload and anything finish() may add to it:
   * the key is bytes[at, at + keyLen), the value the `valueLength` bytes
   * after it. REQUIRES: the buffer has room for the entry (see
   * TableBuilder.addBatch), which this does not check.
   */
  addStaged(at: number, keyLen: number, common: number, kind: EntryKind, valueLength: number): void {
    const shared = this.nextShared(common);
    const unshared = keyLen - shared;
    const bytes = this.bytes;
    const pos = writeEntryFields(bytes, this.size, shared, unshared, valueLength, kind);
    const from = at + shared;
    const length = unshared + valueLength;
    if (length > SHORT_COPY) bytes.copyWithin(pos, from, from + length);
    else for (let i = 0; i < length; i++) bytes[pos + i] = bytes[from + i];
    this.size = pos + length;
  }

  /** Counts the entry about to be added; returns how many key bytes it shares with the previous one (0 at a restart). */
  private nextShared(common: number): number {
    this.entries++;
    if (this.sinceRestart === this.restartInterval || this.entries === 1) {
      this.restarts.push(this.size);
      this.sinceRestart = 1;
      return 0;
    }
    this.sinceRestart++;
    return common;
  }

  /** Grows the buffer (keeping buf[0, size)) so that it has at least `bytes` bytes. */
  ensureCapacity(bytes: number): void {
    if (this.buf.length < bytes) this.setBuf(grow(this.buf, bytes, this.size));
  }

  private setBuf(buf: Buffer): void {
    this.buf = buf;
    this.bytes = asBytes(buf);
  }

  /** Ensures room for an entry with `bytes` bytes of key suffix and value, plus the restart array and trailer. */
  private reserve(bytes: number): void {
    const room = this.size + 3 * MAX_VARINT_BYTES + 1 + bytes + 4 * (this.restarts.length + 1) + BLOCK_TRAILER_SIZE;
    if (this.buf.length < room) this.setBuf(grow(this.buf, room, this.size));
  }

  /** Writes shared, unshared, valueLength, kind and the key suffix at buf[pos]; returns the position after them. */
  private writeHeader(key: Buffer, keyLen: number, shared: number, kind: EntryKind, valueLength: number, pos: number): number {
    const buf = this.buf;
    pos = writeEntryFields(buf, pos, shared, keyLen - shared, valueLength, kind);
    return pos + copyBytes(key, shared, keyLen, buf, pos);
  }

  /** Appends the restart array; the payload is buf[0, returned size) with room for the trailer after it. */
  finish(): number {
    this.setBuf(grow(this.buf, this.estimatedSize() + BLOCK_TRAILER_SIZE, this.size));
    let pos = this.size;
    for (const restart of this.restarts) pos = this.buf.writeUInt32LE(restart, pos);
    pos = this.buf.writeUInt32LE(this.restarts.length, pos);
    if (pos > MAX_BLOCK_SIZE) throw new RangeError(`SSTable block of ${pos} bytes exceeds the format's limit`);
    return pos;
  }
}
