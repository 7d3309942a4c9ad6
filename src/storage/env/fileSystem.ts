/**
 * Every file-system call storage makes goes through this interface, so tests
 * can inject faults (ENOSPC, EIO) at any step and check that nothing
 * acknowledged is lost. `nodeFileSystem` is the real one.
 *
 * The request path (WAL writes, SSTable block reads) is synchronous, so it
 * keeps replies in arrival order without bookkeeping; the WAL's fdatasync
 * (with --sync always), flush and recovery use the asynchronous calls.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';

/** A file being written front to back by a flush. */
export interface WritableFile {
  /** Writes all of `data`. Must not keep `data` once resolved: writers reuse their buffers. */
  write(data: Uint8Array): Promise<void>;
  /** fdatasync: the bytes written so far are durable when this resolves. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface FileSystem {
  // Asynchronous: flush, recovery, housekeeping, and the WAL's fdatasync.
  mkdirp(dir: string): Promise<void>;
  readdir(dir: string): Promise<string[]>;
  /** Rejects with code ENOENT when the file does not exist. */
  readFile(path: string): Promise<Buffer>;
  /** Creates or truncates `path` for writing. */
  createWritable(path: string): Promise<WritableFile>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** fsync on a directory, so renames and unlinks in it are durable. */
  syncDir(dir: string): Promise<void>;
  /** fdatasync in the thread pool, for a WAL segment opened with openNewSync. */
  fdatasync(fd: number): Promise<void>;

  // Synchronous: the request path.
  openReadSync(path: string): number;
  /** Reads up to `length` bytes (default buffer.length) at `position` into the buffer's start; returns how many were read. */
  readSync(fd: number, buffer: Uint8Array, position: number, length?: number): number;
  sizeSync(fd: number): number;
  /** Creates `path` for writing; fails if it exists. */
  openNewSync(path: string): number;
  /** Writes all of `data` at `position`. */
  writeAtSync(fd: number, data: Uint8Array, position: number): void;
  /** fsync on a directory, synchronously: makes a file just created in it durable. */
  syncDirSync(dir: string): void;
  truncateSync(path: string, length: number): void;
  closeSync(fd: number): void;
}

export const nodeFileSystem: FileSystem = {
  async mkdirp(dir) {
    await fsp.mkdir(dir, { recursive: true });
  },
  readdir: (dir) => fsp.readdir(dir),
  readFile: (path) => fsp.readFile(path),
  async createWritable(path) {
    const handle = await fsp.open(path, 'w');
    return {
      async write(data) {
        let offset = 0;
        while (offset < data.length) {
          const { bytesWritten } = await handle.write(data, offset, data.length - offset);
          offset += bytesWritten;
        }
      },
      sync: () => handle.datasync(),
      close: () => handle.close(),
    };
  },
  rename: (from, to) => fsp.rename(from, to),
  unlink: (path) => fsp.unlink(path),
  fdatasync: (fd) =>
    new Promise<void>((resolve, reject) => {
      fs.fdatasync(fd, (error) => (error ? reject(error) : resolve()));
    }),
  async syncDir(dir) {
    const handle = await fsp.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },

  openReadSync: (path) => fs.openSync(path, 'r'),
  readSync(fd, buffer, position, length = buffer.length) {
    let done = 0;
    while (done < length) {
      const n = fs.readSync(fd, buffer, done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  },
  sizeSync: (fd) => fs.fstatSync(fd).size,
  openNewSync: (path) => fs.openSync(path, 'wx'),
  writeAtSync(fd, data, position) {
    let offset = 0;
    while (offset < data.length) offset += fs.writeSync(fd, data, offset, data.length - offset, position + offset);
  },
  syncDirSync(dir) {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  },
  truncateSync: (path, length) => fs.truncateSync(path, length),
  closeSync: (fd) => fs.closeSync(fd),
};

/** The file's bytes, or null when it does not exist; any other failure rejects. */
export async function readFileIfExists(fs: FileSystem, path: string): Promise<Buffer | null> {
  try {
    return await fs.readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
