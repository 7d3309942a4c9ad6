import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { v8PoolSize } from '../src/helperThreads.js';

const MODULE = new URL('../dist/helperThreads.js', import.meta.url).href;

/**
 * In a fresh process (thread priorities are per process): does some file I/O
 * first, so libuv's thread pool exists as it does when the CLI starts, then
 * calls lowerV8HelperPriority and prints every thread's id (relative to the
 * pid) and nice value, and the ids it reniced.
 */
const SCRIPT = `
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { lowerV8HelperPriority } from ${JSON.stringify(MODULE)};
await readFile(${JSON.stringify(new URL(import.meta.url).pathname)});
const reniced = lowerV8HelperPriority();
const nice = (tid) => { const stat = readFileSync('/proc/self/task/' + tid + '/stat', 'utf8'); return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]); };
const threads = readdirSync('/proc/self/task').map(Number).sort((a, b) => a - b).map((tid) => [tid - process.pid, nice(tid)]);
process.stdout.write(JSON.stringify({ threads, reniced: reniced.map((tid) => tid - process.pid) }));
`;

async function threadsAfter(nodeArgs: readonly string[], nodeOptions = ''): Promise<{ threads: Array<[number, number]>; reniced: number[] }> {
  const env = { ...process.env, NODE_OPTIONS: nodeOptions };
  const { stdout } = await promisify(execFile)(process.execPath, [...nodeArgs, '--input-type=module', '-e', SCRIPT], { env });
  return JSON.parse(stdout) as { threads: Array<[number, number]>; reniced: number[] };
}

describe('lowerV8HelperPriority', () => {
  it.runIf(process.platform === 'linux')('renices V8 platform threads (scheduler + pool) and nothing else: not the main thread, not libuv pool', async () => {
    // The pool's size from the command line, else NODE_OPTIONS, else Node's default.
    const cases = [
      { args: [], nodeOptions: '', poolSize: 4 },
      { args: ['--v8-pool-size=2'], nodeOptions: '', poolSize: 2 },
      { args: [], nodeOptions: '--v8-pool-size=3', poolSize: 3 },
      { args: ['--v8-pool-size=2'], nodeOptions: '--v8-pool-size=3', poolSize: 2 },
    ];
    for (const { args, nodeOptions, poolSize } of cases) {
      const { threads, reniced } = await threadsAfter(args, nodeOptions);
      expect(reniced).toEqual(Array.from({ length: poolSize + 1 }, (_, i) => i + 1));
      const niceOf = new Map(threads);
      expect(niceOf.get(0)).toBe(0);
      for (const offset of reniced) expect(niceOf.get(offset)).toBe(10);
      // Everything started after them (another Node thread, libuv's four) keeps its priority.
      const others = threads.filter(([offset]) => offset > poolSize + 1);
      expect(others.length).toBeGreaterThanOrEqual(4);
      for (const [, nice] of others) expect(nice).toBe(0);
    }
  });

  it.runIf(process.platform === 'linux')('is what the CLI does at start-up, and its starting log line says how many threads it reniced', async () => {
    const cli = new URL('../dist/cli.js', import.meta.url).pathname;
    const child = execFile(process.execPath, [cli], { env: { ...process.env, NODE_OPTIONS: '' } }); // Node's default pool: 4 workers and the scheduler
    child.stdin!.end();
    let stderr = '';
    child.stderr!.on('data', (chunk: string) => (stderr += chunk));
    await new Promise((resolve) => child.on('close', resolve));
    const starting = stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string; v8_helper_threads_reniced?: number })
      .find((line) => line.msg === 'starting');
    expect(starting?.v8_helper_threads_reniced).toBe(5);
  });

  it('reads the pool size as Node does: the last --v8-pool-size wins, 0 or garbage is unknown', () => {
    expect(v8PoolSize([])).toBe(4);
    expect(v8PoolSize(['--v8-pool-size=2'])).toBe(2);
    expect(v8PoolSize(['--v8-pool-size', '3', '--max-old-space-size=100'])).toBe(3);
    expect(v8PoolSize(['--v8-pool-size=2', '--v8-pool-size=6'])).toBe(6);
    expect(v8PoolSize(['--v8-pool-size=0'])).toBeUndefined();
    expect(v8PoolSize(['--v8-pool-size=many'])).toBeUndefined();
  });
});
