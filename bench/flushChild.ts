/**
 * Flush throughput in a fresh process (a development aid, not part of npm
 * run bench since issue 14 dropped the flush target): writeSSTable over a full MemTable
 * (~4 MiB accounted, the default freeze threshold) against a raw sequential
 * write of the same number of bytes, in the same directory. Both include
 * open, every write, fdatasync and close, so the ratio is what the SSTable
 * encoding (blocks, prefix compression, CRCs, Bloom filter, index) costs on
 * top of the disk. Runs alternate ours/raw so drift in the disk or page
 * cache hits both alike. Prints one JSON line.
 *
 *   node flushChild.js RUNS SEED
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeFileSystem } from '../src/storage/env/fileSystem.js';
import { MemTable } from '../src/storage/memtable/memTable.js';
import { writeSSTable } from '../src/storage/sstable/writer.js';
import { distinctIds, E2E_VALUE_BYTES, keyOf, rng, valueOf } from './workload.js';

const MEMTABLE_BYTES = 4 * 1024 * 1024;
const RAW_WRITE_BYTES = 256 * 1024;

/** A MemTable filled in random key order up to the freeze threshold; keys are ASCII, so each is its own sort key. */
function fullMemTable(seed: number): MemTable {
  const random = rng(seed);
  const ids = distinctIds(MEMTABLE_BYTES / 32, random); // more ids than can fit
  const table = new MemTable(1);
  for (let i = 0; table.sizeBytes < MEMTABLE_BYTES; i++) table.put(keyOf(ids[i]), valueOf(random, E2E_VALUE_BYTES));
  return table;
}

async function timeSSTable(table: MemTable, path: string): Promise<{ seconds: number; bytes: number }> {
  const t0 = process.hrtime.bigint();
  const properties = await writeSSTable(nodeFileSystem, path, table.iterator());
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await unlink(path);
  return { seconds, bytes: properties.sizeBytes };
}

/** One file, 256 KiB writes from one buffer of incompressible-looking bytes, fdatasync at the end. */
async function timeRaw(bytes: number, path: string, chunk: Buffer): Promise<number> {
  const t0 = process.hrtime.bigint();
  const handle = await open(path, 'w');
  for (let offset = 0; offset < bytes; offset += chunk.length) {
    const length = Math.min(chunk.length, bytes - offset);
    let done = 0;
    while (done < length) done += (await handle.write(chunk, done, length - done)).bytesWritten;
  }
  await handle.datasync();
  await handle.close();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await unlink(path);
  return seconds;
}

async function main(runs: number, seed: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'memtable-bench-flush-'));
  try {
    const table = fullMemTable(seed);
    const random = rng(seed + 1);
    const chunk = Buffer.alloc(RAW_WRITE_BYTES);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (random() * 256) | 0;

    const warm = await timeSSTable(table, join(dir, 'warm.sst'));
    await timeRaw(warm.bytes, join(dir, 'warm.raw'), chunk);

    const sstable: number[] = [];
    const raw: number[] = [];
    let bytes = 0;
    for (let r = 0; r < runs; r++) {
      const ours = await timeSSTable(table, join(dir, `run${r}.sst`));
      bytes = ours.bytes;
      sstable.push(ours.bytes / ours.seconds / 1e6);
      raw.push(ours.bytes / (await timeRaw(ours.bytes, join(dir, `run${r}.raw`), chunk)) / 1e6);
    }
    process.stdout.write(JSON.stringify({ sstableMBps: sstable, rawMBps: raw, fileBytes: bytes, entries: table.entries, accountedBytes: table.sizeBytes }) + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main(Number(process.argv[2]), Number(process.argv[3]));
