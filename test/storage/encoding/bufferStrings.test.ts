import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { latin1Write, utf8Slice, utf8Write, writeShortUtf8 } from '../../../src/storage/encoding/bufferStrings.js';

describe('bufferStrings', () => {
  it('write and decode exactly as Buffer.write and toString do, cut-short writes included (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ maxLength: 40 })), fc.nat({ max: 8 }), fc.nat({ max: 130 }), (text, offset, room) => {
        for (const [raw, encoding] of [[utf8Write, 'utf8'], [latin1Write, 'latin1']] as const) {
          const ours = Buffer.alloc(offset + room + 4);
          const theirs = Buffer.alloc(offset + room + 4);
          expect(raw.call(ours, text, offset, room)).toBe(theirs.write(text, offset, room, encoding));
          expect(ours).toEqual(theirs);
        }
        const ours = Buffer.alloc(offset + room + 4);
        const theirs = Buffer.alloc(offset + room + 4);
        expect(writeShortUtf8(ours, text, offset, room)).toBe(theirs.write(text, offset, room, 'utf8'));
        expect(ours).toEqual(theirs);
        const bytes = new Uint8Array(Buffer.from(text, 'utf8'));
        const end = Math.min(bytes.length, offset + room);
        const start = Math.min(offset, end);
        expect(utf8Slice.call(bytes, start, end)).toBe(Buffer.from(bytes).toString('utf8', start, end));
      }),
    );
  });
});
