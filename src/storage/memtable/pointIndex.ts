/**
 * A point index beside the MemTable's skip list: key -> node id by hashing,
 * so a get or an overwrite costs a hash and a probe or two instead of a
 * descent through the list (a few cache misses a level). The list keeps the
 * order; this keeps nothing but ids.
 *
 * Layout: open addressing with linear probing over one Int32Array of slot
 * pairs [id, hash]; id 0 marks an empty slot (node ids start at 1, the
 * skip list's head being 0). The hash beside the id lets a probe skip most
 * slots without reading their key, and lets the table grow without reading
 * any key at all.
 *
 * Invariants:
 *   (1) Every key inserted is found by find() at its id; nothing is ever
 *       removed (a MemTable only grows, deletes are tombstone values).
 *   (2) At most half the slots are used, so every probe sequence reaches an
 *       empty slot, and a miss (most gets, in a MemTable) ends after about
 *       2.5 slots (8.5 at 3/4).
 * A JavaScript Map did the same job, but its inserts cost twice a list
 * insert (docs/BENCHMARKS.md, "What we tried").
 */

const INITIAL_SLOTS = 1024;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a over the key's UTF-16 code units, 32 bits. */
export function pointHash(key: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), FNV_PRIME);
  // The low bits pick the slot: fold the high ones in, as FNV's low bits mix least.
  return (h ^ (h >>> 15)) | 0;
}

export class PointIndex {
  private table = new Int32Array(2 * INITIAL_SLOTS);
  private mask = INITIAL_SLOTS - 1;
  private used = 0;

  /** `nodes.keyAt(id)` is the key of node `id`: the index compares keys only through it. */
  constructor(private readonly nodes: { keyAt(id: number): string }) {}

  /** The id of `key` (whose pointHash is `hash`), or 0 if it was never inserted. */
  find(key: string, hash: number): number {
    const table = this.table;
    const mask = this.mask;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const id = table[2 * slot];
      if (id === 0) return 0;
      if (table[2 * slot + 1] === hash && this.nodes.keyAt(id) === key) return id;
    }
  }

  /** REQUIRES: find(key, hash) === 0 and id >= 1. Records that node `id` holds the key whose hash is `hash`. */
  insert(hash: number, id: number): void {
    if (2 * (this.used + 1) > this.mask + 1) this.grow();
    place(this.table, this.mask, hash, id);
    this.used++;
  }

  private grow(): void {
    const old = this.table;
    const slots = 2 * (this.mask + 1);
    this.table = new Int32Array(2 * slots);
    this.mask = slots - 1;
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0) place(this.table, this.mask, old[i + 1], old[i]);
  }
}

/** Puts [id, hash] in the first empty slot of hash's probe sequence. */
function place(table: Int32Array, mask: number, hash: number, id: number): void {
  let slot = hash & mask;
  while (table[2 * slot] !== 0) slot = (slot + 1) & mask;
  table[2 * slot] = id;
  table[2 * slot + 1] = hash;
}
