/**
 * The four ordered maps under test, behind one small interface so the
 * runners' loops are identical for all of them. Each adapter uses its
 * library the way that library's documentation shows (no private fields),
 * and every one orders the same string keys by native `<`.
 *
 * A runner child process only ever loads one adapter, so its call sites stay
 * monomorphic and the JIT can inline through the adapter.
 */
import { OrderedMap } from '@js-sdsl/ordered-map';
import createRBTree from 'functional-red-black-tree';
import sortedBtree from 'sorted-btree';
import { SkipList } from '../src/storage/memtable/skipList.js';

export interface OrderedStore {
  /** Insert or overwrite (a MemTable put is an upsert). */
  put(key: string, value: string): void;
  get(key: string): string | undefined;
  /** seekGE(start) then read `limit` entries; returns a checksum of what it read so no work is dead code. */
  scan(start: string, limit: number): number;
}

export const STRUCTURES = ['skiplist', 'sorted-btree', 'js-sdsl', 'rbtree'] as const;
export type StructureName = (typeof STRUCTURES)[number];
export const PEERS = STRUCTURES.filter((s) => s !== 'skiplist');

export const LABELS: Record<StructureName, string> = {
  skiplist: 'SkipList (ours)',
  'sorted-btree': 'sorted-btree BTree',
  'js-sdsl': '@js-sdsl OrderedMap',
  rbtree: 'functional-red-black-tree',
};

/** Ours: the MemTable's index, used as MemTable and MergeIterator use it. */
class SkipListStore implements OrderedStore {
  private readonly list = new SkipList<string>();
  put(key: string, value: string): void {
    this.list.set(key, value);
  }
  get(key: string): string | undefined {
    return this.list.get(key);
  }
  scan(start: string, limit: number): number {
    const it = this.list.iterator();
    let sum = 0;
    it.seekGE(start);
    for (let i = 0; i < limit && it.valid(); i++, it.next()) sum += it.key().length + it.value().length;
    return sum;
  }
}

/**
 * sorted-btree, with its own exported simpleComparator (`<`/`>`): the default
 * comparator also orders mixed types and is slower, so this is its fast path.
 * Scans use forRange with {break}, the library's allocation-free range walk.
 */
// sorted-btree is CommonJS with `exports.default = BTree`: from ESM the class is the default export's `default`.
const BTree = sortedBtree.default;
const compareStrings: (a: string, b: string) => number = sortedBtree.simpleComparator;
const ABOVE_ALL_KEYS = '\uffff';
const STOP = { break: true };
class BTreeStore implements OrderedStore {
  private readonly tree = new BTree<string, string>(undefined, compareStrings);
  put(key: string, value: string): void {
    this.tree.set(key, value);
  }
  get(key: string): string | undefined {
    return this.tree.get(key);
  }
  scan(start: string, limit: number): number {
    let sum = 0;
    // forRange's typings say the callback returns void; at run time {break} stops it (documented on the class).
    this.tree.forRange(start, ABOVE_ALL_KEYS, false, ((k: string, v: string, counter: number) => {
      sum += k.length + v.length;
      return counter + 1 >= limit ? STOP : undefined;
    }) as (k: string, v: string, counter: number) => void);
    return sum;
  }
}

/**
 * js-sdsl's OrderedMap (a mutable red-black tree), default comparator (native
 * `<`). Its iterator's documented accessor is `pointer`, a [key, value] view
 * (a Proxy in 4.x); read once per entry.
 */
class SdslStore implements OrderedStore {
  private readonly map = new OrderedMap<string, string>();
  put(key: string, value: string): void {
    this.map.setElement(key, value);
  }
  get(key: string): string | undefined {
    return this.map.getElementByKey(key);
  }
  scan(start: string, limit: number): number {
    const end = this.map.end();
    const it = this.map.lowerBound(start);
    let sum = 0;
    for (let i = 0; i < limit && !it.equals(end); i++, it.next()) {
      const pair = it.pointer;
      sum += pair[0].length + pair[1].length;
    }
    return sum;
  }
}

/**
 * functional-red-black-tree is persistent: every insert returns a new tree.
 * Its insert never replaces (duplicates are kept), so an upsert is find, then
 * iterator.update or insert, as its README shows. get() is its lookup; scans
 * are ge() and iterator.next().
 */
class RBTreeStore implements OrderedStore {
  private tree = createRBTree<string, string>();
  put(key: string, value: string): void {
    const it = this.tree.find(key);
    this.tree = it.valid ? it.update(value) : this.tree.insert(key, value);
  }
  get(key: string): string | undefined {
    return this.tree.get(key) ?? undefined;
  }
  scan(start: string, limit: number): number {
    const it = this.tree.ge(start);
    let sum = 0;
    for (let i = 0; i < limit && it.valid; i++, it.next()) sum += it.key!.length + it.value!.length;
    return sum;
  }
}

export function createStore(name: StructureName): OrderedStore {
  switch (name) {
    case 'skiplist':
      return new SkipListStore();
    case 'sorted-btree':
      return new BTreeStore();
    case 'js-sdsl':
      return new SdslStore();
    case 'rbtree':
      return new RBTreeStore();
  }
}
