/**
 * The MemTable's ordered index: a skip list keyed by sort keys (keyOrder.ts),
 * after LevelDB's db/skiplist.h, with nodes laid out as in Pebble's arenaskl:
 * a node is an integer id, its links live in typed arrays, never in objects.
 *
 *   node id 0         head sentinel; also NIL, since the head is nobody's successor
 *   keys[id]          its sort key        values[id]   its value (null = tombstone)
 *   next0[id]         level-0 successor, dense by id (every node has one)
 *   upper[base + l]   level-l successor for 1 <= l < height, base = upperBase[id];
 *                     towers are only as tall as their node, so most nodes
 *                     (height 1, p = 3/4) take no space here at all
 *
 * Invariants:
 * (1) Nodes are never removed or moved; a node's key never changes. Only set()
 *     changes links, and only by splicing a new node in, so an iterator parked
 *     on a node stays valid and walks on through later inserts in order.
 * (2) At every level, keys strictly ascend along the links (native `<` on sort
 *     keys is code point order); level 0 holds each distinct key exactly once.
 * (3) The finger: fingerKey is the key of the latest set(), and preds[l] is the
 *     last level-l node with key < fingerKey, or the node holding it if that
 *     set() inserted it. Only set() changes links, so a key > fingerKey may
 *     start its search from preds[] instead of from the head.
 *     Lookups (get, seekGE) must not write preds[].
 *
 * Deletion is not supported: the LSM writes tombstones (null values) instead.
 */

const NIL = 0;
const HEAD = 0;
/** 4^12 ≈ 16M keys before the top level stops thinning; far above a MemTable. */
const MAX_HEIGHT = 12;
const INITIAL_NODE_CAPACITY = 1024;

export interface SkipListIterator<V> {
  /** Positions at the first key >= target (a sort key); invalid if none. */
  seekGE(target: string): void;
  /** Positions at the first key; invalid if the list is empty. */
  seekToFirst(): void;
  valid(): boolean;
  /** REQUIRES: valid(). */
  key(): string;
  /** REQUIRES: valid(). */
  value(): V;
  /** REQUIRES: valid(). */
  next(): void;
}

export class SkipList<V> {
  private readonly keys: string[] = [''];
  private readonly values: V[] = [undefined as V];
  private next0 = new Int32Array(INITIAL_NODE_CAPACITY);
  private upperBase = new Int32Array(INITIAL_NODE_CAPACITY);
  /** The head's tower (levels 1..MAX_HEIGHT-1) occupies the first slots. */
  private upper = new Int32Array(INITIAL_NODE_CAPACITY);
  private upperUsed = MAX_HEIGHT - 1;
  private height = 1;
  /** Reused by every set(): no allocation on the write path. Doubles as the finger, see (3). */
  private readonly preds = new Int32Array(MAX_HEIGHT);
  private fingerKey = ''; // preds[] all HEAD is a valid finger for '' (nothing sorts below it)

  /** `random` returns floats in [0,1); injectable so tests are deterministic. */
  constructor(private readonly random: () => number = Math.random) {
    this.upperBase[HEAD] = -1; // so upper[upperBase[HEAD] + l] is slot l - 1
  }

  /** Number of distinct keys. */
  get size(): number {
    return this.keys.length - 1;
  }

  /** The value stored at `key`, or undefined (a stored null is a tombstone, not a miss). */
  get(key: string): V | undefined {
    const node = this.findGreaterOrEqual(key);
    return node !== NIL && this.keys[node] === key ? this.values[node] : undefined;
  }

  /** Inserts, or replaces the value of an existing key in place. Returns the previous value, or undefined when the key was new. */
  set(key: string, value: V): V | undefined {
    const found = key > this.fingerKey ? this.descendFromFinger(key) : this.descendRecording(key, HEAD, this.height - 1);
    this.fingerKey = key;
    if (found !== NIL && this.keys[found] === key) {
      const previous = this.values[found];
      this.values[found] = value;
      return previous;
    }
    this.insertAfterPreds(key, value);
    return undefined;
  }

  /** A new unpositioned iterator (valid() is false until seekGE/seekToFirst). */
  iterator(): SkipListIterator<V> {
    return new ListIterator(this);
  }

  /** @internal The first node whose key is >= key, or NIL. Leaves preds[] alone. */
  findGreaterOrEqual(key: string): number {
    const keys = this.keys;
    const upper = this.upper;
    const upperBase = this.upperBase;
    let x = HEAD;
    // A node already found >= key one level up needs no second compare here.
    let knownNotLess = NIL;
    for (let level = this.height - 1; level > 0; level--) {
      for (;;) {
        const next = upper[upperBase[x] + level];
        if (next === NIL || next === knownNotLess || !(keys[next] < key)) {
          knownNotLess = next;
          break;
        }
        x = next;
      }
    }
    const next0 = this.next0;
    for (;;) {
      const next = next0[x];
      if (next === NIL || next === knownNotLess || !(keys[next] < key)) return next;
      x = next;
    }
  }

  /** @internal */
  successor(node: number): number {
    return this.next0[node];
  }

  /** @internal */
  keyAt(node: number): string {
    return this.keys[node];
  }

  /** @internal */
  valueAt(node: number): V {
    return this.values[node];
  }

  /**
   * Like findGreaterOrEqual from node x at `level` down, recording in preds[]
   * the last node < key at each level walked. REQUIRES: keys[x] < key (or x is HEAD).
   */
  private descendRecording(key: string, x: number, level: number): number {
    const keys = this.keys;
    const upper = this.upper;
    const upperBase = this.upperBase;
    const preds = this.preds;
    let knownNotLess = NIL;
    for (; level > 0; level--) {
      for (;;) {
        const next = upper[upperBase[x] + level];
        if (next === NIL || next === knownNotLess || !(keys[next] < key)) {
          knownNotLess = next;
          break;
        }
        x = next;
      }
      preds[level] = x;
    }
    const next0 = this.next0;
    for (;;) {
      const next = next0[x];
      if (next === NIL || next === knownNotLess || !(keys[next] < key)) {
        preds[0] = x;
        return next;
      }
      x = next;
    }
  }

  /**
   * For key > fingerKey: every preds[l] is then < key, and if preds[l]'s successor
   * is >= key, so is preds[l+1]'s (it is further right). So climb to the lowest
   * level whose gap holds key and descend from there: O(1) for ascending loads.
   */
  private descendFromFinger(key: string): number {
    const keys = this.keys;
    const preds = this.preds;
    const top = this.height - 1;
    let knownLess = -1; // the successor that failed one level down
    let level = 0;
    for (; level < top; level++) {
      const next = level === 0 ? this.next0[preds[0]] : this.upper[this.upperBase[preds[level]] + level];
      if (next === knownLess) continue;
      if (next === NIL || !(keys[next] < key)) break;
      knownLess = next;
    }
    return this.descendRecording(key, preds[level], level);
  }

  /** REQUIRES: preds[] holds key's predecessors at every level (a descendRecording just ran). */
  private insertAfterPreds(key: string, value: V): void {
    const node = this.keys.length;
    if (node === this.next0.length) this.growNodes();
    this.keys.push(key);
    this.values.push(value);
    const preds = this.preds;
    const height = this.randomHeight();
    if (height > this.height) {
      for (let level = this.height; level < height; level++) preds[level] = HEAD;
      this.height = height;
    }
    this.next0[node] = this.next0[preds[0]];
    this.next0[preds[0]] = node;
    preds[0] = node;
    if (height === 1) return;
    if (this.upperUsed + height - 1 > this.upper.length) this.upper = grown(this.upper, this.upperUsed + height - 1);
    const base = this.upperUsed - 1;
    this.upperUsed += height - 1;
    this.upperBase[node] = base;
    const upper = this.upper;
    const upperBase = this.upperBase;
    for (let level = 1; level < height; level++) {
      const predSlot = upperBase[preds[level]] + level;
      upper[base + level] = upper[predSlot];
      upper[predSlot] = node;
      preds[level] = node;
    }
  }

  private growNodes(): void {
    this.next0 = grown(this.next0, this.next0.length + 1);
    this.upperBase = grown(this.upperBase, this.upperBase.length + 1);
  }

  /** Height h with probability (3/4)(1/4)^(h-1), two bits of one 32-bit draw per level (kBranching = 4). */
  private randomHeight(): number {
    let bits = (this.random() * 0x1_0000_0000) >>> 0;
    let height = 1;
    while (height < MAX_HEIGHT && (bits & 3) === 0) {
      height++;
      bits >>>= 2;
    }
    return height;
  }
}

/** A copy of `array` with at least `minLength` slots, doubling so appends stay amortized O(1). */
function grown(array: Int32Array, minLength: number): Int32Array<ArrayBuffer> {
  let length = array.length * 2;
  while (length < minLength) length *= 2;
  const copy = new Int32Array(length);
  copy.set(array);
  return copy;
}

/** Holds a node id, never a link array: growth replaces the arrays under it. */
class ListIterator<V> implements SkipListIterator<V> {
  private node = NIL;

  constructor(private readonly list: SkipList<V>) {}

  seekGE(target: string): void {
    this.node = this.list.findGreaterOrEqual(target);
  }

  seekToFirst(): void {
    this.node = this.list.successor(HEAD);
  }

  valid(): boolean {
    return this.node !== NIL;
  }

  key(): string {
    return this.list.keyAt(this.node);
  }

  value(): V {
    return this.list.valueAt(this.node);
  }

  next(): void {
    this.node = this.list.successor(this.node);
  }
}
