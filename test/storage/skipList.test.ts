import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareKeys, fromSortKey, toSortKey } from '../../src/storage/keyOrder.js';
import { SkipList, type SkipListIterator } from '../../src/storage/skipList.js';

/** A deterministic [0,1) source (mulberry32), so tower heights repeat run to run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

function scan<V>(it: SkipListIterator<V>, limit = Infinity): Array<[string, V]> {
  const out: Array<[string, V]> = [];
  while (it.valid() && out.length < limit) {
    out.push([it.key(), it.value()]);
    it.next();
  }
  return out;
}

/** The private layout (see skipList.ts), read only to check invariant (2) on every level. */
interface LinkView {
  keys: string[];
  next0: Int32Array;
  upper: Int32Array;
  upperBase: Int32Array;
  height: number;
}

/** Walks each level from the head: keys strictly ascend, and each level's nodes are a subset of the level below. */
function expectWellFormed(list: SkipList<unknown>): void {
  const view = list as unknown as LinkView;
  let below = new Set<number>();
  for (let x = view.next0[0]; x !== 0; x = view.next0[x]) below.add(x);
  expect(below.size).toBe(list.size);
  for (let level = 1; level < view.height; level++) {
    const here = new Set<number>();
    let previous: string | undefined;
    for (let x = view.upper[view.upperBase[0] + level]; x !== 0; x = view.upper[view.upperBase[x] + level]) {
      const key = view.keys[x];
      if (previous !== undefined && !(previous < key)) expect.fail(`level ${level}: ${previous} then ${key}`);
      if (!below.has(x)) expect.fail(`level ${level}: node ${x} missing below`);
      previous = key;
      here.add(x);
    }
    below = here;
  }
}

function allEntries<V>(list: SkipList<V>): Array<[string, V]> {
  const it = list.iterator();
  it.seekToFirst();
  return scan(it);
}

describe('SkipList', () => {
  it('is empty and its iterators unpositioned at first', () => {
    const list = new SkipList<string>(seededRandom(1));
    expect(list.size).toBe(0);
    expect(list.get('a')).toBeUndefined();
    expect(list.get('')).toBeUndefined();
    const it = list.iterator();
    expect(it.valid()).toBe(false);
    it.seekToFirst();
    expect(it.valid()).toBe(false);
    it.seekGE('');
    expect(it.valid()).toBe(false);
  });

  it('returns undefined for a new key and the previous value on replace, counting distinct keys', () => {
    const list = new SkipList<string>(seededRandom(2));
    expect(list.set('b', '1')).toBeUndefined();
    expect(list.set('a', '2')).toBeUndefined();
    expect(list.set('b', '3')).toBe('1');
    expect(list.set('b', '4')).toBe('3');
    expect(list.size).toBe(2);
    expect(list.get('b')).toBe('4');
    expect(list.get('a')).toBe('2');
    expect(list.get('c')).toBeUndefined();
    expect(allEntries(list)).toEqual([
      ['a', '2'],
      ['b', '4'],
    ]);
  });

  it('stores null (a tombstone) as a value distinct from absence', () => {
    const list = new SkipList<string | null>(seededRandom(3));
    expect(list.set('k', null)).toBeUndefined();
    expect(list.get('k')).toBeNull();
    expect(list.set('k', 'v')).toBeNull();
    expect(list.set('k', null)).toBe('v');
    expect(list.size).toBe(1);
    expect(allEntries(list)).toEqual([['k', null]]);
  });

  it('stores the empty key', () => {
    const list = new SkipList<number>(seededRandom(4));
    list.set('a', 1);
    expect(list.set('', 0)).toBeUndefined();
    expect(list.get('')).toBe(0);
    expect(list.set('', 9)).toBe(0);
    expect(allEntries(list)).toEqual([
      ['', 9],
      ['a', 1],
    ]);
  });

  it('seeks to the first key >= target before, between, on and after the keys', () => {
    const list = new SkipList<number>(seededRandom(5));
    for (const [i, key] of ['d', 'b', 'f', 'h'].entries()) list.set(key, i);
    const it = list.iterator();
    it.seekGE('a');
    expect(it.key()).toBe('b');
    it.seekGE('c');
    expect(it.key()).toBe('d');
    it.seekGE('f');
    expect(it.key()).toBe('f');
    it.seekGE('ff');
    expect(it.key()).toBe('h');
    it.seekGE('i');
    expect(it.valid()).toBe(false);
    it.seekGE('');
    expect(scan(it).map(([k]) => k)).toEqual(['b', 'd', 'f', 'h']);
  });

  it('seekToFirst repositions an exhausted iterator', () => {
    const list = new SkipList<number>(seededRandom(6));
    list.set('y', 1);
    list.set('x', 2);
    const it = list.iterator();
    it.seekGE('z');
    expect(it.valid()).toBe(false);
    it.seekToFirst();
    expect(it.key()).toBe('x');
    expect(it.value()).toBe(2);
  });

  it('orders by code point through sort keys, not by UTF-16 units', () => {
    const list = new SkipList<string>(seededRandom(7));
    const keys = ['\u{1F600}', '\uFFFF', '\u{10000}', '\uE000', 'z', '\uF8FF'];
    for (const key of keys) list.set(toSortKey(key), key);
    expect(allEntries(list).map(([, original]) => original)).toEqual(['z', '\uE000', '\uF8FF', '\uFFFF', '\u{10000}', '\u{1F600}']);
  });

  it('keeps an iterator going through inserts made after it was positioned, including growth', () => {
    const list = new SkipList<number>(seededRandom(8));
    list.set('b', 0);
    list.set('d', 0);
    const it = list.iterator();
    it.seekGE('b');
    list.set('a', 1); // behind it: never seen
    list.set('c', 1);
    list.set('bb', 1);
    it.next();
    expect(it.key()).toBe('bb');
    // Enough inserts to reallocate every link array under the parked iterator.
    for (let i = 0; i < 5000; i++) list.set(`c${String(i).padStart(4, '0')}`, 2);
    list.set('e', 3);
    const rest = scan(it).map(([k]) => k);
    expect(rest.slice(0, 3)).toEqual(['bb', 'c', 'c0000']);
    expect(rest.slice(-2)).toEqual(['d', 'e']);
    expect(rest).toHaveLength(5004);
    expect(rest).toEqual([...rest].sort());
  });

  it('grows past its initial arena with every tower at full height', () => {
    const list = new SkipList<number>(() => 0); // always MAX_HEIGHT: the upper arena grows fastest
    const n = 10_000;
    for (let i = 0; i < n; i++) list.set(String((i * 7919) % n), i);
    expect(list.size).toBe(n);
    for (let i = 0; i < n; i++) expect(list.get(String((i * 7919) % n))).toBe(i);
    expectWellFormed(list);
    const keys = allEntries(list).map(([k]) => k);
    expect(keys).toEqual([...keys].sort());
  });

  it('works as a plain linked list when every tower is height 1', () => {
    const list = new SkipList<number>(() => 0.999);
    for (const key of ['m', 'c', 'x', 'a', 'n']) list.set(key, key.charCodeAt(0));
    expect(list.get('x')).toBe(120);
    expect(allEntries(list).map(([k]) => k)).toEqual(['a', 'c', 'm', 'n', 'x']);
  });

  const key = (i: number) => `key${String(i).padStart(8, '0')}`;
  const n = 100_000;

  it('bulk loads 100k ascending keys in order', () => {
    const list = new SkipList<number>(seededRandom(9));
    for (let i = 0; i < n; i++) expect(list.set(key(i), i)).toBeUndefined();
    expect(list.size).toBe(n);
    const it = list.iterator();
    it.seekToFirst();
    for (let i = 0; i < n; i++, it.next()) {
      if (it.key() !== key(i) || it.value() !== i) expect([it.key(), it.value()]).toEqual([key(i), i]);
    }
    expect(it.valid()).toBe(false);
    for (let i = 0; i < n; i += 97) expect(list.get(key(i))).toBe(i);
  });

  it('bulk loads 100k descending keys in order', () => {
    const list = new SkipList<number>(seededRandom(10));
    for (let i = n - 1; i >= 0; i--) expect(list.set(key(i), i)).toBeUndefined();
    expect(list.size).toBe(n);
    const it = list.iterator();
    it.seekToFirst();
    for (let i = 0; i < n; i++, it.next()) {
      if (it.key() !== key(i) || it.value() !== i) expect([it.key(), it.value()]).toEqual([key(i), i]);
    }
    expect(it.valid()).toBe(false);
    it.seekGE(key(n / 2) + '!');
    expect(it.key()).toBe(key(n / 2 + 1));
  });

  it('bulk loads 100k shuffled keys with replaces', () => {
    const list = new SkipList<number>(seededRandom(11));
    const random = seededRandom(12);
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (const i of order) list.set(key(i), -i);
    expectWellFormed(list);
    for (let i = 0; i < n; i += 3) expect(list.set(key(i), i)).toBe(-i);
    expect(list.size).toBe(n);
    const entries = allEntries(list);
    for (let i = 0; i < n; i++) {
      const expected = i % 3 === 0 ? i : -i;
      if (entries[i][0] !== key(i) || entries[i][1] !== expected) expect(entries[i]).toEqual([key(i), expected]);
    }
  });
});

describe('SkipList against a Map model (property)', () => {
  // Mixes ASCII with astral, BMP private-use and U+FFFF characters, where
  // code point order and UTF-16 order disagree.
  const alphabet = ['a', 'b', 'm', '~', '\u00e9', '\u{1F600}', '\u{10000}', '\uE000', '\uF8FF', '\uFFFF'];
  const arbKey = fc.array(fc.constantFrom(...alphabet), { maxLength: 4 }).map((chars) => chars.join(''));
  const arbValue = fc.option(fc.string({ maxLength: 3 }), { nil: null, freq: 4 });
  const arbOp = fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant('set' as const), key: arbKey, value: arbValue }), weight: 5 },
    { arbitrary: fc.record({ kind: fc.constant('get' as const), key: arbKey }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('scan' as const), key: arbKey, limit: fc.nat(8) }), weight: 2 },
    // A long-lived iterator, stepped between writes: it must see later inserts.
    { arbitrary: fc.record({ kind: fc.constant('park' as const), key: arbKey }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('step' as const) }), weight: 2 },
  );
  // Runs of zeros give tall towers even in small lists.
  const arbRandoms = fc.array(fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })), {
    minLength: 1,
    maxLength: 16,
  });

  it('agrees with the model on set/get/seekGE+scan', () => {
    fc.assert(
      fc.property(arbRandoms, fc.array(arbOp, { maxLength: 200 }), (randoms, ops) => {
        let draw = 0;
        const list = new SkipList<string | null>(() => randoms[draw++ % randoms.length]);
        const model = new Map<string, string | null>();
        const sortedModel = () => [...model.keys()].sort(compareKeys);
        const parked = list.iterator();
        let parkedKey: string | undefined; // the original key it sits on, while valid

        for (const op of ops) {
          switch (op.kind) {
            case 'set': {
              expect(list.set(toSortKey(op.key), op.value)).toBe(model.get(op.key));
              model.set(op.key, op.value);
              break;
            }
            case 'get':
              expect(list.get(toSortKey(op.key))).toBe(model.get(op.key));
              break;
            case 'scan': {
              const it = list.iterator();
              it.seekGE(toSortKey(op.key));
              const expected = sortedModel()
                .filter((k) => compareKeys(k, op.key) >= 0)
                .slice(0, op.limit)
                .map((k) => [toSortKey(k), model.get(k)]);
              expect(scan(it, op.limit)).toEqual(expected);
              break;
            }
            case 'park': {
              parked.seekGE(toSortKey(op.key));
              const expected = sortedModel().find((k) => compareKeys(k, op.key) >= 0);
              expect(parked.valid()).toBe(expected !== undefined);
              parkedKey = parked.valid() ? fromSortKey(parked.key()) : undefined;
              expect(parkedKey).toBe(expected);
              break;
            }
            case 'step': {
              if (parkedKey === undefined) break;
              const from = parkedKey;
              parked.next();
              const expected = sortedModel().find((k) => compareKeys(k, from) > 0);
              parkedKey = parked.valid() ? fromSortKey(parked.key()) : undefined;
              expect(parkedKey).toBe(expected);
              if (parkedKey !== undefined) expect(parked.value()).toBe(model.get(parkedKey));
              break;
            }
          }
          expect(list.size).toBe(model.size);
        }
        expectWellFormed(list);
        const sorted = sortedModel();
        expect(allEntries(list)).toEqual(sorted.map((k) => [toSortKey(k), model.get(k)]));
        // Every search path, not just level 0: a misplaced upper link shows up here.
        const it = list.iterator();
        for (const probe of [...sorted, ...sorted.map((k) => k + 'a'), ...alphabet]) {
          if (model.has(probe)) expect(list.get(toSortKey(probe))).toBe(model.get(probe));
          else expect(list.get(toSortKey(probe))).toBeUndefined();
          it.seekGE(toSortKey(probe));
          const expected = sorted.find((k) => compareKeys(k, probe) >= 0);
          expect(it.valid() ? fromSortKey(it.key()) : undefined).toBe(expected);
        }
      }),
      { numRuns: 300 },
    );
  });
});
