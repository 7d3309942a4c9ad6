#!/usr/bin/env node
/**
 * The entry point: loads the CLI (main.ts) with a dynamic import, so that a
 * process with too few file descriptors to load it (Node's module loader
 * opens 40-odd module files at once) gets one line and exit 2 instead of the
 * loader's stack trace.
 */
import { readFileSync } from 'node:fs';

/** `ulimit -n` above which a failed import is not blamed on descriptors: starting needs about 44. */
const ENOUGH_TO_START = 64;

// Read first: once the loader has failed for want of descriptors, there may be none left to read it with.
const limit = openFilesLimit();
try {
  await import('./main.js');
} catch (error) {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  // The loader reports an EMFILE met while resolving a package as that package not found.
  const starved = code === 'EMFILE' || code === 'ENFILE' || (code === 'ERR_MODULE_NOT_FOUND' && limit !== undefined && limit < ENOUGH_TO_START);
  if (!starved) throw error;
  const cause = code === 'ERR_MODULE_NOT_FOUND' ? 'a module could not be opened' : code;
  process.stderr.write(
    `memtable-node: too few file descriptors to start (${cause}${limit === undefined ? '' : `, ulimit -n ${limit}`}): raise ulimit -n (${ENOUGH_TO_START} is enough to start; each node and --max-open-files need more)\n`,
  );
  process.exit(2);
}

/** The soft limit on open files (Linux's /proc/self/limits), or undefined where it cannot be read. */
function openFilesLimit(): number | undefined {
  try {
    const match = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}
