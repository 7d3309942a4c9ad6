/**
 * The descriptor cache over a file system that counts opens and closes:
 * never more than `capacity` open, least recently used closed first, and
 * reads right whatever was evicted in between.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FileHandleCache } from '../../../src/storage/cache/fileHandleCache.js';
import { type FileSystem, nodeFileSystem } from '../../../src/storage/env/fileSystem.js';
import { useTempDirs } from '../../support/tempDirs.js';

const freshDir = useTempDirs('file-handle-cache-test');

/** nodeFileSystem, logging each open and close by path; `failClose` makes closeSync throw after closing. */
function countingFs(failClose = false) {
  const events: string[] = [];
  const paths = new Map<number, string>();
  const open = new Set<number>();
  const fs: FileSystem = {
    ...nodeFileSystem,
    openReadSync(path) {
      const fd = nodeFileSystem.openReadSync(path);
      paths.set(fd, path);
      open.add(fd);
      events.push(`open ${path.slice(-1)}`);
      return fd;
    },
    closeSync(fd) {
      nodeFileSystem.closeSync(fd);
      open.delete(fd);
      events.push(`close ${paths.get(fd)!.slice(-1)}`);
      if (failClose) throw Object.assign(new Error('EIO: i/o error, close'), { code: 'EIO' });
    },
  };
  return { fs, events, open };
}

function files(count: number): string[] {
  const dir = freshDir();
  return Array.from({ length: count }, (_, i) => {
    const path = join(dir, `f${i}`);
    writeFileSync(path, `file ${i}: ${'x'.repeat(i)}`);
    return path;
  });
}

function readAll(cache: FileHandleCache, path: string): string {
  const buffer = Buffer.alloc(cache.size(path));
  expect(cache.read(path, buffer, 0)).toBe(buffer.length);
  return buffer.toString();
}

describe('FileHandleCache', () => {
  it('keeps at most `capacity` files open, closing the least recently used', () => {
    const [a, b, c] = files(3);
    const { fs, events, open } = countingFs();
    const cache = new FileHandleCache(fs, 2);
    readAll(cache, a);
    readAll(cache, b);
    readAll(cache, a); // a is now the most recently used: b goes first
    readAll(cache, c);
    expect(events).toEqual(['open 0', 'open 1', 'close 1', 'open 2']);
    expect(open.size).toBe(2);
    expect(readAll(cache, b)).toBe('file 1: x');
    expect(events.slice(4)).toEqual(['close 0', 'open 1']);
    cache.forget(c);
    cache.forget(c); // forgetting a closed file does nothing
    expect(events.slice(6)).toEqual(['close 2']);
    expect(cache.openCount).toBe(1);
  });

  it('reads every file right under any access order (property)', () => {
    const paths = files(6);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 40 }), (capacity, order) => {
        const { fs, open } = countingFs();
        const cache = new FileHandleCache(fs, capacity);
        for (const i of order) {
          expect(readAll(cache, paths[i])).toBe(`file ${i}: ${'x'.repeat(i)}`);
          expect(open.size).toBe(cache.openCount);
          expect(open.size).toBeLessThanOrEqual(capacity);
        }
        for (const path of paths) cache.forget(path);
        expect(open.size).toBe(0);
      }),
    );
  });

  it('goes on reading when closing an evicted file fails, and lets an open failure through', () => {
    const [a, b] = files(2);
    const { fs, open } = countingFs(true);
    const cache = new FileHandleCache(fs, 1);
    readAll(cache, a);
    expect(readAll(cache, b)).toBe('file 1: x');
    expect(open.size).toBe(1);
    expect(() => cache.read(join(freshDir(), 'missing'), Buffer.alloc(1), 0)).toThrow(/ENOENT/);
    expect(cache.openCount).toBe(0);
  });

  it('refuses a capacity below 1', () => {
    expect(() => new FileHandleCache(nodeFileSystem, 0)).toThrow(RangeError);
  });
});
