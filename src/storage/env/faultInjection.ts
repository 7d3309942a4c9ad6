/**
 * A FileSystem that fails on command, so tests can show that ENOSPC or EIO
 * at any step loses no acknowledged write and that the node recovers when
 * the disk does.
 *
 * The plan is read again before every call it could fail, so a test can
 * switch faults on and off while the node runs. The CLI uses this only when
 * MEMTABLE_FAULT_FILE names a plan file (docs/WAL.md, "Fault injection").
 *
 * Plan: {"<operation>": "ENOSPC" | "EIO", ..., "paths"?: "<regex>"},
 * operation being a FileSystem method name (writeAtSync, fdatasync,
 * createWritable, rename, ...). A `createWritable` fault also fails the
 * writes of files it opened earlier. With `paths`, only calls on a path the
 * regular expression matches fail (e.g. "/L[1-6]_" for compaction outputs,
 * which flushes, writing L0_ files, never match).
 */
import { readFileSync } from 'node:fs';
import type { FileSystem, WritableFile } from './fileSystem.js';

export type FaultCode = 'ENOSPC' | 'EIO';
export type FaultPlan = Partial<Record<keyof FileSystem, FaultCode>> & { paths?: string };

const MESSAGES: Record<FaultCode, string> = {
  ENOSPC: 'no space left on device',
  EIO: 'i/o error',
};

function fault(code: FaultCode, operation: string, path?: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${MESSAGES[code]} (injected), ${operation}${path ? ` '${path}'` : ''}`), {
    code,
    errno: code === 'ENOSPC' ? -28 : -5,
    syscall: operation,
  });
}

/** Wraps `inner` so every operation first consults `currentPlan()`. */
export function faultInjectingFileSystem(inner: FileSystem, currentPlan: () => FaultPlan): FileSystem {
  const check = (operation: keyof FileSystem, path?: string): void => {
    const plan = currentPlan();
    const code = plan[operation];
    if (code === undefined) return;
    if (plan.paths !== undefined && (path === undefined || !new RegExp(plan.paths).test(path))) return;
    throw fault(code, operation, path);
  };
  const wrapped = {} as Record<keyof FileSystem, unknown>;
  for (const operation of Object.keys(inner) as Array<keyof FileSystem>) {
    const original = inner[operation] as (...args: unknown[]) => unknown;
    wrapped[operation] = (...args: unknown[]) => {
      const path = typeof args[0] === 'string' ? args[0] : undefined;
      const sync = operation.endsWith('Sync');
      if (sync) {
        check(operation, path);
        return original.apply(inner, args);
      }
      return (async () => {
        check(operation, path);
        return original.apply(inner, args);
      })();
    };
  }
  const fs = wrapped as unknown as FileSystem;
  fs.createWritable = async (path: string): Promise<WritableFile> => {
    check('createWritable', path);
    const file = await inner.createWritable(path);
    return {
      write: async (data) => {
        check('createWritable', path);
        return file.write(data);
      },
      sync: async () => {
        check('createWritable', path);
        return file.sync();
      },
      close: () => file.close(),
    };
  };
  return fs;
}

/** A plan read from a JSON file at every call; no file (or an unreadable one) means no faults. */
export function planFromFile(path: string): () => FaultPlan {
  return () => {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as FaultPlan;
    } catch {
      return {};
    }
  };
}
