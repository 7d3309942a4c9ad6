/**
 * The engine against LevelDB: each (run, engine) is one fresh child
 * (engineChild.ts) on the same keys, values and queries; runs are the outer
 * loop and the engines alternate within each, so whatever else the machine
 * does lands on both.
 */
import { fileURLToPath } from 'node:url';
import { runChild } from './childProcess.js';
import type { EngineRun } from './engineChild.js';
import { type Figure, figure } from './stats.js';

const CHILD = fileURLToPath(new URL('./engineChild.js', import.meta.url));
export const ENGINES = ['ours', 'leveldb'] as const;
export type EngineName = (typeof ENGINES)[number];

export interface EngineOptions {
  keys: number;
  gets: number;
  scans: number;
  overwrites: number;
  runs: number;
}

type Figures = { [K in keyof EngineRun]: EngineRun[K] extends number ? Figure : EngineRun[K][] };

export interface EngineResults {
  options: EngineOptions;
  engines: Record<EngineName, Figures>;
}

/** `runs` runs of both engines, alternating; every figure's median with its runs. Rejects if a child fails its own checks. */
export async function runEngineBench(options: EngineOptions, progress: (line: string) => void): Promise<EngineResults> {
  const raw: Record<EngineName, EngineRun[]> = { ours: [], leveldb: [] };
  for (let run = 0; run < options.runs; run++) {
    for (const engine of ENGINES) {
      const r = await runChild<EngineRun>(CHILD, [engine, options.keys, options.gets, options.scans, options.overwrites, 100 + run], []);
      raw[engine].push(r);
      progress(
        `engine run ${run + 1}/${options.runs} ${engine}: put ${k(r.put)} get ${k(r.getPresent)} absent ${k(r.getAbsent)} scan ${k(r.scan)}/s, ` +
          `disk ${(r.diskAfterLoad / 1e6).toFixed(0)} → ${(r.diskAfterOverwrite / 1e6).toFixed(0)} MB, written ${(r.writtenTotal / r.userBytesTotal).toFixed(2)}x the data`,
      );
    }
  }
  const engines = {} as EngineResults['engines'];
  for (const engine of ENGINES) {
    const runs = raw[engine];
    const figures = {} as Record<string, unknown>;
    for (const field of Object.keys(runs[0]) as Array<keyof EngineRun>) {
      const values = runs.map((r) => r[field]);
      figures[field] = typeof values[0] === 'number' ? figure(values as number[]) : values;
    }
    engines[engine] = figures as Figures;
  }
  return { options, engines };
}

function k(opsPerSecond: number): string {
  return `${Math.round(opsPerSecond / 1000)}k`;
}
