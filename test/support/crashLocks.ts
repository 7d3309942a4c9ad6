/** In-process crash simulation for tests that reopen a store they never closed. */
import { readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { isLockFileName } from '../../src/storage/env/dirLock.js';

/** Removes `dir`'s lock files, as the death of the process holding them would free the folder. */
export function dropLocksAsIfCrashed(dir: string): void {
  for (const name of readdirSync(dir)) if (isLockFileName(name)) unlinkSync(join(dir, name));
}
