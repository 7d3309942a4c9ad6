/**
 * Loaded into a node under test with `node --import .../pauseProbe.js`
 * (a development aid, not part of npm run bench; latencyProbe.ts uses it):
 * records the process's garbage-collector pauses (PerformanceObserver) and
 * the stretches its event loop was away (a 1 ms timer that notes every gap
 * over 2 ms), and at exit writes a summary to the file named by
 * $PAUSE_PROBE_OUT, counting only what happened after SKIP_MS (start-up and
 * the paced bench's warm-up). Does nothing without that variable.
 *
 * Wall-clock gaps include time the thread spent waiting for a core (a busy
 * machine), so compare builds by alternating runs; a GC pause's length is
 * wall time too.
 */
import { writeFileSync } from 'node:fs';
import { constants, monitorEventLoopDelay, performance, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';

/** Start-up plus latencyBench's 2 s warm-up. */
const SKIP_MS = 4000;
/** A timer turn later than this counts as a stall. */
const STALL_MS = 2;

/** Per kind of collection: how many, their total and longest pause, and the time past 1 ms summed (what a tail feels). */
export interface PauseSummary {
  count: number;
  totalMs: number;
  maxMs: number;
  over1Ms: number;
  excessOver1Ms: number;
}

export interface ProbeReport {
  seconds: number;
  gc: Record<string, PauseSummary>;
  /** Event-loop delay percentiles (monitorEventLoopDelay, ms). */
  loopDelay: { p99: number; max: number };
  /** Stalls over STALL_MS a second, and their time past 1 ms a second. */
  stallsPerSecond: number;
  stallExcessMsPerSecond: number;
}

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'markCompact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incrementalMarking',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakCallbacks',
};

const out = process.env.PAUSE_PROBE_OUT;
if (out !== undefined) startProbe(out);

function startProbe(path: string): void {
  const origin = performance.now();
  const pauses: Array<{ kind: string; at: number; ms: number }> = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = GC_KINDS[(entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'other';
      pauses.push({ kind, at: entry.startTime - origin, ms: entry.duration });
    }
  }).observe({ entryTypes: ['gc'] });
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const stalls: Array<{ at: number; ms: number }> = [];
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    if (now - last > STALL_MS) stalls.push({ at: last - origin, ms: now - last });
    last = now;
  }, 1).unref();
  process.on('exit', () => {
    const seconds = Math.max(0.001, (performance.now() - origin - SKIP_MS) / 1000);
    const gc: Record<string, PauseSummary> = {};
    for (const { kind, at, ms } of pauses) {
      if (at < SKIP_MS) continue;
      const summary = (gc[kind] ??= { count: 0, totalMs: 0, maxMs: 0, over1Ms: 0, excessOver1Ms: 0 });
      summary.count++;
      summary.totalMs += ms;
      summary.maxMs = Math.max(summary.maxMs, ms);
      if (ms > 1) {
        summary.over1Ms++;
        summary.excessOver1Ms += ms - 1;
      }
    }
    const late = stalls.filter(({ at }) => at >= SKIP_MS);
    const report: ProbeReport = {
      seconds,
      gc,
      loopDelay: { p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 },
      stallsPerSecond: late.length / seconds,
      stallExcessMsPerSecond: late.reduce((sum, { ms }) => sum + ms - 1, 0) / seconds,
    };
    writeFileSync(path, JSON.stringify(report));
  });
}
