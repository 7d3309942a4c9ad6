/**
 * JSON value equality for lin-kv's `cas`, exact for numbers of any length.
 *
 * Two JSON texts are equal iff they denote the same value: strings by their
 * decoded characters, objects by their member sets (order ignored; with
 * duplicate names the last one counts, as with JSON.parse), arrays item by
 * item, and numbers by exact decimal value: `1`, `1.0`, `1e0` and `10e-1`
 * are equal, `-0` equals `0`, and `12345678901234567891` differs from
 * `12345678901234567890` however many digits they have. JSON.parse would
 * round both to the same double, so numbers never go through it: each is
 * reduced to a canonical decimal (sign, significant digits without leading
 * or trailing zeros, exponent as a bigint) and those are compared as strings.
 *
 * Invariant: `canonicalDecimal(a) === canonicalDecimal(b)` iff a and b
 * denote the same rational number; no floating point anywhere.
 */

/** A parsed JSON value whose numbers are kept as canonical decimals. */
type Tree = null | boolean | string | ExactNumber | Tree[] | Map<string, Tree>;

class ExactNumber {
  constructor(readonly canonical: string) {}
}

const LITERALS: ReadonlyArray<[string, Tree]> = [['true', true], ['false', false], ['null', null]];

const NUMBER = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * Requires: `text` is a JSON number. Returns its value as `[-]DIGITSeEXP`
 * with DIGITS free of leading and trailing zeros, or `0` for zero.
 */
export function canonicalDecimal(text: string): string {
  const match = NUMBER.exec(text);
  if (match === null) throw new SyntaxError(`not a JSON number: ${text}`);
  const [, sign, integer, fraction = '', exponent = '0'] = match;
  let digits = integer + fraction;
  let first = 0;
  while (first < digits.length && digits.charCodeAt(first) === 0x30) first++;
  if (first === digits.length) return '0';
  let last = digits.length;
  while (digits.charCodeAt(last - 1) === 0x30) last--;
  digits = digits.slice(first, last);
  // value = 0.DIGITS-with-zeros... expressed as DIGITS × 10^scale
  const scale = BigInt(exponent) - BigInt(fraction.length) + BigInt(integer.length + fraction.length - last);
  return `${sign}${digits}e${scale}`;
}

/** True iff the JSON texts `a` and `b` denote the same value (see the top of this file). Requires: both valid JSON. */
export function sameJsonValue(a: string, b: string): boolean {
  return a === b || treesEqual(parseExact(a), parseExact(b));
}

function treesEqual(x: Tree, y: Tree): boolean {
  if (x === y) return true;
  if (x instanceof ExactNumber) return y instanceof ExactNumber && x.canonical === y.canonical;
  if (Array.isArray(x)) return Array.isArray(y) && x.length === y.length && x.every((item, i) => treesEqual(item, y[i]));
  if (x instanceof Map) {
    if (!(y instanceof Map) || x.size !== y.size) return false;
    for (const [name, item] of x) {
      if (!y.has(name) || !treesEqual(item, y.get(name)!)) return false;
    }
    return true;
  }
  return false;
}

/** Parses one JSON text, numbers kept exact. Throws SyntaxError on text that is not JSON. */
function parseExact(text: string): Tree {
  let i = 0;
  const fail = (): never => {
    throw new SyntaxError(`invalid JSON at offset ${i}`);
  };
  const skipWhitespace = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const expect = (literal: string): void => {
    if (!text.startsWith(literal, i)) fail();
    i += literal.length;
  };
  const parseString = (): string => {
    const start = i;
    i++; // the opening quote
    let escaped = false;
    for (;;) {
      if (i >= text.length) fail();
      const c = text[i++];
      if (c === '"') break;
      if (c === '\\') {
        escaped = true;
        i++;
      }
    }
    return escaped ? (JSON.parse(text.slice(start, i)) as string) : text.slice(start + 1, i - 1);
  };
  /** At an opening bracket: parses comma-separated elements with `element` up to `close`, and steps past it. */
  const parseElements = (close: string, element: () => void): void => {
    i++;
    skipWhitespace();
    while (text[i] !== close) {
      element();
      skipWhitespace();
      if (text[i] !== close) expect(',');
    }
    i++;
  };
  const parseValue = (): Tree => {
    skipWhitespace();
    const c = text[i];
    if (c === '"') return parseString();
    if (c === '{') {
      const members = new Map<string, Tree>();
      parseElements('}', () => {
        skipWhitespace();
        if (text[i] !== '"') fail();
        const name = parseString();
        skipWhitespace();
        expect(':');
        members.set(name, parseValue());
      });
      return members;
    }
    if (c === '[') {
      const items: Tree[] = [];
      parseElements(']', () => items.push(parseValue()));
      return items;
    }
    for (const [literal, value] of LITERALS) {
      if (text.startsWith(literal, i)) {
        i += literal.length;
        return value;
      }
    }
    const start = i;
    while (i < text.length && /[-+.\deE]/.test(text[i])) i++;
    return new ExactNumber(canonicalDecimal(text.slice(start, i)));
  };
  const value = parseValue();
  skipWhitespace();
  if (i !== text.length) fail();
  return value;
}
