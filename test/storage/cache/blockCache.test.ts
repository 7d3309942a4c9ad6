/** The shared block cache against a model: an array in recency order, trimmed oldest first to the byte budget. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BlockCache } from '../../../src/storage/cache/blockCache.js';

/** A small slot, so the random sizes land on both sides of it. */
const SLOT = 200;

describe('BlockCache', () => {
  it('keeps the most recently used blocks within its budget (property)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), owner: fc.integer({ min: 0, max: 2 }), index: fc.integer({ min: 0, max: 5 }), bytes: fc.integer({ min: 1, max: 300 }) }),
      fc.record({ kind: fc.constant('get' as const), owner: fc.integer({ min: 0, max: 2 }), index: fc.integer({ min: 0, max: 5 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.array(op, { maxLength: 60 }), (capacity, ops) => {
        const cache = new BlockCache(capacity, SLOT);
        const owners = [cache.newOwner(6), cache.newOwner(6), cache.newOwner(6)];
        /** [owner, index, block, charge], least recently used first. */
        let model: Array<[number, number, Buffer, number]> = [];
        ops.forEach((o) => {
          const at = model.findIndex(([owner, index]) => owner === o.owner && index === o.index);
          if (o.kind === 'get') {
            expect(cache.get(owners[o.owner], o.index)).toBe(at === -1 ? undefined : model[at][2]);
            if (at !== -1) model.push(...model.splice(at, 1));
            return;
          }
          // A taken arena slot may have been the oldest block's: the model drops it first.
          const slot = cache.takeSlot(o.bytes);
          expect(slot.buffer.length).toBeGreaterThanOrEqual(o.bytes);
          if (slot.inArena) {
            const gone = model.findIndex(([, , block]) => block === slot.buffer);
            if (gone !== -1) {
              expect(model.slice(0, gone).every(([, , block]) => block.length !== SLOT)).toBe(true); // the oldest in a slot
              model.splice(gone, 1);
            }
          }
          cache.insert(owners[o.owner], o.index, slot);
          const replaced = model.findIndex(([owner, index]) => owner === o.owner && index === o.index);
          if (replaced !== -1) model.splice(replaced, 1);
          model.push([o.owner, o.index, slot.buffer, slot.inArena ? SLOT : slot.buffer.length]);
          let total = model.reduce((sum, [, , , charge]) => sum + charge, 0);
          while (total > capacity && model.length > 1) total -= model.shift()![3];
          expect(cache.chargedBytes).toBe(total);
          expect(cache.size).toBe(model.length);
        });
        for (const [owner, index, block] of model) expect(cache.get(owners[owner], index)).toBe(block);
      }),
    );
  });

  it('keeps owners apart and refuses blocks past an owner', () => {
    const cache = new BlockCache(1000, 100);
    const a = cache.newOwner(4);
    const b = cache.newOwner(4);
    const slot = cache.takeSlot(10);
    cache.insert(a, 3, slot);
    expect(cache.get(b, 3)).toBeUndefined();
    expect(cache.get(a, 3)).toBe(slot.buffer);
    expect(() => cache.get(a, 4)).toThrow(RangeError);
    expect(() => cache.insert(a, -1, cache.takeSlot(10))).toThrow(RangeError);
    expect(() => cache.insert(b, 0, slot)).toThrow(/cached already/);
    expect(() => cache.giveBack(slot)).toThrow(/cached/);
    expect(() => new BlockCache(-1, 100)).toThrow(RangeError);
  });

  it('reads into arena slots: a free one, else a new one, else the least recently used block in one', () => {
    const cache = new BlockCache(3 * 4352 + 100, 4352);
    const owner = cache.newOwner(8);
    const read = (index: number, bytes = 4200) => {
      const slot = cache.takeSlot(bytes);
      cache.insert(owner, index, slot);
      return slot.buffer;
    };
    const first = [read(0), read(1), read(2)];
    expect(first.map((b) => b.length)).toEqual([4352, 4352, 4352]);
    expect(new Set(first.map((b) => b.buffer)).size).toBe(1); // one arena
    expect(cache.recycled).toBe(0);
    expect(cache.chargedBytes).toBe(3 * 4352);
    // The arena is used up: block 0, the oldest, gives up its slot before the read.
    expect(read(3)).toBe(first[0]);
    expect(cache.get(owner, 0)).toBeUndefined();
    expect(cache.recycled).toBe(1);
    cache.get(owner, 1); // block 2 is the oldest now
    expect(read(4)).toBe(first[2]);
    // A read that fails gives its slot back, and the next read takes it.
    const failed = cache.takeSlot(4200);
    expect(cache.get(owner, 3)).toBeUndefined(); // block 3 was the oldest
    cache.giveBack(failed);
    expect(read(5)).toBe(failed.buffer);
    expect(cache.size).toBe(3);
    expect(cache.chargedBytes).toBe(3 * 4352);
  });

  it('reserves the arena a chunk at a time, and stops growing it when memory for one cannot be had', () => {
    const chunks: number[] = [];
    let refuse = false;
    const allocate = (bytes: number) => {
      if (refuse) throw new RangeError('Array buffer allocation failed');
      chunks.push(bytes);
      return Buffer.alloc(bytes);
    };
    const cache = new BlockCache(10 * 64, 64, { chunkBytes: 4 * 64, allocate });
    expect(chunks).toEqual([4 * 64]); // the first chunk when the cache is made
    const owner = cache.newOwner(20);
    const read = (index: number) => {
      const taken = cache.takeSlot(50);
      cache.insert(owner, index, taken);
      return taken;
    };
    const first = read(0);
    for (let i = 1; i < 4; i++) expect(read(i).inArena).toBe(true);
    expect(first.inArena).toBe(true);
    expect(chunks).toEqual([4 * 64]);
    expect(read(4).inArena).toBe(true); // the second chunk's first slot
    expect(chunks).toEqual([4 * 64, 4 * 64]);
    for (let i = 5; i < 8; i++) read(i);
    refuse = true;
    // The last chunk (two slots) cannot be had: the arena stays at eight, and a read takes the oldest block's slot, as in a full cache.
    expect(read(8).buffer).toBe(first.buffer);
    expect(cache.get(owner, 0)).toBeUndefined();
    expect(cache.size).toBe(8);
    expect(chunks).toEqual([4 * 64, 4 * 64]);
    // A block too large for a slot still gets a buffer of its own.
    expect(cache.takeSlot(100).inArena).toBe(false);
  });

  it('gives a block too large for a slot a buffer of its own, charged its length, and recycles it for a later large block', () => {
    const cache = new BlockCache(2 * 4352 + 10000, 4352);
    const owner = cache.newOwner(8);
    const large = cache.takeSlot(9000);
    expect(large.buffer.length).toBeGreaterThanOrEqual(9000);
    expect(large.buffer.length).toBeLessThan(9000 + 128);
    cache.insert(owner, 0, large);
    expect(cache.chargedBytes).toBe(large.buffer.length);
    for (let i = 1; i <= 3; i++) cache.insert(owner, i, cache.takeSlot(4000)); // the third slot block evicts the large one
    expect(cache.get(owner, 0)).toBeUndefined();
    const recycled = cache.recycled;
    expect(cache.takeSlot(6000).buffer).toBe(large.buffer); // fits, and not twice the size
    expect(cache.recycled).toBe(recycled + 1);
  });

  it('with a budget under a slot, still reads every block into a buffer of its own', () => {
    const cache = new BlockCache(1000, 4352);
    const owner = cache.newOwner(2);
    const slot = cache.takeSlot(200);
    expect(slot.inArena).toBe(false);
    cache.insert(owner, 0, slot);
    expect(cache.get(owner, 0)).toBe(slot.buffer);
    expect(() => new BlockCache(100, 0)).toThrow(RangeError);
  });

  it('hands out any spare that fits, not only the one evicted last', () => {
    // Blocks of large values differ by an entry: a spare a shade too small on top must not send a read to a fresh buffer.
    const cache = new BlockCache(2 * 9216, 4352);
    const owner = cache.newOwner(8);
    const read = (index: number, bytes: number) => {
      const slot = cache.takeSlot(bytes);
      cache.insert(owner, index, slot);
      return slot.buffer;
    };
    const large = read(0, 8600);
    read(1, 8200);
    read(2, 8200); // evicts block 0: the large buffer is spare
    read(3, 9000); // evicts blocks 1 and 2: two small buffers are spare, above the large one
    const recycled = cache.recycled;
    expect(cache.takeSlot(8600).buffer).toBe(large);
    expect(cache.recycled).toBe(recycled + 1);
  });

  it('once full, reads every miss into a slot it had: no buffer is allocated', () => {
    const cache = new BlockCache(64 * 4352, 4352);
    const owner = cache.newOwner(1000);
    let seed = 1;
    const nextSize = () => {
      seed = (seed * 48271) % 2147483647;
      return 4101 + (seed % 250); // a 4 KiB block and a trailer, plus the part of an entry that crossed the cut
    };
    const buffers = new Set<Buffer>();
    for (let i = 0; i < 64; i++) {
      const slot = cache.takeSlot(nextSize());
      buffers.add(slot.buffer);
      cache.insert(owner, i, slot);
    }
    for (let i = 64; i < 1000; i++) {
      const slot = cache.takeSlot(nextSize());
      expect(buffers.has(slot.buffer)).toBe(true);
      cache.insert(owner, i, slot);
    }
    expect(cache.recycled).toBe(1000 - 64);
    expect(cache.size).toBe(64);
  });
});
