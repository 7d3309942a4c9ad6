/**
 * The data root (--data-dir): checked once at startup, before anything is
 * served, so a folder the node cannot use is one line and exit 2 rather than
 * a failed init per node, or a hang.
 *
 * Why not `mkdir -p`: Node's recursive mkdir loops forever where mkdir
 * answers ENOENT under a parent that exists (e.g. /proc/nope: /proc exists,
 * nothing can be created in it). So the missing folders are created one at
 * a time, top down, and a failure is reported as it is.
 *
 * On return the root is a directory in which a file could be created.
 */
import { closeSync, mkdirSync, openSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** A data root that cannot be used: `message` names the path and the reason. */
export class DataRootError extends Error {}

/** Creates `path` (and missing parents) if needed and checks it is a directory one can create files in; throws DataRootError. */
export function prepareDataRoot(path: string): string {
  const root = resolve(path);
  const missing: string[] = [];
  let existing = root;
  for (;;) {
    const kind = statKind(root, existing);
    if (kind === 'directory') break;
    if (kind === 'other') throw new DataRootError(`${root}: ${existing} exists and is not a directory`);
    missing.unshift(existing);
    const parent = dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  for (const folder of missing) {
    try {
      mkdirSync(folder);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new DataRootError(`${root}: cannot create ${folder}: ${reason(error)}`);
    }
  }
  // access(2) says yes to root almost everywhere (/proc included): creating a file is the real test.
  const probe = join(root, `.write-test-${process.pid}`);
  try {
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  } catch (error) {
    throw new DataRootError(`${root}: cannot create files in it: ${reason(error)}`);
  }
  return root;
}

function statKind(root: string, path: string): 'directory' | 'other' | 'missing' {
  try {
    return statSync(path).isDirectory() ? 'directory' : 'other';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw new DataRootError(`${root}: cannot look at ${path}: ${reason(error)}`);
  }
}

/** The errno code and its text, without Node's restated path. */
function reason(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  return code === undefined ? message : `${code} (${message.replace(/^\w+: /, '').replace(/, \w+ '.*'$/, '')})`;
}
