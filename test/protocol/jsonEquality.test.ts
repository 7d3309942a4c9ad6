import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalDecimal, sameJsonValue } from '../../src/protocol/jsonEquality.js';

/** The model: a decimal as mantissa × 10^exponent, compared by cross-multiplying bigints. */
interface Decimal {
  mantissa: bigint;
  exponent: number;
}

function equalDecimals(a: Decimal, b: Decimal): boolean {
  const low = Math.min(a.exponent, b.exponent);
  return a.mantissa * 10n ** BigInt(a.exponent - low) === b.mantissa * 10n ** BigInt(b.exponent - low);
}

/** One of the many JSON spellings of mantissa × 10^exponent, picked by `style` and padded with `zeros`. */
function spell({ mantissa, exponent }: Decimal, style: number, zeros: number): string {
  const sign = mantissa < 0n ? '-' : '';
  if (mantissa === 0n) zeros = 0; // JSON allows no leading zeros
  const digits = (mantissa < 0n ? -mantissa : mantissa).toString() + '0'.repeat(zeros);
  const scale = exponent - zeros;
  switch (style % 4) {
    case 0:
      return `${sign}${digits}e${scale}`;
    case 1:
      return `${sign}${digits}E${scale >= 0 ? '+' : ''}${scale}`;
    case 2: {
      // Every digit after the point: 0.DIGITS × 10^(scale + length).
      return `${sign}0.${digits}e${scale + digits.length}`;
    }
    default: {
      // A plain decimal when the exponent allows it.
      if (scale >= 0) return mantissa === 0n ? '0' : `${sign}${digits}${'0'.repeat(scale)}`;
      const padded = digits.padStart(-scale + 1, '0');
      return `${sign}${padded.slice(0, scale)}.${padded.slice(scale)}`;
    }
  }
}

const decimal = fc.record({ mantissa: fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }), exponent: fc.integer({ min: -30, max: 30 }) });
const spelling = fc.tuple(fc.nat(3), fc.nat(4));

describe('canonicalDecimal', () => {
  it('reduces spellings of one value to one text', () => {
    for (const text of ['1', '1.0', '1e0', '10e-1', '0.1e1', '1.000E+0', '100e-2']) expect(canonicalDecimal(text)).toBe('1e0');
    for (const text of ['0', '-0', '0.000', '0e99', '-0.0E-5']) expect(canonicalDecimal(text)).toBe('0');
    expect(canonicalDecimal('-120.50')).toBe('-1205e-1');
    expect(canonicalDecimal('1e99999999999999999999')).toBe('1e99999999999999999999');
  });

  it('keeps every digit', () => {
    expect(canonicalDecimal('12345678901234567891')).not.toBe(canonicalDecimal('12345678901234567890'));
    expect(canonicalDecimal(`0.${'0'.repeat(400)}1`)).toBe('1e-401');
  });
});

describe('sameJsonValue', () => {
  it('compares numbers by exact decimal value, also inside containers', () => {
    expect(sameJsonValue('1', '1.0')).toBe(true);
    expect(sameJsonValue('1e0', '10e-1')).toBe(true);
    expect(sameJsonValue('12345678901234567891', '12345678901234567890')).toBe(false);
    expect(sameJsonValue('[1, {"a": 2.50}]', '[1.0,{"a":25e-1}]')).toBe(true);
    expect(sameJsonValue('{"a": [12345678901234567891]}', '{"a":[12345678901234567890]}')).toBe(false);
    expect(sameJsonValue('1e400', '1E+400')).toBe(true);
    expect(sameJsonValue('1e400', '1e401')).toBe(false);
  });

  it('compares strings by characters, objects by members whatever their order', () => {
    expect(sameJsonValue('"\\u00e9"', '"é"')).toBe(true);
    expect(sameJsonValue('"1"', '1')).toBe(false);
    expect(sameJsonValue('{"b":1, "a":2}', '{"a":2,"b":1}')).toBe(true);
    expect(sameJsonValue('{"a":1}', '{"a":1,"b":null}')).toBe(false);
    expect(sameJsonValue('{"a":1,"a":2}', '{"a":2}')).toBe(true); // the last duplicate counts, as with JSON.parse
    expect(sameJsonValue('[1,2]', '[2,1]')).toBe(false);
    expect(sameJsonValue('[]', '{}')).toBe(false);
    expect(sameJsonValue('null', 'false')).toBe(false);
    expect(sameJsonValue(' true ', 'true')).toBe(true);
  });

  it('rejects text that is not JSON', () => {
    expect(() => sameJsonValue('[1,', '[1]')).toThrow(SyntaxError);
    expect(() => sameJsonValue('1 2', '1')).toThrow(SyntaxError);
  });

  it('property: numbers are equal iff their decimal values are, however spelled', () => {
    fc.assert(
      fc.property(decimal, decimal, spelling, spelling, (a, b, [styleA, zerosA], [styleB, zerosB]) => {
        const [textA, sameA, textB] = [spell(a, styleA, zerosA), spell(a, styleB, zerosB), spell(b, styleB, zerosB)];
        for (const text of [textA, sameA, textB]) expect(() => JSON.parse(text)).not.toThrow();
        expect(sameJsonValue(textA, sameA)).toBe(true);
        expect(sameJsonValue(textA, textB)).toBe(equalDecimals(a, b));
      }),
      { numRuns: 500 },
    );
  });

  it('property: agrees with deep equality of parsed values where doubles are exact', () => {
    // JSON.stringify writes a double's shortest spelling, so two of them have equal decimal values iff the doubles are equal.
    const value = fc.jsonValue({ maxDepth: 3 });
    fc.assert(
      fc.property(fc.oneof(value.map((v) => [v, v]), fc.tuple(value, value)), ([a, b]) => {
        const [textA, textB] = [JSON.stringify(a), JSON.stringify(reordered(b))];
        expect(sameJsonValue(textA, textB)).toBe(isDeepStrictEqual(JSON.parse(textA), JSON.parse(textB)));
      }),
      { numRuns: 300 },
    );
  });
});

/** The same value with every object's members in reverse order. */
function reordered(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reordered);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).reverse().map(([name, item]) => [name, reordered(item)]));
}
