/**
 * Read-only descriptors of SSTable files, shared by every reader (and, in the
 * CLI, every store of the process), so the number held open stays bounded
 * however many SSTables pile up: LevelDB's TableCache with max_open_files,
 * keeping only descriptors, since each reader already holds its index and
 * filter. Without it each SSTable kept a descriptor for good, and with
 * `ulimit -n` 1024 about a thousand flushes left none for the next flush.
 *
 * Invariants:
 *   (1) `open` holds exactly the descriptors this cache has open, at most
 *       `capacity`, least recently used first (Map order).
 *   (2) Callers never hold a descriptor across calls: every read names its
 *       path, and a path evicted since is opened again, so eviction is
 *       invisible except as one more open(2).
 *   (3) A path is one file for the cache's life: SSTable names are never
 *       reused, so a descriptor opened earlier still reads the same bytes.
 */
import type { FileSystem } from '../env/fileSystem.js';

/**
 * --max-open-files' default: half of the common `ulimit -n` of 1024, leaving
 * the rest to WAL segments (one a MemTable), flushes, stdio and Node itself.
 */
export const DEFAULT_MAX_OPEN_FILES = 500;

export class FileHandleCache {
  private readonly open = new Map<string, number>();

  constructor(
    readonly fs: FileSystem,
    readonly capacity: number,
  ) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  /** Descriptors open now. */
  get openCount(): number {
    return this.open.size;
  }

  /** Reads up to `length` bytes (default buffer.length) of `path` at `position`; returns how many were read. */
  read(path: string, buffer: Uint8Array, position: number, length = buffer.length): number {
    return this.fs.readSync(this.acquire(path), buffer, position, length);
  }

  /** The size of `path` in bytes. */
  size(path: string): number {
    return this.fs.sizeSync(this.acquire(path));
  }

  /** Closes `path`'s descriptor if open: its reader is done with it. */
  forget(path: string): void {
    const fd = this.open.get(path);
    if (fd === undefined) return;
    this.open.delete(path);
    this.fs.closeSync(fd);
  }

  private acquire(path: string): number {
    const fd = this.open.get(path);
    if (fd !== undefined) {
      this.open.delete(path);
      this.open.set(path, fd);
      return fd;
    }
    // Make room first: if the process is at its limit, the descriptor freed is the one this open needs.
    if (this.open.size >= this.capacity) this.evictOldest();
    const opened = this.fs.openReadSync(path);
    this.open.set(path, opened);
    return opened;
  }

  private evictOldest(): void {
    const [path, fd] = this.open.entries().next().value as [string, number];
    this.open.delete(path);
    try {
      this.fs.closeSync(fd);
    } catch {
      // close(2) releases the descriptor even when it reports an error, and
      // nothing was written through it: the read that needed room goes on.
    }
  }
}
