/** The LSM drawing, from a recorded summary of a store with levels and a compaction under way. */
import { describe, expect, it } from 'vitest';
import type { LsmSummary } from '../../../src/actors/lsmSummary.js';
import { drawLsm, keyScale } from '../../../src/inspector/page/lsm.js';

const file = (name: string, smallest: string, largest: string, sizeBytes = 2_000_000) => ({ file: name, smallest, largest, sizeBytes, entries: 1000 });

/** The shape compaction will send: L0 over its trigger, L0 → L1 running, L1 and L2 sorted runs. */
const SUMMARY: LsmSummary = {
  active: { bytes: 1_048_576, maxBytes: 4_194_304, entries: 5000 },
  frozen: [{ bytes: 4_194_304, entries: 20_000 }],
  maxFrozen: 4,
  levels: [
    { level: 0, files: [file('000012.sst', 'user:10000000', 'user:f0000000'), file('000011.sst', 'user:00000000', 'user:ffffffff')], bytes: 4_000_000, maxBytes: null, score: 0.5 },
    { level: 1, files: [file('000007.sst', 'user:00000000', 'user:3fffffff'), file('000008.sst', 'user:40000000', 'user:bfffffff'), file('000013.sst', 'user:c0000000', 'user:ffffffff')], bytes: 6_000_000, maxBytes: 10_485_760, score: 0.57 },
    { level: 2, files: [file('000003.sst', 'user:00000000', 'user:7fffffff')], bytes: 2_000_000, maxBytes: 104_857_600, score: 0.02 },
    ...[3, 4, 5, 6].map((level) => ({ level, files: [], bytes: 0, maxBytes: 10_485_760 * 10 ** (level - 1), score: 0 })),
  ],
  l0: { files: 2, compactionTrigger: 4, slowdownTrigger: 8, stopTrigger: 12 },
  flush: { bytes: 4_194_304, entries: 20_000, retrying: false },
  compaction: { sourceLevel: 0, targetLevel: 1, inputs: ['000012.sst', '000011.sst', '000007.sst'], outputs: ['000013.sst'] },
  stalled: true,
  counters: { userBytes: 100, flushedBytes: 120, compactedBytes: 80 },
};

/** The part of `html` for one level. */
function level(html: string, n: number): string {
  const start = html.indexOf(`data-level="${n}"`);
  const end = html.indexOf('data-level=', start + 1);
  return html.slice(start, end === -1 ? undefined : end);
}

describe('drawLsm', () => {
  const html = drawLsm(SUMMARY);

  it('draws every level with its files, sizes and targets', () => {
    for (let n = 0; n < 7; n++) expect(html).toContain(`data-level="${n}"`);
    expect(level(html, 1).match(/class="file/g)).toHaveLength(3);
    expect(level(html, 1)).toContain('5.7 MiB / 10.0 MiB · score 0.57');
    expect(level(html, 2)).toContain('data-file="000003.sst"');
    expect(level(html, 3)).not.toContain('class="file');
    // L0 files overlap: one row each; L1's share one.
    expect(level(html, 0)).toMatch(/<svg class="keyspace" width="640" height="28"/);
    expect(level(html, 1)).toMatch(/<svg class="keyspace" width="640" height="14"/);
  });

  it('marks the compaction inputs and outputs and names them', () => {
    expect(html).toContain('compacting L0 → L1: 000012.sst, 000011.sst, 000007.sst → 000013.sst');
    expect(level(html, 0).match(/class="file input"/g)).toHaveLength(2);
    expect(level(html, 1)).toContain('<g class="file input" data-file="000007.sst"');
    expect(level(html, 1)).toContain('<g class="file output" data-file="000013.sst"');
    expect(level(html, 1)).toContain('<g class="file" data-file="000008.sst"');
  });

  it('names the last compaction seen to finish and marks its outputs while no other runs', () => {
    const last = { at: 0, sourceLevel: 1, targetLevel: 2, inputs: ['000008.sst', '000003.sst'], outputs: ['000014.sst'] };
    const idle: LsmSummary = { ...SUMMARY, compaction: null, levels: SUMMARY.levels.map((l) => (l.level === 2 ? { ...l, files: [file('000014.sst', 'user:00000000', 'user:bfffffff')] } : l)) };
    const after = drawLsm(idle, last);
    expect(after).toContain('no compaction running');
    expect(after).toContain('last compaction L1 → L2: 000008.sst, 000003.sst → 000014.sst');
    expect(level(after, 2)).toContain('<g class="file output" data-file="000014.sst"');
    expect(after).not.toContain('class="file input"');
    // While one runs, its own inputs and outputs are marked, not the last one's.
    expect(level(drawLsm(SUMMARY, last), 1)).toContain('<g class="file" data-file="000008.sst"');
  });

  it('shows the MemTables, the flush, the stall and L0 against its triggers', () => {
    expect(html).toContain('writes stalled');
    expect(html).toContain('1.0 MiB / 4.0 MiB · 5000 entries');
    expect(html).toContain('flushing: oldest frozen MemTable (20000 entries, 4.0 MiB) → L0');
    expect(html).toContain('L0: 2 files · compaction at 4 · slowdown at 8 · stop at 12');
  });

  it('places files over the key space in key order', () => {
    const x = (name: string): number => Number(new RegExp(`data-file="${name}"><title>[^<]*</title><rect x="([\\d.]+)"`).exec(html)![1]);
    expect(x('000007.sst')).toBe(0);
    expect(x('000007.sst')).toBeLessThan(x('000008.sst'));
    expect(x('000008.sst')).toBeLessThan(x('000013.sst'));
    // Three quarters of the way, give or take the hex digits these few keys leave out of the alphabet.
    expect(x('000013.sst') / 636).toBeGreaterThan(0.7);
    expect(x('000013.sst') / 636).toBeLessThan(0.8);
  });
});

describe('keyScale', () => {
  it('maps keys past their shared prefix between 0 and 1, in order', () => {
    const scale = keyScale(['user:00', 'user:80', 'user:ff']);
    expect(scale('user:00')).toBe(0);
    expect(scale('user:ff')).toBe(1);
    expect(scale('user:40')).toBeGreaterThan(0);
    expect(scale('user:40')).toBeLessThan(scale('user:80'));
    expect(keyScale(['same', 'same'])('same')).toBe(0);
  });
});
