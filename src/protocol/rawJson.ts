/**
 * Values travel through the node as the exact JSON text the client wrote.
 *
 * Why: JSON.parse + JSON.stringify does not round-trip. `1.0` becomes `1`,
 * `1e400` becomes `null`, `12345678901234567890` loses digits, `"\u00e9"`
 * becomes `"é"` and `{"b":1, "a":2}` loses its spacing. A store must give
 * back what it was given, so values are kept as source text (RawJson) and
 * spliced verbatim into replies.
 *
 * `rawMember` is a scanner over text that JSON.parse already accepted: it
 * never validates, only skips whitespace, strings (escapes included) and
 * nested containers by depth counting, and allocates nothing per character.
 */

/** JSON text to splice verbatim into an outgoing message. Requires: `text` is one valid JSON value. */
export class RawJson {
  constructor(readonly text: string) {}
}

const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \
const COLON = 0x3a; // :
const COMMA = 0x2c; // ,
const OPEN_BRACE = 0x7b; // {
const CLOSE_BRACE = 0x7d; // }
const OPEN_BRACKET = 0x5b; // [
const CLOSE_BRACKET = 0x5d; // ]

/**
 * Given a line that JSON.parse accepted, returns the exact source text of the
 * member at `path` (e.g. ['body','value']), or undefined if absent or if a
 * step of the path is not an object. With duplicate member names the LAST one
 * wins, as with JSON.parse. An empty path returns the whole value, trimmed.
 */
export function rawMember(line: string, path: readonly string[]): string | undefined {
  let start = skipWhitespace(line, 0);
  for (const name of path) {
    if (line.charCodeAt(start) !== OPEN_BRACE) return undefined;
    start = findLastMember(line, start, name);
    if (start < 0) return undefined;
  }
  return line.slice(start, skipValue(line, start));
}

/**
 * Scans the object starting at `objectStart` (its `{`); returns where the
 * value of its last member `name` starts, or -1 if it has none.
 */
function findLastMember(text: string, objectStart: number, name: string): number {
  let found = -1;
  let i = skipWhitespace(text, objectStart + 1);
  if (text.charCodeAt(i) === CLOSE_BRACE) return -1;
  while (i < text.length) {
    // i is at the opening quote of a member name.
    const nameEnd = skipString(text, i);
    const matches = nameEquals(text, i + 1, nameEnd - 1, name);
    i = skipWhitespace(text, nameEnd);
    if (text.charCodeAt(i) !== COLON) return found; // not valid JSON: give up
    const valueStart = skipWhitespace(text, i + 1);
    if (matches) found = valueStart;
    i = skipWhitespace(text, skipValue(text, valueStart));
    if (text.charCodeAt(i) !== COMMA) break; // `}` (or invalid input)
    i = skipWhitespace(text, i + 1);
  }
  return found;
}

/** True iff the raw name text[from..to) (between the quotes) denotes `name`. Decodes only names with escapes. */
function nameEquals(text: string, from: number, to: number, name: string): boolean {
  for (let i = from; i < to; i++) {
    if (text.charCodeAt(i) === BACKSLASH) return JSON.parse(text.slice(from - 1, to + 1)) === name;
  }
  return to - from === name.length && text.startsWith(name, from);
}

/** Returns the index just past the JSON value that starts at `i`. */
function skipValue(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === QUOTE) return skipString(text, i);
  if (c === OPEN_BRACE || c === OPEN_BRACKET) return skipContainer(text, i);
  return skipLiteral(text, i);
}

/** `i` is at an opening quote; returns the index just past the closing one. */
function skipString(text: string, i: number): number {
  let from = i + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote === -1) return text.length;
    // The quote is escaped iff an odd number of backslashes precede it.
    let backslashes = 0;
    for (let j = quote - 1; text.charCodeAt(j) === BACKSLASH; j--) backslashes++;
    if ((backslashes & 1) === 0) return quote + 1;
    from = quote + 1;
  }
}

/** `i` is at `{` or `[`; returns the index just past the matching close. */
function skipContainer(text: string, i: number): number {
  let depth = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = skipString(text, i);
      continue;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  return text.length;
}

/** A number, `true`, `false` or `null`: runs until a delimiter or whitespace. */
function skipLiteral(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || isWhitespace(c)) break;
    i++;
  }
  return i;
}

function skipWhitespace(text: string, i: number): number {
  while (i < text.length && isWhitespace(text.charCodeAt(i))) i++;
  return i;
}

/** JSON's four whitespace characters (RFC 8259 section 2). */
function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}
