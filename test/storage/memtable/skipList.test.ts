import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareKeys, fromSortKey, toSortKey } from '../../../src/storage/keyOrder.js';
import { SkipList, type SkipListIterator } from '../../../src/storage/memtable/skipList.js';
import { seededRandom } from '../../support/random.js';

function scan<V>(it: SkipListIterator<V>, limit = Infinity): Array<[string, V]> {
  const out: Array<[string, V]> = [];
  while (it.valid() && out.length < limit) {
    out.push([it.key(), it.value()]);
    it.next();
  }
  return out;
}

/** The private layout (see skipList.ts), read only to check invariants (2) and (4) on every level. */
interface LinkView {
  entries: unknown[];
  next0: Int32Array;
  mid0: Int32Array;
  tower: Int32Array;
  height: number;
  prefix: string;
  unitBits: number;
}

/**
 * enc(key) of invariant (4), computed independently: [hi, mid] as links and
 * level0 store them. A window of 3 thirds (2 units each at 7 bits, 1 at 16):
 * hi packs thirds 0-1, mid thirds 1-2; a unit too wide for unitBits clamps it
 * and every later one to the maximum; a key without the prefix has mid 0.
 */
function expectedOrderPrefix(key: string, prefix: string, unitBits: number): [number, number] {
  if (!key.startsWith(prefix)) return [key < prefix ? -Infinity : Infinity, 0];
  const third = unitBits === 7 ? 2 : 1;
  const max = 2 ** unitBits - 1;
  let clamped = false;
  const units = Array.from({ length: 3 * third }, (_, i) => {
    const at = prefix.length + i;
    const unit = at < key.length ? key.charCodeAt(at) : 0;
    clamped ||= unit > max;
    return clamped ? max : unit;
  });
  const pack = (part: number[]) => part.reduce((acc, unit) => acc * 2 ** unitBits + unit, 0) - 2 ** 31;
  return [pack(units.slice(0, 2 * third)), pack(units.slice(third))];
}

/**
 * Walks each level from the head: keys strictly ascend, each level's nodes are
 * a subset of the level below, and every tall node's tower holds its own id
 * and the order prefix (4) of its key under the list's current regime.
 */
function expectWellFormed(list: SkipList<unknown>): void {
  const view = list as unknown as LinkView;
  let below = new Set<number>();
  for (let x = view.next0[0]; x !== 0; x = view.next0[x]) {
    below.add(x);
    const key = view.entries[2 * x] as string;
    const mid = expectedOrderPrefix(key, view.prefix, view.unitBits)[1];
    if (view.mid0[x] !== mid) expect.fail(`node ${JSON.stringify(key)} has mid ${view.mid0[x]}, not ${mid}`);
  }
  expect(below.size).toBe(list.size);
  expect([7, 16]).toContain(view.unitBits);
  for (let level = 1; level < view.height; level++) {
    const here = new Set<number>();
    let previous: string | undefined;
    // A tower: [mid, id, then per level l >= 1 (link, the linked key's hi)]; hi lives only in the links to it.
    for (let linkAt = 2 * level, b = view.tower[linkAt]; b !== 0; linkAt = b + 2 * level, b = view.tower[linkAt]) {
      const id = view.tower[b + 1];
      const key = view.entries[2 * id] as string;
      if (previous !== undefined && !(previous < key)) expect.fail(`level ${level}: ${previous} then ${key}`);
      if (!below.has(id)) expect.fail(`level ${level}: node ${id} missing below`);
      if (level > 1 && view.tower[linkAt + 1] !== expectedOrderPrefix(key, view.prefix, view.unitBits)[0]) {
        expect.fail(`level ${level}: the link to ${JSON.stringify(key)} carries a stale hi ${view.tower[linkAt + 1]}`);
      }
      if (level === 1) {
        if (!key.startsWith(view.prefix)) expect.fail(`tall key ${JSON.stringify(key)} lacks prefix ${JSON.stringify(view.prefix)}`);
        if (view.unitBits === 7 && /[^\x00-\x7f]/.test(key.slice(view.prefix.length, view.prefix.length + 6))) {
          expect.fail(`tall key ${JSON.stringify(key)} has a non-ASCII unit in its 7-bit window`);
        }
        const stored = [view.tower[linkAt + 1], view.tower[b]];
        const expected = expectedOrderPrefix(key, view.prefix, view.unitBits);
        if (stored[0] !== expected[0] || stored[1] !== expected[1]) expect(stored).toEqual(expected);
      }
      previous = key;
      here.add(id);
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

  it('keeps order prefixes (4) right through prefix shrinks and the switch to 16-bit units', () => {
    // Every node tall, so every key carries an order prefix and each set() may refit.
    const list = new SkipList<number>(() => 0);
    const view = list as unknown as LinkView;
    const keys: string[] = [];
    const add = (k: string) => {
      list.set(k, keys.length);
      keys.push(k);
    };
    add('user:00000001');
    expect(view.prefix).toBe('user:00000001'); // one tall key: the whole key
    add('user:0000aa');
    add('user:1');
    expect(view.prefix).toBe('user:');
    expect(view.unitBits).toBe(7);
    add('user:'); // the prefix itself, and keys that are prefixes of others
    add('user');
    expect(view.prefix).toBe('user');
    add('user:\u00e9t\u00e9'); // a non-ASCII unit inside the window: 16 bits
    expect(view.unitBits).toBe(16);
    add('user:\u{1F600}'); // astral, private use and U+FFFF as sort keys
    add(toSortKey('user:\uE000'));
    add(toSortKey('user:\uFFFF'));
    add('user:zzzzzzzzzzzzzzzzzzzz'); // longer than prefix + window
    add('user:zzzzzzzzzzzzzzzzzzzy');
    add('');
    expect(view.prefix).toBe('');
    expectWellFormed(list);
    const sorted = [...keys].sort();
    expect(allEntries(list).map(([k]) => k)).toEqual(sorted);
    const it = list.iterator();
    for (const k of keys) expect(list.get(k)).toBe(keys.indexOf(k));
    // Targets outside the regime: below/above the prefix, clamped wide units, near misses.
    for (const probe of ['', 'a', 'user:0', 'user:00000000', 'user:000000011', 'user:\uFFFF\uFFFF', 'user:\u00e9', 'user;', 'v', '\uFFFF']) {
      expect(list.get(probe)).toBe(keys.includes(probe) ? keys.indexOf(probe) : undefined);
      it.seekGE(probe);
      expect(it.valid() ? it.key() : undefined).toBe(sorted.find((k) => k >= probe));
    }
  });

  it('decides level 0 by mid only between nodes whose top is the target\'s, also for targets outside the prefix in 16-bit windows', () => {
    // 16-bit units and a first unit U+8000, whose top (hi >> 16) is 0 as is
    // that of ±Infinity and NaN: a target outside the prefix must still
    // compare by string. Heights alternate so short nodes sit between tall ones.
    let draw = 0;
    const list = new SkipList<number>(() => (draw++ % 2 === 0 ? 0.9 : 0));
    // Short, tall, short, tall...: the tall ones set the prefix to 'p' and, with U+9000, 16-bit units.
    const keys = ['p\u8000a', 'p\u8000b', 'p\u8000c', 'p\u9000', 'p\u8000d', 'p\u8000e', 'p\u8000f', 'p\u8000g'];
    keys.forEach((k, i) => list.set(k, i));
    const view = list as unknown as LinkView;
    expect(view.prefix).toBe('p');
    expect(view.unitBits).toBe(16);
    expectWellFormed(list);
    const sorted = [...keys].sort();
    const it = list.iterator();
    for (const probe of ['', 'a', 'p', 'o\uffff', 'p\u7fff', 'p\u8000', 'p\u8000c', 'p\u8001', 'q', '\uffff']) {
      it.seekGE(probe);
      expect(it.valid() ? it.key() : undefined).toBe(sorted.find((k) => k >= probe));
      expect(list.get(probe)).toBe(keys.includes(probe) ? keys.indexOf(probe) : undefined);
    }
    list.set('a', 100); // below the prefix: a set from the head
    list.set('q', 101); // above it
    expect(allEntries(list).map(([k]) => k)).toEqual([...keys, 'a', 'q'].sort());
  });

  it('keeps at most 64 units of prefix, so keys sharing a long run that shrinks one unit a put stay correct and cheap', () => {
    // Each key shares one unit less of the run with the keys before it: with an uncapped prefix, a refit a put.
    const list = new SkipList<number>(() => 0);
    const view = list as unknown as LinkView;
    const keys = Array.from({ length: 300 }, (_, i) => `${'a'.repeat(300 - i)}b${i}`);
    keys.forEach((k, i) => list.set(k, i));
    expect(view.prefix.length).toBeLessThanOrEqual(64);
    expectWellFormed(list);
    expect(allEntries(list).map(([k]) => k)).toEqual([...keys].sort());
    for (const [i, k] of keys.entries()) expect(list.get(k)).toBe(i);
    const long = new SkipList<number>(() => 0);
    long.set('x'.repeat(10_000), 1);
    expect((long as unknown as LinkView).prefix).toBe('x'.repeat(64));
  });

  it('halves a long prefix on a shrink once the list is large, staying correct', () => {
    const list = new SkipList<number>(() => 0);
    const view = list as unknown as LinkView;
    const long = 'p'.repeat(40);
    for (let i = 0; i < 2000; i++) list.set(`${long}${String(i).padStart(4, '0')}`, i);
    expect(view.prefix).toBe(long);
    list.set(`${'p'.repeat(39)}q`, -1); // shares 39 units, but the prefix may only halve now
    expect(view.prefix).toBe('p'.repeat(20));
    list.set('pp', -2);
    expect(view.prefix).toBe('pp');
    expectWellFormed(list);
    expect(list.get(`${long}1999`)).toBe(1999);
    expect(list.get(`${'p'.repeat(39)}q`)).toBe(-1);
    const keys = allEntries(list).map(([k]) => k);
    expect(keys).toEqual([...keys].sort());
    expect(keys[0]).toBe('pp');
  });

  const key = (i: number) => `key${String(i).padStart(8, '0')}`;
  const n = 100_000;

  /** Every key(i) -> i for i < n, in order, and nothing else; returns the iterator, exhausted. */
  function expectAllInOrder(list: SkipList<number>): SkipListIterator<number> {
    expect(list.size).toBe(n);
    const it = list.iterator();
    it.seekToFirst();
    for (let i = 0; i < n; i++, it.next()) {
      if (it.key() !== key(i) || it.value() !== i) expect([it.key(), it.value()]).toEqual([key(i), i]);
    }
    expect(it.valid()).toBe(false);
    return it;
  }

  it('bulk loads 100k ascending keys in order', () => {
    const list = new SkipList<number>(seededRandom(9));
    for (let i = 0; i < n; i++) expect(list.set(key(i), i)).toBeUndefined();
    expectAllInOrder(list);
    for (let i = 0; i < n; i += 97) expect(list.get(key(i))).toBe(i);
  });

  it('bulk loads 100k descending keys in order', () => {
    const list = new SkipList<number>(seededRandom(10));
    for (let i = n - 1; i >= 0; i--) expect(list.set(key(i), i)).toBeUndefined();
    const it = expectAllInOrder(list);
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
  // Most keys share one of a few prefixes, so the order-prefix regime (4) has a long prefix to keep and then shrink.
  const arbKey = fc
    .tuple(fc.constantFrom('', 'ab', 'abm~', 'ab\u00e9'), fc.array(fc.constantFrom(...alphabet), { maxLength: 4 }))
    .map(([prefix, chars]) => prefix + chars.join(''));
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
