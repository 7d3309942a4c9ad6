/**
 * SSTable data blocks kept in memory, shared by every reader (and, in the
 * CLI, every store of the process) within one byte budget, least recently
 * used evicted first: LevelDB's block cache. Each reader used to keep 64
 * blocks of its own, so memory grew with the number of SSTables.
 *
 * Invariants:
 *   (1) `charged` is the sum of the charges of the blocks in `blocks`, and
 *       at most `capacityBytes` once an insert returns, except that the block
 *       just inserted is never evicted by its own insert: a block larger than
 *       the whole budget is still used once, then goes at the next insert.
 *   (2) A key names one block for good: a reader takes a fresh `owner`
 *       number from newOwner(), never reused, so a closed reader's blocks are
 *       never read again and simply age out.
 *   (3) Cached blocks are verified and never mutated by anyone.
 *   (4) The recency list (oldest … newest, linked through the slots) holds
 *       exactly the slots in `blocks`, least recently used first.
 */

/** --block-cache-bytes' default (RocksDB's; LevelDB's is 8 MiB). */
export const DEFAULT_BLOCK_CACHE_BYTES = 32 * 1024 * 1024;

/** Slots a reader may number: one a data block (sstable/reader.ts), so 2^24 blocks of 4 KiB, a 64 GiB file, far past any MemTable. */
const BLOCKS_PER_OWNER = 2 ** 24;

/** A cached block, linked into the recency list (least recently used first). */
interface Slot {
  key: number;
  block: unknown;
  charge: number;
  older: Slot | null;
  newer: Slot | null;
}

export class BlockCache {
  /**
   * Blocks by key; recency is kept in the slots' links, not in the Map's
   * insertion order: a hit used to delete and re-insert its key, and the
   * holes that left at the front of the Map made every eviction scan past
   * them (11% of a get's time at 1M keys).
   */
  private readonly blocks = new Map<number, Slot>();
  private oldest: Slot | null = null;
  private newest: Slot | null = null;
  private charged = 0;
  private owners = 0;

  constructor(readonly capacityBytes: number) {
    if (!(Number.isSafeInteger(capacityBytes) && capacityBytes >= 0)) throw new RangeError(`capacityBytes must be a non-negative integer, got ${capacityBytes}`);
  }

  /** Bytes charged for the blocks held now. */
  get chargedBytes(): number {
    return this.charged;
  }

  get size(): number {
    return this.blocks.size;
  }

  /** A number no other reader of this cache has or will have: the first part of its keys. */
  newOwner(): number {
    if (this.owners >= Number.MAX_SAFE_INTEGER / BLOCKS_PER_OWNER - 1) throw new Error('BlockCache: owner numbers exhausted');
    return this.owners++;
  }

  /** The key of slot `slot` (a block number) of `owner`. */
  key(owner: number, slot: number): number {
    if (!(slot >= 0 && slot < BLOCKS_PER_OWNER)) throw new RangeError(`block slot ${slot} out of range`);
    return owner * BLOCKS_PER_OWNER + slot;
  }

  /** The block under `key`, made the most recently used; undefined if absent. */
  get<T>(key: number): T | undefined {
    const slot = this.blocks.get(key);
    if (slot === undefined) return undefined;
    if (slot !== this.newest) {
      this.unlink(slot);
      this.append(slot);
    }
    return slot.block as T;
  }

  /** Holds `block` under `key`, charged `charge` bytes, evicting the least recently used past the budget. */
  set(key: number, block: unknown, charge: number): void {
    const old = this.blocks.get(key);
    if (old !== undefined) {
      this.blocks.delete(key);
      this.unlink(old);
      this.charged -= old.charge;
    }
    const slot: Slot = { key, block, charge, older: null, newer: null };
    this.blocks.set(key, slot);
    this.append(slot);
    this.charged += charge;
    while (this.charged > this.capacityBytes && this.oldest !== slot) {
      const victim = this.oldest!;
      this.blocks.delete(victim.key);
      this.unlink(victim);
      this.charged -= victim.charge;
    }
  }

  private unlink(slot: Slot): void {
    if (slot.older === null) this.oldest = slot.newer;
    else slot.older.newer = slot.newer;
    if (slot.newer === null) this.newest = slot.older;
    else slot.newer.older = slot.older;
    slot.older = slot.newer = null;
  }

  private append(slot: Slot): void {
    slot.older = this.newest;
    if (this.newest === null) this.oldest = slot;
    else this.newest.newer = slot;
    this.newest = slot;
  }
}
