import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PointIndex, pointHash } from '../../../src/storage/memtable/pointIndex.js';

/** Node ids 1..n name keys[id]: what the skip list's keyAt gives the index. */
function indexOf(keys: string[], hash: (key: string) => number): PointIndex {
  const index = new PointIndex({ keyAt: (id) => keys[id] });
  for (let id = 1; id < keys.length; id++) index.insert(hash(keys[id]), id);
  return index;
}

describe('PointIndex', () => {
  it('finds every key inserted at its id, and no other, through growth', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ maxLength: 8 }), { minLength: 1, maxLength: 3000 }), fc.array(fc.string({ maxLength: 8 }), { maxLength: 50 }), (distinct, probes) => {
        const keys = ['', ...distinct];
        const index = indexOf(keys, pointHash);
        keys.forEach((key, id) => id > 0 && expect(index.find(key, pointHash(key))).toBe(id));
        for (const probe of probes) expect(index.find(probe, pointHash(probe))).toBe(keys.indexOf(probe, 1) === -1 ? 0 : keys.indexOf(probe, 1));
      }),
      { numRuns: 30 },
    );
  });

  it('tells keys apart whose hashes collide, by their keys', () => {
    const keys = ['', ...Array.from({ length: 2500 }, (_, i) => `k${i}`)];
    const index = indexOf(keys, (key) => (key.length % 3) * 1024); // three hashes for 2,500 keys: long probe runs, the same home slot across growth
    keys.forEach((key, id) => id > 0 && expect(index.find(key, (key.length % 3) * 1024)).toBe(id));
    expect(index.find('absent', ('absent'.length % 3) * 1024)).toBe(0);
  });
});
