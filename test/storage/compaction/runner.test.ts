/**
 * The worker runner runs the compiled worker (dist/storage/compaction/
 * worker.js): vitest runs TypeScript sources, which a worker thread cannot
 * load, so this file imports the runner from dist/ (`npm test` builds it
 * first; after changing src/storage, run `npx tsc -p tsconfig.json` before
 * running this file alone).
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type CompactionJob } from '../../../src/storage/compaction/job.js';
import { sstableFileName } from '../../../src/storage/version/fileNames.js';
import { type CompactionRunner, inProcessRunner } from '../../../src/storage/compaction/runner.js';
import { nodeFileSystem } from '../../../src/storage/env/fileSystem.js';
import { TOMBSTONE } from '../../../src/storage/iterator.js';
import { MemTable } from '../../../src/storage/memtable/memTable.js';
import { writeSSTable } from '../../../src/storage/sstable/writer.js';
import { useTempDirs } from '../../support/tempDirs.js';

const distRunner = new URL('../../../dist/storage/compaction/runner.js', import.meta.url).href;
const { workerRunner } = (await import(distRunner)) as typeof import('../../../src/storage/compaction/runner.js');

const tempDir = useTempDirs('compaction-runner');
const execFileAsync = promisify(execFile);
const runners: CompactionRunner[] = [];
afterEach(async () => {
  for (const runner of runners.splice(0)) await runner.close();
});

/** Two L0 files and an L1 file in a fresh folder, and the job that compacts them into L1. */
async function setUp(): Promise<CompactionJob> {
  const dir = tempDir();
  const tables: Array<[string, Array<[string, string | null]>]> = [
    [sstableFileName(3, 0), [...Array(300).keys()].map((i) => [`k${String(i * 2).padStart(4, '0')}`, i % 7 === 0 ? TOMBSTONE : `"new ${i}"`])],
    [sstableFileName(2, 0), [...Array(300).keys()].map((i) => [`k${String(i * 3).padStart(4, '0')}`, `"mid ${i}"`])],
    [sstableFileName(1, 1), [...Array(500).keys()].map((i) => [`k${String(i).padStart(4, '0')}`, `"old ${i}"`])],
  ];
  for (const [name, entries] of tables) {
    const memtable = new MemTable(0);
    for (const [key, value] of entries) memtable.put(key, value);
    await writeSSTable(nodeFileSystem, join(dir, name), memtable.iterator());
  }
  return {
    dir,
    sourceLevel: 0,
    targetLevel: 1,
    sourceFiles: [sstableFileName(3, 0), sstableFileName(2, 0)],
    targetFiles: [sstableFileName(1, 1)],
    grandparents: [],
    deeperRanges: [{ smallest: 'k0100', largest: 'k0200' }],
    targetFileBytes: 4096,
    maxGrandparentOverlapBytes: 40960,
    fileNumbers: { first: 10, limit: 30 },
  };
}

function track(runner: CompactionRunner): CompactionRunner {
  runners.push(runner);
  return runner;
}

describe('workerRunner', () => {
  it('returns what the in-process runner returns, byte for byte', async () => {
    const [inWorker, inProcess] = [await setUp(), await setUp()];
    const fromWorker = await track(workerRunner()).run(inWorker);
    const fromProcess = await track(inProcessRunner(nodeFileSystem)).run(inProcess);
    expect(fromWorker).toEqual(fromProcess);
    expect(fromWorker.outputs.length).toBeGreaterThan(1);
    for (const file of fromWorker.outputs) expect(readFileSync(join(inWorker.dir, file.name)).equals(readFileSync(join(inProcess.dir, file.name)))).toBe(true);
  });

  it('rejects a failing job with its storage error code and keeps serving the next jobs', async () => {
    const runner = track(workerRunner());
    const job = await setUp();
    const missing = { ...job, sourceFiles: [sstableFileName(99, 0)] };
    await expect(runner.run(missing)).rejects.toMatchObject({ name: 'StorageError', code: 'STORAGE_IO', message: expect.stringContaining('ENOENT') });
    const result = await runner.run(job);
    expect(result.outputs.length).toBeGreaterThan(0);
  });

  it('injects the faults of MEMTABLE_FAULT_FILE into compaction writes, and recovers when they stop', async () => {
    const job = await setUp();
    const plan = join(job.dir, 'faults.json');
    writeFileSync(plan, JSON.stringify({ createWritable: 'ENOSPC' }));
    const before = process.env.MEMTABLE_FAULT_FILE;
    process.env.MEMTABLE_FAULT_FILE = plan; // a worker takes the environment when spawned: at its first job
    try {
      const runner = track(workerRunner());
      await expect(runner.run(job)).rejects.toMatchObject({ code: 'STORAGE_IO', message: expect.stringContaining('ENOSPC') });
      expect(readdirSync(job.dir).filter((name) => name.startsWith('L1_') && name !== sstableFileName(1, 1))).toEqual([]);
      writeFileSync(plan, '{}');
      expect((await runner.run(job)).outputs.length).toBeGreaterThan(0);
    } finally {
      if (before === undefined) delete process.env.MEMTABLE_FAULT_FILE;
      else process.env.MEMTABLE_FAULT_FILE = before;
    }
  });

  it('runs jobs side by side in up to `workers` workers, spawning one only when none is idle', async () => {
    // A stand-in worker that answers each job after 50 ms with its thread id, so jobs sent together overlap.
    const dir = tempDir();
    const stub = join(dir, 'stub-worker.mjs');
    writeFileSync(
      stub,
      `import { parentPort, threadId } from 'node:worker_threads';
       parentPort.on('message', ({ id }) => setTimeout(() => parentPort.postMessage({ id, ok: true, result: { outputs: [], bytesWritten: threadId, entriesWritten: 0 } }), 50));`,
    );
    const runner = track(workerRunner({ workerUrl: pathToFileURL(stub), workers: 2 }));
    const job = await setUp();
    const threadOf = async () => (await runner.run(job)).bytesWritten;
    const one = await threadOf();
    expect(await threadOf()).toBe(one); // one at a time: the idle worker takes each
    const together = await Promise.all(Array.from({ length: 5 }, threadOf));
    expect(new Set(together).size).toBe(2);
    expect(together).toContain(one);
  });

  it('rejects the jobs of a worker that dies, and spawns a new one for the next job', async () => {
    // A worker that cannot load its module dies at once: the jobs sent to it must fail, not hang.
    const runner = track(workerRunner({ workerUrl: new URL('./no-such-worker.js', distRunner) }));
    const job = await setUp();
    await expect(runner.run(job)).rejects.toThrow();
    await expect(runner.run(job)).rejects.toThrow();
  });

  it('never keeps the process alive once its jobs are done', async () => {
    // A process that runs a job and never closes the runner must still exit by itself.
    const job = await setUp();
    const script = `const { workerRunner } = await import(${JSON.stringify(distRunner)});
      const result = await workerRunner().run(JSON.parse(process.env.JOB));
      console.log(result.outputs.length);`;
    const scriptFile = join(job.dir, 'run-one-job.mjs');
    writeFileSync(scriptFile, script);
    const { stdout } = await execFileAsync(process.execPath, [scriptFile], { env: { ...process.env, JOB: JSON.stringify(job) }, timeout: 20_000 });
    expect(Number(stdout)).toBeGreaterThan(0);
  });

  it('rejects jobs once closed', async () => {
    const runner = workerRunner();
    await runner.close();
    await expect(runner.run(await setUp())).rejects.toThrow('closed');
  });
});
