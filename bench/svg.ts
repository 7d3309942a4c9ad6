/**
 * docs/benchmarks.svg: MemTable throughput against key count, one panel per
 * operation, one line per structure. Hand-written SVG (a few dozen elements)
 * so the bench needs no chart library. Both axes are logarithmic: key counts
 * grow tenfold per step, and throughput falls about as fast.
 */
import type { MemTableResults } from './memtableBench.js';
import { keyCount } from './report.js';
import { LABELS, STRUCTURES } from './structures.js';

const COLORS: Record<(typeof STRUCTURES)[number], string> = {
  skiplist: '#d62728',
  'sorted-btree': '#1f77b4',
  'js-sdsl': '#2ca02c',
  rbtree: '#9467bd',
};

const PANEL_W = 300;
const PANEL_H = 220;
const MARGIN = { left: 58, right: 16, top: 40, bottom: 42 };
const LEGEND_H = 34;

/**
 * A logarithmic y axis: throughput falls about tenfold from 10k to 1M keys,
 * so on a linear axis the 1M points (where the targets are judged) would sit
 * flat on the floor. Bounds are whole decades; gridlines at 1, 2 and 5.
 */
function logAxis(min: number, max: number): { lo: number; hi: number; ticks: number[] } {
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const ticks: number[] = [];
  for (let d = lo; d <= hi; d++) for (const m of [1, 2, 5]) if (d + Math.log10(m) <= hi) ticks.push(m * 10 ** d);
  return { lo, hi: Math.max(hi, lo + 1), ticks };
}

/** Tick values are 1, 2 or 5 times a power of ten: no decimals needed. */
const tickLabel = (v: number): string => (v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : String(v));

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function chartSvg(results: MemTableResults, title: string): string {
  const sizes = [...results.options.sizes].sort((a, b) => a - b);
  const panels = [
    { op: 'put' as const, name: 'put (upsert)' },
    { op: 'get' as const, name: 'get (hit)' },
    { op: 'scan' as const, name: 'seekGE + 100-entry scan' },
  ];
  const cellW = MARGIN.left + PANEL_W + MARGIN.right;
  const width = cellW * panels.length;
  const height = MARGIN.top + PANEL_H + MARGIN.bottom + LEGEND_H + 24;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="${width / 2}" y="18" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`);

  const logMin = Math.log10(sizes[0]);
  const logSpan = Math.max(1e-9, Math.log10(sizes[sizes.length - 1]) - logMin);
  panels.forEach(({ op, name }, i) => {
    const x0 = i * cellW + MARGIN.left;
    const y0 = MARGIN.top + 10;
    const values = STRUCTURES.flatMap((s) => sizes.map((n) => results.ops[s][n][op].median));
    const axis = logAxis(Math.min(...values), Math.max(...values));
    const px = (n: number): number => x0 + (sizes.length === 1 ? PANEL_W / 2 : ((Math.log10(n) - logMin) / logSpan) * PANEL_W);
    const py = (v: number): number => y0 + PANEL_H - ((Math.log10(v) - axis.lo) / (axis.hi - axis.lo)) * PANEL_H;

    out.push(`<text x="${x0 + PANEL_W / 2}" y="${y0 - 8}" text-anchor="middle" font-weight="bold">${esc(name)}, ops/s (log scale)</text>`);
    for (const v of axis.ticks) {
      const y = py(v).toFixed(1);
      const decade = Number.isInteger(Math.log10(v));
      out.push(`<line x1="${x0}" x2="${x0 + PANEL_W}" y1="${y}" y2="${y}" stroke="${decade ? '#bbb' : '#eee'}"/>`);
      out.push(`<text x="${x0 - 6}" y="${Number(y) + 4}" text-anchor="end"${decade ? '' : ' fill="#777"'}>${tickLabel(v)}</text>`);
    }
    for (const n of sizes) {
      out.push(`<line x1="${px(n)}" x2="${px(n)}" y1="${y0 + PANEL_H}" y2="${y0 + PANEL_H + 4}" stroke="#333"/>`);
      out.push(`<text x="${px(n)}" y="${y0 + PANEL_H + 18}" text-anchor="middle">${keyCount(n)}</text>`);
    }
    out.push(`<text x="${x0 + PANEL_W / 2}" y="${y0 + PANEL_H + 34}" text-anchor="middle" fill="#555">keys in the structure (log scale)</text>`);
    out.push(`<rect x="${x0}" y="${y0}" width="${PANEL_W}" height="${PANEL_H}" fill="none" stroke="#333"/>`);
    for (const s of STRUCTURES) {
      const points = sizes.map((n) => `${px(n).toFixed(1)},${py(results.ops[s][n][op].median).toFixed(1)}`);
      const strokeWidth = s === 'skiplist' ? 3 : 2;
      out.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${COLORS[s]}" stroke-width="${strokeWidth}"/>`);
      for (const p of points) {
        const [cx, cy] = p.split(',');
        out.push(`<circle cx="${cx}" cy="${cy}" r="3.5" fill="${COLORS[s]}"/>`);
      }
    }
  });

  const legendY = MARGIN.top + 10 + PANEL_H + MARGIN.bottom + 14;
  const itemW = width / STRUCTURES.length;
  STRUCTURES.forEach((s, i) => {
    const lx = i * itemW + 24;
    out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${legendY}" y2="${legendY}" stroke="${COLORS[s]}" stroke-width="3"/>`);
    out.push(`<text x="${lx + 30}" y="${legendY + 4}">${esc(LABELS[s])}</text>`);
  });
  out.push(`</svg>`);
  return out.join('\n') + '\n';
}
