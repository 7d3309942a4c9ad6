/**
 * Subcompactions: how a compaction is cut into key ranges
 * (splitCompaction, against a made-up file set), and a Store compacting in
 * parts: the same entries as in one job, outputs disjoint and in order, and
 * a part's failure leaving nothing behind.
 */
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Compaction } from '../../../src/storage/compaction/picker.js';
import { type SplitSource, splitCompaction } from '../../../src/storage/compaction/subcompactions.js';
import { type FileSystem, nodeFileSystem } from '../../../src/storage/env/fileSystem.js';
import { Store, type StoreOptions } from '../../../src/storage/store.js';
import type { FileMetadata } from '../../../src/storage/version/fileMetadata.js';
import { parseSSTableFileName } from '../../../src/storage/version/fileNames.js';
import { useTempDirs } from '../../support/tempDirs.js';

const freshDir = useTempDirs('subcompactions-test');

/** A file holding keys k<from> to k<to> (4 digits), one 10-byte block per key: its index is its keys. */
function file(number: number, from: number, to: number): FileMetadata {
  return { number, name: `L1_${number}.sst`, smallest: key(from), largest: key(to), sizeBytes: 10 * (to - from + 1), entries: to - from + 1 };
}

function key(n: number): string {
  return `k${String(n).padStart(4, '0')}`;
}

/** SplitSource over files made by file(): offsets and samples from the key numbers. */
const source: SplitSource = {
  approximateOffsetOf(meta, sortKey) {
    const [from, to] = [Number(meta.smallest.slice(1)), Number(meta.largest.slice(1))];
    // The first block whose last key is >= sortKey.
    let n = from;
    while (n <= to && key(n) < sortKey) n++;
    return 10 * (n - from);
  },
  keySamples(meta, count) {
    const [from, to] = [Number(meta.smallest.slice(1)), Number(meta.largest.slice(1))];
    const step = Math.max(1, (to - from + 1) / count);
    const samples: string[] = [];
    for (let at = step - 1; at <= to - from; at += step) samples.push(key(from + Math.floor(at)));
    return samples;
  },
};

function compactionOf(sourceInputs: FileMetadata[], targetInputs: FileMetadata[], grandparents: FileMetadata[] = []): Compaction {
  return { sourceLevel: 1, targetLevel: 2, manual: false, score: 1, sourceInputs, targetInputs, grandparents, trivialMove: false, compactPointer: { level: 1, key: '' } };
}

/** Runs of [from, to] key numbers, sorted and disjoint: one level's files. */
const runArb = (first: number) =>
  fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 200 })), { minLength: 1, maxLength: 6 }).map((spans) => {
    const files: FileMetadata[] = [];
    let at = 0;
    spans.forEach(([gap, length], i) => {
      files.push(file(first + i, at + gap, at + gap + length));
      at += gap + length + 1;
    });
    return files;
  });

describe('splitCompaction', () => {
  it('cuts a large compaction into ranges that tile the key space, each part with the inputs and grandparents it overlaps (property)', () => {
    fc.assert(
      fc.property(runArb(1), runArb(100), runArb(200), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 2000 }), (sources, targets, grandparents, maxRanges, minRangeBytes) => {
        const compaction = compactionOf(sources, targets, grandparents);
        const parts = splitCompaction(compaction, source, maxRanges, minRangeBytes);
        expect(parts.length).toBeGreaterThanOrEqual(1);
        expect(parts.length).toBeLessThanOrEqual(maxRanges);
        if (parts.length === 1) {
          expect(parts[0]).toEqual({ compaction });
          return;
        }
        const inputs = [...sources, ...targets];
        const total = inputs.reduce((sum, f) => sum + f.sizeBytes, 0);
        expect(total).toBeGreaterThanOrEqual(parts.length * minRangeBytes);
        // (1) The ranges tile the key space, ascending.
        expect(parts.every((part) => part.range !== undefined)).toBe(true);
        const ranges = parts.map((part) => part.range!);
        expect(ranges[0].after).toBeUndefined();
        expect(ranges[ranges.length - 1].upTo).toBeUndefined();
        for (let i = 0; i + 1 < ranges.length; i++) {
          expect(ranges[i].upTo).toBeDefined();
          expect(ranges[i + 1].after).toBe(ranges[i].upTo);
          if (i > 0) expect(ranges[i].after! < ranges[i].upTo!).toBe(true);
        }
        for (const [i, { compaction: part }] of parts.entries()) {
          const { after, upTo } = ranges[i];
          const overlaps = (f: FileMetadata) => (after === undefined || f.largest > after) && (upTo === undefined || f.smallest <= upTo);
          // (2) Exactly the files that overlap the range, in their order.
          expect(part.sourceInputs).toEqual(sources.filter(overlaps));
          expect(part.targetInputs).toEqual(targets.filter(overlaps));
          expect(part.grandparents).toEqual(grandparents.filter(overlaps));
          expect({ ...part, sourceInputs: [], targetInputs: [], grandparents: [] }).toEqual({ ...compaction, sourceInputs: [], targetInputs: [], grandparents: [] });
          // (3) Every range holds an input key.
          expect(part.sourceInputs.length + part.targetInputs.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('gives each range about an equal share of the input bytes', () => {
    const sources = [file(1, 0, 999)];
    const targets = [file(2, 0, 249), file(3, 250, 499), file(4, 500, 749), file(5, 750, 999)];
    const parts = splitCompaction(compactionOf(sources, targets), source, 4, 1000);
    expect(parts.map((part) => part.range)).toEqual([{ upTo: 'k0249' }, { after: 'k0249', upTo: 'k0499' }, { after: 'k0499', upTo: 'k0749' }, { after: 'k0749' }]);
    expect(parts.map((part) => part.compaction.targetInputs.map((f) => f.number))).toEqual([[2], [3], [4], [5]]);
  });

  it('does not split a compaction below two ranges of minRangeBytes, nor with maxRanges 1', () => {
    const compaction = compactionOf([file(1, 0, 99)], [file(2, 0, 99)]);
    expect(splitCompaction(compaction, source, 4, 1001)).toEqual([{ compaction }]);
    expect(splitCompaction(compaction, source, 1, 1)).toEqual([{ compaction }]);
    expect(splitCompaction(compaction, source, 4, 1000)).toHaveLength(2);
  });
});

describe('a Store compacting in parts', () => {
  const compaction = {
    mode: 'manual' as const,
    levelBaseBytes: 1 << 20,
    levelMultiplier: 10,
    targetFileBytes: 2000,
    l0CompactionTrigger: 4,
    l0SlowdownTrigger: 8,
    l0StopTrigger: 12,
  };

  /** Four L0 files of 1,200 keys each (about 5 blocks; overwrites and deletes among them), and the model of what they hold. */
  async function loaded(options: StoreOptions): Promise<{ store: Store; model: Map<string, string> }> {
    const store = await Store.open(options);
    const model = new Map<string, string>();
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 1200; i++) {
        const k = key((i * 7 + round * 13) % 5000);
        if (i % 11 === round) {
          store.delete(k);
          model.delete(k);
        } else {
          store.put(k, `"r${round} ${i}"`);
          model.set(k, `"r${round} ${i}"`);
        }
      }
      store.freezeActive();
      while (store.frozenCount > 0) store.installFlushed(await store.flushOldest());
    }
    return { store, model };
  }

  function expectHolds(store: Store, model: Map<string, string>): void {
    const entries = [...model].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, value]) => ({ key: k, value }));
    expect(store.scan({}).entries).toEqual(entries);
    for (let n = 0; n < 5000; n += 37) expect(store.get(key(n)).value).toBe(model.get(key(n)) ?? null);
  }

  /** The SSTables in the folder are exactly the live ones. */
  function expectNoStrayFiles(store: Store, dir: string): void {
    const onDisk = readdirSync(dir).filter((name) => parseSSTableFileName(name.replace(/\.tmp$/, '')) !== undefined).sort();
    expect(onDisk).toEqual([...store.currentVersion.allFiles()].map(({ file: f }) => f.name).sort());
  }

  it('writes what one job would, in disjoint outputs in key order, and keeps it across a reopen', async () => {
    const dir = freshDir();
    const options: StoreOptions = { dir, memtableMaxBytes: 1 << 20, maxImmutable: 4, compaction: { ...compaction, maxSubcompactions: 3 } };
    const { store, model } = await loaded(options);
    const result = await store.compact(store.pickLevelCompaction(0));
    expect(result.subcompactions).toBe(3);
    expect(result.sstablesMerged).toBe(4);
    expect(result.keysDeduplicated).toBe(4 * 1200 - store.currentVersion.levels[1].reduce((sum, f) => sum + f.entries, 0));
    const outputs = store.currentVersion.levels[1];
    expect(outputs.map((f) => f.name)).toEqual(result.outputs);
    for (let i = 1; i < outputs.length; i++) expect(outputs[i - 1].largest < outputs[i].smallest).toBe(true);
    expectHolds(store, model);
    expectNoStrayFiles(store, dir);
    store.close();
    const reopened = await Store.open(options);
    expectHolds(reopened, model);
    reopened.close();
  });

  it('when a part fails, removes the other parts\' outputs, installs nothing, and compacts later', async () => {
    // The k-th rename of an output fails with EIO: the part that meets it fails, the others go on and may finish.
    for (const failAt of [0, 1, 2, 3, 5]) {
      const dir = freshDir();
      let renames = 0;
      let failing = false;
      const fs: FileSystem = {
        ...nodeFileSystem,
        async rename(from, to) {
          if (failing && /L1_\d+\.sst$/.test(to) && renames++ === failAt) throw Object.assign(new Error(`EIO: i/o error, rename '${from}'`), { code: 'EIO' });
          return nodeFileSystem.rename(from, to);
        },
      };
      const options: StoreOptions = { dir, memtableMaxBytes: 1 << 20, maxImmutable: 4, fs, compaction: { ...compaction, maxSubcompactions: 3 } };
      const { store, model } = await loaded(options);
      const before = store.currentVersion;
      failing = true;
      await expect(store.compact(store.pickLevelCompaction(0))).rejects.toMatchObject({ code: 'STORAGE_IO' });
      failing = false;
      expect(store.currentVersion).toBe(before);
      expectHolds(store, model);
      expectNoStrayFiles(store, dir);
      const result = await store.compact(store.pickLevelCompaction(0));
      expect(result.subcompactions).toBe(3);
      expectHolds(store, model);
      expectNoStrayFiles(store, dir);
      store.close();
    }
  });
});
