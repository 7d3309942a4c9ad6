import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CompactionJob, type CompactionJobResult, runCompactionJob } from '../../../src/storage/compaction/job.js';
import { sstableFileName } from '../../../src/storage/version/fileNames.js';
import { estimatedEntryBytes } from '../../../src/storage/compaction/outputCutter.js';
import { type FaultCode, type FaultPlan, faultInjectingFileSystem } from '../../../src/storage/env/faultInjection.js';
import { type FileSystem, nodeFileSystem } from '../../../src/storage/env/fileSystem.js';
import { StorageError } from '../../../src/storage/errors.js';
import { type EntryValue, TOMBSTONE } from '../../../src/storage/iterator.js';
import { fromSortKey, toSortKey } from '../../../src/storage/keyOrder.js';
import { MemTable } from '../../../src/storage/memtable/memTable.js';
import { RESTART_INTERVAL } from '../../../src/storage/sstable/format.js';
import { SSTableReader } from '../../../src/storage/sstable/reader.js';
import { writeSSTable } from '../../../src/storage/sstable/writer.js';
import { useTempDirs } from '../../support/tempDirs.js';

const tempDir = useTempDirs('compaction-job');

/** A file's entries by sort key. */
type Table = Map<string, EntryValue>;

/** Writes `table` as SSTable `name` in `dir`. */
async function writeTable(dir: string, name: string, table: Table): Promise<void> {
  const memtable = new MemTable(0);
  for (const [key, value] of table) memtable.put(key, value);
  await writeSSTable(nodeFileSystem, join(dir, name), memtable.iterator());
}

/** Every entry of SSTable `path`, in order. */
function readTable(path: string): Array<[string, EntryValue]> {
  const reader = SSTableReader.open(nodeFileSystem, path);
  const entries: Array<[string, EntryValue]> = [];
  const it = reader.iterator();
  for (it.seekToFirst(); it.valid(); it.next()) entries.push([it.key(), it.value()]);
  reader.close();
  return entries;
}

/** The cutter's estimate of an output's bytes, its last entry left out. */
function bytesBeforeLast(entries: Array<[string, EntryValue]>): number {
  const utf8 = (sortKey: string) => Buffer.from(fromSortKey(sortKey), 'utf8');
  let bytes = 0;
  for (let i = 0; i + 1 < entries.length; i++) {
    const previous = i % RESTART_INTERVAL === 0 ? null : utf8(entries[i - 1][0]);
    const key = utf8(entries[i][0]);
    const value = entries[i][1];
    bytes += estimatedEntryBytes(previous, previous?.length ?? 0, key, key.length, value === TOMBSTONE ? 0 : Buffer.byteLength(value));
  }
  return bytes;
}

// Keys with a few outside the BMP and above U+E000, so sort-key order matters.
const keyArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 120 }).map((n) => `k${String(n).padStart(3, '0')}`) },
  { weight: 1, arbitrary: fc.constantFrom('\u{1F600}', '\uE000x', 'k050\u00e9', '') },
);
const valueArb: fc.Arbitrary<EntryValue> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }).map((s) => JSON.stringify(s)) },
  { weight: 1, arbitrary: fc.constant(TOMBSTONE) },
);
const tableArb = fc.array(fc.tuple(keyArb, valueArb), { maxLength: 40 }).map((pairs) => new Map(pairs.map(([key, value]) => [toSortKey(key), value])));
const rangeArb = fc.tuple(keyArb, keyArb).map(([a, b]) => {
  const [x, y] = [toSortKey(a), toSortKey(b)];
  return x <= y ? { smallest: x, largest: y } : { smallest: y, largest: x };
});

/** Splits the union of `table` into files of one sorted level: consecutive runs of `chunk` keys. */
function sortedRun(table: Table, chunk: number): Table[] {
  const keys = [...table.keys()].sort();
  const files: Table[] = [];
  for (let i = 0; i < keys.length; i += chunk) files.push(new Map(keys.slice(i, i + chunk).map((key) => [key, table.get(key)!])));
  return files;
}

interface Scenario {
  /** L0 sources newest first, or the files of a sorted source level. */
  sources: Table[];
  targets: Table[];
  sourceLevel: number;
  deeperRanges: Array<{ smallest: string; largest: string }>;
  grandparents: Array<{ smallest: string; largest: string; sizeBytes: number }>;
  targetFileBytes: number;
  maxGrandparentOverlapBytes: number;
  outputNumbers: number;
}

const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    sourceLevel: fc.constantFrom(0, 1, 4),
    l0: fc.array(tableArb.filter((t) => t.size > 0), { minLength: 1, maxLength: 4 }),
    level: tableArb.filter((t) => t.size > 0),
    target: tableArb,
    chunk: fc.integer({ min: 1, max: 15 }),
    deeperRanges: fc.array(rangeArb, { maxLength: 4 }),
    grandparentKeys: fc.uniqueArray(keyArb.map(toSortKey), { maxLength: 10 }),
    grandparentSize: fc.integer({ min: 1, max: 400 }),
    targetFileBytes: fc.integer({ min: 20, max: 1500 }),
    maxGrandparentOverlapBytes: fc.integer({ min: 0, max: 1500 }),
    outputNumbers: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constant(1000)),
  })
  .map((r) => {
    // Grandparents: disjoint ranges of one sorted level, from consecutive pairs of sorted keys.
    const gk = [...r.grandparentKeys].sort();
    const grandparents = [];
    for (let i = 0; i + 1 < gk.length; i += 2) grandparents.push({ smallest: gk[i], largest: gk[i + 1], sizeBytes: r.grandparentSize });
    return {
      sources: r.sourceLevel === 0 ? r.l0 : sortedRun(r.level, r.chunk),
      targets: sortedRun(r.target, r.chunk),
      sourceLevel: r.sourceLevel,
      deeperRanges: r.deeperRanges,
      grandparents,
      targetFileBytes: r.targetFileBytes,
      maxGrandparentOverlapBytes: r.maxGrandparentOverlapBytes,
      outputNumbers: r.outputNumbers,
    };
  });

/** Writes the scenario's input files and returns its job (file numbers from 500). */
async function setUp(dir: string, s: Scenario): Promise<CompactionJob> {
  const sourceFiles = s.sources.map((_, i) => sstableFileName(s.sourceLevel === 0 ? 100 - i : 100 + i, s.sourceLevel));
  const targetFiles = s.targets.map((_, i) => sstableFileName(200 + i, s.sourceLevel + 1));
  for (let i = 0; i < s.sources.length; i++) await writeTable(dir, sourceFiles[i], s.sources[i]);
  for (let i = 0; i < s.targets.length; i++) await writeTable(dir, targetFiles[i], s.targets[i]);
  return {
    dir,
    sourceLevel: s.sourceLevel,
    targetLevel: s.sourceLevel + 1,
    sourceFiles,
    targetFiles,
    grandparents: s.grandparents,
    deeperRanges: s.deeperRanges,
    targetFileBytes: s.targetFileBytes,
    maxGrandparentOverlapBytes: s.maxGrandparentOverlapBytes,
    fileNumbers: { first: 500, limit: 500 + s.outputNumbers },
  };
}

/** The model: newest version of each key (sources newest first, then the target level), tombstones dropped where nothing deeper may hold the key. */
function expectedEntries(s: Scenario): Array<[string, EntryValue]> {
  const newest = new Map<string, EntryValue>();
  for (const table of [...s.sources, ...s.targets]) for (const [key, value] of table) if (!newest.has(key)) newest.set(key, value);
  const deeperHolds = (key: string) => s.deeperRanges.some((r) => r.smallest <= key && key <= r.largest);
  return [...newest].filter(([key, value]) => value !== TOMBSTONE || deeperHolds(key)).sort(([a], [b]) => (a < b ? -1 : 1));
}

function checkResult(dir: string, s: Scenario, job: CompactionJob, result: CompactionJobResult): void {
  const { outputs } = result;
  expect(outputs.length).toBeLessThanOrEqual(s.outputNumbers);
  const contents = outputs.map((file) => readTable(join(dir, file.name)));
  expect(contents.flat()).toEqual(expectedEntries(s));

  outputs.forEach((file, i) => {
    const entries = contents[i];
    expect(file.number).toBe(500 + i);
    expect(file.name).toBe(sstableFileName(file.number, job.targetLevel));
    expect([file.smallest, file.largest, file.entries]).toEqual([entries[0][0], entries[entries.length - 1][0], entries.length]);
    if (i > 0) expect(outputs[i - 1].largest < file.smallest).toBe(true);
    // Cuts: an output passes its target by at most its last entry; it spans at most the limit of
    // grandparent bytes (those passed after its first key). The last output allowed never cuts.
    if (i === s.outputNumbers - 1) return;
    expect(bytesBeforeLast(entries)).toBeLessThan(s.targetFileBytes);
    const spanned = s.grandparents.filter((g) => file.smallest <= g.largest && g.largest < file.largest);
    expect(spanned.reduce((sum, g) => sum + g.sizeBytes, 0)).toBeLessThanOrEqual(s.maxGrandparentOverlapBytes);
  });

  expect(result).toMatchObject({
    bytesWritten: outputs.reduce((total, file) => total + file.sizeBytes, 0),
    entriesWritten: contents.flat().length,
  });
  // Only inputs and outputs in the folder: no temp file left.
  expect(readdirSync(dir).sort()).toEqual([...job.sourceFiles, ...job.targetFiles, ...outputs.map((file) => file.name)].sort());
}

describe('runCompactionJob', () => {
  it('writes the newest version of each key, drops shadowed versions and tombstones nothing deeper needs, and cuts outputs where it must (property)', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (s) => {
        const dir = tempDir();
        const job = await setUp(dir, s);
        checkResult(dir, s, job, await runCompactionJob(nodeFileSystem, job));
      }),
      { numRuns: 60 },
    );
  });

  it('with a key range (a subcompaction), writes exactly the model entries in (after, upTo] (property)', async () => {
    const boundArb = fc.option(keyArb.map(toSortKey), { nil: undefined });
    await fc.assert(
      fc.asyncProperty(scenarioArb, boundArb, boundArb, async (s, a, b) => {
        const [after, upTo] = a !== undefined && b !== undefined && b < a ? [b, a] : [a, b];
        fc.pre(after === undefined || upTo === undefined || after < upTo);
        const dir = tempDir();
        const job = { ...(await setUp(dir, s)), fileNumbers: { first: 500, limit: 1500 }, range: { after, upTo } };
        const { outputs } = await runCompactionJob(nodeFileSystem, job);
        const inRange = ([key]: [string, EntryValue]) => (after === undefined || key > after) && (upTo === undefined || key <= upTo);
        expect(outputs.flatMap((file) => readTable(join(dir, file.name)))).toEqual(expectedEntries(s).filter(inRange));
      }),
      { numRuns: 60 },
    );
  });

  it('keeps a tombstone whose key a deeper file holds, and drops one nothing deeper holds', async () => {
    const dir = tempDir();
    const s: Scenario = {
      sources: [new Map([['a', TOMBSTONE], ['m', TOMBSTONE], ['z', '"new"']])],
      targets: [new Map([['a', '"old"'], ['z', '"old"']])],
      sourceLevel: 0,
      deeperRanges: [{ smallest: 'k', largest: 'n' }],
      grandparents: [],
      targetFileBytes: 1 << 20,
      maxGrandparentOverlapBytes: 10 << 20,
      outputNumbers: 3,
    };
    const job = await setUp(dir, s);
    const result = await runCompactionJob(nodeFileSystem, job);
    expect(result.outputs.map((file) => readTable(join(dir, file.name)))).toEqual([[['m', TOMBSTONE], ['z', '"new"']]]);
    expect(result.entriesWritten).toBe(2);
  });

  it('ends an output at the entry that takes it past targetFileBytes, however large that entry', async () => {
    const dir = tempDir();
    const big = JSON.stringify('x'.repeat(5000));
    const source: Table = new Map([...Array(60).keys()].map((i) => [`k${String(i).padStart(2, '0')}`, i === 32 ? big : '"0123456789"']));
    const s: Scenario = { sources: [source], targets: [], sourceLevel: 0, deeperRanges: [], grandparents: [], targetFileBytes: 100, maxGrandparentOverlapBytes: 1000, outputNumbers: 1000 };
    const job = await setUp(dir, s);
    const result = await runCompactionJob(nodeFileSystem, job);
    checkResult(dir, s, job, result);
    // An output's first entry counts 5 + 3 + 12 bytes, the next ones 5 + 1 + 12 (the key shares "k" and a digit):
    // an output closes at its 6th entry (20 + 4 x 18 = 92, then 110 >= 100), or at the huge k32 after k30 and k31.
    expect(result.outputs.map((file) => file.entries)).toEqual([6, 6, 6, 6, 6, 3, 6, 6, 6, 6, 3]);
    expect(result.outputs[5].largest).toBe('k32');
  });
});

describe('runCompactionJob under injected faults', () => {
  /** A plan that switches `operation`'s fault on at its `after`-th check and leaves it on. */
  function failingAfter(operation: keyof FileSystem, code: FaultCode, after: number): () => FaultPlan {
    let checks = 0;
    return () => (++checks > after ? { [operation]: code } : {});
  }

  const operations: Array<[keyof FileSystem, FaultCode]> = [
    ['createWritable', 'ENOSPC'],
    ['createWritable', 'EIO'],
    ['rename', 'EIO'],
    ['syncDir', 'EIO'],
  ];

  it.each(operations)('removes every output and rejects with STORAGE_IO when %s fails with %s at any step', async (operation, code) => {
    const source: Table = new Map([...Array(400).keys()].map((i) => [`k${String(i).padStart(3, '0')}`, JSON.stringify('v'.repeat(i % 50))]));
    const s: Scenario = { sources: [source], targets: [], sourceLevel: 0, deeperRanges: [], grandparents: [], targetFileBytes: 4000, maxGrandparentOverlapBytes: 1 << 20, outputNumbers: 1000 };
    // Fail at the k-th check of the plan for every k that fails the job: the first step, the middle, the last.
    let failures = 0;
    for (let after = 0; ; after++) {
      const dir = tempDir();
      const job = await setUp(dir, s);
      const fs = faultInjectingFileSystem(nodeFileSystem, failingAfter(operation, code, after));
      const outcome = await runCompactionJob(fs, job).then(
        (result) => ({ ok: true as const, result }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      if (outcome.ok) {
        checkResult(dir, s, job, outcome.result);
        break;
      }
      failures++;
      expect(outcome.error).toBeInstanceOf(StorageError);
      expect((outcome.error as StorageError).code).toBe('STORAGE_IO');
      expect((outcome.error as Error).message).toContain(code);
      expect(readdirSync(dir).sort()).toEqual([...job.sourceFiles].sort());
      expect(existsSync(join(dir, job.sourceFiles[0]))).toBe(true);
    }
    expect(failures).toBeGreaterThan(0);
  });
});
