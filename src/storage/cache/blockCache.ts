/**
 * SSTable data blocks kept in memory, shared by every reader (and, in the
 * CLI, every store of the process) within one byte budget, least recently
 * used evicted first: LevelDB's block cache. Each reader used to keep 64
 * blocks of its own, so memory grew with the number of SSTables.
 *
 * Where blocks live. The cache reserves its budget as an arena (up to 64
 * MiB when it is made, the rest as it fills) cut into slots of `slotBytes`
 * (a data block as the writer cuts it, with room for its last entry, and
 * its trailer); a block read goes into a free slot, and an evicted block's
 * slot is free again at once. A block too large for a slot (one of a large
 * value) gets a buffer of its own, which is handed to a later large read
 * when evicted (a few are kept spare) or left to the garbage collector.
 * Why: in Node a buffer per block is an ArrayBuffer, allocated a miss, and
 * V8 counts its bytes as external memory; filling 32 MiB that way made
 * 8,000 of them and, mid-read, a mark-compact of the whole heap (70-100 ms
 * over the engine bench's 200 MB heap, measured). An arena's pages become
 * resident only as reads write them.
 *
 * Nothing outside the cache keeps a cached block's bytes: a point lookup
 * reads them within the synchronous call that got them, and a scan's cursor
 * copies its block (SSTableReader.copyBlock), so a slot can be written over
 * as soon as its block is evicted. (LevelDB pins a cache handle while a
 * cursor holds a block; a JavaScript cursor cannot say when it lets go.)
 *
 * Invariants:
 *   (1) `charged` is the sum of the charges of the cached blocks (slotBytes
 *       for a block in a slot, the buffer's length for one with its own),
 *       and at most `capacityBytes` once an insert returns, except that the
 *       block just inserted is never evicted by its own insert: a block
 *       larger than the whole budget is still used once, then goes at the
 *       next insert.
 *   (2) A block is named by (owner, index): a reader takes a fresh owner from
 *       newOwner(), never reused, so a closed reader's blocks are never read
 *       again and simply age out.
 *   (3) Cached blocks are verified and never mutated while cached. A buffer
 *       from get() or takeSlot() is valid until the next takeSlot, which may
 *       write over an evicted block's slot.
 *   (4) The recency list (oldest … newest, linked through the slots) holds
 *       exactly the cached slots, least recently used first, and
 *       owner.slots[i] is the slot of block i exactly while it is cached.
 *   (5) Each of the first `carved` arena slots is cached, on the free list,
 *       or taken (between takeSlot and insert or giveBack), exactly one of
 *       these; `carved` <= slotCount, and slotCount * slotBytes <=
 *       capacityBytes, so the arena never holds more than the budget.
 */

/** --block-cache-bytes' default (RocksDB's; LevelDB's is 8 MiB). */
export const DEFAULT_BLOCK_CACHE_BYTES = 32 * 1024 * 1024;

/** Buffers of their own are allocated in multiples of this: blocks vary by an entry, so one recycled buffer fits the next. */
const BUFFER_GRANULE = 128;
/** Spare buffers of their own kept: a miss evicts about one block and takes one, so a few cover any burst. */
const MAX_SPARE = 16;
/** Larger buffers (blocks of a huge value) are not kept spare: sixteen of them would be memory outside the budget. */
const MAX_SPARE_BYTES = 64 * 1024;
/**
 * The arena comes in chunks of at most this many bytes: the first when the cache is made (all of the
 * default budget), each next one when the slots before it are used up, so a budget set far above what a
 * process ever reads reserves no more than that.
 */
const ARENA_CHUNK_BYTES = 64 * 1024 * 1024;

/** One reader's part of the cache: its cached blocks by index. */
export interface CacheOwner {
  readonly slots: Array<BlockSlot | undefined>;
}

/**
 * A block's place in the cache: its buffer (the block, then garbage up to
 * the buffer's end) and its link in the recency list. Slots are reused whole
 * with their buffers, so a miss into a free slot allocates nothing.
 */
export class BlockSlot {
  owner: CacheOwner | null = null;
  index = 0;
  older: BlockSlot | null = null;
  newer: BlockSlot | null = null;

  /** `inArena`: the buffer is an arena slot (charged slotBytes), else the block's own (charged its length). */
  constructor(
    readonly buffer: Buffer,
    readonly inArena: boolean,
  ) {}
}

export class BlockCache {
  /** Bytes of an arena slot; blocks up to this size (payload and trailer) are read into one. */
  readonly slotBytes: number;
  /** Slots the arena may have: the budget's, fewer if the memory for a chunk could not be had. */
  private slotCount: number;
  private readonly arena: Buffer[] = [];
  private readonly slotsPerChunk: number;
  private readonly allocateChunk: (bytes: number) => Buffer;
  private carved = 0;
  /** How many cached blocks are in arena slots. */
  private cachedInArena = 0;
  private readonly free: BlockSlot[] = [];
  private readonly spare: BlockSlot[] = [];
  private oldest: BlockSlot | null = null;
  private newest: BlockSlot | null = null;
  private charged = 0;
  private count = 0;
  private recycledCount = 0;

  /**
   * `slotBytes`: the arena's slot size, which the readers choose (BLOCK_SLOT_BYTES in sstable/reader.ts).
   * `arena`: for tests, the chunk size and the function that allocates a chunk.
   */
  constructor(
    readonly capacityBytes: number,
    slotBytes: number,
    arena: { chunkBytes?: number; allocate?: (bytes: number) => Buffer } = {},
  ) {
    if (!(Number.isSafeInteger(capacityBytes) && capacityBytes >= 0)) throw new RangeError(`capacityBytes must be a non-negative integer, got ${capacityBytes}`);
    if (!(Number.isSafeInteger(slotBytes) && slotBytes > 0)) throw new RangeError(`slotBytes must be a positive integer, got ${slotBytes}`);
    this.slotBytes = slotBytes;
    this.slotCount = Math.floor(capacityBytes / slotBytes);
    this.slotsPerChunk = Math.max(1, Math.floor((arena.chunkBytes ?? ARENA_CHUNK_BYTES) / slotBytes));
    this.allocateChunk = arena.allocate ?? Buffer.allocUnsafeSlow;
    // Reserved now, while the heap is small: allocated later, the bytes would count towards a mark-compact of whatever heap the node has by then.
    this.addChunk();
  }

  /** Bytes charged for the blocks held now. */
  get chargedBytes(): number {
    return this.charged;
  }

  get size(): number {
    return this.count;
  }

  /** How many takeSlot calls were served with an evicted block's slot or buffer. */
  get recycled(): number {
    return this.recycledCount;
  }

  /** A part of the cache no other reader has or will have, for blocks 0 .. blocks - 1. */
  newOwner(blocks: number): CacheOwner {
    // Filled, so the array stays packed: slots assigned out of order would otherwise make it a dictionary.
    return { slots: new Array<BlockSlot | undefined>(blocks).fill(undefined) };
  }

  /** Block `index` of `owner`, made the most recently used; undefined if absent. The buffer is valid until the next takeSlot (invariant 3). */
  get(owner: CacheOwner, index: number): Buffer | undefined {
    if (!(index >= 0 && index < owner.slots.length)) throw new RangeError(`block ${index} out of range`);
    const slot = owner.slots[index];
    if (slot === undefined) return undefined;
    if (slot !== this.newest) {
      this.unlink(slot);
      this.append(slot);
    }
    return slot.buffer;
  }

  /**
   * A slot, in no owner's part, whose buffer has at least `length` bytes to
   * read a block into: a free arena slot (evicting the least recently used
   * block in one when none is free), or for a block too large for a slot a
   * spare buffer that fits or a new one. Its buffer's contents are garbage.
   * The caller inserts it or gives it back.
   */
  takeSlot(length: number): BlockSlot {
    if (length <= this.slotBytes) {
      const slot = this.takeArenaSlot();
      if (slot !== undefined) return slot;
    }
    // Any spare that fits, not just the newest: blocks differ by an entry, so one a shade too small on top would
    // otherwise send every read to a fresh buffer while the spares that fit wait under it. Not one more than twice
    // the size: the slot would be charged for the room it wastes (it stays spare for the next).
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
    return new BlockSlot(Buffer.allocUnsafeSlow(Math.ceil(length / BUFFER_GRANULE) * BUFFER_GRANULE), false);
  }

  /** REQUIRES: `slot` came from takeSlot and was not inserted: a read into it failed. Frees it. */
  giveBack(slot: BlockSlot): void {
    if (slot.owner !== null) throw new Error('BlockCache.giveBack: slot is cached');
    this.release(slot);
  }

  /**
   * REQUIRES: `slot` came from takeSlot and was not inserted since.
   * Holds its buffer as block `index` of `owner`; evicts the least recently
   * used past the budget.
   */
  insert(owner: CacheOwner, index: number, slot: BlockSlot): void {
    if (!(index >= 0 && index < owner.slots.length)) throw new RangeError(`block ${index} out of range`);
    if (slot.owner !== null) throw new Error('BlockCache.insert: slot is cached already');
    const old = owner.slots[index];
    if (old !== undefined) this.evict(old);
    slot.owner = owner;
    slot.index = index;
    owner.slots[index] = slot;
    this.append(slot);
    this.charged += this.chargeOf(slot);
    this.count++;
    if (slot.inArena) this.cachedInArena++;
    while (this.charged > this.capacityBytes && this.oldest !== slot) this.evict(this.oldest!);
  }

  /** A free arena slot, or a new one, or the slot of the least recently used block in one; undefined when the arena has none to give. */
  private takeArenaSlot(): BlockSlot | undefined {
    if (this.free.length > 0) {
      this.recycledCount++;
      return this.free.pop();
    }
    if (this.carved < this.slotCount && (this.carved < this.arena.length * this.slotsPerChunk || this.addChunk())) {
      const chunk = this.arena[Math.floor(this.carved / this.slotsPerChunk)];
      const at = (this.carved % this.slotsPerChunk) * this.slotBytes;
      this.carved++;
      return new BlockSlot(chunk.subarray(at, at + this.slotBytes), true);
    }
    // Every slot is carved and none is free, so each is cached or taken (invariant 5): the oldest cached
    // goes now instead of at the insert, which would evict about as much to make room.
    if (this.cachedInArena === 0) return undefined;
    let victim = this.oldest!;
    while (!victim.inArena) victim = victim.newer!;
    this.evict(victim);
    this.recycledCount++;
    return this.free.pop();
  }

  /** Allocates the arena's next chunk; false when it has all its slots, or when the memory could not be had (it then stops growing, and reads reuse the slots it has). */
  private addChunk(): boolean {
    const slots = Math.min(this.slotsPerChunk, this.slotCount - this.arena.length * this.slotsPerChunk);
    if (slots <= 0) return false;
    try {
      this.arena.push(this.allocateChunk(slots * this.slotBytes));
      return true;
    } catch {
      this.slotCount = this.arena.length * this.slotsPerChunk;
      return false;
    }
  }

  private chargeOf(slot: BlockSlot): number {
    return slot.inArena ? this.slotBytes : slot.buffer.length;
  }

  private evict(slot: BlockSlot): void {
    slot.owner!.slots[slot.index] = undefined;
    slot.owner = null;
    this.unlink(slot);
    this.charged -= this.chargeOf(slot);
    this.count--;
    if (slot.inArena) this.cachedInArena--;
    this.release(slot);
  }

  /** A slot in no owner's part goes back to the free list, or spare, or to the garbage collector. */
  private release(slot: BlockSlot): void {
    if (slot.inArena) {
      this.free.push(slot);
      return;
    }
    if (slot.buffer.length > MAX_SPARE_BYTES) return;
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
