/**
 * A MemTable: the skip list that takes writes, a point index beside it, and
 * its size accounting.
 *
 * Invariants:
 *   (1) sizeBytes === sum over entries of
 *         utf8(key) + utf8(value JSON text) + ENTRY_OVERHEAD_BYTES
 *       where a tombstone's value counts 0 bytes. An overwrite replaces the
 *       old value's bytes; the key and overhead are counted once.
 *   (2) Once frozen (by the Store), a MemTable is never written again, so a
 *       flush may iterate it while a new active MemTable takes writes.
 *   (3) `index` maps every key in the list to its node id, and nothing else:
 *       a get (most of which miss, in a MemTable that holds a few thousandths
 *       of the keys) and an overwrite cost one hash lookup, not a descent
 *       through the list; only a new key descends. The list keeps the order
 *       for scans and flushes.
 * Keys are sort keys (keyOrder.ts); values are JSON text or TOMBSTONE.
 */
import { PointIndex, pointHash } from './pointIndex.js';
import { SkipList } from './skipList.js';
import { type EntryValue, type InternalIterator } from '../iterator.js';
import { utf8LengthOfSortKey } from '../keyOrder.js';

/**
 * Bytes charged per entry beyond its key and value: the node's share of the
 * skip list (id, links, key and value slots), rounded up. Stated here and in
 * docs/PROTOCOL.md; changing it changes every size_bytes a client sees.
 */
export const ENTRY_OVERHEAD_BYTES = 32;

function valueBytes(value: EntryValue): number {
  return value === null ? 0 : Buffer.byteLength(value, 'utf8');
}

export class MemTable {
  private readonly list = new SkipList<EntryValue>();
  /** Sort key -> node id in `list` (invariant 3). */
  private readonly index = new PointIndex(this.list);
  private accountedBytes = 0;

  /** Identifies the MemTable (and, with a data dir, its WAL segment); grows per Store. */
  constructor(readonly id: number) {}

  /** The accounted size of invariant (1). */
  get sizeBytes(): number {
    return this.accountedBytes;
  }

  /** Distinct keys, tombstones included. */
  get entries(): number {
    return this.list.size;
  }

  /** Writes a value or a tombstone at `sortKey`; returns the new sizeBytes. */
  put(sortKey: string, value: EntryValue): number {
    const hash = pointHash(sortKey);
    const node = this.index.find(sortKey, hash);
    if (node === 0) {
      this.list.set(sortKey, value);
      this.index.insert(hash, this.list.size); // ids are dense: the newest node is the last
      this.accountedBytes += utf8LengthOfSortKey(sortKey) + valueBytes(value) + ENTRY_OVERHEAD_BYTES;
    } else {
      const previous = this.list.replaceValueAt(node, value);
      this.accountedBytes += valueBytes(value) - valueBytes(previous);
    }
    return this.accountedBytes;
  }

  /** The value or tombstone at `sortKey`, or undefined when this MemTable has no entry. */
  get(sortKey: string): EntryValue | undefined {
    const node = this.index.find(sortKey, pointHash(sortKey));
    return node === 0 ? undefined : this.list.valueAt(node);
  }

  iterator(): InternalIterator {
    return this.list.iterator();
  }
}
