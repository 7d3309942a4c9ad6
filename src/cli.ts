#!/usr/bin/env node
/**
 * The entry point: loads the CLI (main.ts) with a dynamic import, so that a
 * process with too few file descriptors to load it (Node's module loader
 * opens 40-odd module files at once) gets one line and exit 2 instead of the
 * loader's stack trace.
 */
try {
  await import('./main.js');
} catch (error) {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'EMFILE' && code !== 'ENFILE') throw error;
  process.stderr.write(`memtable-node: too few file descriptors to start (${code}): raise ulimit -n (64 is enough to start; each node and --max-open-files need more)\n`);
  process.exit(2);
}
