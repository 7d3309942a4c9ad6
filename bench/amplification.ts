/**
 * Write and space amplification of leveled compaction (a development aid,
 * not part of npm run bench; docs/COMPACTION.md, "Measured"): WRITES puts
 * of VALUE_BYTES-byte values to keys drawn uniformly from KEYS, in one
 * process, on a Store in a fresh temporary folder with a WAL (sync off) and
 * the compaction settings given. Flushes and compactions run as the node's
 * regions would keep up with them: the oldest frozen MemTable is flushed as
 * soon as there is one, and compactions run while a level's score is at
 * least 1. At the end it flushes what is left, lets compaction settle, and
 * prints:
 *   - write amplification: (bytes written by flushes and compactions) /
 *     (key and value bytes of the writes), lsm_compact_status's figure;
 *   - space amplification: bytes of the folder's SSTables (and of the whole
 *     folder) / key and value bytes of the live data (the newest value of
 *     each key written);
 *   - the levels' files and bytes.
 *
 *   node amplification.js [WRITES] [KEYS] [MEMTABLE_BYTES] [LEVEL_BASE_BYTES] [TARGET_FILE_BYTES] [MULTIPLIER]
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_COMPACTION_OPTIONS } from '../src/storage/compaction/compactor.js';
import { Store } from '../src/storage/store.js';
import { describeMachine } from './machine.js';
import { keyOf, rng, valueOf } from './workload.js';

const VALUE_BYTES = 100;
const [writes, keys, memtableMaxBytes, levelBaseBytes, targetFileBytes, levelMultiplier] = [
  Number(process.argv[2] ?? 1_000_000),
  Number(process.argv[3] ?? 200_000),
  Number(process.argv[4] ?? 4 * 1024 * 1024),
  Number(process.argv[5] ?? DEFAULT_COMPACTION_OPTIONS.levelBaseBytes),
  Number(process.argv[6] ?? DEFAULT_COMPACTION_OPTIONS.targetFileBytes),
  Number(process.argv[7] ?? DEFAULT_COMPACTION_OPTIONS.levelMultiplier),
];
const compaction = { ...DEFAULT_COMPACTION_OPTIONS, levelBaseBytes, targetFileBytes, levelMultiplier };

const dir = mkdtempSync(join(tmpdir(), 'memtable-amplification-'));
const started = performance.now();
try {
  const store = await Store.open({ dir, memtableMaxBytes, maxImmutable: 4, wal: { sync: false }, compaction });
  const random = rng(13);
  /** Bytes of the newest value written to each key id (every key is the same length). */
  const live = new Map<number, number>();
  const keyBytes = keyOf(0).length;
  const settle = async (): Promise<void> => {
    while (store.frozenCount > 0) store.installFlushed(await store.flushOldest());
    while (store.compactionDue()) await store.compact(store.pickCompaction());
  };
  for (let i = 0; i < writes; i++) {
    const id = Math.floor(random() * keys);
    const value = valueOf(random, VALUE_BYTES);
    store.put(keyOf(id), value);
    live.set(id, value.length);
    if (store.frozenCount > 0) {
      store.writeWal();
      await settle();
    }
  }
  store.writeWal();
  store.freezeActive();
  await settle();

  let liveBytes = 0;
  for (const valueBytes of live.values()) liveBytes += keyBytes + valueBytes;
  const sizes = readdirSync(dir).map((name) => ({ name, bytes: statSync(join(dir, name)).size }));
  const sstableBytes = sizes.filter(({ name }) => name.endsWith('.sst')).reduce((sum, { bytes }) => sum + bytes, 0);
  const folderBytes = sizes.reduce((sum, { bytes }) => sum + bytes, 0);
  const { userBytes, flushedBytes, compactedBytes } = store.writeCounters();
  const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  const machine = describeMachine();
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${machine.tmpFs} temp folder, load ${machine.loadAtStart.toFixed(1)} at start`);
  console.log(
    `settings: ${writes} puts of ${VALUE_BYTES}-byte values to ${keys} keys (${keyBytes}-byte keys, uniform); --memtable-max-bytes ${memtableMaxBytes}, ` +
      `--level-base-bytes ${levelBaseBytes}, --level-multiplier ${levelMultiplier}, --target-file-bytes ${targetFileBytes}, --l0-compaction-trigger ${compaction.l0CompactionTrigger}`,
  );
  console.log(`written by clients: ${mib(userBytes)}; by flushes: ${mib(flushedBytes)}; by compactions: ${mib(compactedBytes)} (${store.compactionStatus().totalCompactions} compactions)`);
  console.log(`write amplification: ${((flushedBytes + compactedBytes) / userBytes).toFixed(2)} (compactions alone: ${(compactedBytes / userBytes).toFixed(2)})`);
  console.log(`live data: ${live.size} keys, ${mib(liveBytes)}; SSTables: ${mib(sstableBytes)}; folder: ${mib(folderBytes)}`);
  console.log(`space amplification: ${(sstableBytes / liveBytes).toFixed(2)} (whole folder: ${(folderBytes / liveBytes).toFixed(2)})`);
  console.log(`levels: ${store.levelInfo().filter((level) => level.sstables > 0).map((level) => `L${level.level} ${level.sstables} files ${mib(level.total_bytes)}`).join(', ')}`);
  console.log(`${((performance.now() - started) / 1000).toFixed(1)} s`);
  store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
