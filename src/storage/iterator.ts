/**
 * The one iterator shape every layer (skip list, MemTable, SSTable, merge)
 * speaks, after LevelDB's Iterator and Pebble's internalIterator.
 *
 * Keys are sort keys (see keyOrder.ts): native `<` on them is code point
 * order. A value is the entry's JSON text, or TOMBSTONE for a deletion.
 *
 * Contract: a new iterator is not valid until positioned by seekGE or
 * seekToFirst. key(), value() and next() require valid(), and every
 * implementation throws "<name>: not valid" when called without it (LevelDB
 * asserts Valid() in each accessor): an unpositioned or finished iterator
 * never answers with a stale or made-up entry. Iteration is in strictly
 * ascending key order, one entry per key.
 */

/** A deletion marker. DO NOT CHANGE: persisted layouts test for it. */
export const TOMBSTONE = null;
export type Tombstone = typeof TOMBSTONE;

/** A stored value: JSON text exactly as the client wrote it, or a tombstone. */
export type EntryValue = string | Tombstone;

export interface InternalIterator {
  /** Positions at the first entry whose key is >= target (a sort key). */
  seekGE(target: string): void;
  /** Positions at the first entry. */
  seekToFirst(): void;
  valid(): boolean;
  /** REQUIRES: valid(). */
  key(): string;
  /** REQUIRES: valid(). */
  value(): EntryValue;
  /** REQUIRES: valid(). */
  next(): void;
}

/**
 * The bytes form of an iterator, for walks that move entries without reading
 * them (compaction): a key is its UTF-8 bytes, keyBytes()[0, keyLength()),
 * and bytewise order is sort-key order (keyOrder.ts); a value is the bytes
 * valueBytes()[valueStart(), valueEnd()) of its JSON text, or a tombstone.
 * What the accessors return is only good until the iterator moves.
 *
 * Contract: as InternalIterator's, with seekToFirst the only seek (a
 * compaction walks its inputs front to back).
 */
export interface ByteIterator {
  seekToFirst(): void;
  valid(): boolean;
  /** REQUIRES: valid(). */
  next(): void;
  /** REQUIRES (for these five): valid(). */
  keyBytes(): Uint8Array;
  keyLength(): number;
  isTombstone(): boolean;
  /** REQUIRES (for these three): not a tombstone. */
  valueBytes(): Uint8Array;
  valueStart(): number;
  valueEnd(): number;
}
