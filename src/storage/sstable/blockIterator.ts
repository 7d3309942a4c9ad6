/**
 * A cursor over one verified block payload (grammar in sstable/format.ts),
 * after LevelDB's table/block.cc Block::Iter: seekGE binary searches the
 * restart points, whose keys are stored whole, then walks at most one
 * restart interval. Each key is rebuilt from its shared prefix in the
 * cursor's own buffer and compared as bytes, so a seek decodes no string and
 * a walk decodes only the entries the caller asks for.
 *
 * Invariants:
 *   (1) valid() iff the cursor is at an entry: its key is keyBytes[0,
 *       keyLength), its value buf[valueStart, valueEnd) (valueStart -1 for a
 *       tombstone), and the next entry starts at valueEnd.
 *   (2) Every entry it reaches lies inside the payload and has a known kind,
 *       and walking (next) only reaches keys that ascend bytewise from the
 *       one before; otherwise it throws STORAGE_CORRUPTION, so a malformed
 *       block never yields an entry out of order.
 *   (3) reset() rebinds it to another block: one cursor (and its key buffer)
 *       serves every block a reader or iterator visits.
 */
import { utf8Slice } from '../encoding/bufferStrings.js';
import { corruption } from '../errors.js';
import { toSortKey } from '../keyOrder.js';
import { type BlockName, type Cursor, EntryKind, nameOfBlock, readVarint } from './format.js';

const NO_BLOCK = Buffer.alloc(0);
const INITIAL_KEY_BYTES = 64;

export class BlockIterator {
  private buf: Buffer = NO_BLOCK;
  private what: BlockName = '';
  private whatIndex = 0;
  private restartsAt = 0;
  private numRestarts = 0;
  /** A plain Uint8Array: cheaper to create than a Buffer, and an iterator is made per file a scan visits. */
  private keyBytes = new Uint8Array(INITIAL_KEY_BYTES);
  private keyLength = 0;
  /** Where the key's first byte >= 0x80 is, or keyLength if it is all ASCII: kept across entries for the shared prefix. */
  private firstNonAscii = 0;
  private valueStart = -1;
  private valueEnd = 0;
  private atEntry = false;
  private readonly cursor: Cursor = { pos: 0 };

  /** Binds the cursor to the verified payload buf[0, size); unpositioned. nameOfBlock(what, index) names the block in errors. */
  reset(buf: Buffer, size: number, what: BlockName, index = 0): this {
    if (size < 4 || size > buf.length) throw corruption(`${nameOfBlock(what, index)}: too short`);
    const numRestarts = u32At(buf, size - 4);
    const restartsAt = size - 4 - 4 * numRestarts;
    if (restartsAt < 0 || (numRestarts === 0) !== (restartsAt === 0)) throw corruption(`${nameOfBlock(what, index)}: bad restart array`);
    this.buf = buf;
    this.what = what;
    this.whatIndex = index;
    this.restartsAt = restartsAt;
    this.numRestarts = numRestarts;
    this.atEntry = false;
    return this;
  }

  valid(): boolean {
    return this.atEntry;
  }

  seekToFirst(): void {
    this.keyLength = 0;
    this.readEntryAt(0, false);
  }

  /** Positions at the first entry whose key is >= target[0, targetLength) (UTF-8 bytes); invalid if none. */
  seekGE(target: Uint8Array, targetLength = target.length): void {
    // The last restart point whose key is <= target (or the first), then a walk to the first key >= target.
    let lo = 0;
    let hi = this.numRestarts - 1;
    let atLo = false; // whether the cursor is decoded at restart lo already
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      this.keyLength = 0;
      this.readEntryAt(this.restart(mid), false);
      atLo = this.compareKey(target, targetLength) <= 0;
      if (atLo) lo = mid;
      else hi = mid - 1;
    }
    if (!atLo) {
      this.keyLength = 0;
      this.readEntryAt(this.numRestarts === 0 ? 0 : this.restart(lo), false);
    }
    while (this.atEntry && this.compareKey(target, targetLength) < 0) this.next();
  }

  /** REQUIRES: valid(). */
  next(): void {
    this.readEntryAt(this.valueEnd, true);
  }

  /** Sign of (current key - target[0, targetLength)), bytewise. REQUIRES: valid(). */
  compareKey(target: Uint8Array, targetLength = target.length): number {
    // A loop, not Buffer.compare: keys are short, and a native call costs more than the bytes.
    const key = this.keyBytes;
    const keyLength = this.keyLength;
    const limit = keyLength < targetLength ? keyLength : targetLength;
    for (let i = 0; i < limit; i++) {
      const difference = key[i] - target[i];
      if (difference !== 0) return difference;
    }
    return keyLength - targetLength;
  }

  /** The current key, decoded from UTF-8. REQUIRES: valid(). */
  key(): string {
    return utf8Slice.call(this.keyBytes, 0, this.keyLength);
  }

  /** The current key's UTF-8 bytes are keyBuffer[0, keyByteLength): the cursor's own buffer, overwritten as it moves. REQUIRES: valid(). */
  get keyBuffer(): Uint8Array {
    return this.keyBytes;
  }

  get keyByteLength(): number {
    return this.keyLength;
  }

  /** The current key as a sort key (keyOrder.ts): decoded, and permuted only when it is not all ASCII. REQUIRES: valid(). */
  sortKey(): string {
    return this.keyIsAscii() ? this.key() : toSortKey(this.key());
  }

  /** Whether every byte of the current key is ASCII, so the key is its own sort key (keyOrder.ts). REQUIRES: valid(). */
  keyIsAscii(): boolean {
    return this.firstNonAscii === this.keyLength;
  }

  /** REQUIRES: valid(). */
  isTombstone(): boolean {
    return this.valueStart < 0;
  }

  /** The current value's JSON text. REQUIRES: valid() and not a tombstone. */
  value(): string {
    return this.buf.toString('utf8', this.valueStart, this.valueEnd);
  }

  /** Where the current value's bytes are in `block` (from valueOffset to valueLimit), for a caller that reads them as bytes. REQUIRES: valid() and not a tombstone. */
  get valueOffset(): number {
    return this.valueStart;
  }

  get valueLimit(): number {
    return this.valueEnd;
  }

  get block(): Buffer {
    return this.buf;
  }

  /** Whether the current entry is the block's last. REQUIRES: valid(). */
  atLast(): boolean {
    return this.valueEnd === this.restartsAt;
  }

  private name(): string {
    return nameOfBlock(this.what, this.whatIndex);
  }

  private restart(r: number): number {
    const at = u32At(this.buf, this.restartsAt + 4 * r);
    if (at >= this.restartsAt) throw corruption(`${this.name()}: restart point out of bounds`);
    return at;
  }

  /** Decodes the entry at `at` over the current key (its shared prefix); past the last entry, becomes invalid. */
  private readEntryAt(at: number, mustAscend: boolean): void {
    const buf = this.buf;
    const limit = this.restartsAt;
    if (at >= limit) {
      this.atEntry = false;
      return;
    }
    // The header's three varints are almost always one byte each: read those inline.
    let pos = at;
    let shared = buf[pos];
    let unshared = buf[pos + 1];
    let valueLength = buf[pos + 2];
    if ((shared | unshared | valueLength) < 0x80 && pos + 3 < limit) {
      pos += 3;
    } else {
      const cursor = this.cursor;
      cursor.pos = at;
      shared = readVarint(buf, cursor, limit);
      unshared = readVarint(buf, cursor, limit);
      valueLength = readVarint(buf, cursor, limit);
      pos = cursor.pos;
      if (pos >= limit) throw corruption(`${this.name()}: truncated entry`);
    }
    const kind = buf[pos++];
    const suffixStart = pos;
    const valueStart = suffixStart + unshared;
    if (shared > this.keyLength || valueStart + valueLength > limit) throw corruption(`${this.name()}: entry out of bounds`);
    if (kind !== EntryKind.Value && !(kind === EntryKind.Tombstone && valueLength === 0)) {
      throw corruption(`${this.name()}: bad entry kind ${kind}`);
    }
    if (mustAscend && !suffixAscends(buf, suffixStart, valueStart, this.keyBytes, shared, this.keyLength)) {
      throw corruption(`${this.name()}: keys out of order`);
    }
    const keyLength = shared + unshared;
    if (this.keyBytes.length < keyLength) {
      const grown = new Uint8Array(Math.max(keyLength, 2 * this.keyBytes.length));
      grown.set(this.keyBytes.subarray(0, shared));
      this.keyBytes = grown;
    }
    const key = this.keyBytes;
    let firstNonAscii = this.firstNonAscii < shared ? this.firstNonAscii : keyLength;
    if (unshared <= SHORT_COPY) {
      for (let i = 0; i < unshared; i++) {
        const byte = buf[suffixStart + i];
        key[shared + i] = byte;
        if (byte >= 0x80 && firstNonAscii === keyLength) firstNonAscii = shared + i;
      }
    } else {
      buf.copy(key, shared, suffixStart, valueStart);
      for (let i = shared; i < keyLength && firstNonAscii === keyLength; i++) if (key[i] >= 0x80) firstNonAscii = i;
    }
    this.firstNonAscii = firstNonAscii;
    this.keyLength = keyLength;
    this.valueStart = kind === EntryKind.Tombstone ? -1 : valueStart;
    this.valueEnd = valueStart + valueLength;
    this.atEntry = true;
  }
}

/** The little-endian u32 at buf[pos, pos + 4), inside buf: inline, where readUInt32LE's checks and call cost a get a few percent. */
function u32At(buf: Uint8Array, pos: number): number {
  return (buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16) | (buf[pos + 3] << 24)) >>> 0;
}

/** Key suffixes up to this many bytes are copied by a loop: cheaper than a native call for the few bytes most have. */
const SHORT_COPY = 32;

/**
 * Whether a key made of the previous key's first `shared` bytes and then
 * suffix[from, to) is above the previous key prev[0, prevLength): they agree
 * up to `shared`, so it is the suffix against prev[shared, prevLength).
 */
function suffixAscends(suffix: Uint8Array, from: number, to: number, prev: Uint8Array, shared: number, prevLength: number): boolean {
  for (let i = 0; ; i++) {
    if (shared + i === prevLength) return from + i < to; // prev ends: above iff the new key goes on
    if (from + i === to) return false; // the new key ends first: a prefix of prev, so below it
    const difference = suffix[from + i] - prev[shared + i];
    if (difference !== 0) return difference > 0;
  }
}
