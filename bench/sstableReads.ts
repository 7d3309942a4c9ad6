/**
 * Reads across many SSTables (a development aid, not part of npm run bench):
 * a Store in a fresh temporary folder gets FILES SSTables of KEYS random
 * `user:` keys each (32-byte values), flushed one by one, then 3 rounds of
 * 100k random present-key gets and 3,000 seekGE + SCAN_LENGTH-entry scans,
 * with a block cache of CACHE_BYTES shared by every file. With the files
 * bigger than the cache, every scan's seek in every file is a cache miss.
 *
 *   node sstableReads.js [FILES=30] [KEYS=20000] [CACHE_BYTES=33554432] [SCAN_LENGTH=100]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeFileSystem } from '../src/storage/env/fileSystem.js';
import { DEFAULT_MAX_OPEN_FILES } from '../src/storage/cache/fileHandleCache.js';
import { newReaderCaches } from '../src/storage/sstable/reader.js';
import { Store } from '../src/storage/store.js';
import { E2E_VALUE_BYTES, keyOf, rng, valueOf } from './workload.js';

const [files = 30, keysPerFile = 20_000, cacheBytes = 32 * 1024 * 1024, scanLength = 100] = process.argv.slice(2).map(Number);
const GETS = 100_000;
const SCANS = 3_000;

const dir = mkdtempSync(join(tmpdir(), 'memtable-sstable-reads-'));
try {
  const store = await Store.open({
    dir,
    memtableMaxBytes: 2 ** 40, // flushes only when told to
    maxImmutable: 4,
    caches: newReaderCaches(nodeFileSystem, DEFAULT_MAX_OPEN_FILES, cacheBytes),
  });
  const random = rng(11);
  for (let file = 0; file < files; file++) {
    for (let i = 0; i < keysPerFile; i++) store.put(keyOf((random() * 2 ** 32) >>> 0), valueOf(random, E2E_VALUE_BYTES));
    store.freezeActive();
    store.installFlushed(await store.flushOldest());
  }
  const keys = store.scan({ limit: Number.MAX_SAFE_INTEGER }).entries.map((entry) => entry.key);
  let sink = 0;
  for (let round = 0; round < 3; round++) {
    let started = process.hrtime.bigint();
    for (let i = 0; i < GETS; i++) if (store.get(keys[Math.floor(random() * keys.length)]).found) sink++;
    const gets = GETS / (Number(process.hrtime.bigint() - started) / 1e9);
    started = process.hrtime.bigint();
    for (let i = 0; i < SCANS; i++) sink += store.scan({ start: keys[Math.floor(random() * keys.length)], limit: scanLength }).entries.length;
    const scans = SCANS / (Number(process.hrtime.bigint() - started) / 1e9);
    process.stdout.write(`${files} SSTables, ${keys.length} keys, ${cacheBytes} B of cache: ${Math.round(gets)} gets/s, ${Math.round(scans)} scans/s of ${scanLength}${sink < 0 ? '!' : ''}\n`);
  }
  store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
