/** The packed search over an SSTable's last keys against a plain binary search over the strings. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LastKeyIndex } from '../../../src/storage/sstable/lastKeyIndex.js';

function plainLowerBound(keys: readonly string[], target: string): number {
  let i = 0;
  while (i < keys.length && keys[i] < target) i++;
  return i;
}

// Few distinct units, so keys share long prefixes and tie on the packed units; and the extremes of UTF-16.
const unit = fc.constantFrom('a', 'b', 'c', '0', '\u0000', '\u007f', '\u0080', '\u07ff', '\ud800', '\uf7ff', '\uffff');
const text = (maxLength: number) => fc.array(unit, { maxLength }).map((units) => units.join(''));

describe('LastKeyIndex', () => {
  it('finds the first key >= any target, as a search over the strings does (property)', () => {
    const keysAndTargets = fc
      .tuple(text(4), fc.uniqueArray(text(12), { maxLength: 40 }))
      .map(([prefix, rests]) => [...new Set(rests.map((rest) => prefix + rest))].sort())
      .chain((keys) =>
        fc.tuple(
          fc.constant(keys),
          fc.array(
            fc.oneof(
              text(14),
              keys.length === 0 ? text(3) : fc.constantFrom(...keys),
              keys.length === 0 ? text(3) : fc.tuple(fc.constantFrom(...keys), text(3)).map(([key, tail]) => key + tail),
              keys.length === 0 ? text(3) : fc.tuple(fc.constantFrom(...keys), fc.nat()).map(([key, cut]) => key.slice(0, cut % (key.length + 1))),
            ),
            { maxLength: 30 },
          ),
        ),
      );
    fc.assert(
      fc.property(keysAndTargets, ([keys, targets]) => {
        const index = new LastKeyIndex(keys);
        for (const target of targets) expect(index.lowerBound(target)).toBe(plainLowerBound(keys, target));
      }),
      { numRuns: 300 },
    );
  });

  it('packs many units of hex keys into one number and still tells keys that differ late', () => {
    const keys = Array.from({ length: 500 }, (_, i) => `user:${(i * 8_000_000).toString(16).padStart(8, '0')}`);
    keys.push('user:ffffffff0', 'user:ffffffff00', 'user:ffffffff1');
    const index = new LastKeyIndex(keys);
    for (const [i, key] of keys.entries()) {
      expect(index.lowerBound(key)).toBe(i);
      expect(index.lowerBound(key + '\u0000')).toBe(i + 1);
    }
    expect(index.lowerBound('user:')).toBe(0);
    expect(index.lowerBound('usea')).toBe(0);
    expect(index.lowerBound('user:g')).toBe(keys.length);
    expect(index.lowerBound('user:ffffffff01')).toBe(keys.length - 1);
  });

  it('clamps target units above every key unit without carrying into the unit before', () => {
    const index = new LastKeyIndex(['xa', 'xb', 'y']);
    expect(index.lowerBound('xz\u0100')).toBe(2);
    expect(index.lowerBound('x\uffff\uffff')).toBe(2); // a carry would make it ('y', 1): above 'y'
    expect(index.lowerBound('y\u0100')).toBe(3);
  });
});
