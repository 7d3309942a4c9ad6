/**
 * Line charts as hand-written SVG (a few hundred elements), so the bench
 * needs no chart library: one row of panels, each with its own axes and one
 * polyline per series, a shared legend below. docs/benchmarks.svg (latency
 * percentiles) and docs/soak.svg (a sustained run over time) are drawn here.
 */

export interface Series {
  label: string;
  color: string;
  points: Array<[number, number]>;
  /** Drawn dashed: a reference line (e.g. the live data) rather than a measurement. */
  dashed?: boolean;
}

export interface Panel {
  title: string;
  xLabel: string;
  series: Series[];
  /** A logarithmic y axis (values span decades, e.g. latency percentiles). */
  logY?: boolean;
  /** Labels for x positions instead of numeric ticks (e.g. p50, p99, ...). */
  xCategories?: string[];
}

export const PALETTE = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf'];

const PANEL_W = 300;
const PANEL_H = 200;
const MARGIN = { left: 62, right: 16, top: 40, bottom: 42 };
const LEGEND_ROW_H = 20;

/** Tick values at 1, 2 or 5 times a power of ten covering [min, max] (linear), with the rounded bounds. */
function linearTicks(min: number, max: number): { lo: number; hi: number; ticks: number[] } {
  if (!(max > min)) max = min + 1;
  const raw = (max - min) / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const lo = Math.floor(min / step) * step;
  const hi = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  for (let v = lo; v <= hi + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return { lo, hi, ticks };
}

/** Whole decades around [min, max], gridlines at 1, 2 and 5. */
function logTicks(min: number, max: number): { lo: number; hi: number; ticks: number[] } {
  const lo = Math.floor(Math.log10(min));
  const hi = Math.max(Math.ceil(Math.log10(max)), lo + 1);
  const ticks: number[] = [];
  for (let d = lo; d <= hi; d++) for (const m of [1, 2, 5]) if (d + Math.log10(m) <= hi) ticks.push(m * 10 ** d);
  return { lo, hi, ticks };
}

/** 1.5M, 20k, 0.5: short labels for ticks. */
export function shortNumber(v: number): string {
  const abs = Math.abs(v);
  if (abs >= 1e9) return `${+(v / 1e9).toPrecision(3)}G`;
  if (abs >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (abs >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  return String(+v.toPrecision(3));
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** The whole chart: `panels` side by side under `title`, one legend entry per distinct series label. */
export function lineChartSvg(title: string, panels: Panel[]): string {
  const cellW = MARGIN.left + PANEL_W + MARGIN.right;
  // Wide enough for the title (about 9 px a character at 15 px bold), panels centred.
  const width = Math.max(cellW * panels.length, title.length * 9 + 40);
  const left = (width - cellW * panels.length) / 2;
  const legend = [...new Map(panels.flatMap((p) => p.series).map((s) => [s.label, s])).values()];
  const perRow = Math.max(1, Math.floor(width / 260));
  const height = MARGIN.top + PANEL_H + MARGIN.bottom + 16 + Math.ceil(legend.length / perRow) * LEGEND_ROW_H + 8;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="${width / 2}" y="18" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`);

  panels.forEach((panel, i) => {
    const x0 = left + i * cellW + MARGIN.left;
    const y0 = MARGIN.top + 10;
    const points = panel.series.flatMap((s) => s.points);
    const ys = points.map(([, y]) => y).filter((y) => !panel.logY || y > 0);
    const xs = points.map(([x]) => x);
    const yAxis = panel.logY ? logTicks(Math.min(...ys), Math.max(...ys)) : linearTicks(Math.min(0, ...ys), Math.max(...ys));
    const xAxis = panel.xCategories !== undefined ? { lo: 0, hi: panel.xCategories.length - 1, ticks: panel.xCategories.map((_, k) => k) } : linearTicks(Math.min(...xs), Math.max(...xs));
    const xSpan = Math.max(1e-9, xAxis.hi - xAxis.lo);
    const px = (x: number): number => x0 + ((x - xAxis.lo) / xSpan) * PANEL_W;
    const py = (y: number): number => {
      const f = panel.logY ? (Math.log10(y) - yAxis.lo) / (yAxis.hi - yAxis.lo) : (y - yAxis.lo) / Math.max(1e-9, yAxis.hi - yAxis.lo);
      return y0 + PANEL_H - f * PANEL_H;
    };

    out.push(`<text x="${x0 + PANEL_W / 2}" y="${y0 - 8}" text-anchor="middle" font-weight="bold">${esc(panel.title)}</text>`);
    for (const v of yAxis.ticks) {
      const y = py(v).toFixed(1);
      out.push(`<line x1="${x0}" x2="${x0 + PANEL_W}" y1="${y}" y2="${y}" stroke="#e4e4e4"/>`);
      out.push(`<text x="${x0 - 6}" y="${Number(y) + 4}" text-anchor="end">${shortNumber(v)}</text>`);
    }
    for (const v of xAxis.ticks) {
      const x = px(v).toFixed(1);
      out.push(`<line x1="${x}" x2="${x}" y1="${y0 + PANEL_H}" y2="${y0 + PANEL_H + 4}" stroke="#333"/>`);
      out.push(`<text x="${x}" y="${y0 + PANEL_H + 18}" text-anchor="middle">${esc(panel.xCategories?.[v] ?? shortNumber(v))}</text>`);
    }
    out.push(`<text x="${x0 + PANEL_W / 2}" y="${y0 + PANEL_H + 34}" text-anchor="middle" fill="#555">${esc(panel.xLabel)}</text>`);
    out.push(`<rect x="${x0}" y="${y0}" width="${PANEL_W}" height="${PANEL_H}" fill="none" stroke="#333"/>`);
    for (const s of panel.series) {
      const drawn = s.points.filter(([, y]) => !panel.logY || y > 0).map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`);
      out.push(`<polyline points="${drawn.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
      if (drawn.length <= 12) for (const p of drawn) out.push(`<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="3" fill="${s.color}"/>`);
    }
  });

  const legendY = MARGIN.top + 10 + PANEL_H + MARGIN.bottom + 16;
  legend.forEach((s, k) => {
    const lx = (k % perRow) * (width / perRow) + 24;
    const ly = legendY + Math.floor(k / perRow) * LEGEND_ROW_H;
    out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="3"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    out.push(`<text x="${lx + 30}" y="${ly + 4}">${esc(s.label)}</text>`);
  });
  out.push(`</svg>`);
  return out.join('\n') + '\n';
}
