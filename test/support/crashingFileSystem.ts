/**
 * A file system that dies on cue, for in-process crash tests: until the
 * crash it is `base`; the asynchronous call that reaches the crash point,
 * and every one after it, never settles, as if the process had been killed
 * between two system calls (what an earlier call did stays on disk, as it
 * would in the page cache). A `write` at the crash point writes only the
 * first `tornFraction` of its bytes: a torn record or block. The crash
 * closes the files being written; after it, synchronous calls throw, except
 * closeSync (the test closes the dead store's other descriptors).
 */
import type { FileSystem, WritableFile } from '../../src/storage/env/fileSystem.js';

/** An asynchronous call: a FileSystem method, or `write`, `sync` or `close` of a file being written. */
export type CrashOperation = Exclude<keyof FileSystem, `${string}Sync`> | 'write' | 'sync' | 'close';

export interface CrashPoint {
  /** The call of `operation` (of any asynchronous call when absent) numbered `calls` from now, 0 being the next. */
  operation?: CrashOperation;
  calls: number;
  /** The share of its bytes a `write` at the crash point writes. */
  tornFraction: number;
}

export interface CrashingFileSystem {
  fs: FileSystem;
  crashAt(point: CrashPoint): void;
  /** The crash happens now, between two calls. */
  crashNow(): void;
  /** Settles once the crash point is reached. */
  readonly crashed: Promise<void>;
  readonly isCrashed: boolean;
}

export function crashingFileSystem(base: FileSystem): CrashingFileSystem {
  let point: CrashPoint | null = null;
  let isCrashed = false;
  let markCrashed!: () => void;
  const crashed = new Promise<void>((resolve) => (markCrashed = resolve));
  const never = new Promise<never>(() => undefined);
  /** Files being written: the crash closes them, as the death of the process would. */
  const open = new Set<WritableFile>();

  const crash = (): void => {
    isCrashed = true;
    markCrashed();
    for (const file of open) void file.close().catch(() => undefined);
    open.clear();
  };
  /** True iff a call of `operation` now is the crash point; counts it. */
  const isCrashPoint = (operation: CrashOperation): boolean => {
    if (point === null || (point.operation !== undefined && point.operation !== operation)) return false;
    return point.calls-- === 0;
  };
  /** True iff this call must not run: it is the crash point, or after it. */
  const reachesCrash = (operation: CrashOperation): boolean => {
    if (isCrashed) return true;
    if (!isCrashPoint(operation)) return false;
    crash();
    return true;
  };

  const wrapped = {} as Record<keyof FileSystem, unknown>;
  for (const operation of Object.keys(base) as Array<keyof FileSystem>) {
    const original = base[operation] as (...args: unknown[]) => unknown;
    wrapped[operation] = operation.endsWith('Sync')
      ? (...args: unknown[]) => {
          if (isCrashed && operation !== 'closeSync') throw new Error(`crashed: ${operation} after the crash`);
          return original.apply(base, args);
        }
      : (...args: unknown[]) => (reachesCrash(operation as CrashOperation) ? never : original.apply(base, args));
  }
  const fs = wrapped as unknown as FileSystem;
  fs.createWritable = async (path: string): Promise<WritableFile> => {
    if (reachesCrash('createWritable')) return never;
    const file = await base.createWritable(path);
    if (isCrashed) {
      await file.close();
      return never;
    }
    open.add(file);
    return {
      write: async (data) => {
        if (isCrashed) return never;
        if (isCrashPoint('write')) {
          // The process dies part way through this write.
          open.delete(file);
          crash();
          await file.write(data.subarray(0, Math.floor(data.length * point!.tornFraction)));
          await file.close();
          return never;
        }
        return file.write(data);
      },
      sync: () => (reachesCrash('sync') ? never : file.sync()),
      close: () => {
        if (reachesCrash('close')) return never;
        open.delete(file);
        return file.close();
      },
    };
  };
  return {
    fs,
    crashAt(at) {
      point = { ...at };
    },
    crashNow() {
      if (!isCrashed) crash();
    },
    crashed,
    get isCrashed() {
      return isCrashed;
    },
  };
}

/**
 * `base` with every fdatasync and fsync a no-op that still succeeds. An
 * in-process crash keeps the page cache, so syncs change nothing these tests
 * can see, and on a real disk they take most of a test's time. (They still
 * count as calls, so a crash can fall on either side of one.)
 */
export function withoutSyncs(base: FileSystem): FileSystem {
  return {
    ...base,
    syncDir: async () => undefined,
    fdatasync: async () => undefined,
    async createWritable(path) {
      const file = await base.createWritable(path);
      return { write: (data) => file.write(data), sync: async () => undefined, close: () => file.close() };
    },
  };
}
