import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c, crc32cRange, maskCrc, unmaskCrc } from '../../../src/storage/encoding/crc32c.js';

describe('crc32c', () => {
  it('is the standard CRC-32C, natively and in the short-range loop', () => {
    const check = Buffer.from('123456789');
    expect(crc32c(check)).toBe(0xe3069283);
    expect(crc32cRange(check, 0, check.length)).toBe(0xe3069283);
    expect(crc32cRange(Buffer.from('xx123456789yy'), 2, 11)).toBe(0xe3069283);
    expect(crc32cRange(check, 4, 4)).toBe(crc32c(Buffer.alloc(0)));
  });

  it('crc32cRange equals crc32c of the subarray, short and long ranges alike (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const start = bytes.length === 0 ? 0 : a % (bytes.length + 1);
        const end = start + (bytes.length - start === 0 ? 0 : b % (bytes.length - start + 1));
        expect(crc32cRange(bytes, start, end)).toBe(crc32c(bytes.subarray(start, end)));
      }),
    );
  });

  it('extends a checksum across a split, and masking round-trips (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array(), fc.uint8Array(), fc.nat({ max: 0xffffffff }), (a, b, c) => {
        expect(crc32c(b, crc32c(a))).toBe(crc32c(Buffer.concat([a, b])));
        expect(unmaskCrc(maskCrc(c))).toBe(c);
      }),
    );
  });
});
