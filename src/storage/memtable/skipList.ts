/**
 * The MemTable's ordered index: a skip list keyed by sort keys (keyOrder.ts),
 * after LevelDB's db/skiplist.h, with nodes laid out as in Pebble's arenaskl:
 * a node is an integer, its links live in typed arrays, never in objects.
 *
 * Key differences from them:
 *   - One writer and readers on the same thread, so no atomics, no
 *     lock-free insert (both of theirs allow concurrent readers).
 *   - A key is set, not only inserted: a second write of a key replaces its
 *     value in place (replaceValueAt) instead of adding a newer entry under
 *     a sequence number, since the MemTable keeps one version of each key.
 *   - A finger (invariant 3): the predecessors of the last set() are kept,
 *     so ascending or nearby writes start their search there, not at the head.
 *   - Order prefixes (invariant 4): a few code units of each key packed into
 *     integers beside the links, so most comparisons never touch the key
 *     string; the strings decide only ties.
 *
 * Two kinds of integer name a node:
 *   id                dense, 0 = the head: entries[2 id] its key, entries[2 id + 1]
 *                     its value (null = tombstone), side by side so a read of
 *                     both (get, scans) misses the cache once, not twice;
 *                     next0[id] its level-0 successor (as an id), and mid0[id]
 *                     mid, the second part of its key's order prefix (4)
 *   tower base        only for nodes of height >= 2 ("tall", 1 in 4): the
 *                     offset of its tower in `tower`, which holds
 *                       [base + 0]           its mid again, beside its id: a tie on hi
 *                                            above level 0 reads one cache line, not two
 *                       [base + 1]           its id
 *                       [base + 2l]          its level-l successor, as a tower base  \ 1 <= l < height
 *                       [base + 2l + 1]      that successor's hi (4), a copy       /
 *                     The head's tower is at base 0, full height.
 *                     A tall node's hi lives only in the links that name it:
 *                     a walk reads it beside the link, so the node where a
 *                     level's walk stops is seldom touched at all (one cache
 *                     miss a level saved), and hi costs no slot of its own.
 *                     Every node's mid is in mid0, so at level 0 a walk
 *                     between two tall nodes whose hi starts like the
 *                     target's compares integers, not strings (their keys
 *                     lie in memory far away: that was most of a put's time).
 * 0 is also NIL in both: the head is nobody's successor. Links at levels >= 1
 * name towers, not ids, so a search above level 0 reads one small run of
 * memory per node it visits (mid, id, links and the next hi together) and no
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
 * (4) Order prefixes, so most compares are integer compares on memory
 *     already fetched instead of a walk into a string elsewhere. enc(key) is
 *     the window of code units after `prefix` (0 past the key's end), each in
 *     `unitBits` bits (7 while all are ASCII: 6 units; 16: any unit, 3),
 *     cut in three thirds: hi packs the first two, mid the last two, each
 *     big-endian and flipped by 2^31 so signed order is unsigned order. Every
 *     tall node's key starts with `prefix` and fits; every link to it holds
 *     its hi, its tower its mid. Every node, short ones too, has its mid in
 *     mid0 (clamped as a search target's, below, if its key does not fit; 0
 *     without the prefix); a short node's hi is stored nowhere. Among keys
 *     whose first third ("top", hi >> topShift) is equal, mid orders them; a
 *     short node between two tall nodes whose top is the target's has that
 *     top too, so level 0 may decide by mid there.
 *     enc is monotone: a <= b implies enc(a) <= enc(b). So enc(a) < enc(b)
 *     proves a < b and enc(a) > enc(b) proves a > b; only a tie needs the
 *     strings. A search target that does not start with `prefix` is below or
 *     above every tall key (±Infinity); one with a unit too wide for unitBits
 *     clamps that unit and every later one to the maximum, which keeps it
 *     monotone. When a new tall key does not fit (4), set() picks a shorter
 *     prefix or 16 bits and re-encodes every node (refitOrder): rare, and
 *     O(nodes).
 *
 * Deletion is not supported: the LSM writes tombstones (null values) instead.
 */

const NIL = 0;
const HEAD = 0;
/** 4^15 ≈ 1G keys before the top level stops thinning; far above a MemTable. */
const MAX_HEIGHT = 15;
const INITIAL_NODE_CAPACITY = 1024;
/** Tower slots, from its base. */
const MID = 0;
const ID = 1;
/** Level-l link of the tower at base b: tower[b + LINK + 2 l] the successor's base, tower[b + LINK + 2 l + 1] a copy of its hi (4), so a walk that stops at a successor seldom reads it. */
const LINK = ID - 1;
const HEAD_TOWER_SLOTS = LINK + 2 * MAX_HEIGHT;
/** Units in a 7-bit window (4); a 16-bit window has 3. */
const ASCII_WINDOW = 6;
/** Above this many tall nodes a prefix that must shrink at least halves, so refits stay O(log MAX_PREFIX) times. */
const EXACT_REFIT_LIMIT = 1024;
/**
 * Units a prefix (4) keeps at most. Each refit shortens the prefix, so this
 * bounds how many run before EXACT_REFIT_LIMIT tall nodes, and the work of
 * each startsWith. Without it, 1,000 puts of 1 KB keys whose shared run
 * shrank by one unit each took 10 s: a refit per put, each over every node.
 */
const MAX_PREFIX = 64;

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
  /** Per id: its level-0 successor. */
  private next0 = new Int32Array(INITIAL_NODE_CAPACITY);
  /** Per id: its mid (4). Apart from next0, so a scan's walk touches half the bytes. */
  private mid0 = new Int32Array(INITIAL_NODE_CAPACITY);
  private tower = new Int32Array(INITIAL_NODE_CAPACITY);
  private towerUsed = HEAD_TOWER_SLOTS;
  private tallNodes = 0;
  private height = 1;
  /** Reused by every set(): no allocation on the write path. Doubles as the finger, see (3). */
  private readonly preds = new Int32Array(MAX_HEIGHT);
  /** Where lookups' descents record, so they never move the finger. */
  private readonly lookupPreds = new Int32Array(MAX_HEIGHT);
  private fingerKey = ''; // preds[] all HEAD is a valid finger for '' (nothing sorts below it)
  /** The order-prefix regime of (4). */
  private prefix = '';
  private unitBits = 7;
  /** hi >> topShift is the top third of enc (4): 14 for 7-bit units, 16 for 16-bit. */
  private topShift = 14;
  /** enc of the key last passed to encodeTarget: returned through fields, so no allocation. */
  private targetHi = 0;
  private targetMid = 0;
  /** Set by seekLevel0: the node it returned is proven above the target by its order prefix, so no string compare is needed to know they differ. */
  private foundAbove = false;
  /** Set by seekLevel0: the last level-0 node it passed whose key < the target (an id); descents record it in preds[0]. */
  private levelZeroPred = HEAD;

  /** `random` returns floats in [0,1); injectable so tests are deterministic. */
  constructor(private readonly random: () => number = Math.random) {}

  /** Number of distinct keys. */
  get size(): number {
    return (this.entries.length >>> 1) - 1;
  }

  /** The value stored at `key`, or undefined (a stored null is a tombstone, not a miss). */
  get(key: string): V | undefined {
    // findGreaterOrEqual, but a tall node whose order prefix ties with key's is
    // checked for equality at once: a hit there (1 in 4) skips every level below.
    this.encodeTarget(key);
    const hi = this.targetHi;
    const mid = this.targetMid;
    const entries = this.entries as Array<string | V>;
    const tower = this.tower;
    let x = HEAD;
    let xHi = -Infinity;
    let knownNotLess = NIL;
    for (let level = this.height - 1; level > 0; level--) {
      for (;;) {
        const slot = x + LINK + 2 * level;
        const next = tower[slot];
        if (next === NIL || next === knownNotLess) break;
        const nextHi = tower[slot + 1];
        if (nextHi > hi) break;
        if (nextHi === hi) {
          const nextMid = tower[next + MID];
          if (nextMid > mid) break;
          if (nextMid === mid) {
            const id = tower[next + ID];
            const nextKey = entries[2 * id] as string;
            if (nextKey === key) return entries[2 * id + 1] as V;
            if (!(nextKey < key)) break;
          }
        }
        x = next;
        xHi = nextHi;
      }
      knownNotLess = tower[x + LINK + 2 * level];
    }
    const found = this.seekLevel0(key, tower[x + ID], x, xHi, knownNotLess);
    if (found === NIL || this.foundAbove) return undefined;
    return entries[2 * found] === key ? (entries[2 * found + 1] as V) : undefined;
  }

  /** Inserts, or replaces the value of an existing key in place. Returns the previous value, or undefined when the key was new. */
  set(key: string, value: V): V | undefined {
    const fits = this.encodeTarget(key);
    const found = key > this.fingerKey ? this.descendFromFinger(key) : this.descend(key, HEAD, this.height - 1, this.preds);
    this.fingerKey = key;
    if (found !== NIL && !this.foundAbove && this.entries[2 * found] === key) {
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

  /** @internal The id of the first node whose key is >= key, or NIL. Leaves preds[] alone (3). */
  findGreaterOrEqual(key: string): number {
    this.encodeTarget(key);
    return this.descend(key, HEAD, this.height - 1, this.lookupPreds);
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
   * Replaces node `node`'s value in place and returns the old one: what set()
   * does to an existing key, for a caller that already knows the node (a
   * point index beside the list). Ids are dense: the n-th key inserted is
   * node n. Links and the finger are untouched, so (1) and (3) hold.
   */
  replaceValueAt(node: number, value: V): V {
    if (!(node >= 1 && node <= this.size)) throw new RangeError(`no node ${node}`);
    const previous = this.entries[2 * node + 1] as V;
    this.entries[2 * node + 1] = value;
    return previous;
  }

  /**
   * Sets targetHi/targetMid to enc(key) under (4), clamped if key does not fit;
   * returns whether it fits (so the key could be a tall node's as it is).
   */
  private encodeTarget(key: string): boolean {
    const prefix = this.prefix;
    if (!key.startsWith(prefix)) {
      // Every tall key starts with prefix, so key sorts below or above all of them.
      this.targetHi = key < prefix ? -Infinity : Infinity;
      this.targetMid = 0;
      return false;
    }
    const bits = this.unitBits;
    const length = key.length;
    let at = prefix.length;
    if (bits === 7 && at + ASCII_WINDOW <= length) {
      // The common case, unrolled: a full window, every unit checked ASCII at once.
      const u0 = key.charCodeAt(at);
      const u1 = key.charCodeAt(at + 1);
      const u2 = key.charCodeAt(at + 2);
      const u3 = key.charCodeAt(at + 3);
      const u4 = key.charCodeAt(at + 4);
      const u5 = key.charCodeAt(at + 5);
      if ((u0 | u1 | u2 | u3 | u4 | u5) < 0x80) {
        this.targetHi = ((u0 << 21) | (u1 << 14) | (u2 << 7) | u3) ^ 0x8000_0000;
        this.targetMid = ((u2 << 21) | (u3 << 14) | (u4 << 7) | u5) ^ 0x8000_0000;
        return true;
      }
    }
    // A window of 3 thirds, each `third` units: hi packs thirds 0-1, mid thirds 1-2.
    const third = bits === 7 ? 2 : 1;
    const max = (1 << bits) - 1;
    const scale = max + 1;
    let fits = true;
    let hi = 0;
    let mid = 0;
    for (let i = 0; i < 3 * third; i++, at++) {
      let unit = at < length ? key.charCodeAt(at) : 0;
      if (!fits || unit > max) {
        unit = max;
        fits = false;
      }
      if (i < 2 * third) hi = hi * scale + unit;
      if (i >= third) mid = mid * scale + unit;
    }
    this.targetHi = hi ^ 0x8000_0000;
    this.targetMid = mid ^ 0x8000_0000;
    return fits;
  }

  /**
   * The search: from node x at `level` down to the first node whose key >=
   * key (its id, or NIL), recording in `preds` the last node < key at each
   * level walked (this.preds for set(), which keeps them as the finger (3);
   * scratch for lookups). x is a tower base if level > 0, else an id.
   * REQUIRES: x's key < key (or x is HEAD), and encodeTarget(key) just ran.
   */
  private descend(key: string, x: number, level: number, preds: Int32Array): number {
    if (level === 0) {
      const found = this.seekLevel0(key, x, NIL, NaN, NIL);
      preds[0] = this.levelZeroPred;
      return found;
    }
    const entries = this.entries as string[];
    const tower = this.tower;
    const hi = this.targetHi;
    const mid = this.targetMid;
    // x's hi, known once the walk has moved (a finger's node keeps none): only the head's is known from the start.
    let xHi = x === HEAD ? -Infinity : NaN;
    let knownNotLess = NIL;
    for (; level > 0; level--) {
      for (;;) {
        const slot = x + LINK + 2 * level;
        const next = tower[slot];
        if (next === NIL || next === knownNotLess || !towerLess(tower, entries, slot, hi, mid, key)) {
          knownNotLess = next;
          break;
        }
        x = next;
        xHi = tower[slot + 1];
      }
      preds[level] = x;
    }
    const found = this.seekLevel0(key, tower[x + ID], x, xHi, knownNotLess);
    preds[0] = this.levelZeroPred;
    return found;
  }

  /**
   * The level-0 end of every search: from node xi (an id), whose key < key,
   * to the first node whose key >= key, stopping at `stop` if it comes first;
   * returns that node's id (NIL past the end), leaves the last node < key in
   * levelZeroPred and sets foundAbove. Writes no preds[] (3). When xi is a
   * tall node reached from above: x its tower base, xHi its hi (4) (NaN if
   * unknown), and stop its level-1 successor (a tower base, known >= key);
   * else x and stop are NIL. Between x and stop every key shares their top
   * when both equal key's, so mid decides there unless it ties, and no key
   * string is read.
   */
  private seekLevel0(key: string, xi: number, x: number, xHi: number, stop: number): number {
    const entries = this.entries as string[];
    const next0 = this.next0;
    const mid0 = this.mid0;
    const tower = this.tower;
    const hi = this.targetHi;
    const mid = this.targetMid;
    let stopId = NIL;
    let byMid = false;
    let stopAbove = false;
    if (stop !== NIL) {
      stopId = tower[stop + ID];
      const stopHi = tower[x + LINK + 2 + 1]; // the level-1 link from x to stop carries stop's hi
      const shift = this.topShift;
      const top = hi >> shift;
      // (v | 0) === v: v is a real hi, not ±Infinity (a target outside the prefix, the head) or NaN (unknown).
      byMid = (hi | 0) === hi && (xHi | 0) === xHi && xHi >> shift === top && stopHi >> shift === top;
      stopAbove = stopHi > hi || (stopHi === hi && tower[stop + MID] > mid);
    }
    let above = false;
    let next: number;
    for (;;) {
      next = next0[xi];
      if (next === NIL) break;
      if (next === stopId) {
        above = stopAbove;
        break;
      }
      if (byMid) {
        const nextMid = mid0[next];
        if (nextMid > mid) {
          above = true;
          break;
        }
        if (nextMid < mid) {
          xi = next;
          continue;
        }
      }
      if (!(entries[2 * next] < key)) break;
      xi = next;
    }
    this.levelZeroPred = xi;
    this.foundAbove = above;
    return next;
  }

  /**
   * For key > fingerKey: every preds[l] is then < key, and if preds[l]'s successor
   * is >= key, so is preds[l+1]'s (it is further right). So climb to the lowest
   * level whose gap holds key and descend from there: O(1) for ascending loads.
   */
  private descendFromFinger(key: string): number {
    const preds = this.preds;
    const top = this.height - 1;
    if (top === 0) return this.descend(key, preds[0], 0, preds);
    const tower = this.tower;
    const entries = this.entries as string[];
    const hi = this.targetHi;
    const mid = this.targetMid;
    // Level 1 first: a link carries its successor's hi, so a key far from the
    // finger (a random load) is placed without reading a key string.
    let knownLess = -1; // the successor that failed one level down
    let level = 1;
    for (; level < top; level++) {
      const slot = preds[level] + LINK + 2 * level;
      const next = tower[slot];
      if (next === knownLess) continue;
      if (next === NIL || !towerLess(tower, entries, slot, hi, mid, key)) break;
      knownLess = next;
    }
    if (level === 1) {
      // Inside preds[1]'s level-1 gap, perhaps inside preds[0]'s level-0 gap: where ascending loads land.
      const next = this.next0[preds[0]];
      if (next === NIL || !(entries[2 * next] < key)) return this.descend(key, preds[0], 0, preds);
    }
    return this.descend(key, preds[level], level, preds);
  }

  /** REQUIRES: preds[] holds key's predecessors at every level (a descend into this.preds just ran), `fits` from encodeTarget(key). */
  private insertAfterPreds(key: string, value: V, fits: boolean): void {
    const node = this.entries.length >>> 1;
    if (node === this.next0.length) {
      this.next0 = grown(this.next0, node + 1);
      this.mid0 = grown(this.mid0, node + 1);
    }
    this.entries.push(key, value);
    const preds = this.preds;
    const height = this.randomHeight();
    if (height > this.height) {
      for (let level = this.height; level < height; level++) preds[level] = HEAD;
      this.height = height;
    }
    if (height > 1 && (!fits || this.tallNodes === 0)) {
      this.refitOrder(key);
      this.encodeTarget(key);
    }
    const next0 = this.next0;
    next0[node] = next0[preds[0]];
    next0[preds[0]] = node;
    this.mid0[node] = this.targetMid;
    preds[0] = node;
    if (height === 1) return;

    const base = this.towerUsed;
    const end = base + LINK + 2 * height;
    if (end > this.tower.length) this.tower = grown(this.tower, end);
    this.towerUsed = end;
    const tower = this.tower;
    const hi = this.targetHi;
    tower[base + MID] = this.targetMid;
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
   * tall keys and this one share, at most MAX_PREFIX units (or, for a large
   * list, at most half the old one, bounding how often this runs), 7 bits if
   * every window allows, and every node re-encoded: mid in mid0 and towers,
   * hi in every link. Walks every level.
   */
  private refitOrder(key: string): void {
    let prefix: string;
    if (this.tallNodes === 0) prefix = key.slice(0, MAX_PREFIX);
    else if (key.startsWith(this.prefix)) prefix = this.prefix;
    else {
      const old = this.prefix;
      let shared = 0;
      while (shared < old.length && shared < key.length && old.charCodeAt(shared) === key.charCodeAt(shared)) shared++;
      prefix = old.slice(0, this.tallNodes < EXACT_REFIT_LIMIT ? shared : Math.min(shared, old.length >>> 1));
    }
    this.prefix = prefix;
    const tower = this.tower;
    const next0 = this.next0;
    const entries = this.entries as string[];
    let bits = windowIsAscii(key, prefix.length) ? 7 : 16;
    for (let x = tower[HEAD + LINK + 2]; bits === 7 && x !== NIL; x = tower[x + LINK + 2]) {
      if (!windowIsAscii(entries[2 * tower[x + ID]], prefix.length)) bits = 16;
    }
    this.unitBits = bits;
    this.topShift = bits === 7 ? 14 : 16;
    for (let id = next0[HEAD]; id !== NIL; id = next0[id]) {
      this.encodeTarget(entries[2 * id]);
      this.mid0[id] = this.targetMid;
    }
    for (let level = 1; level < this.height; level++) {
      for (let x = HEAD; ; ) {
        const slot = x + LINK + 2 * level;
        const next = tower[slot];
        if (next === NIL) break;
        this.encodeTarget(entries[2 * tower[next + ID]]);
        tower[slot + 1] = this.targetHi;
        if (level === 1) tower[next + MID] = this.targetMid;
        x = next;
      }
    }
  }

  /**
   * Height h with probability (3/4)(1/4)^(h-1), from one draw (each level
   * uses the next base-4 digit of it). With mid0 a level-0 step costs an
   * integer compare, so p = 1/4 now puts as fast as 1/3 and saves the bytes
   * mid0 costs (1/3 measured faster while level 0 compared strings; 1/2
   * cost 7 bytes an entry more).
   */
  private randomHeight(): number {
    let draw = this.random();
    let height = 1;
    while (height < MAX_HEIGHT && draw < 1 / 4) {
      height++;
      draw *= 4;
    }
    return height;
  }
}

/**
 * (Key of the successor named by the link at `slot`, not NIL) < key, deciding by order prefix (4) where it can:
 * by the link's copy of its hi first, which lives beside the link, then (hi tied, so tops too) by the mid in its tower.
 * hi/mid: enc(key), ±Infinity in hi when key lies outside the prefix.
 */
function towerLess(tower: Int32Array, entries: string[], slot: number, hi: number, mid: number, key: string): boolean {
  const nextHi = tower[slot + 1];
  if (nextHi !== hi) return nextHi < hi;
  const next = tower[slot];
  const nextMid = tower[next + MID];
  if (nextMid !== mid) return nextMid < mid;
  return entries[2 * tower[next + ID]] < key;
}

/** Whether the units a 7-bit window (4) would take from `start` are all ASCII. */
function windowIsAscii(key: string, start: number): boolean {
  const end = Math.min(key.length, start + ASCII_WINDOW);
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
    return this.list.keyAt(this.positioned());
  }

  value(): V {
    return this.list.valueAt(this.positioned());
  }

  next(): void {
    this.node = this.list.successor(this.positioned());
  }

  /** The current node; throws unless valid() (iterator.ts): NIL would read the head's empty key. */
  private positioned(): number {
    if (this.node === NIL) throw new Error('ListIterator: not valid');
    return this.node;
  }
}
