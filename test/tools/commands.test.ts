/** The tools' argument handling, in process: every bad argument is one line naming what was typed, exit 2. */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireDirLock } from '../../src/storage/env/dirLock.js';
import { runTool, TOOLS } from '../../src/tools/commands.js';
import { useTempDirs } from '../support/tempDirs.js';

const freshDir = useTempDirs('tools-commands');

async function run(name: string, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runTool(name, argv, { write: (text) => (stdout += text) }, { write: (text) => (stderr += text) });
  return { code, stdout, stderr };
}

describe('runTool', () => {
  it.each([
    [['sst-dump'], /^memtable-node sst-dump: missing FILE \(usage: memtable-node sst-dump FILE /],
    [['sst-dump', 'a', 'b'], /^memtable-node sst-dump: unexpected argument "b" \(/],
    [['sst-dump', 'a', '--bogus'], /^memtable-node sst-dump: unknown option --bogus \(/],
    [['sst-dump', 'a', '--start'], /^memtable-node sst-dump: --start needs a value \(/],
    [['sst-dump', 'a', '--start', '-k'], /^memtable-node sst-dump: --start takes a value; write --start=VALUE for one that starts with '-' \(/],
    [['sst-dump', 'a', '--json=yes'], /^memtable-node sst-dump: --json takes no value \(/],
    [['sst-dump', '/nonexistent/L0_000001.sst'], /^memtable-node sst-dump: cannot read \/nonexistent\/L0_000001\.sst: ENOENT \(/],
    [['wal-dump', '/'], /^memtable-node wal-dump: \/ is not a file \(/],
    [['manifest', '/etc/hostname'], /^memtable-node manifest: \/etc\/hostname is not a folder \(/],
    [['verify'], /^memtable-node verify: missing DIR \(/],
    [['verify', '/nonexistent'], /^memtable-node verify: cannot read \/nonexistent: ENOENT \(/],
    [['repair', 'a', '--force'], /^memtable-node repair: unknown option --force \(/],
  ])('%j: one line on stderr, nothing on stdout, exit 2', async ([name, ...argv], message) => {
    const result = await run(name, ...argv);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(result.stderr.endsWith('\n') && result.stderr.indexOf('\n') === result.stderr.length - 1).toBe(true);
  });

  it('sst-dump of a file that is no SSTable exits 1 saying so; wal-dump of one reads it as damage or a torn tail', async () => {
    const path = join(freshDir(), 'notes.txt');
    writeFileSync(path, 'not an sstable, but long enough to hold a footer of fifty-two bytes\n');
    const dumped = await run('sst-dump', path);
    expect(dumped.code).toBe(1);
    expect(dumped.stdout).toMatch(/footer at byte \d+: bad magic: not an SSTable/);
    const walDumped = await run('wal-dump', path, '--json');
    expect(JSON.parse(walDumped.stdout)).toMatchObject({ valid_records: 0, valid_bytes: 0 });
  });

  it('--help prints the usage of each tool and exits 0', async () => {
    for (const [name, tool] of Object.entries(TOOLS)) {
      const result = await run(name, '--help');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Usage: memtable-node ${name} ${tool.usage}\n`);
    }
  });

  it('repair of a folder whose lock is held refuses in one line without the usage, exit 2, and leaves the lock alone', async () => {
    const dir = join(freshDir(), 'n1');
    mkdirSync(dir);
    writeFileSync(join(dir, '000001.wal'), '');
    const lock = acquireDirLock(dir);
    try {
      const result = await run('repair', dir);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(`memtable-node repair: ${dir} is locked by this process (pid ${process.pid}, ${basename(lock.file)}): a node's folder is open in one process at a time; stop the node first\n`);
      expect(readdirSync(dir).sort()).toEqual(['000001.wal', basename(lock.file)]);
    } finally {
      lock.release();
    }
  });
});
