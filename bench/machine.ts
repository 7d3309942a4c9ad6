/** What the figures were measured on: they mean little without it. */
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, tmpdir } from 'node:os';

export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  kernel: string;
  /** File system type of the temporary directory every file is written to (fdatasync cost depends on it). */
  tmpFs: string;
  /** 1-minute load average when the bench started: other work on the machine skews every figure. */
  loadAtStart: number;
  /**
   * Share of the machine's CPU (all cores) that processes other than the
   * bench used while it ran (filled in by main.ts from two CpuSnapshots).
   * The load average cannot tell this: the bench's own children load it.
   */
  othersCpuShare: number;
}

/** Busy CPU time of the whole machine and of this process with its reaped children, in clock ticks. */
export interface CpuSnapshot {
  machineBusy: number;
  ours: number;
}

export function cpuSnapshot(): CpuSnapshot {
  try {
    // cpu  user nice system idle iowait irq softirq steal ...
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const machineBusy = cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + (cpu[7] ?? 0);
    // /proc/self/stat fields 14-17: utime stime cutime cstime (children are counted once waited for, as libuv does on exit).
    const self = readFileSync('/proc/self/stat', 'utf8');
    const fields = self.slice(self.lastIndexOf(')') + 2).split(' ').map(Number);
    const ours = fields[11] + fields[12] + fields[13] + fields[14];
    return { machineBusy, ours };
  } catch {
    return { machineBusy: NaN, ours: NaN }; // not Linux
  }
}

/** Fraction of all cores' time, over `seconds`, that went to processes other than ours. */
export function othersCpuShare(start: CpuSnapshot, end: CpuSnapshot, seconds: number, cores: number): number {
  const ticksPerSecond = 100; // USER_HZ: 100 on every Linux ABI Node supports
  const others = end.machineBusy - start.machineBusy - (end.ours - start.ours);
  return Math.max(0, others / (seconds * cores * ticksPerSecond));
}

/** The type of the file system mounted at the longest prefix of `path`, from /proc/mounts. */
function fileSystemOf(path: string): string {
  try {
    let best = { point: '', type: 'unknown' };
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [, point, type] = line.split(' ');
      if (point === undefined || type === undefined) continue;
      const covers = path === point || path.startsWith(point.endsWith('/') ? point : point + '/');
      if (covers && point.length >= best.point.length) best = { point, type };
    }
    return best.type;
  } catch {
    return 'unknown'; // not Linux
  }
}

export function describeMachine(): Machine {
  let cpu = 'unknown';
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpu;
  } catch {
    // not Linux
  }
  return {
    cpu,
    cores: availableParallelism(),
    node: process.version,
    kernel: `${process.platform} ${release()}`,
    tmpFs: `${fileSystemOf(tmpdir())} (${tmpdir()})`,
    loadAtStart: loadavg()[0],
    othersCpuShare: NaN,
  };
}
