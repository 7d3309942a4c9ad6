import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/protocol/lineSplitter.js';

function feed(splitter: LineSplitter, chunks: Buffer[]): string[] {
  const lines: string[] = [];
  for (const chunk of chunks) lines.push(...splitter.push(chunk));
  lines.push(...splitter.end());
  return lines;
}

/** Splits `bytes` at the given cut points. */
function cut(bytes: Buffer, points: number[]): Buffer[] {
  const sorted = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of sorted) {
    chunks.push(bytes.subarray(from, point));
    from = point;
  }
  chunks.push(bytes.subarray(from));
  return chunks;
}

describe('LineSplitter', () => {
  it('splits on newlines and drops a trailing \\r', () => {
    const splitter = new LineSplitter(1000);
    expect(feed(splitter, [Buffer.from('a\r\nb\nc\r\n')])).toEqual(['a', 'b', 'c']);
  });

  it('joins a line cut across chunks, including a \\r\\n cut in the middle', () => {
    const splitter = new LineSplitter(1000);
    expect(feed(splitter, [Buffer.from('{"a"'), Buffer.from(':1}\r'), Buffer.from('\n{"b":2}\n')])).toEqual([
      '{"a":1}',
      '{"b":2}',
    ]);
  });

  it('decodes a multi-byte UTF-8 character cut between chunks', () => {
    const bytes = Buffer.from('é€😀\n', 'utf8'); // 2 + 3 + 4 bytes
    for (let at = 1; at < bytes.length - 1; at++) {
      const splitter = new LineSplitter(1000);
      expect(feed(splitter, [bytes.subarray(0, at), bytes.subarray(at)])).toEqual(['é€😀']);
    }
  });

  it('skips empty and whitespace-only lines', () => {
    const splitter = new LineSplitter(1000);
    expect(feed(splitter, [Buffer.from('\n\n  \t\r\n{}\n\r\n')])).toEqual(['{}']);
  });

  it('emits a final line without a newline at end()', () => {
    const splitter = new LineSplitter(1000);
    expect(splitter.push(Buffer.from('{"x":1}'))).toEqual([]);
    expect(splitter.end()).toEqual(['{"x":1}']);
    expect(splitter.end()).toEqual([]);
  });

  it('copies carried bytes: the caller may reuse a chunk', () => {
    const splitter = new LineSplitter(1000);
    const chunk = Buffer.from('abc');
    splitter.push(chunk);
    chunk.fill('z');
    expect(splitter.push(Buffer.from('def\n'))).toEqual(['abcdef']);
  });

  it('keeps a line of exactly the limit, drops one byte more', () => {
    const splitter = new LineSplitter(4);
    expect(feed(splitter, [Buffer.from('abcd\nabcde\nok\n')])).toEqual(['abcd', 'ok']);
    expect(splitter.oversized).toBe(1);
    const split = new LineSplitter(4);
    expect(feed(split, [Buffer.from('ab'), Buffer.from('cd'), Buffer.from('\nab'), Buffer.from('cde\nok')])).toEqual([
      'abcd',
      'ok',
    ]);
    expect(split.oversized).toBe(1);
  });

  it('drops an over-long last line at end() and counts it once', () => {
    const splitter = new LineSplitter(4);
    expect(feed(splitter, [Buffer.from('ok\n'), Buffer.from('toolong'), Buffer.from('still')])).toEqual(['ok']);
    expect(splitter.oversized).toBe(1);
  });

  it('skips a 10 MB line with a 1 MB limit in 64 KiB chunks, never holding more than the limit', () => {
    const limit = 1 << 20;
    const chunkSize = 64 * 1024;
    const splitter = new LineSplitter(limit);
    const input = Buffer.concat([
      Buffer.from('{"first":1}\n{"long":"'),
      Buffer.alloc(10 * 1000 * 1000, 'x'),
      Buffer.from('"}\n{"next":2}\n'),
    ]);
    const lines: string[] = [];
    let maxCarried = 0;
    for (let from = 0; from < input.length; from += chunkSize) {
      lines.push(...splitter.push(input.subarray(from, from + chunkSize)));
      maxCarried = Math.max(maxCarried, splitter.carriedBytes);
    }
    lines.push(...splitter.end());
    expect(lines).toEqual(['{"first":1}', '{"next":2}']);
    expect(splitter.oversized).toBe(1);
    expect(maxCarried).toBeLessThanOrEqual(limit + chunkSize);
    expect(maxCarried).toBeLessThanOrEqual(limit);
  });

  it('property: any chunking gives the same lines as splitting the whole text', () => {
    const lineArb = fc.string({ unit: 'binary', maxLength: 30 }).map((s) => s.replace(/[\n\r]/g, ''));
    fc.assert(
      fc.property(
        fc.array(lineArb, { maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.boolean(),
        (lines, points, crlf) => {
          const text = lines.map((l) => l + (crlf ? '\r\n' : '\n')).join('');
          const bytes = Buffer.from(text, 'utf8');
          const expected = lines
            .map((l) => Buffer.from(l, 'utf8').toString('utf8')) // lone surrogates become U+FFFD
            .filter((l) => !/^[ \t]*$/.test(l));
          expect(feed(new LineSplitter(1000), cut(bytes, points))).toEqual(expected);
        },
      ),
    );
  });
});
