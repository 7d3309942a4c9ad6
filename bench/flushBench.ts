/** The flush comparison: one fresh child (flushChild.ts) times all runs, alternating SSTable and raw writes. */
import { fileURLToPath } from 'node:url';
import { runChild } from './childProcess.js';
import { type Figure, figure } from './stats.js';

const CHILD = fileURLToPath(new URL('./flushChild.js', import.meta.url));

export interface FlushResults {
  sstable: Figure;
  raw: Figure;
  fileBytes: number;
  entries: number;
  accountedBytes: number;
}

export async function runFlushBench(runs: number): Promise<FlushResults> {
  const r = await runChild<{ sstableMBps: number[]; rawMBps: number[]; fileBytes: number; entries: number; accountedBytes: number }>(CHILD, [runs, 7], []);
  return { sstable: figure(r.sstableMBps), raw: figure(r.rawMBps), fileBytes: r.fileBytes, entries: r.entries, accountedBytes: r.accountedBytes };
}
