/** The frame the WAL and the MANIFEST share: a whole record, one cut short, and damage told apart. */
import { describe, expect, it } from 'vitest';
import { encodeFrame, RECORD_HEADER_SIZE, readFrameAt } from '../../../src/storage/encoding/recordFrame.js';

const known = (kind: number): boolean => kind === 1 || kind === 2;

describe('record frames', () => {
  it('reads back what encodeFrame wrote, record after record', () => {
    const bytes = Buffer.concat([encodeFrame(1, Buffer.from('first')), encodeFrame(2, Buffer.alloc(0))]);
    const first = readFrameAt(bytes, 0, known);
    expect(first).toEqual({ kind: 'record', recordKind: 1, payload: RECORD_HEADER_SIZE, end: RECORD_HEADER_SIZE + 5 });
    expect(bytes.toString('utf8', RECORD_HEADER_SIZE, RECORD_HEADER_SIZE + 5)).toBe('first');
    expect(readFrameAt(bytes, RECORD_HEADER_SIZE + 5, known)).toMatchObject({ kind: 'record', recordKind: 2, end: bytes.length });
  });

  it('tells a record cut short (a crash) from a damaged one', () => {
    const whole = encodeFrame(1, Buffer.from('payload'));
    for (let cut = 0; cut < whole.length; cut++) expect(readFrameAt(whole.subarray(0, cut), 0, known).kind).toBe('cut-short');
    const badPayload = Buffer.from(whole);
    badPayload[RECORD_HEADER_SIZE + 1] ^= 1;
    expect(readFrameAt(badPayload, 0, known)).toEqual({ kind: 'bad-payload', end: whole.length });
    const badHeader = Buffer.from(whole);
    badHeader[0] ^= 1;
    expect(readFrameAt(badHeader, 0, known).kind).toBe('bad-header');
    // A sound checksum over a kind the log does not know, as a zero-filled tail's kind 0: damage.
    expect(readFrameAt(encodeFrame(3, Buffer.from('x')), 0, known).kind).toBe('bad-header');
    expect(readFrameAt(Buffer.alloc(32), 0, known).kind).toBe('bad-header');
  });
});
