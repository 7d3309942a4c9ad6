/**
 * The Store against a plain model (a Map, sorted by code point for scans),
 * with thresholds so small that every layer (active, frozen, SSTables) holds
 * data; plus the flush, MANIFEST and reopen paths.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLockFileName } from '../../src/storage/env/dirLock.js';
import { nodeFileSystem } from '../../src/storage/env/fileSystem.js';
import { BlockCache } from '../../src/storage/cache/blockCache.js';
import { FileHandleCache } from '../../src/storage/cache/fileHandleCache.js';
import { Store } from '../../src/storage/store.js';
import { dropLocksAsIfCrashed } from '../support/crashLocks.js';
import { gatedSyncs } from '../support/gatedSyncs.js';
import { applyWrite, modelScan } from '../support/storeModel.js';
import { useTempDirs } from '../support/tempDirs.js';

const freshDir = useTempDirs('store-test');

/** Group commit, both steps: what the node does for each batch with --sync always. */
async function commit(store: Store): Promise<void> {
  store.writeWal();
  await store.syncWal();
}

async function flushAll(store: Store): Promise<void> {
  while (store.frozenCount > 0) store.installFlushed(await store.flushOldest());
}

const keyArb = fc.string({
  unit: fc.constantFrom('a', 'b', 'c', 'é', '\u{1F600}', '\u{10000}', '\uE000', '\uFFFF', '\uD7FF'),
  maxLength: 4,
});
const valueArb = fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value));

type Op =
  | { kind: 'put'; key: string; value: string }
  | { kind: 'delete'; key: string }
  | { kind: 'get'; key: string }
  | { kind: 'scan'; start?: string; end?: string; limit?: number }
  | { kind: 'freeze' }
  | { kind: 'flush' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('put' as const), key: keyArb, value: valueArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: keyArb }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('get' as const), key: keyArb }) },
  {
    weight: 2,
    arbitrary: fc.record(
      { kind: fc.constant('scan' as const), start: keyArb, end: keyArb, limit: fc.integer({ min: 1, max: 6 }) },
      { requiredKeys: ['kind'] },
    ),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'freeze' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'flush' as const }) },
);


describe('Store', () => {
  it('agrees with a Map model across active, frozen and SSTable layers, and after reopening, with 2 SSTables open and 200 bytes of blocks cached', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 120 }), async (ops) => {
        const dir = freshDir();
        // Far fewer descriptors and blocks than SSTables: reads keep reopening files and rereading blocks, into
        // three 64-byte arena slots (small blocks) or buffers of their own (larger ones), while scans hold blocks.
        const caches = { files: new FileHandleCache(nodeFileSystem, 2), blocks: new BlockCache(200, 64) };
        const { files: openFiles } = caches;
        const store = await Store.open({ dir, memtableMaxBytes: 160, maxImmutable: 3, caches });
        const model = new Map<string, string>();
        for (const op of ops) {
          expect(openFiles.openCount).toBeLessThanOrEqual(2);
          expect(caches.blocks.chargedBytes <= 200 || caches.blocks.size === 1).toBe(true);
          if ((op.kind === 'put' || op.kind === 'delete' || op.kind === 'freeze') && store.writesStalled) {
            store.installFlushed(await store.flushOldest());
          }
          switch (op.kind) {
            case 'put':
            case 'delete':
              applyWrite(store, model, op);
              break;
            case 'get': {
              const result = store.get(op.key);
              expect(result.found).toBe(model.has(op.key));
              expect(result.value).toBe(model.get(op.key) ?? null);
              break;
            }
            case 'scan':
              expect(store.scan(op)).toEqual(modelScan(model, op));
              break;
            case 'freeze':
              store.freezeActive();
              break;
            case 'flush':
              if (store.frozenCount > 0) store.installFlushed(await store.flushOldest());
              break;
          }
        }
        store.freezeActive();
        await flushAll(store);
        store.close();
        expect(openFiles.openCount).toBe(0);
        const reopened = await Store.open({ dir, memtableMaxBytes: 160, maxImmutable: 3, caches });
        expect(reopened.scan({})).toEqual(modelScan(model, {}));
        reopened.close();
      }),
      { numRuns: 60 },
    );
  });

  it('recovers every committed write from the WAL after a crash, across flushes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 80 }), async (ops) => {
        const dir = freshDir();
        const options = { dir, memtableMaxBytes: 160, maxImmutable: 3, wal: { sync: false } };
        const store = await Store.open(options);
        const model = new Map<string, string>();
        for (const op of ops) {
          if (store.writesStalled) store.installFlushed(await store.flushOldest());
          if (op.kind === 'put' || op.kind === 'delete') applyWrite(store, model, op);
          else if (op.kind === 'freeze') store.freezeActive();
          else if (op.kind === 'flush' && store.frozenCount > 0) store.installFlushed(await store.flushOldest());
          await commit(store);
        }
        // A crash: no close, no flush; only what the WAL and the SSTables hold.
        dropLocksAsIfCrashed(dir);
        const recovered = await Store.open(options);
        expect(recovered.scan({})).toEqual(modelScan(model, {}));
        for (const key of model.keys()) expect(recovered.get(key).value).toBe(model.get(key));
        recovered.close();
        store.close();
      }),
      { numRuns: 40 },
    );
  });

  it('never replays a WAL segment whose MemTable is already in an SSTable, even if its unlink was lost', async () => {
    const dir = freshDir();
    const options = { dir, memtableMaxBytes: 1 << 20, maxImmutable: 4, wal: { sync: true } };
    const store = await Store.open(options);
    store.put('k', '"old"');
    await commit(store);
    const oldSegment = readFileSync(join(dir, '000001.wal'));
    store.freezeActive();
    store.installFlushed(await store.flushOldest());
    store.put('k', '"new"');
    store.freezeActive();
    store.installFlushed(await store.flushOldest());
    await commit(store);
    store.close();
    expect(existsSync(join(dir, '000001.wal'))).toBe(false);
    writeFileSync(join(dir, '000001.wal'), oldSegment); // as if the unlink never reached the disk
    const reopened = await Store.open(options);
    expect(reopened.get('k')).toMatchObject({ value: '"new"', source: 'sstable' });
    expect(reopened.recovery).toMatchObject({ obsoleteSegments: 1, replayedSegments: 0 });
    expect(existsSync(join(dir, '000001.wal'))).toBe(false);
    reopened.close();
  });

  it('replays WAL segments into frozen MemTables that flush like any other', async () => {
    const dir = freshDir();
    const options = { dir, memtableMaxBytes: 1 << 20, maxImmutable: 4, wal: { sync: true } };
    const store = await Store.open(options);
    store.put('a', '1');
    store.delete('b');
    await commit(store);
    dropLocksAsIfCrashed(dir);
    const recovered = await Store.open(options);
    expect(recovered.recovery).toMatchObject({ replayedSegments: 1, replayedRecords: 2, tornTails: [] });
    expect(recovered.get('a')).toMatchObject({ found: true, value: '1', source: 'immutable' });
    expect(recovered.frozenCount).toBe(1);
    recovered.installFlushed(await recovered.flushOldest());
    expect(recovered.get('a')).toMatchObject({ found: true, source: 'sstable' });
    expect(readdirSync(dir).filter((name) => name.endsWith('.wal'))).toEqual(['000002.wal']);
    recovered.close();
    store.close();
  });

  it('with sync, writes a newer segment only once the older ones are durable, and syncWal makes all durable', async () => {
    const dir = freshDir();
    const options = { dir, memtableMaxBytes: 1 << 20, maxImmutable: 4, wal: { sync: true } };
    const store = await Store.open(options);
    store.put('a', '1');
    store.freezeActive();
    store.put('b', '2');
    store.writeWal();
    // A crash now may keep the newer segment's bytes and lose the older's: so the newer waits.
    expect(readFileSync(join(dir, '000001.wal')).length).toBeGreaterThan(0);
    expect(readFileSync(join(dir, '000002.wal')).length).toBe(0);
    expect(store.walUnsynced).toBe(true);
    await store.syncWal();
    expect(store.walUnsynced).toBe(false);
    expect(readFileSync(join(dir, '000002.wal')).length).toBeGreaterThan(0);
    dropLocksAsIfCrashed(dir);
    const recovered = await Store.open(options);
    expect(recovered.get('a')).toMatchObject({ found: true, value: '1' });
    expect(recovered.get('b')).toMatchObject({ found: true, value: '2' });
    recovered.close();
    store.close();
  });

  it('without sync, a write is the whole commit: nothing waits for a sync, none runs', async () => {
    const { fs, gates } = gatedSyncs();
    const store = await Store.open({ dir: freshDir(), memtableMaxBytes: 1 << 20, maxImmutable: 4, fs, wal: { sync: false } });
    store.put('a', '1');
    store.freezeActive();
    store.put('b', '2');
    store.writeWal();
    expect(store.walUnsynced).toBe(false);
    await store.syncWal();
    expect(gates).toHaveLength(0);
    store.close();
  });

  it('freezes a MemTable whose WAL segment outgrows it, as overwrites of one key make it', async () => {
    const dir = freshDir();
    const store = await Store.open({ dir, memtableMaxBytes: 1000, maxImmutable: 4, wal: { sync: false } });
    let writes = 0;
    while (!store.put('same', `"${'v'.repeat(50)}${writes++}"`).frozen) expect(writes).toBeLessThan(1000);
    // Each record is ~70 bytes: the segment reached 4 x 1000 bytes while the MemTable held one entry.
    expect(writes).toBeGreaterThan(50);
    expect(store.stats().immutable).toEqual([{ entries: 1, size_bytes: expect.any(Number) }]);
    expect(store.stats().immutable[0].size_bytes).toBeLessThan(1000);
    store.close();
  });

  it('gives scans one consistent view while a flush is in flight and after it is installed', async () => {
    const store = await Store.open({ dir: freshDir(), memtableMaxBytes: 1 << 20, maxImmutable: 4 });
    for (let i = 0; i < 500; i++) store.put(`k${String(i).padStart(3, '0')}`, String(i));
    store.delete('k007');
    store.freezeActive();
    store.put('k001', '"newer"');
    const before = store.scan({ start: 'k000', limit: 50 });
    const flushing = store.flushOldest();
    for (let turn = 0; turn < 5; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
      expect(store.scan({ start: 'k000', limit: 50 })).toEqual(before);
    }
    store.installFlushed(await flushing);
    expect(store.scan({ start: 'k000', limit: 50 })).toEqual(before);
    expect(before.entries[1]).toEqual({ key: 'k001', value: '"newer"' });
    expect(before.entries.map((e) => e.key)).not.toContain('k007');
    store.close();
  });

  it('reports which layer answered', async () => {
    const store = await Store.open({ dir: freshDir(), memtableMaxBytes: 1 << 20, maxImmutable: 4 });
    store.put('disk', '1');
    store.freezeActive();
    store.installFlushed(await store.flushOldest());
    store.put('frozen', '2');
    store.freezeActive();
    store.put('active', '3');
    expect(store.get('active')).toMatchObject({ source: 'memtable', found: true });
    expect(store.get('frozen')).toMatchObject({ source: 'immutable', found: true });
    expect(store.get('disk')).toMatchObject({ source: 'sstable', sstableFile: 'L0_000001.sst', found: true });
    store.delete('disk');
    expect(store.get('disk')).toMatchObject({ found: false, value: null, source: 'memtable', deletedIn: 'memtable' });
    store.close();
  });

  it('stalls writes at maxImmutable frozen MemTables and freezes at the byte threshold', async () => {
    const store = await Store.open({ dir: freshDir(), memtableMaxBytes: 100, maxImmutable: 2 });
    expect(store.put('k1', '"'.padEnd(70, 'x') + '"').frozen).toBe(true);
    expect(store.writesStalled).toBe(false);
    store.put('k2', '"'.padEnd(70, 'x') + '"');
    expect(store.writesStalled).toBe(true);
    store.installFlushed(await store.flushOldest());
    expect(store.writesStalled).toBe(false);
    expect(store.stats().sstables.map((table) => table.file)).toEqual(['L0_000001.sst']);
    store.close();
  });

  it('numbers files upward across reopenings and removes debris of an interrupted flush', async () => {
    const dir = freshDir();
    let store = await Store.open({ dir, memtableMaxBytes: 1 << 20, maxImmutable: 4 });
    store.put('a', '1');
    store.freezeActive();
    store.installFlushed(await store.flushOldest());
    store.close();
    // A crash between writing a file and publishing it in the MANIFEST leaves debris.
    writeFileSync(join(dir, 'L0_000007.sst'), 'half a file');
    writeFileSync(join(dir, 'L0_000008.sst.tmp'), 'half a file');
    store = await Store.open({ dir, memtableMaxBytes: 1 << 20, maxImmutable: 4 });
    expect(readdirSync(dir).filter((name) => !isLockFileName(name)).sort()).toEqual(['CURRENT', 'L0_000001.sst', 'MANIFEST-000001']);
    expect(store.recovery.removedFiles.sort()).toEqual(['L0_000007.sst', 'L0_000008.sst.tmp']);
    store.put('b', '2');
    store.freezeActive();
    const flushed = await store.flushOldest();
    expect(flushed.file).toBe('L0_000009.sst');
    store.installFlushed(flushed);
    expect(store.get('a')).toMatchObject({ found: true, value: '1' });
    store.close();
  });
});
