/** The shared block cache against a model: an array in recency order, trimmed oldest first to the byte budget. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BlockCache } from '../../../src/storage/cache/blockCache.js';

describe('BlockCache', () => {
  it('keeps the most recently used blocks within its budget (property)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), owner: fc.integer({ min: 0, max: 2 }), index: fc.integer({ min: 0, max: 5 }), bytes: fc.integer({ min: 1, max: 300 }) }),
      fc.record({ kind: fc.constant('get' as const), owner: fc.integer({ min: 0, max: 2 }), index: fc.integer({ min: 0, max: 5 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.array(op, { maxLength: 60 }), (capacity, ops) => {
        const cache = new BlockCache(capacity);
        const owners = [cache.newOwner(6), cache.newOwner(6), cache.newOwner(6)];
        /** [owner, index, block, charge], least recently used first. */
        let model: Array<[number, number, Buffer, number]> = [];
        ops.forEach((o) => {
          const at = model.findIndex(([owner, index]) => owner === o.owner && index === o.index);
          if (o.kind === 'get') {
            expect(cache.get(owners[o.owner], o.index, true)).toBe(at === -1 ? undefined : model[at][2]);
            if (at !== -1) model.push(...model.splice(at, 1));
            return;
          }
          // Lent, so no slot is recycled and each block keeps its own buffer; recycling has its own test.
          const slot = cache.takeSlot(o.bytes);
          expect(slot.buffer.length).toBeGreaterThanOrEqual(o.bytes);
          cache.insert(owners[o.owner], o.index, slot, true);
          if (at !== -1) model.splice(at, 1);
          model.push([o.owner, o.index, slot.buffer, slot.buffer.length]);
          let total = model.reduce((sum, [, , , charge]) => sum + charge, 0);
          while (total > capacity && model.length > 1) total -= model.shift()![3];
          expect(cache.chargedBytes).toBe(total);
          expect(cache.size).toBe(model.length);
        });
        for (const [owner, index, block] of model) expect(cache.get(owners[owner], index, true)).toBe(block);
      }),
    );
  });

  it('keeps owners apart and refuses blocks past an owner', () => {
    const cache = new BlockCache(1000);
    const a = cache.newOwner(4);
    const b = cache.newOwner(4);
    const slot = cache.takeSlot(10);
    cache.insert(a, 3, slot, true);
    expect(cache.get(b, 3, true)).toBeUndefined();
    expect(cache.get(a, 3, true)).toBe(slot.buffer);
    expect(() => cache.get(a, 4, true)).toThrow(RangeError);
    expect(() => cache.insert(a, -1, cache.takeSlot(10), true)).toThrow(RangeError);
    expect(() => cache.insert(b, 0, slot, true)).toThrow(/cached already/);
    expect(() => new BlockCache(-1)).toThrow(RangeError);
  });

  it('recycles an evicted block that was never lent, and never one that was', () => {
    const cache = new BlockCache(2 * 4224);
    const owner = cache.newOwner(8);
    const read = (index: number, lend: boolean) => {
      const slot = cache.takeSlot(4100);
      cache.insert(owner, index, slot, lend);
      return slot.buffer;
    };
    const kept = read(0, false);
    const lent = read(1, true);
    expect(kept.length).toBeGreaterThanOrEqual(4100);
    read(2, false); // evicts block 0, never lent: its buffer is the next one handed out
    expect(cache.takeSlot(4100).buffer).toBe(kept);
    expect(cache.recycled).toBe(1);
    const lentSince = cache.get(owner, 2, true); // lent now, though read for a lookup
    read(3, false); // evicts block 1, lent
    read(4, false); // evicts block 2, lent since
    expect(cache.get(owner, 1, false)).toBeUndefined();
    expect(cache.get(owner, 2, false)).toBeUndefined();
    for (const buffer of [cache.takeSlot(4100).buffer, cache.takeSlot(4100).buffer]) expect([lent, lentSince]).not.toContain(buffer);
    expect(cache.recycled).toBe(1);
    // A spare far larger than the block asked for is not handed out (it would be charged for the waste).
    read(5, false);
    read(6, false);
    read(7, false); // evicts block 5, never lent: spare
    const recycled = cache.recycled;
    expect(cache.takeSlot(1000).buffer.length).toBeLessThan(2000);
    expect(cache.recycled).toBe(recycled);
    cache.takeSlot(4100); // the spare stayed for a block it fits
    expect(cache.recycled).toBe(recycled + 1);
  });

  it('hands out any spare that fits, not only the one evicted last', () => {
    // Blocks cut at 4 KiB differ by an entry: a spare a shade too small on top must not send a read to a fresh buffer.
    const cache = new BlockCache(2 * 4352);
    const owner = cache.newOwner(8);
    const read = (index: number, bytes: number) => {
      const slot = cache.takeSlot(bytes);
      cache.insert(owner, index, slot, false);
      return slot.buffer;
    };
    const large = read(0, 4300);
    read(1, 4100);
    read(2, 4100); // evicts block 0: the large buffer is spare
    read(3, 5000); // evicts blocks 1 and 2: two small buffers are spare, above the large one
    const recycled = cache.recycled;
    expect(cache.takeSlot(4300).buffer).toBe(large);
    expect(cache.recycled).toBe(recycled + 1);
  });

  it('recycles nearly every miss of a full cache whose blocks vary in size', () => {
    const cache = new BlockCache(64 * 4352);
    const owner = cache.newOwner(1000);
    let seed = 1;
    const nextSize = () => {
      seed = (seed * 48271) % 2147483647;
      return 4101 + (seed % 250); // a 4 KiB block and a trailer, plus the part of an entry that crossed the cut
    };
    // The first reads fill the cache with fresh buffers, and the spares settle on the larger size; after that a read is an eviction's (but when an insert evicted nothing to make room).
    for (let i = 0; i < 500; i++) cache.insert(owner, i, cache.takeSlot(nextSize()), false);
    const settled = cache.recycled;
    for (let i = 500; i < 1000; i++) cache.insert(owner, i, cache.takeSlot(nextSize()), false);
    expect(cache.recycled - settled).toBeGreaterThanOrEqual(495); // 452 when only the newest spare was tried
  });
});
