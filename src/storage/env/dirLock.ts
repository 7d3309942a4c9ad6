/**
 * The lock on a store's folder, after LevelDB's `LOCK`: one process at a time
 * may open it, because two writers on one WAL and MANIFEST lose acknowledged
 * writes.
 *
 * Invariant: while a Store is open, its folder holds a lock file
 * `LOCK.<pid>.<token>` naming its process, and a Store opens only when, after
 * creating its own lock file, it finds no other lock file of a live process.
 *
 * How, and why this way. Node has no flock(2), so the lock is files, one per
 * opener, each created exclusively (O_EXCL) and then checked against the
 * others. Two openers racing may both give up (each sees the other's file),
 * never both succeed: whichever created its file second sees the first's.
 * The holder never checks again, so a newcomer cannot disturb it.
 *
 * A holder killed with -9 leaves its file behind; the next opener removes it
 * as stale. A file is stale when its process is gone. The pid alone would
 * not say so once the pid is reused, so on Linux `<token>` is the boot id
 * prefix and the process's start time (/proc/<pid>/stat field 22): a file is
 * live only if a process with that pid started at that time in this boot.
 * Elsewhere the token is the start time in ms and liveness is kill(pid, 0),
 * so a reused pid keeps a dead holder's folder locked until that unrelated
 * process exits. Removing a stale file races with nothing: its name is
 * unique to a dead process, so no one can be holding the lock through it.
 */
import { closeSync, fstatSync, openSync, readdirSync, readFileSync, type Stats, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { StorageError } from '../errors.js';

const LOCK_PREFIX = 'LOCK.';

/** True iff `name` is a lock file (offline tools leave these alone). */
export function isLockFileName(name: string): boolean {
  return name.startsWith(LOCK_PREFIX);
}

export interface DirLock {
  readonly file: string;
  /** Removes the lock file, if it is still this lock's. Idempotent. */
  release(): void;
}

/**
 * Takes the lock on `dir` (which must exist), removing stale lock files of
 * dead processes. Throws STORAGE_LOCKED naming the holder's pid when another
 * live process, or this one, holds it.
 */
export function acquireDirLock(dir: string): DirLock {
  const name = `${LOCK_PREFIX}${process.pid}.${ownToken()}`;
  const file = join(dir, name);
  // The name says everything (pid, start): the file stays empty, so creating it cannot fail half way.
  let identity: string;
  try {
    const fd = openSync(file, 'wx');
    identity = fileIdentity(fstatSync(fd));
    closeSync(fd);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw locked(dir, process.pid, name, 'this process');
    throw error;
  }
  const lock: DirLock = {
    file,
    release() {
      // Only if it is still the file created here (by device and inode: no descriptor needed, so it works at EMFILE too).
      try {
        if (fileIdentity(statSync(file)) === identity) unlinkSync(file);
      } catch {
        // Already gone.
      }
    },
  };
  for (const other of readdirSync(dir)) {
    if (other === name || !isLockFileName(other)) continue;
    const holder = parseLockName(other);
    if (holder !== undefined && !holderAlive(holder)) {
      removeStale(join(dir, other));
      continue;
    }
    lock.release();
    throw locked(dir, holder?.pid, other, holder?.pid === process.pid ? 'this process' : 'another process');
  }
  return lock;
}

/** Removes a dead process's lock file; another opener may have just done so. */
function removeStale(file: string): void {
  try {
    unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function fileIdentity(stats: Stats): string {
  return `${stats.dev}:${stats.ino}`;
}

function locked(dir: string, pid: number | undefined, name: string, who: string): StorageError {
  return new StorageError('STORAGE_LOCKED', `${dir} is locked by ${who} (pid ${pid ?? 'unknown'}, ${name}): a node's folder is open in one process at a time`);
}

interface Holder {
  pid: number;
  token: string;
}

function parseLockName(name: string): Holder | undefined {
  const match = /^LOCK\.(\d+)\.(.+)$/.exec(name);
  return match === null ? undefined : { pid: Number(match[1]), token: match[2] };
}

/** True iff the process that wrote a lock file with this pid and token still runs. */
function holderAlive({ pid, token }: Holder): boolean {
  const boot = bootIdPrefix();
  if (token.startsWith('linux-') && boot !== undefined) return token === `linux-${boot}-${startTicks(pid)}`;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, someone else's
  }
}

/** `linux-<boot id prefix>-<start time in clock ticks>`, or the start time in ms where there is no /proc. */
function ownToken(): string {
  const boot = bootIdPrefix();
  return boot === undefined ? `ms-${Math.round(performance.timeOrigin)}` : `linux-${boot}-${startTicks(process.pid)}`;
}

/** This boot's id, shortened; undefined where there is no /proc. Other errors (EMFILE...) are thrown: never guess a holder dead. */
function bootIdPrefix(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().slice(0, 8);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** When process `pid` started, in clock ticks since boot (/proc/<pid>/stat field 22); undefined if it is gone. */
function startTicks(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  // Fields after the command name, which is in parentheses and may hold spaces: state is field 3, starttime field 22.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined; // dead, not yet reaped by its parent
  return fields[22 - 3];
}
