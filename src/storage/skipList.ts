/**
 * The MemTable's ordered index: a skip list keyed by sort keys (keyOrder.ts),
 * after LevelDB's db/skiplist.h, with nodes laid out as in Pebble's arenaskl:
 * a node is an integer, its links live in typed arrays, never in objects.
 *
 * Two kinds of integer name a node:
 *   id                dense, 0 = the head: entries[2 id] its key, entries[2 id + 1]
 *                     its value (null = tombstone), side by side so a read of
 *                     both (get, scans) misses the cache once, not twice;
 *                     and next0[id], its level-0 successor (as an id)
 *   tower base        only for nodes of height >= 2 ("tall", 1 in 3): the
 *                     offset of its tower in `tower`, which holds
 *                       [base + 0]           lo: the low half of the key's order prefix (4)
 *                       [base + 1]           its id
 *                       [base + 2l]          its level-l successor, as a tower base  \ 1 <= l < height
 *                       [base + 2l + 1]      that successor's hi (4), a copy       /
 *                     The head's tower is at base 0, full height.
 *                     A tall node's hi lives only in the links that name it:
 *                     a walk reads it beside the link, so the node where a
 *                     level's walk stops is seldom touched at all (one cache
 *                     miss a level saved), and hi costs no slot of its own.
 * 0 is also NIL in both: the head is nobody's successor. Links at levels >= 1
 * name towers, not ids, so a search above level 0 reads one small run of
 * memory per node it visits (lo, id, links and the next hi together) and no
 * id -> tower table exists at all (that was 4 bytes a node).
 *
 * Invariants:
 * (1) Nodes are never removed or moved; a node's key never changes. Only set()
 *     changes links, and only by splicing a new node in, so an iterator parked
 *     on a node (it holds an id) stays valid and walks on through later inserts.
 * (2) At every level, keys strictly ascend along the links (native `<` on sort
 *     keys is code point order); level 0 holds each distinct key exactly once.
 * (3) The finger: fingerKey is the key of the latest set(), and preds[l] is the
 *     last level-l node with key < fingerKey, or the node holding it if that
 *     set() inserted it (preds[0] an id, preds[l >= 1] a tower base). Only set()
 *     changes links, so a key > fingerKey may start its search from preds[].
 *     Lookups (get, seekGE) must not write preds[].
 * (4) Order prefixes, so most compares above level 0 are two integer compares
 *     in memory already fetched instead of a walk into a string elsewhere:
 *     every tall node's key starts with `prefix`, and its tower (lo) and every
 *     link to it (hi) hold enc(key) = the WINDOW code units of the key after `prefix` (0 past the
 *     key's end), each in `unitBits` bits (7: all those units are ASCII, 8 to
 *     a window; 16: any unit, 4 to a window), packed big-endian into hi and lo
 *     (each flipped by 2^31 so signed order is unsigned order).
 *     enc is monotone: a <= b implies enc(a) <= enc(b). So enc(a) < enc(b)
 *     proves a < b and enc(a) > enc(b) proves a > b; only a tie needs the
 *     strings. A search target that does not start with `prefix` is below or
 *     above every tall key (±Infinity); one with a unit too wide for unitBits
 *     clamps that unit and every later one to the maximum, which keeps it
 *     monotone. When a new tall key does not fit (4), set() picks a shorter
 *     prefix or 16 bits and re-encodes every tower (refitOrder): rare, and
 *     O(tall nodes). Height-1 nodes carry no prefix and compare by string.
 *
 * Deletion is not supported: the LSM writes tombstones (null values) instead.
 */

const NIL = 0;
const HEAD = 0;
/** 3^15 ≈ 14M keys before the top level stops thinning; far above a MemTable. */
const MAX_HEIGHT = 15;
const INITIAL_NODE_CAPACITY = 1024;
/** Tower slots, from its base. */
const LO = 0;
const ID = 1;
/** Level-l link of the tower at base b: tower[b + LINK + 2 l] the successor's base, tower[b + LINK + 2 l + 1] a copy of its hi (4), so a walk that stops at a successor seldom reads it. */
const LINK = ID - 1;
const HEAD_TOWER_SLOTS = LINK + 2 * MAX_HEIGHT;
/** Above this many tall nodes a prefix that must shrink at least halves, so refits stay O(log key length) times. */
const EXACT_REFIT_LIMIT = 1024;

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
  /** Key, value, key, value, ...: see the layout above. */
  private readonly entries: Array<string | V> = ['', undefined as V];
  private next0 = new Int32Array(INITIAL_NODE_CAPACITY);
  private tower = new Int32Array(INITIAL_NODE_CAPACITY);
  private towerUsed = HEAD_TOWER_SLOTS;
  private tallNodes = 0;
  private height = 1;
  /** Reused by every set(): no allocation on the write path. Doubles as the finger, see (3). */
  private readonly preds = new Int32Array(MAX_HEIGHT);
  private fingerKey = ''; // preds[] all HEAD is a valid finger for '' (nothing sorts below it)
  /** The order-prefix regime of (4). */
  private prefix = '';
  private unitBits = 7;
  /** enc of the key last passed to encodeTarget: returned through fields, so no allocation. */
  private targetHi = 0;
  private targetLo = 0;

  /** `random` returns floats in [0,1); injectable so tests are deterministic. */
  constructor(private readonly random: () => number = Math.random) {}

  /** Number of distinct keys. */
  get size(): number {
    return (this.entries.length >>> 1) - 1;
  }

  /** The value stored at `key`, or undefined (a stored null is a tombstone, not a miss). */
  get(key: string): V | undefined {
    // findGreaterOrEqual, but a tall node whose order prefix ties with key's is
    // checked for equality at once: a hit there (1 in 3) skips every level below.
    this.encodeTarget(key);
    const hi = this.targetHi;
    const lo = this.targetLo;
    const entries = this.entries as Array<string | V>;
    const tower = this.tower;
    let x = HEAD;
    let knownNotLess = NIL;
    for (let level = this.height - 1; level > 0; level--) {
      for (;;) {
        const slot = x + LINK + 2 * level;
        const next = tower[slot];
        if (next === NIL || next === knownNotLess) break;
        const nextHi = tower[slot + 1];
        if (nextHi > hi) break;
        if (nextHi === hi) {
          const nextLo = tower[next + LO];
          if (nextLo > lo) break;
          if (nextLo === lo) {
            const id = tower[next + ID];
            const nextKey = entries[2 * id] as string;
            if (nextKey === key) return entries[2 * id + 1] as V;
            if (!(nextKey < key)) break;
          }
        }
        x = next;
      }
      knownNotLess = tower[x + LINK + 2 * level];
    }
    const stop = knownNotLess === NIL ? NIL : tower[knownNotLess + ID];
    const next0 = this.next0;
    let xi = tower[x + ID];
    for (;;) {
      const next = next0[xi];
      if (next === NIL) return undefined;
      const nextKey = entries[2 * next] as string;
      if (next === stop || !(nextKey < key)) return nextKey === key ? (entries[2 * next + 1] as V) : undefined;
      xi = next;
    }
  }

  /** Inserts, or replaces the value of an existing key in place. Returns the previous value, or undefined when the key was new. */
  set(key: string, value: V): V | undefined {
    const fits = this.encodeTarget(key);
    const found = key > this.fingerKey ? this.descendFromFinger(key) : this.descendRecording(key, HEAD, this.height - 1);
    this.fingerKey = key;
    if (found !== NIL && this.entries[2 * found] === key) {
      const previous = this.entries[2 * found + 1] as V;
      this.entries[2 * found + 1] = value;
      return previous;
    }
    this.insertAfterPreds(key, value, fits);
    return undefined;
  }

  /** A new unpositioned iterator (valid() is false until seekGE/seekToFirst). */
  iterator(): SkipListIterator<V> {
    return new ListIterator(this);
  }

  /** @internal The id of the first node whose key is >= key, or NIL. Leaves preds[] alone. */
  findGreaterOrEqual(key: string): number {
    this.encodeTarget(key);
    const hi = this.targetHi;
    const lo = this.targetLo;
    const entries = this.entries as string[];
    const tower = this.tower;
    let x = HEAD;
    // A node already found >= key one level up needs no second compare here.
    let knownNotLess = NIL;
    for (let level = this.height - 1; level > 0; level--) {
      for (;;) {
        const slot = x + LINK + 2 * level;
        const next = tower[slot];
        if (next === NIL || next === knownNotLess || !towerLess(tower, entries, slot, hi, lo, key)) {
          knownNotLess = next;
          break;
        }
        x = next;
      }
    }
    const stop = knownNotLess === NIL ? NIL : tower[knownNotLess + ID];
    const next0 = this.next0;
    let xi = tower[x + ID];
    for (;;) {
      const next = next0[xi];
      if (next === NIL || next === stop || !(entries[2 * next] < key)) return next;
      xi = next;
    }
  }

  /** @internal */
  successor(node: number): number {
    return this.next0[node];
  }

  /** @internal */
  keyAt(node: number): string {
    return this.entries[2 * node] as string;
  }

  /** @internal */
  valueAt(node: number): V {
    return this.entries[2 * node + 1] as V;
  }

  /**
   * Sets targetHi/targetLo to enc(key) under (4), clamped if key does not fit;
   * returns whether it fits (so the key could be a tall node's as it is).
   */
  private encodeTarget(key: string): boolean {
    const prefix = this.prefix;
    if (!key.startsWith(prefix)) {
      // Every tall key starts with prefix, so key sorts below or above all of them.
      this.targetHi = key < prefix ? -Infinity : Infinity;
      this.targetLo = 0;
      return false;
    }
    const bits = this.unitBits;
    const length = key.length;
    let at = prefix.length;
    if (bits === 7 && at + 8 <= length) {
      // The common case, unrolled: a full 8-unit window, every unit checked ASCII at once.
      const u0 = key.charCodeAt(at);
      const u1 = key.charCodeAt(at + 1);
      const u2 = key.charCodeAt(at + 2);
      const u3 = key.charCodeAt(at + 3);
      const u4 = key.charCodeAt(at + 4);
      const u5 = key.charCodeAt(at + 5);
      const u6 = key.charCodeAt(at + 6);
      const u7 = key.charCodeAt(at + 7);
      if ((u0 | u1 | u2 | u3 | u4 | u5 | u6 | u7) < 0x80) {
        this.targetHi = ((u0 << 21) | (u1 << 14) | (u2 << 7) | u3) ^ 0x8000_0000;
        this.targetLo = ((u4 << 21) | (u5 << 14) | (u6 << 7) | u7) ^ 0x8000_0000;
        return true;
      }
    }
    const perHalf = bits === 7 ? 4 : 2;
    const max = (1 << bits) - 1;
    const scale = max + 1;
    let fits = true;
    let hi = 0;
    let lo = 0;
    for (let i = 0; i < 2 * perHalf; i++, at++) {
      let unit = at < length ? key.charCodeAt(at) : 0;
      if (!fits || unit > max) {
        unit = max;
        fits = false;
      }
      if (i < perHalf) hi = hi * scale + unit;
      else lo = lo * scale + unit;
    }
    this.targetHi = hi ^ 0x8000_0000;
    this.targetLo = lo ^ 0x8000_0000;
    return fits;
  }

  /**
   * Like findGreaterOrEqual from node x at `level` down, recording in preds[]
   * the last node < key at each level walked; returns the id found.
   * x is a tower base if level > 0, else an id. REQUIRES: x's key < key (or
   * x is HEAD), and encodeTarget(key) just ran.
   */
  private descendRecording(key: string, x: number, level: number): number {
    const entries = this.entries as string[];
    const preds = this.preds;
    let xi = x;
    let stop = NIL;
    if (level > 0) {
      const tower = this.tower;
      const hi = this.targetHi;
      const lo = this.targetLo;
      let knownNotLess = NIL;
      for (; level > 0; level--) {
        for (;;) {
          const slot = x + LINK + 2 * level;
          const next = tower[slot];
          if (next === NIL || next === knownNotLess || !towerLess(tower, entries, slot, hi, lo, key)) {
            knownNotLess = next;
            break;
          }
          x = next;
        }
        preds[level] = x;
      }
      xi = tower[x + ID];
      if (knownNotLess !== NIL) stop = tower[knownNotLess + ID];
    }
    const next0 = this.next0;
    for (;;) {
      const next = next0[xi];
      if (next === NIL || next === stop || !(entries[2 * next] < key)) {
        preds[0] = xi;
        return next;
      }
      xi = next;
    }
  }

  /**
   * For key > fingerKey: every preds[l] is then < key, and if preds[l]'s successor
   * is >= key, so is preds[l+1]'s (it is further right). So climb to the lowest
   * level whose gap holds key and descend from there: O(1) for ascending loads.
   */
  private descendFromFinger(key: string): number {
    const preds = this.preds;
    const top = this.height - 1;
    const next = this.next0[preds[0]];
    if (top === 0 || next === NIL || !((this.entries[2 * next] as string) < key)) return this.descendRecording(key, preds[0], 0);
    const tower = this.tower;
    const entries = this.entries as string[];
    const hi = this.targetHi;
    const lo = this.targetLo;
    let knownLess = -1; // the successor that failed one level down
    let level = 1;
    for (; level < top; level++) {
      const slot = preds[level] + LINK + 2 * level;
      const next = tower[slot];
      if (next === knownLess) continue;
      if (next === NIL || !towerLess(tower, entries, slot, hi, lo, key)) break;
      knownLess = next;
    }
    return this.descendRecording(key, preds[level], level);
  }

  /** REQUIRES: preds[] holds key's predecessors at every level (a descendRecording just ran), `fits` from encodeTarget(key). */
  private insertAfterPreds(key: string, value: V, fits: boolean): void {
    const node = this.entries.length >>> 1;
    if (node === this.next0.length) this.next0 = grown(this.next0, node + 1);
    this.entries.push(key, value);
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

    if (!fits || this.tallNodes === 0) {
      this.refitOrder(key);
      this.encodeTarget(key);
    }
    const base = this.towerUsed;
    const end = base + LINK + 2 * height;
    if (end > this.tower.length) this.tower = grown(this.tower, end);
    this.towerUsed = end;
    const tower = this.tower;
    const hi = this.targetHi;
    tower[base + LO] = this.targetLo;
    tower[base + ID] = node;
    for (let level = 1; level < height; level++) {
      const predSlot = preds[level] + LINK + 2 * level;
      const slot = base + LINK + 2 * level;
      tower[slot] = tower[predSlot];
      tower[slot + 1] = tower[predSlot + 1];
      tower[predSlot] = base;
      tower[predSlot + 1] = hi;
      preds[level] = base;
    }
    this.tallNodes++;
  }

  /**
   * Restores (4) for a new tall key that does not fit: the longest prefix all
   * tall keys and this one share (or, for a large list, at most half the old
   * one, bounding how often this runs), 7 bits if every window allows, and
   * every tower re-encoded. Walks level 1, which holds every tall node.
   */
  private refitOrder(key: string): void {
    let prefix: string;
    if (this.tallNodes === 0) prefix = key;
    else if (key.startsWith(this.prefix)) prefix = this.prefix;
    else {
      const old = this.prefix;
      let shared = 0;
      while (shared < old.length && shared < key.length && old.charCodeAt(shared) === key.charCodeAt(shared)) shared++;
      prefix = old.slice(0, this.tallNodes < EXACT_REFIT_LIMIT ? shared : Math.min(shared, old.length >>> 1));
    }
    this.prefix = prefix;
    const tower = this.tower;
    const entries = this.entries as string[];
    let bits = windowIsAscii(key, prefix.length) ? 7 : 16;
    for (let x = tower[HEAD + LINK + 2]; bits === 7 && x !== NIL; x = tower[x + LINK + 2]) {
      if (!windowIsAscii(entries[2 * tower[x + ID]], prefix.length)) bits = 16;
    }
    this.unitBits = bits;
    // Every tower's lo, and the hi copy in every link at every level (level 1 first: it holds every tall node).
    for (let level = 1; level < this.height; level++) {
      for (let x = HEAD; ; ) {
        const slot = x + LINK + 2 * level;
        const next = tower[slot];
        if (next === NIL) break;
        this.encodeTarget(entries[2 * tower[next + ID]]);
        tower[slot + 1] = this.targetHi;
        if (level === 1) tower[next + LO] = this.targetLo;
        x = next;
      }
    }
  }

  /**
   * Height h with probability (2/3)(1/3)^(h-1), from one draw (each level
   * uses the next base-3 digit of it). p = 1/3 measured faster than 1/4 at 1M
   * keys (fewer nodes visited per level) at the same bytes; 1/2 cost 7 bytes
   * an entry more.
   */
  private randomHeight(): number {
    let draw = this.random();
    let height = 1;
    while (height < MAX_HEIGHT && draw < 1 / 3) {
      height++;
      draw *= 3;
    }
    return height;
  }
}

/**
 * (Key of the successor named by the link at `slot`, not NIL) < key, deciding by order prefix (4) where it can:
 * by the link's copy of its hi first, which lives beside the link, then by its own lo.
 * hi/lo: enc(key), ±Infinity in hi when key lies outside the prefix.
 */
function towerLess(tower: Int32Array, entries: string[], slot: number, hi: number, lo: number, key: string): boolean {
  const nextHi = tower[slot + 1];
  if (nextHi !== hi) return nextHi < hi;
  const next = tower[slot];
  const nextLo = tower[next + LO];
  if (nextLo !== lo) return nextLo < lo;
  return entries[2 * tower[next + ID]] < key;
}

/** Whether the 8 units a 7-bit window (4) would take from `start` are all ASCII. */
function windowIsAscii(key: string, start: number): boolean {
  const end = Math.min(key.length, start + 8);
  for (let i = start; i < end; i++) if (key.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * A copy of `array` with at least `minLength` slots, growing by half so
 * appends stay amortized O(1) while at most a third of it sits unused.
 */
function grown(array: Int32Array, minLength: number): Int32Array<ArrayBuffer> {
  let length = Math.ceil(array.length * 1.5);
  while (length < minLength) length = Math.ceil(length * 1.5);
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
