/** The command line through the built CLI: bad flags, variables and data folders are one line and exit 2; --version. */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../support/tempDirs.js';
import { init, replyTo, request, runCli } from './cli.js';

const freshDir = useTempDirs('e2e-command-line');

/** Runs the CLI with `args` and `env` on an init, expecting exit 2 and one line on stderr; returns that line. */
async function refused(args: string[], env: Record<string, string> = {}, openFilesLimit?: number): Promise<string> {
  const run = await runCli([init()], { args, env, timeoutMs: 10_000, openFilesLimit });
  expect(run.code, run.stderr).toBe(2);
  expect(run.lines).toEqual([]);
  const lines = run.stderr.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^memtable-node: /);
  return lines[0];
}

describe('the command line', () => {
  it('refuses a bad flag or variable in one line naming what was typed and what is allowed', async () => {
    const negative = await refused(['--memtable-max-bytes', '-5']);
    expect(negative).toBe('memtable-node: --memtable-max-bytes must be a positive integer, got "-5"');
    expect(await refused([], { MEMTABLE_MAX_BYTES: '-5' })).toBe('memtable-node: MEMTABLE_MAX_BYTES must be a positive integer, got "-5"');
    expect(await refused(['--frobnicate'])).toBe('memtable-node: unknown option --frobnicate; memtable-node --help lists the options');
    expect(await refused(['--l0-stop-trigger', '2'])).toContain('--l0-compaction-trigger 4, --l0-slowdown-trigger 8, --l0-stop-trigger 2');
    expect(await refused(['replay', 'run.log', '--data-dir', '/tmp'])).toMatch(/replay does not take --data-dir/);
  });

  it('treats empty variables as unset and log levels in any case', async () => {
    const env = { MEMTABLE_MAX_BYTES: '', MEMTABLE_DATA_DIR: '', MEMTABLE_SYNC: '', LOG_LEVEL: 'INFO' };
    const run = await runCli([init(), request(2, 'memtable_put', { key: 'a', value: 1 })], { env });
    expect(run.code).toBe(0);
    expect(replyTo(run, 2)).toMatchObject({ type: 'memtable_put_ok' });
    expect(run.stderr).toContain('"memtable_max_bytes":4194304');
    expect(run.stderr).toContain('"temporary":true');
  });

  it('--version prints the package version', async () => {
    const run = await runCli([], { args: ['--version'] });
    expect(run.code).toBe(0);
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(run.lines).toEqual([version]);
  });

  it('refuses a data folder it cannot create or write in, naming the path and the reason, without hanging', async () => {
    const file = join(freshDir(), 'a-file');
    writeFileSync(file, 'not a folder');
    expect(await refused(['--data-dir', '/proc/nope'])).toBe('memtable-node: unusable data folder /proc/nope: cannot create /proc/nope: ENOENT (no such file or directory)');
    expect(await refused(['--data-dir', '/proc'])).toMatch(/^memtable-node: unusable data folder \/proc: cannot create files in it: /);
    expect(await refused([], { MEMTABLE_DATA_DIR: file })).toBe(`memtable-node: unusable data folder ${file}: ${file} exists and is not a directory`);
    expect(await refused(['--data-dir', join(file, 'below')])).toContain('ENOTDIR');
  });

  it('creates a missing data folder, parents included', async () => {
    const dataDir = join(freshDir(), 'a', 'b');
    const run = await runCli([init(), request(2, 'write', { key: 'k', value: 1 })], { args: ['--data-dir', dataDir] });
    expect(run.code).toBe(0);
    expect(replyTo(run, 2)).toMatchObject({ type: 'write_ok' });
  });

  it('says to raise ulimit -n, in one line, when it has too few descriptors to load itself', async () => {
    // Node's module loader opens 40-odd of the CLI's module files at once: under 30 it cannot.
    // EMFILE itself, or (met while resolving a package) a module reported missing: either way one line naming the limit.
    expect(await refused([], {}, 30)).toMatch(/^memtable-node: too few file descriptors to start \((EMFILE|a module could not be opened), ulimit -n 30\): raise ulimit -n/);
  });

  it('blames a module not found on descriptors only under a low ulimit -n (the loader reports EMFILE in a package lookup so)', () => {
    // The entry (dist/cli.js) beside a main.js that imports a package that is not there.
    const dir = freshDir();
    writeFileSync(join(dir, 'cli.js'), readFileSync(new URL('../../dist/cli.js', import.meta.url)));
    writeFileSync(join(dir, 'main.js'), "import 'no-such-package-anywhere';\n");
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    const start = (limit: number) => spawnSync('bash', ['-c', `ulimit -n ${limit} && exec "$0" cli.js`, process.execPath], { cwd: dir, encoding: 'utf8', input: '' });
    const starved = start(30);
    expect(starved.status).toBe(2);
    expect(starved.stderr).toBe('memtable-node: too few file descriptors to start (a module could not be opened, ulimit -n 30): raise ulimit -n (64 is enough to start; each node and --max-open-files need more)\n');
    const broken = start(1024);
    expect(broken.status).toBe(1);
    expect(broken.stderr).toContain("Cannot find package 'no-such-package-anywhere'");
  });

  it('says which setting to lower when init runs out of file descriptors', async () => {
    // Each node holds its WAL segment open: under a low ulimit, later inits meet EMFILE. The limit leaves
    // Node's module loader room to start the CLI (it opens 40-odd module files at once; 40 failed at start-up).
    const inits = Array.from({ length: 100 }, (_, i) => init(`n${i}`));
    const run = await runCli(inits, { args: ['--data-dir', freshDir()], openFilesLimit: 64 });
    expect(run.code).toBe(0);
    const failed = run.messages.filter((message) => message.body.type === 'error');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0].body).toMatchObject({ code: 13, text: expect.stringMatching(/EMFILE.*lower --max-open-files or raise ulimit -n/) });
  });
});
