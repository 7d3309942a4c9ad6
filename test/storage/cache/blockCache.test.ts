/** The shared block cache against a model: an array in recency order, trimmed oldest first to the byte budget. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BlockCache } from '../../../src/storage/cache/blockCache.js';

describe('BlockCache', () => {
  it('keeps the most recently used blocks within its budget (property)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), owner: fc.integer({ min: 0, max: 2 }), slot: fc.integer({ min: 0, max: 5 }), charge: fc.integer({ min: 0, max: 120 }) }),
      fc.record({ kind: fc.constant('get' as const), owner: fc.integer({ min: 0, max: 2 }), slot: fc.integer({ min: 0, max: 5 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.array(op, { maxLength: 60 }), (capacity, ops) => {
        const cache = new BlockCache(capacity);
        const owners = [cache.newOwner(), cache.newOwner(), cache.newOwner()];
        /** [key, block, charge], least recently used first. */
        let model: Array<[number, string, number]> = [];
        ops.forEach((o, step) => {
          const key = cache.key(owners[o.owner], o.slot);
          const at = model.findIndex(([k]) => k === key);
          if (o.kind === 'get') {
            expect(cache.get<string>(key)).toBe(at === -1 ? undefined : model[at][1]);
            if (at !== -1) model.push(...model.splice(at, 1));
            return;
          }
          cache.set(key, `block ${step}`, o.charge);
          if (at !== -1) model.splice(at, 1);
          model.push([key, `block ${step}`, o.charge]);
          let total = model.reduce((sum, [, , charge]) => sum + charge, 0);
          while (total > capacity && model.length > 1) total -= model.shift()![2];
          expect(cache.chargedBytes).toBe(total);
          expect(cache.size).toBe(model.length);
        });
        for (const [key, block] of model) expect(cache.get(key)).toBe(block);
      }),
    );
  });

  it('keeps owners apart and refuses slots past a file', () => {
    const cache = new BlockCache(1000);
    const a = cache.newOwner();
    const b = cache.newOwner();
    expect(cache.key(a, 3)).not.toBe(cache.key(b, 3));
    cache.set(cache.key(a, 3), 'a3', 10);
    expect(cache.get(cache.key(b, 3))).toBeUndefined();
    expect(() => cache.key(a, 2 ** 24)).toThrow(RangeError);
    expect(() => new BlockCache(-1)).toThrow(RangeError);
  });
});
