/**
 * Buffer's unchecked string coders, shared by the SSTable writer, the block
 * cursor and the WAL. Buffer.prototype.write and toString add argument
 * checks that cost more than the copy for the short keys and values these
 * move; the internal methods behind them do not. Each falls back to the
 * public API if a Node.js version lacks it.
 *
 * Invariant: each returns exactly what its public counterpart would for the
 * same arguments (bytes written, or the decoded string).
 */

type RawWrite = (this: Buffer, value: string, offset: number, length: number) => number;
type RawSlice = (this: Uint8Array, start: number, end: number) => string;

const raw = Buffer.prototype as unknown as { latin1Write?: RawWrite; utf8Write?: RawWrite; utf8Slice?: RawSlice };

/** Writes `value` as Latin-1 at buf[offset], at most `length` bytes; returns the bytes written. Call as latin1Write.call(buf, ...). */
export const latin1Write: RawWrite =
  raw.latin1Write ??
  function (this: Buffer, value, offset, length) {
    return this.write(value, offset, length, 'latin1');
  };

/** Writes `value` as UTF-8 at buf[offset], at most `length` bytes (whole characters only); returns the bytes written. */
export const utf8Write: RawWrite =
  raw.utf8Write ??
  function (this: Buffer, value, offset, length) {
    return this.write(value, offset, length, 'utf8');
  };

/** Strings up to this many units are tried as ASCII in JavaScript by writeShortUtf8. */
const SHORT_STRING = 32;

/**
 * As utf8Write (bytes written, the same bytes), but a short all-ASCII
 * string, a typical key, is copied in JavaScript: cheaper than the native
 * call for it (13 units: ~35 vs ~80 ns, measured). Call as a function.
 */
export function writeShortUtf8(buf: Buffer, value: string, offset: number, length: number): number {
  const n = value.length;
  if (n <= SHORT_STRING && n <= length) {
    let i = 0;
    for (; i < n; i++) {
      const unit = value.charCodeAt(i);
      if (unit >= 0x80) break;
      buf[offset + i] = unit;
    }
    if (i === n) return n;
  }
  return utf8Write.call(buf, value, offset, length); // overwrites whatever the loop wrote
}

/** Decodes bytes[start, end) of any Uint8Array as UTF-8. Call as utf8Slice.call(bytes, start, end). */
export const utf8Slice: RawSlice =
  raw.utf8Slice ??
  function (this: Uint8Array, start, end) {
    return Buffer.from(this.buffer, this.byteOffset, this.byteLength).toString('utf8', start, end);
  };
