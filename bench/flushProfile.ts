/**
 * Where a flush's time goes (a development aid, not part of npm run bench):
 * the same MemTable as flushChild.ts, timed as
 *   iterate   walking the MemTable iterator alone (key() and value() read)
 *   floor     the walk plus every key and value turned into UTF-8 bytes, the
 *             cheapest way we know (512 strings joined, one write into a
 *             buffer): what any writer over this MemTable must do, with no
 *             format at all
 *   cpu       writeSSTable into a file system that discards the bytes
 *   file      writeSSTable into a real file, fdatasync included (what flushChild times)
 *   raw       the same number of bytes in 256 KiB writes plus fdatasync,
 *             also split into its writes and its fdatasync (which no writer
 *             can overlap: it must follow the last byte)
 * Each is timed RUNS times within this process, interleaved; prints medians
 * (and per-entry ns for the CPU-only figures).
 *
 *   node flushProfile.js [RUNS] [SEED] [WRITER_MODULE...]
 *
 * Each WRITER_MODULE (a path or URL of a compiled module exporting
 * writeSSTable, e.g. an older build of the writer) is timed alongside the
 * current one, alternating within each round, so builds compare under the
 * same load.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FileSystem, nodeFileSystem, type WritableFile } from '../src/storage/env/fileSystem.js';
import { MemTable } from '../src/storage/memtable/memTable.js';
import { writeSSTable } from '../src/storage/sstable/writer.js';
import { median } from './stats.js';
import { distinctIds, E2E_VALUE_BYTES, keyOf, rng, valueOf } from './workload.js';

const MEMTABLE_BYTES = 4 * 1024 * 1024;

function fullMemTable(seed: number): MemTable {
  const random = rng(seed);
  const ids = distinctIds(MEMTABLE_BYTES / 32, random);
  const table = new MemTable(1);
  for (let i = 0; table.sizeBytes < MEMTABLE_BYTES; i++) table.put(keyOf(ids[i]), valueOf(random, E2E_VALUE_BYTES));
  return table;
}

const nullFile: WritableFile = { write: async () => undefined, sync: async () => undefined, close: async () => undefined };
const nullFileSystem = { ...nodeFileSystem, createWritable: async () => nullFile } as FileSystem;

function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

type WriteSSTable = typeof writeSSTable;

/** Every key and value of `table` as UTF-8 bytes in `out`, no format: the floor of any writer. Returns the byte count. */
function encodeAll(table: MemTable, out: Buffer): number {
  const parts: string[] = [];
  let at = 0;
  const it = table.iterator();
  for (it.seekToFirst(); it.valid(); it.next()) {
    parts.push(it.key(), it.value() ?? '');
    if (parts.length === 512) {
      at += out.write(parts.join(''), at, 'utf8');
      parts.length = 0;
    }
  }
  return at + out.write(parts.join(''), at, 'utf8');
}

async function main(runs: number, seed: number, variants: string[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'memtable-bench-flushprof-'));
  try {
    const table = fullMemTable(seed);
    const n = table.entries;
    const chunk = Buffer.alloc(256 * 1024, 0x5a);
    // Other writer builds (compiled modules exporting writeSSTable) to compare with, alternating within each round.
    const writers: Array<[string, WriteSSTable]> = [['current', writeSSTable]];
    for (const v of variants) writers.push([v, ((await import(v)) as { writeSSTable: WriteSSTable }).writeSSTable]);
    const times: Record<string, number[]> = { iterate: [], floor: [], raw: [], rawWrites: [], rawSync: [] };
    const floorBuffer = Buffer.alloc(2 * MEMTABLE_BYTES);
    for (const [name] of writers) {
      times[`cpu ${name}`] = [];
      times[`file ${name}`] = [];
    }
    let bytes = 0;
    let sink = 0;
    for (let r = 0; r < runs + 2; r++) {
      const keep = r >= 2; // the first two rounds warm up
      let t = now();
      const it = table.iterator();
      for (it.seekToFirst(); it.valid(); it.next()) sink += it.key().length + (it.value()?.length ?? 0);
      if (keep) times.iterate.push(now() - t);

      t = now();
      sink += encodeAll(table, floorBuffer);
      if (keep) times.floor.push(now() - t);

      for (const [name, write] of writers) {
        t = now();
        bytes = (await write(nullFileSystem, 'null', table.iterator())).sizeBytes;
        if (keep) times[`cpu ${name}`].push(now() - t);

        const path = join(dir, `run${r}.sst`);
        t = now();
        await write(nodeFileSystem, path, table.iterator());
        if (keep) times[`file ${name}`].push(now() - t);
        await unlink(path);
      }

      const rawPath = join(dir, `run${r}.raw`);
      t = now();
      const handle = await open(rawPath, 'w');
      for (let offset = 0; offset < bytes; offset += chunk.length) await handle.write(chunk, 0, Math.min(chunk.length, bytes - offset));
      const written = now();
      await handle.datasync();
      if (keep) times.rawWrites.push(written - t);
      if (keep) times.rawSync.push(now() - written);
      await handle.close();
      if (keep) times.raw.push(now() - t);
      await unlink(rawPath);
    }
    const m = (k: string): number => median(times[k]);
    const mbps = (ms: number): string => (bytes / ms / 1e3).toFixed(0);
    let line = `entries ${n}, file ${bytes} B, medians of ${runs}: iterate ${m('iterate').toFixed(2)} ms (${((m('iterate') * 1e6) / n).toFixed(0)} ns/entry); raw ${m('raw').toFixed(2)} ms (${mbps(m('raw'))} MB/s)${sink < 0 ? '!' : ''}\n`;
    const bestWriter = m('floor') + m('rawSync');
    line += `  floor ${m('floor').toFixed(2)} ms; raw = writes ${m('rawWrites').toFixed(2)} + fdatasync ${m('rawSync').toFixed(2)} ms; so no writer beats ${(m('raw') / bestWriter).toFixed(3)}x raw\n`;
    for (const [name] of writers) {
      const cpu = m(`cpu ${name}`);
      const file = m(`file ${name}`);
      line += `  ${name}: cpu ${cpu.toFixed(2)} ms (${((cpu * 1e6) / n).toFixed(0)} ns/entry, ${mbps(cpu)} MB/s); file ${file.toFixed(2)} ms (${mbps(file)} MB/s); ratio ${(m('raw') / file).toFixed(3)}\n`;
    }
    process.stdout.write(line);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main(Number(process.argv[2] ?? 9), Number(process.argv[3] ?? 7), process.argv.slice(4));
