/**
 * SSTable data blocks kept in memory, shared by every reader (and, in the
 * CLI, every store of the process) within one byte budget, least recently
 * used evicted first: LevelDB's block cache. Each reader used to keep 64
 * blocks of its own, so memory grew with the number of SSTables.
 *
 * Blocks are Buffers. An evicted block's memory is handed to the next read
 * (takeSlot) unless the block was ever lent to a holder that outlives the
 * call (a scan's cursor): LevelDB pins a cache handle while a cursor holds a
 * block; a JavaScript cursor cannot say when it lets go, so a lent block is
 * never recycled and the garbage collector frees it once nobody holds it.
 * Before recycling, a 4 KiB read cost a fresh ArrayBuffer (above Node's pool
 * size) and as much again in allocation and page faults as the read itself.
 *
 * Invariants:
 *   (1) `charged` is the sum of the charges (buffer capacities) of the
 *       cached blocks, and at most `capacityBytes` once an insert returns,
 *       except that the block just inserted is never evicted by its own
 *       insert: a block larger than the whole budget is still used once,
 *       then goes at the next insert.
 *   (2) A block is named by (owner, index): a reader takes a fresh owner from
 *       newOwner(), never reused, so a closed reader's blocks are never read
 *       again and simply age out.
 *   (3) Cached blocks are verified and never mutated by anyone. A slot in
 *       `spare` is in no owner's part and was never lent: the only code that
 *       read its buffer did so within one synchronous call that has returned
 *       (a point lookup), so writing it over changes nothing anyone can see.
 *   (4) The recency list (oldest … newest, linked through the slots) holds
 *       exactly the cached slots, least recently used first, and
 *       owner.slots[i] is the slot of block i exactly while it is cached.
 */

/** --block-cache-bytes' default (RocksDB's; LevelDB's is 8 MiB). */
export const DEFAULT_BLOCK_CACHE_BYTES = 32 * 1024 * 1024;

/** Buffers are allocated in multiples of this: blocks cut at 4 KiB vary by an entry, so one recycled buffer fits the next. */
const BUFFER_GRANULE = 128;
/** Spare slots kept: a miss evicts about one block and takes one, so a few cover any burst. */
const MAX_SPARE = 16;
/** Larger buffers (blocks of a huge value) are not kept spare: sixteen of them would be memory outside the budget. */
const MAX_SPARE_BYTES = 64 * 1024;

/** One reader's part of the cache: its cached blocks by index. */
export interface CacheOwner {
  readonly slots: Array<BlockSlot | undefined>;
}

/**
 * A block's place in the cache: its buffer (the block, then garbage up to
 * the buffer's end) and its link in the recency list. Slots are recycled
 * whole with their buffers, so a miss that recycles allocates nothing.
 */
export class BlockSlot {
  owner: CacheOwner | null = null;
  index = 0;
  /** Handed to a holder that may outlive the call (invariant 3): never recycled. */
  lent = false;
  older: BlockSlot | null = null;
  newer: BlockSlot | null = null;

  /** Charged its whole length. */
  constructor(readonly buffer: Buffer) {}
}

export class BlockCache {
  private oldest: BlockSlot | null = null;
  private newest: BlockSlot | null = null;
  private charged = 0;
  private count = 0;
  private readonly spare: BlockSlot[] = [];
  private recycledCount = 0;

  constructor(readonly capacityBytes: number) {
    if (!(Number.isSafeInteger(capacityBytes) && capacityBytes >= 0)) throw new RangeError(`capacityBytes must be a non-negative integer, got ${capacityBytes}`);
  }

  /** Bytes charged for the blocks held now. */
  get chargedBytes(): number {
    return this.charged;
  }

  get size(): number {
    return this.count;
  }

  /** How many takeSlot calls were served with an evicted block's slot. */
  get recycled(): number {
    return this.recycledCount;
  }

  /** A part of the cache no other reader has or will have, for blocks 0 .. blocks - 1. */
  newOwner(blocks: number): CacheOwner {
    // Filled, so the array stays packed: slots assigned out of order would otherwise make it a dictionary.
    return { slots: new Array<BlockSlot | undefined>(blocks).fill(undefined) };
  }

  /**
   * Block `index` of `owner`, made the most recently used; undefined if
   * absent. `lend` says the caller may hold it past this call (so it is
   * never recycled); a caller that passes false must drop it before
   * returning to the event loop and before its next takeSlot.
   */
  get(owner: CacheOwner, index: number, lend: boolean): Buffer | undefined {
    if (!(index >= 0 && index < owner.slots.length)) throw new RangeError(`block ${index} out of range`);
    const slot = owner.slots[index];
    if (slot === undefined) return undefined;
    if (lend) slot.lent = true;
    if (slot !== this.newest) {
      this.unlink(slot);
      this.append(slot);
    }
    return slot.buffer;
  }

  /**
   * A slot, in no owner's part, whose buffer has at least `length` bytes to
   * read a block into: an evicted block's when one fits, or a new one. Its
   * buffer's contents are garbage.
   */
  takeSlot(length: number): BlockSlot {
    // Any spare that fits, not just the newest: blocks cut at 4 KiB differ by an entry, so one a shade too
    // small on top would otherwise send every read to a fresh buffer while the spares that fit wait under it.
    // Not one more than twice the size: the slot would be charged for the room it wastes (it stays spare for the next).
    const spares = this.spare;
    for (let i = spares.length - 1; i >= 0; i--) {
      const spare = spares[i];
      if (spare.buffer.length >= length && spare.buffer.length <= 2 * length) {
        spares[i] = spares[spares.length - 1];
        spares.pop();
        this.recycledCount++;
        return spare;
      }
    }
    return new BlockSlot(Buffer.allocUnsafeSlow(Math.ceil(length / BUFFER_GRANULE) * BUFFER_GRANULE));
  }

  /**
   * REQUIRES: `slot` came from takeSlot and was not inserted since.
   * Holds its buffer as block `index` of `owner`, charged buffer.length
   * bytes; evicts the least recently used past the budget. `lend` as for get.
   */
  insert(owner: CacheOwner, index: number, slot: BlockSlot, lend: boolean): void {
    if (!(index >= 0 && index < owner.slots.length)) throw new RangeError(`block ${index} out of range`);
    if (slot.owner !== null) throw new Error('BlockCache.insert: slot is cached already');
    const old = owner.slots[index];
    if (old !== undefined) this.evict(old);
    slot.owner = owner;
    slot.index = index;
    slot.lent = lend;
    owner.slots[index] = slot;
    this.append(slot);
    this.charged += slot.buffer.length;
    this.count++;
    while (this.charged > this.capacityBytes && this.oldest !== slot) this.evict(this.oldest!);
  }

  private evict(slot: BlockSlot): void {
    slot.owner!.slots[slot.index] = undefined;
    slot.owner = null;
    this.unlink(slot);
    this.charged -= slot.buffer.length;
    this.count--;
    if (slot.lent || slot.buffer.length > MAX_SPARE_BYTES) return;
    const spares = this.spare;
    if (spares.length < MAX_SPARE) {
      spares.push(slot);
      return;
    }
    // Full: keep the larger buffer, which fits more of the blocks to come (all of them, once spares are the largest size).
    let smallest = 0;
    for (let i = 1; i < spares.length; i++) if (spares[i].buffer.length < spares[smallest].buffer.length) smallest = i;
    if (spares[smallest].buffer.length < slot.buffer.length) spares[smallest] = slot;
  }

  private unlink(slot: BlockSlot): void {
    if (slot.older === null) this.oldest = slot.newer;
    else slot.older.newer = slot.newer;
    if (slot.newer === null) this.newest = slot.older;
    else slot.newer.older = slot.older;
    slot.older = slot.newer = null;
  }

  private append(slot: BlockSlot): void {
    slot.older = this.newest;
    if (this.newest === null) this.oldest = slot;
    else this.newest.newer = slot;
    this.newest = slot;
  }
}
