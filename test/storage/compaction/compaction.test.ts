/**
 * Picker, job and edit together on real files: random flushes into L0 and
 * compactions (automatic and manual, at any level) keep every key's newest
 * version where reads find it, decided by level and L0 file number alone
 * (Version invariant 4), with no deleted or overwritten value coming back.
 */
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compactionJob, maxCompactionOutputs } from '../../../src/storage/compaction/job.js';
import { sstableFileName } from '../../../src/storage/version/fileNames.js';
import { compactionEdit, manualCompaction, pickCompaction, type PickerOptions } from '../../../src/storage/compaction/picker.js';
import { inProcessRunner } from '../../../src/storage/compaction/runner.js';
import { nodeFileSystem } from '../../../src/storage/env/fileSystem.js';
import { type EntryValue, TOMBSTONE } from '../../../src/storage/iterator.js';
import { MemTable } from '../../../src/storage/memtable/memTable.js';
import { newReaderCaches, SSTableReader } from '../../../src/storage/sstable/reader.js';
import { writeSSTable } from '../../../src/storage/sstable/writer.js';
import { NUM_LEVELS } from '../../../src/storage/version/fileMetadata.js';
import { Version } from '../../../src/storage/version/version.js';
import { useTempDirs } from '../../support/tempDirs.js';

const tempDir = useTempDirs('compaction');
// Tiny levels and files, so a few dozen flushes of a few entries reach L4 and cut many outputs.
const options: PickerOptions = { levelBaseBytes: 200, levelMultiplier: 2, l0CompactionTrigger: 2, memtableMaxBytes: 1000, targetFileBytes: 150 };

type Step = { kind: 'flush'; writes: Array<[string, EntryValue]> } | { kind: 'compact' } | { kind: 'manual'; level: number };

const keyArb = fc.integer({ min: 0, max: 80 }).map((n) => `k${String(n).padStart(2, '0')}`);
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .array(fc.tuple(keyArb, fc.option(fc.string({ maxLength: 60 }).map((s) => JSON.stringify(s)), { nil: TOMBSTONE, freq: 3 })), { minLength: 1, maxLength: 40 })
      .map((writes) => ({ kind: 'flush' as const, writes })),
  },
  { weight: 3, arbitrary: fc.constant({ kind: 'compact' as const }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: NUM_LEVELS - 2 }).map((level) => ({ kind: 'manual' as const, level })) },
);

/** A store's file set driven by hand: flushes, compactions, and reads through the Version. */
class Levels {
  version = new Version();
  private readonly pointers: Array<string | undefined> = [];
  private nextFileNumber = 1;
  private readonly caches = newReaderCaches(nodeFileSystem);
  private readonly runner = inProcessRunner(nodeFileSystem);
  compactions = 0;

  constructor(private readonly dir: string) {}

  async flush(writes: Array<[string, EntryValue]>): Promise<void> {
    const memtable = new MemTable(0);
    for (const [key, value] of writes) memtable.put(key, value);
    const number = this.nextFileNumber++;
    const name = sstableFileName(number, 0);
    const properties = await writeSSTable(nodeFileSystem, join(this.dir, name), memtable.iterator());
    const keys = writes.map(([key]) => key).sort();
    const file = { number, name, smallest: keys[0], largest: keys[keys.length - 1], sizeBytes: properties.sizeBytes, entries: properties.entries };
    this.version = this.version.apply({ newFiles: [{ level: 0, file }] });
  }

  /** Runs the compaction the picker (or `manualLevel`) asks for, if any, and installs it as the integration will; false if none. */
  async compact(manualLevel?: number): Promise<boolean> {
    const compaction = manualLevel === undefined ? pickCompaction(this.version, this.pointers, options) : manualCompaction(this.version, manualLevel);
    if (compaction === null) return false;
    this.compactions++;
    let outputs: Parameters<typeof compactionEdit>[1] = [];
    if (!compaction.trivialMove) {
      const job = compactionJob(this.version, compaction, { dir: this.dir, targetFileBytes: options.targetFileBytes, firstFileNumber: this.nextFileNumber });
      this.nextFileNumber += maxCompactionOutputs(compaction, options.targetFileBytes);
      outputs = (await this.runner.run(job)).outputs;
    }
    this.version = this.version.apply(compactionEdit(compaction, outputs));
    this.pointers[compaction.compactPointer.level] = compaction.compactPointer.key;
    if (!compaction.trivialMove) for (const file of [...compaction.sourceInputs, ...compaction.targetInputs]) unlinkSync(join(this.dir, file.name));
    return true;
  }

  tombstones(name: string): number {
    const reader = SSTableReader.open(nodeFileSystem, join(this.dir, name), this.caches);
    reader.close();
    return reader.properties.tombstones;
  }

  /** A get as the Store does it: L0 newest first, then one file a level; undefined when absent or deleted. */
  get(key: string): string | undefined {
    const candidates = [...this.version.levels[0].filter((file) => file.smallest <= key && key <= file.largest)];
    for (let level = 1; level < NUM_LEVELS; level++) {
      const file = this.version.fileFor(level, key);
      if (file !== undefined) candidates.push(file);
    }
    for (const file of candidates) {
      const reader = SSTableReader.open(nodeFileSystem, join(this.dir, file.name), this.caches);
      const result = reader.get(key);
      reader.close();
      if (result.found) return result.value ?? undefined;
    }
    return undefined;
  }
}

describe('compaction, end to end on real files', () => {
  it('keeps every get equal to a Map model through random flushes and compactions (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 5, maxLength: 40 }), async (steps) => {
        const levels = new Levels(tempDir());
        const model = new Map<string, string>();
        for (const step of steps) {
          if (step.kind === 'flush') {
            await levels.flush(step.writes);
            for (const [key, value] of new Map(step.writes)) {
              if (value === TOMBSTONE) model.delete(key);
              else model.set(key, value);
            }
          } else if (step.kind === 'manual') {
            await levels.compact(step.level);
          } else {
            // As the integration will: compact while some level's score is at least 1.
            while (await levels.compact());
          }
          for (let n = 0; n <= 80; n++) {
            const key = `k${String(n).padStart(2, '0')}`;
            expect(levels.get(key), key).toBe(model.get(key));
          }
        }
        // Files leave a level only downwards, so nothing was ever below the deepest level: a compaction
        // that wrote into it dropped every tombstone (a file moved there unchanged may still hold some).
        const deepest = levels.version.deepestNonEmptyLevel();
        for (const file of deepest > 0 ? levels.version.levels[deepest] : []) {
          if (file.name.startsWith(`L${deepest}_`)) expect(levels.tombstones(file.name), file.name).toBe(0);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('takes every L0 file the grown inputs overlap, so no older version stays above a newer one', async () => {
    const levels = new Levels(tempDir());
    await levels.flush([['a', '"0"'], ['d', '"0"']]);
    await levels.compact(0); // L1: a..d
    await levels.flush([['b', '"1"'], ['c', '"1"']]); // the oldest L0 file: the seed
    await levels.flush([['e', '"old"'], ['f', '"2"']]);
    await levels.flush([['d', '"3"'], ['e', '"new"']]);
    // The seed b..c takes L1's a..d; a..d takes in L0's d..e (no more L1 files); d..e overlaps the older e..f,
    // which must come too, or "old" would stay in L0 above "new" in L1.
    await levels.compact();
    expect(['a', 'b', 'd', 'e', 'f'].map((key) => levels.get(key))).toEqual(['"0"', '"1"', '"3"', '"new"', '"2"']);
    expect(levels.version.levels[0]).toEqual([]);
  });
});
