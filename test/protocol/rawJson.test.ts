import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rawMember } from '../../src/protocol/rawJson.js';

const VALUE = ['body', 'value'] as const;

/** JSON whitespace, possibly empty. */
const whitespace = fc.array(fc.constantFrom(' ', '\t', '\r', '\n'), { maxLength: 3 }).map((parts) => parts.join(''));

/** Re-serializes a value with random whitespace between every token and randomly escaped member names. */
function spacedJson(value: unknown, spaces: () => string, escapeNames: () => boolean): string {
  if (Array.isArray(value)) {
    return `[${spaces()}${value.map((item) => spacedJson(item, spaces, escapeNames)).join(`${spaces()},${spaces()}`)}${spaces()}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const members = Object.entries(value).map(([name, item]) => {
      const nameText = escapeNames() ? escapeAll(name) : JSON.stringify(name);
      return `${nameText}${spaces()}:${spaces()}${spacedJson(item, spaces, escapeNames)}`;
    });
    return `{${spaces()}${members.join(`${spaces()},${spaces()}`)}${spaces()}}`;
  }
  return JSON.stringify(value);
}

/** A JSON string literal with every UTF-16 unit written as a \uXXXX escape. */
function escapeAll(name: string): string {
  let text = '"';
  for (let i = 0; i < name.length; i++) text += `\\u${name.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return `${text}"`;
}

describe('rawMember', () => {
  it('returns values exactly as written', () => {
    for (const raw of ['1.0', '1e400', '12345678901234567890', '"\\u00e9"', '{"b":1, "a":2}', 'null', '-0', '[ 1 , [2] ]', '"a\\"b\\\\"']) {
      const line = `{"src":"c1","dest":"n1","body":{"type":"memtable_put","key":"k","value":${raw},"msg_id":1}}`;
      expect(rawMember(line, VALUE)).toBe(raw);
    }
  });

  it('returns undefined when absent or when a step is not an object', () => {
    expect(rawMember('{"body":{"type":"x"}}', VALUE)).toBeUndefined();
    expect(rawMember('{"body":{}}', VALUE)).toBeUndefined();
    expect(rawMember('{"body":[1,2]}', VALUE)).toBeUndefined();
    expect(rawMember('{"body":"value"}', VALUE)).toBeUndefined();
    expect(rawMember('[{"body":{"value":1}}]', VALUE)).toBeUndefined();
    expect(rawMember('{"value":1,"body":{"values":2,"valu":3}}', VALUE)).toBeUndefined();
  });

  it('does not match names or values inside nested containers or strings', () => {
    const line = '{"body":{"x":{"value":1},"y":["value",{"value":2}],"z":"\\"value\\":3","value":4}}';
    expect(rawMember(line, VALUE)).toBe('4');
  });

  it('takes the last of duplicate members, as JSON.parse does', () => {
    const line = '{"body":{"value":1,"type":"t","value":{"a":[2]}},"body":{"value":"last"}}';
    expect(JSON.parse(line).body.value).toBe('last');
    expect(rawMember(line, VALUE)).toBe('"last"');
    expect(rawMember('{"body":{"value":1,"value" : 2 }}', VALUE)).toBe('2');
  });

  it('decodes member names with escapes', () => {
    expect(rawMember('{"b\\u006fdy":{"v\\u0061lue":[1.50]}}', VALUE)).toBe('[1.50]');
    expect(rawMember('{"body":{"value\\u0000":1,"val\\"ue":2}}', VALUE)).toBeUndefined();
    expect(rawMember('{"body":{"\\u00e9":"é"}}', ['body', 'é'])).toBe('"é"');
  });

  it('handles whitespace everywhere and an empty path', () => {
    const line = ' \t{ "body" :\r\n { "value" :\t 1.0 \n} } ';
    expect(rawMember(line, VALUE)).toBe('1.0');
    expect(rawMember(line, [])).toBe('{ "body" :\r\n { "value" :\t 1.0 \n} }');
  });

  it('property: the extracted text is the exact substring and parses to the value', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.infiniteStream(whitespace),
        fc.infiniteStream(fc.boolean()),
        fc.jsonValue(),
        (value, spaceStream, escapeStream, sibling) => {
          const spaces = spaceStream[Symbol.iterator]();
          const escapes = escapeStream[Symbol.iterator]();
          const nextSpace = (): string => spaces.next().value as string;
          const nextEscape = (): boolean => escapes.next().value as boolean;
          const valueText = spacedJson(value, nextSpace, nextEscape);
          const siblingText = spacedJson(sibling, nextSpace, nextEscape);
          const s = nextSpace;
          const before = `${s()}{${s()}"src"${s()}:${s()}"c1",${s()}"body"${s()}:${s()}{${s()}"before"${s()}:${s()}${siblingText}${s()},${s()}"value"${s()}:${s()}`;
          const line = `${before}${valueText}${s()},${s()}"after"${s()}:${s()}${siblingText}${s()}}${s()},"dest":"n1"}${s()}`;
          const raw = rawMember(line, VALUE);
          expect(raw).toBe(valueText);
          expect(line.indexOf(raw!, before.length)).toBe(before.length);
          expect(JSON.parse(raw!)).toEqual(JSON.parse(line).body.value);
          expect(JSON.parse(raw!)).toEqual(JSON.parse(JSON.stringify(value))); // -0 is written as 0
        },
      ),
      { numRuns: 300 },
    );
  });

  it('scans a large value quickly', () => {
    const big = JSON.stringify({ list: Array.from({ length: 20000 }, (_, i) => ({ i, s: `s\\"${i}` })) });
    const line = `{"body":{"value":${big},"type":"memtable_put"}}`;
    const start = performance.now();
    expect(rawMember(line, VALUE)).toBe(big);
    expect(performance.now() - start).toBeLessThan(200);
  });
});
