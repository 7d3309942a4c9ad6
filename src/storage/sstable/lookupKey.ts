/**
 * A key as SSTable point lookups take it, prepared once for every file a get
 * probes (after LevelDB's LookupKey): its sort key for the index, its UTF-8
 * bytes for the blocks, and its Bloom filter hash. A Store keeps one and
 * refills it for each get, since gets are synchronous; nothing is allocated
 * per get unless a key outgrows the buffer. An SSTable iterator keeps one
 * for its seeks' targets.
 *
 * Invariant: after set(key, sortKey), bytes[0, length) is the UTF-8 of key,
 * sortKey is toSortKey(key), and hash is bloomHash(bytes, 0, length).
 */
import { writeShortUtf8 } from '../encoding/bufferStrings.js';
import { bloomHash } from './bloomFilter.js';

export class LookupKey {
  sortKey = '';
  /** Holds the key's UTF-8 bytes in [0, length); the rest is garbage. */
  bytes: Buffer = Buffer.allocUnsafeSlow(64);
  length = 0;
  hash = 0;

  /** Refills this with `key` (a real key) and `sortKey`, its toSortKey. */
  set(key: string, sortKey: string): this {
    if (this.bytes.length < 3 * key.length) this.bytes = Buffer.allocUnsafeSlow(3 * key.length);
    const bytes = this.bytes;
    const length = writeShortUtf8(bytes, key, 0, bytes.length);
    this.sortKey = sortKey;
    this.length = length;
    this.hash = bloomHash(bytes, 0, length);
    return this;
  }
}
