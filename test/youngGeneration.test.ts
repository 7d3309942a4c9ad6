import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const MODULE = new URL('../dist/youngGeneration.js', import.meta.url).href;
const MIB = 1024 * 1024;

/**
 * In a fresh process (V8's flags are process-wide): allocates strings a quarter
 * of which survive for a while, in slices with an event-loop turn between
 * them as the node's chunks come, and prints the largest young generation
 * (new_space, both semi-spaces) seen. With `cap`, capYoungGeneration(2 MiB)
 * runs first; with `worker`, a worker thread also starts a tenth of the way in
 * (as the compaction runner's does, at the first compaction).
 */
const SCRIPT = `
import { getHeapSpaceStatistics } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { capYoungGeneration } from ${JSON.stringify(MODULE)};
const mode = process.argv[1];
if (mode !== 'default') capYoungGeneration(${2 * MIB});
const kept = [];
let largest = 0;
let worker;
for (let slice = 0; slice < 1500; slice++) {
  if (slice === 150 && mode === 'worker') worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
  for (let i = 0; i < 3000; i++) {
    const text = 'x'.repeat(100) + i;
    if (i % 4 === 0) kept.push(text);
  }
  if (kept.length > 300000) kept.length = 0;
  await new Promise((resolve) => setImmediate(resolve));
  largest = Math.max(largest, getHeapSpaceStatistics().find((space) => space.space_name === 'new_space').space_size);
}
await worker?.terminate();
process.stdout.write(String(largest));
`;

async function largestYoungGeneration(mode: 'default' | 'cap' | 'worker'): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', SCRIPT, mode]);
  return Number(stdout);
}

describe('capYoungGeneration', () => {
  it('keeps the young generation at the cap where V8 alone grows it far past, a worker thread starting or not', async () => {
    const [grown, capped, withWorker] = await Promise.all([largestYoungGeneration('default'), largestYoungGeneration('cap'), largestYoungGeneration('worker')]);
    expect(grown).toBeGreaterThanOrEqual(16 * MIB);
    expect(capped).toBeLessThanOrEqual(4 * MIB); // both semi-spaces of 2 MiB
    // A worker's start puts V8's flags back; the cap is set again at the next collection, so at most one doubling.
    expect(withWorker).toBeLessThanOrEqual(8 * MIB);
  });
});
