/**
 * Key order: Unicode code point order, which is the order of the keys' UTF-8
 * bytes and therefore the order SSTables keep on disk.
 *
 * JavaScript's `<` compares UTF-16 code units, which agrees with code point
 * order everywhere except between a surrogate (U+D800..U+DFFF, half of an
 * astral character) and a BMP unit in U+E000..U+FFFF. Rather than compare
 * character by character in JavaScript, every in-memory structure orders
 * *sort keys*: the key with its code units permuted so that native `<` on
 * sort keys is code point order on keys.
 *
 *   unit in [0000, D7FF] -> unchanged
 *   unit in [E000, FFFF] -> unit - 0x800   (lands in [D800, F7FF])
 *   unit in [D800, DFFF] -> unit + 0x2000  (lands in [F800, FFFF])
 *
 * Invariant: toSortKey(k) === k for every key without a unit >= U+D800 (the
 * common case costs one regex test and no allocation), and the permutation is
 * a bijection, so fromSortKey(toSortKey(k)) === k.
 */

const HIGH_UNITS = /[\uD800-\uFFFF]/;

/** Returns the string whose native order is code point order of `key`. */
export function toSortKey(key: string): string {
  if (!HIGH_UNITS.test(key)) return key;
  let out = '';
  for (let i = 0; i < key.length; i++) {
    const unit = key.charCodeAt(i);
    if (unit >= 0xe000) out += String.fromCharCode(unit - 0x800);
    else if (unit >= 0xd800) out += String.fromCharCode(unit + 0x2000);
    else out += key[i];
  }
  return out;
}

/** Inverse of toSortKey. */
export function fromSortKey(sortKey: string): string {
  if (!HIGH_UNITS.test(sortKey)) return sortKey;
  let out = '';
  for (let i = 0; i < sortKey.length; i++) {
    const unit = sortKey.charCodeAt(i);
    if (unit >= 0xf800) out += String.fromCharCode(unit - 0x2000);
    else if (unit >= 0xd800) out += String.fromCharCode(unit + 0x800);
    else out += sortKey[i];
  }
  return out;
}

/** The UTF-8 bytes of the key behind a sort key: what keys in SSTable blocks are compared with, bytewise. */
export function utf8OfSortKey(sortKey: string): Buffer {
  return Buffer.from(fromSortKey(sortKey), 'utf8');
}

/** Code point order of two keys: negative, zero or positive. */
export function compareKeys(a: string, b: string): number {
  const x = toSortKey(a);
  const y = toSortKey(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * UTF-8 byte length of the key behind a sort key, without encoding it.
 * In sort-key space a surrogate (one half of a 4-byte character) sits in
 * [F800, FFFF] and counts 2 bytes; [D800, F7FF] holds U+E000..U+FFFF, 3 bytes.
 */
export function utf8LengthOfSortKey(sortKey: string): number {
  let bytes = sortKey.length;
  for (let i = 0; i < sortKey.length; i++) {
    const unit = sortKey.charCodeAt(i);
    if (unit < 0x80) continue;
    bytes += unit < 0x800 || unit >= 0xf800 ? 1 : 2;
  }
  return bytes;
}
