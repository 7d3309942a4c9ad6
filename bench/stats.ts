/** Small numeric helpers shared by the runners and the report. */

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A figure with the runs behind it: the median is what targets judge, the range shows the noise. */
export interface Figure {
  median: number;
  runs: number[];
}

export function figure(runs: number[]): Figure {
  return { median: median(runs), runs };
}
