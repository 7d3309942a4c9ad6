import { describe, expect, it } from 'vitest';
import { ErrorCode, MaelstromError, toMaelstromError } from '../../src/protocol/errors.js';

class CodedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

describe('toMaelstromError', () => {
  it('returns a MaelstromError as is', () => {
    const error = new MaelstromError(ErrorCode.PreconditionFailed, 'from mismatch');
    expect(toMaelstromError(error)).toBe(error);
  });

  it.each([
    ['STORAGE_UNKNOWN_SSTABLE', 20],
    ['STORAGE_CORRUPTION', 13],
    ['STORAGE_IO', 13],
  ])('maps string code %s to %i with its message and cause', (code, expected) => {
    const original = new CodedError(code, `boom ${code}`);
    const mapped = toMaelstromError(original);
    expect(mapped.code).toBe(expected);
    expect(mapped.message).toBe(`boom ${code}`);
    expect(mapped.cause).toBe(original);
  });

  it('maps anything else to 13 crash', () => {
    expect(toMaelstromError(new Error('oops')).code).toBe(13);
    expect(toMaelstromError(new CodedError('ENOENT', 'no file')).code).toBe(13);
    expect(toMaelstromError('a string').code).toBe(13);
    expect(toMaelstromError(undefined).code).toBe(13);
    expect(toMaelstromError(null).code).toBe(13);
    expect(toMaelstromError({ code: 7 }).code).toBe(13);
    expect(toMaelstromError(Object.create(null)).message).toContain('unprintable');
  });

  it('is an Error with a name', () => {
    const error = new MaelstromError(ErrorCode.MalformedRequest, 'bad');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('MaelstromError');
  });
});
