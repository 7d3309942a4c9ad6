/** A file system whose asynchronous fdatasyncs (the WAL's) wait until a test settles them. */
import { type FileSystem, nodeFileSystem } from '../../src/storage/env/fileSystem.js';

export interface Gate {
  /** Runs the real fdatasync and settles with it. */
  pass(): void;
  /** Fails it with EIO, as a disk would. */
  fail(): void;
}

/** `base` with fdatasync held: gates[i] settles the i-th call, in any order the test likes. */
export function gatedSyncs(base: FileSystem = nodeFileSystem): { fs: FileSystem; gates: Gate[] } {
  const gates: Gate[] = [];
  const fs: FileSystem = {
    ...base,
    fdatasync: (fd) =>
      new Promise<void>((resolve, reject) => {
        gates.push({
          pass: () => void base.fdatasync(fd).then(resolve, reject),
          fail: () => reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })),
        });
      }),
  };
  return { fs, gates };
}
