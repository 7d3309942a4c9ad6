import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireDirLock, isLockFileName } from '../../../src/storage/env/dirLock.js';
import { useTempDirs } from '../../support/tempDirs.js';

const freshDir = useTempDirs('dir-lock');
const lockFiles = (dir: string): string[] => readdirSync(dir).filter(isLockFileName);

describe('acquireDirLock', () => {
  it('refuses a second opener while held, and lets one in once released', () => {
    const dir = freshDir();
    const lock = acquireDirLock(dir);
    expect(lockFiles(dir)).toEqual([lock.file.slice(dir.length + 1)]);
    expect(() => acquireDirLock(dir)).toThrow(expect.objectContaining({ code: 'STORAGE_LOCKED', message: expect.stringContaining(`pid ${process.pid}`) }));
    expect(lockFiles(dir)).toHaveLength(1); // the refused opener took its own file away
    lock.release();
    lock.release();
    expect(lockFiles(dir)).toEqual([]);
    acquireDirLock(dir).release();
  });

  it("refuses while another live process's lock file is there, naming its pid", () => {
    const dir = freshDir();
    writeFileSync(join(dir, `LOCK.${process.ppid}.ms-1`), '{}\n'); // the parent runs: live by kill(pid, 0)
    expect(() => acquireDirLock(dir)).toThrow(new RegExp(`locked by another process \\(pid ${process.ppid},`));
    expect(lockFiles(dir)).toEqual([`LOCK.${process.ppid}.ms-1`]);
  });

  it('removes stale lock files: a dead pid, a reused pid (another start time), another boot', () => {
    const dir = freshDir();
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').slice(0, 8);
    const stale = [`LOCK.${2 ** 22 + 7}.ms-1`, `LOCK.${process.pid}.linux-${boot}-1`, `LOCK.${process.ppid}.linux-00000000-1`];
    for (const name of stale) writeFileSync(join(dir, name), '{}\n');
    const lock = acquireDirLock(dir);
    expect(lockFiles(dir)).toEqual([lock.file.slice(dir.length + 1)]);
    lock.release();
  });

  it('release leaves alone a lock file that is no longer its own', () => {
    const dir = freshDir();
    const first = acquireDirLock(dir);
    // As if removed (a simulated crash) and taken again under the same name: another file now.
    writeFileSync(`${first.file}.new`, '');
    renameSync(`${first.file}.new`, first.file);
    first.release();
    expect(lockFiles(dir)).toHaveLength(1);
  });
});
