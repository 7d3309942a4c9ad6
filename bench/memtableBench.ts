/**
 * The MemTable comparison: each (run, key count, structure) is timed in its
 * own child process (memtableChild.ts), then heap bytes per entry in another
 * fresh child per structure. Runs are the outer loop, so whatever else the
 * machine does during the bench is spread over all structures rather than
 * landing on one.
 */
import { fileURLToPath } from 'node:url';
import { runChild } from './childProcess.js';
import { type Figure, figure } from './stats.js';
import { STRUCTURES, type StructureName } from './structures.js';

const CHILD = fileURLToPath(new URL('./memtableChild.js', import.meta.url));

export interface MemTableOptions {
  sizes: number[];
  runs: number;
  /** Gets per timed pass, sampled from the inserted keys (all of them below this count). */
  lookups: number;
  scans: number;
  /** Key count at which bytes per entry is measured. */
  memorySize: number;
  progress: (line: string) => void;
}

export interface OpFigures {
  put: Figure;
  get: Figure;
  scan: Figure;
}

export interface MemoryFigure {
  bytesPerEntry: Figure;
  /** Medians of the two parts, to show where a structure keeps its bytes. */
  heapPerEntry: number;
  offHeapPerEntry: number;
}

export interface MemTableResults {
  options: Omit<MemTableOptions, 'progress'>;
  /** ops[structure][size] */
  ops: Record<StructureName, Record<number, OpFigures>>;
  memory: Record<StructureName, MemoryFigure>;
}

interface TimeRun {
  put: number;
  get: number;
  scan: number;
}
interface MemoryRun {
  bytesPerEntry: number;
  heapPerEntry: number;
  offHeapPerEntry: number;
}

export async function runMemTableBench(options: MemTableOptions): Promise<MemTableResults> {
  const { progress, ...recorded } = options;
  const raw = new Map<string, TimeRun[]>();
  for (let run = 0; run < options.runs; run++) {
    for (const size of options.sizes) {
      for (const structure of STRUCTURES) {
        // Same seed for every structure within a run: identical keys, values and queries.
        const result = await runChild<TimeRun>(CHILD, ['time', structure, size, options.lookups, options.scans, 1000 + run]);
        progress(`memtable run ${run + 1}/${options.runs} ${size} keys ${structure}: put ${fmt(result.put)} get ${fmt(result.get)} scan ${fmt(result.scan)}`);
        const key = `${structure}/${size}`;
        raw.set(key, [...(raw.get(key) ?? []), result]);
      }
    }
  }
  const ops = {} as MemTableResults['ops'];
  for (const structure of STRUCTURES) {
    ops[structure] = {};
    for (const size of options.sizes) {
      const runs = raw.get(`${structure}/${size}`)!;
      ops[structure][size] = { put: figure(runs.map((r) => r.put)), get: figure(runs.map((r) => r.get)), scan: figure(runs.map((r) => r.scan)) };
    }
  }

  const memoryRuns = new Map<StructureName, MemoryRun[]>();
  for (let run = 0; run < options.runs; run++) {
    for (const structure of STRUCTURES) {
      const result = await runChild<MemoryRun>(CHILD, ['memory', structure, options.memorySize, 2000 + run]);
      progress(`memory run ${run + 1}/${options.runs} ${structure}: ${result.bytesPerEntry.toFixed(1)} B/entry`);
      memoryRuns.set(structure, [...(memoryRuns.get(structure) ?? []), result]);
    }
  }
  const memory = {} as MemTableResults['memory'];
  for (const structure of STRUCTURES) {
    const runs = memoryRuns.get(structure)!;
    memory[structure] = {
      bytesPerEntry: figure(runs.map((r) => r.bytesPerEntry)),
      heapPerEntry: figure(runs.map((r) => r.heapPerEntry)).median,
      offHeapPerEntry: figure(runs.map((r) => r.offHeapPerEntry)).median,
    };
  }
  return { options: recorded, ops, memory };
}

function fmt(opsPerSecond: number): string {
  return `${Math.round(opsPerSecond / 1000)}k/s`;
}
