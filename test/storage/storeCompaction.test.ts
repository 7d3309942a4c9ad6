/**
 * The Store with compaction as the node drives it: random writes, flushes,
 * automatic compactions, manual compactions at any level, compactions with
 * writes and flushes going on meanwhile, clean reopenings and crashes (with
 * nothing under way, or in the middle of a flush or a compaction at any
 * file-system call), all checked against a Map model: every get, lsmGet and
 * scan, the Version's invariants, and the files on disk.
 */
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeFileSystem } from '../../src/storage/env/fileSystem.js';
import { compareKeys } from '../../src/storage/keyOrder.js';
import { Store, type StoreOptions } from '../../src/storage/store.js';
import { maxGrandparentOverlapBytes } from '../../src/storage/compaction/picker.js';
import { NUM_LEVELS, totalBytes } from '../../src/storage/version/fileMetadata.js';
import { parseSSTableFileName } from '../../src/storage/version/fileNames.js';
import { dropLocksAsIfCrashed } from '../support/crashLocks.js';
import { type CrashOperation, type CrashPoint, crashingFileSystem, type CrashingFileSystem, withoutSyncs } from '../support/crashingFileSystem.js';
import { applyWrite, expectLsmGetAgrees, modelScan, type WriteOp } from '../support/storeModel.js';
import { useTempDirs } from '../support/tempDirs.js';

const freshDir = useTempDirs('store-compaction-test');

// Tiny MemTables, files and levels: a run of a hundred steps cuts many outputs, hits
// grandparent limits (10 x 100 bytes) and, with manual compactions, reaches L3 and below.
// Compactions of 400 bytes or more run in up to 3 parts (subcompactions), the crashes meeting them too.
const COMPACTION = {
  mode: 'auto' as const,
  levelBaseBytes: 800,
  levelMultiplier: 2,
  targetFileBytes: 100,
  l0CompactionTrigger: 2,
  l0SlowdownTrigger: 4,
  l0StopTrigger: 6,
  maxSubcompactions: 3,
};
const MAX_IMMUTABLE = 3;

// Units either side of the surrogates: JavaScript's `<` and code point order disagree between them.
// In code point order, so that a window of neighbours is a narrow key range.
const KEYS = ['', 'a', 'b', 'é', '\uE000', '\uFFFF', '\u{10000}', '\u{1F600}']
  .flatMap((first, i, units) => units.slice(1).map((second) => (i === 0 ? second : first + second)))
  .concat(['a\u{1F600}b', '\uFFFF\uFFFF'])
  .sort(compareKeys);
const keyArb = fc.constantFrom(...KEYS);
const valueArb = fc.tuple(fc.nat({ max: 9999 }), fc.nat({ max: 100 })).map(([n, pad]) => JSON.stringify(`v${n}${'.'.repeat(pad)}`));

type CompactionWork = { kind: 'auto' } | { kind: 'manual'; level: number };
type Work = { kind: 'flush' } | CompactionWork;
type Op =
  | { kind: 'writes'; writes: WriteOp[] }
  | { kind: 'flushAll' }
  | { kind: 'compactWhileDue' }
  | { kind: 'compactLevel'; level: number }
  | { kind: 'compactMeanwhile'; work: CompactionWork; writes: WriteOp[] }
  | { kind: 'reopen' }
  | { kind: 'crash' }
  | { kind: 'crashDuring'; work: Work; at: CrashPoint };

const writeArb: fc.Arbitrary<WriteOp> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('put' as const), key: keyArb, value: valueArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: keyArb }) },
);
/**
 * A few writes to neighbouring keys: MemTables (and so L0 files) then cover
 * narrow, staggered ranges, which is where the L0 closure and the growing of
 * inputs have work to do (random keys make every file span the whole space).
 */
const windowArb: fc.Arbitrary<WriteOp[]> = fc
  .tuple(fc.nat({ max: KEYS.length - 1 }), fc.array(fc.tuple(fc.nat({ max: 5 }), fc.option(valueArb, { freq: 4 })), { minLength: 1, maxLength: 10 }))
  .map(([from, writes]) =>
    writes.map(([offset, value]): WriteOp => {
      const key = KEYS[Math.min(from + offset, KEYS.length - 1)];
      return value === null ? { kind: 'delete', key } : { kind: 'put', key, value };
    }),
  );
const levelArb = fc.integer({ min: 0, max: NUM_LEVELS - 2 });
const compactionWorkArb: fc.Arbitrary<CompactionWork> = fc.oneof(
  fc.constant({ kind: 'auto' as const }),
  levelArb.map((level) => ({ kind: 'manual' as const, level })),
);
const workArb: fc.Arbitrary<Work> = fc.oneof({ weight: 1, arbitrary: fc.constant({ kind: 'flush' as const }) }, { weight: 3, arbitrary: compactionWorkArb });
/** Any call a flush or compaction makes, or the n-th of one kind: a rename, an unlink, a MANIFEST record's write (torn)... */
const crashPointArb: fc.Arbitrary<CrashPoint> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ calls: fc.nat({ max: 40 }), tornFraction: fc.double({ min: 0, max: 1, noNaN: true }) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      operation: fc.constantFrom<CrashOperation>('createWritable', 'write', 'sync', 'close', 'rename', 'unlink', 'syncDir'),
      calls: fc.nat({ max: 3 }),
      tornFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 12, arbitrary: windowArb.map((writes) => ({ kind: 'writes' as const, writes })) },
  { weight: 3, arbitrary: fc.constant({ kind: 'flushAll' as const }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'compactWhileDue' as const }) },
  { weight: 5, arbitrary: levelArb.map((level) => ({ kind: 'compactLevel' as const, level })) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('compactMeanwhile' as const), work: compactionWorkArb, writes: fc.array(writeArb, { maxLength: 12 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'crash' as const }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('crashDuring' as const), work: workArb, at: crashPointArb }) },
);

/** One store open at a time, its file system crashable, and the stores that died before it. */
class Harness {
  store!: Store;
  disk!: CrashingFileSystem;
  private readonly dead: Store[] = [];
  /** The compaction under way while writes go on (compactMeanwhile), at most one, as in the node. */
  private running: Promise<void> | null = null;
  deepest = 0;
  /** Compactions whose grandparents span more bytes than one output may overlap: the cutter's grandparent limit is in play. */
  grandparentLimited = 0;
  /** Compactions run in more than one part. */
  split = 0;

  constructor(readonly dir: string) {}

  private options(): StoreOptions {
    return { dir: this.dir, memtableMaxBytes: 300, maxImmutable: MAX_IMMUTABLE, fs: this.disk.fs, wal: { sync: false }, compaction: COMPACTION };
  }

  async open(): Promise<void> {
    this.disk = crashingFileSystem(withoutSyncs(nodeFileSystem));
    this.store = await Store.open(this.options());
  }

  async reopen(): Promise<void> {
    this.store.close();
    await this.open();
  }

  /** The process dies here: no close; the WAL (written after every write) and the files are what is left. */
  async crash(): Promise<void> {
    this.dead.push(this.store);
    this.disk.crashNow();
    dropLocksAsIfCrashed(this.dir);
    await this.open();
  }

  /** Applies a write as the node serves one: waits out a full frozen queue or L0 at its stop trigger first, then commits it to the WAL. */
  async write(model: Map<string, string>, op: WriteOp): Promise<void> {
    while (this.store.writesStalled) {
      if (this.store.frozenCount >= MAX_IMMUTABLE) await this.flushOldest();
      else if (this.running !== null) await this.running; // L0 at its stop trigger: the compaction under way helps
      else await this.run({ kind: 'auto' });
    }
    applyWrite(this.store, model, op);
    this.store.writeWal();
  }

  async flushOldest(): Promise<void> {
    this.store.installFlushed(await this.store.flushOldest());
  }

  async flushAll(): Promise<void> {
    this.store.freezeActive();
    while (this.store.frozenCount > 0) await this.flushOldest();
  }

  /** Carries out `work`: a flush of everything frozen, one automatic compaction, or a manual one. */
  async run(work: Work): Promise<void> {
    if (work.kind === 'flush') return this.flushAll();
    const compaction = work.kind === 'auto' ? this.store.pickCompaction() : this.store.pickLevelCompaction(work.level);
    if ((await this.store.compact(compaction)).subcompactions > 1) this.split++;
    if (compaction !== null && totalBytes(compaction.grandparents) > maxGrandparentOverlapBytes(COMPACTION.targetFileBytes)) this.grandparentLimited++;
    this.deepest = Math.max(this.deepest, this.store.deepestNonEmptyLevel());
  }

  async compactWhileDue(): Promise<void> {
    for (let steps = 0; this.store.compactionDue(); steps++) {
      // Each compaction moves bytes down or drops them, so the scores settle: LevelDB's loop ends too.
      expect(steps, 'automatic compactions settle').toBeLessThan(200);
      await this.run({ kind: 'auto' });
    }
  }

  /** Runs `work` while `meanwhile` applies writes, then flushes them; one compaction at a time, as the node's compaction region runs them. */
  async compactMeanwhile(work: CompactionWork, meanwhile: () => Promise<void>): Promise<void> {
    this.running = this.run(work).finally(() => (this.running = null));
    const running = this.running;
    await meanwhile();
    await Promise.all([running, this.flushAll()]);
  }

  /** Runs `work` and crashes at `at` (or once the work is done, when it never gets there). */
  async crashDuring(work: Work, at: CrashPoint): Promise<void> {
    this.disk.crashAt(at);
    // Past the crash point the dead store's calls hang or fail (a read after the crash throws): neither matters.
    const running = this.run(work).catch((error: unknown) => {
      if (!this.disk.isCrashed) throw error;
    });
    await Promise.race([running, this.disk.crashed]);
    await this.crash();
  }

  /**
   * Closes the open store, then the dead ones' descriptors: a dead store's lock file had the same name as
   * the live one's (same process), maybe the same inode, so its release must come when nothing is left to lock.
   */
  close(): void {
    this.store.close();
    for (const store of this.dead) store.close();
  }
}

/** Every read the store answers agrees with `model`, and its Version and folder are what they must be. */
function expectAgrees(harness: Harness, model: Map<string, string>, scans: Array<{ start: string; end: string; limit: number }>): void {
  const { store, dir } = harness;
  for (const key of KEYS) {
    expect(store.get(key).value, `get ${key}`).toBe(model.get(key) ?? null);
    expectLsmGetAgrees(store, model, key);
  }
  expect(store.scan({})).toEqual(modelScan(model, {}));
  for (const scan of scans) expect(store.scan(scan)).toEqual(modelScan(model, scan));

  const { levels } = store.currentVersion;
  for (let level = 1; level < NUM_LEVELS; level++) {
    for (let i = 1; i < levels[level].length; i++) expect(levels[level][i - 1].largest < levels[level][i].smallest, `L${level} sorted and disjoint`).toBe(true);
  }
  for (let i = 1; i < levels[0].length; i++) expect(levels[0][i - 1].number).toBeGreaterThan(levels[0][i].number);
  // Nothing left behind: every input unlinked once its compaction was installed, no temporary file.
  const onDisk = readdirSync(dir).filter((name) => parseSSTableFileName(name.replace(/\.tmp$/, '')) !== undefined).sort();
  const live = [...store.currentVersion.allFiles()].map(({ file }) => file.name).sort();
  expect(onDisk).toEqual(live);
}

const scanArb = fc.array(fc.record({ start: keyArb, end: keyArb, limit: fc.integer({ min: 1, max: 8 }) }), { minLength: 1, maxLength: 3 });

describe('Store with compaction', () => {
  it('agrees with a Map model through writes, flushes, compactions (automatic, manual at any level, with writes meanwhile), reopenings and crashes at any file-system call (property)', async () => {
    let deepest = 0;
    let grandparentLimited = 0;
    let split = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 20, maxLength: 150 }), scanArb, async (ops, scans) => {
        const harness = new Harness(freshDir());
        await harness.open();
        const model = new Map<string, string>();
        try {
          for (const [index, op] of ops.entries()) {
            switch (op.kind) {
              case 'writes':
                for (const write of op.writes) await harness.write(model, write);
                break;
              case 'flushAll':
                await harness.flushAll();
                break;
              case 'compactWhileDue':
                await harness.compactWhileDue();
                break;
              case 'compactLevel':
                await harness.run({ kind: 'manual', level: op.level });
                break;
              case 'compactMeanwhile':
                // As in the node: writes are served while the compaction runs, and a flush installs newer L0 files.
                await harness.compactMeanwhile(op.work, async () => {
                  for (const write of op.writes) {
                    await new Promise(setImmediate);
                    await harness.write(model, write);
                    expectLsmGetAgrees(harness.store, model, write.key);
                  }
                });
                break;
              case 'reopen':
                await harness.reopen();
                break;
              case 'crash':
                await harness.crash();
                break;
              case 'crashDuring':
                await harness.crashDuring(op.work, op.at);
                break;
            }
            // Reads are checked after every step that can move files, and every few writes.
            if (op.kind !== 'writes' || index % 3 === 0) expectAgrees(harness, model, scans);
          }
          await harness.compactWhileDue();
          expectAgrees(harness, model, scans);
          await harness.reopen();
          expectAgrees(harness, model, scans);
        } finally {
          harness.close();
          deepest = Math.max(deepest, harness.deepest);
          grandparentLimited += harness.grandparentLimited;
          split += harness.split;
        }
      }),
      // A failure found is shrunk for at most the rest of the time limit, then reported as it stands.
      { numRuns: 30, interruptAfterTimeLimit: 40_000, markInterruptAsFailure: true },
    );
    expect(deepest, 'data reached L3 or below in some run').toBeGreaterThanOrEqual(3);
    expect(grandparentLimited, 'some compactions overlapped more grandparent bytes than one output may').toBeGreaterThan(0);
    expect(split, 'some compactions ran in parts').toBeGreaterThan(0);
  }, 60_000);
});

describe('which version is newest, across levels', () => {
  it('reads each key from the newest layer holding it, as versions and tombstones move down past older ones', async () => {
    const dir = freshDir();
    const options: StoreOptions = { dir, memtableMaxBytes: 1 << 20, maxImmutable: 4, compaction: { ...COMPACTION, mode: 'manual' } };
    let store = await Store.open(options);
    // Every flush holds 'a' and the astral '\u{1F600}' too, so every file's range holds the key under test: no read or
    // tombstone check can skip a level by its range. '\uFFFF' sorts below '\u{1F600}' by code point, above it in UTF-16.
    const key = '\uFFFF';
    const flush = async (write: (store: Store) => void) => {
      store.put('a', '"a"');
      store.put('\u{1F600}', '"smile"');
      write(store);
      store.freezeActive();
      while (store.frozenCount > 0) store.installFlushed(await store.flushOldest());
    };
    const compact = async (level: number) => store.compact(store.pickLevelCompaction(level));
    const read = () => store.lsmGet(key);
    /** What the one file of `level` holds for the key: a value, a tombstone (null), or nothing. */
    const heldAt = (level: number) => {
      const result = store.lookupSSTable(store.currentVersion.levels[level][0].name, key);
      return result.found ? result.value : 'nothing';
    };

    await flush((s) => s.put(key, '"first"'));
    await compact(0);
    await compact(1);
    expect(read()).toMatchObject({ value: '"first"', foundAt: 'L2', levelsChecked: 3 });

    store.put(key, '"second"');
    expect(read()).toMatchObject({ value: '"second"', foundAt: 'memtable' });
    store.freezeActive();
    expect(read()).toMatchObject({ value: '"second"', foundAt: 'immutable' });
    await flush(() => undefined);
    expect(read()).toMatchObject({ value: '"second"', foundAt: 'L0' });
    await compact(0); // "second" in L1 above "first" in L2
    expect(read()).toMatchObject({ value: '"second"', foundAt: 'L1', levelsChecked: 2 });
    expect(heldAt(2)).toBe('"first"');

    await flush((s) => s.delete(key)); // a tombstone in L0 above "second" in L1
    expect(read()).toMatchObject({ found: false, value: null, foundAt: 'L0', deletedIn: 'sstable' });
    await compact(0); // the tombstone wins over "second" and stays in L1: L2 still holds "first"
    expect(read()).toMatchObject({ found: false, foundAt: 'L1', deletedIn: 'sstable' });
    expect(heldAt(1)).toBeNull();

    await flush((s) => s.put(key, '"third"'));
    await flush((s) => s.delete(key)); // two L0 files: the tombstone is the newer
    expect(store.currentVersion.levels[0]).toHaveLength(2);
    expect(read()).toMatchObject({ found: false, foundAt: 'L0', filesChecked: 1 });
    await compact(1); // L1's tombstone meets "first" in L2 with nothing deeper: both are dropped
    expect(heldAt(2)).toBe('nothing');
    expect(read()).toMatchObject({ found: false, foundAt: 'L0' });
    await compact(0); // the L0 tombstone beats the older "third" in the same compaction, and is kept: L2 holds the range
    expect(read()).toMatchObject({ found: false, foundAt: 'L1' });
    expect(heldAt(1)).toBeNull();

    await flush((s) => s.put(key, '"fourth"'));
    await compact(0);
    await compact(1);
    expect(read()).toMatchObject({ value: '"fourth"', foundAt: 'L2' });
    expect(store.currentVersion.levels.map((files) => files.length)).toEqual([0, 0, 1, 0, 0, 0, 0]);
    store.close();
    store = await Store.open(options);
    expect(read()).toMatchObject({ value: '"fourth"', foundAt: 'L2' });
    expect(store.scan({}).entries).toEqual([
      { key: 'a', value: '"a"' },
      { key, value: '"fourth"' },
      { key: '\u{1F600}', value: '"smile"' },
    ]);
    store.close();
  });
});
