import * as nodeFs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlockCache } from '../../../src/storage/cache/blockCache.js';
import { FileHandleCache } from '../../../src/storage/cache/fileHandleCache.js';
import { crc32c, maskCrc } from '../../../src/storage/encoding/crc32c.js';
import { type FileSystem, nodeFileSystem, type WritableFile } from '../../../src/storage/env/fileSystem.js';
import { type EntryValue, type InternalIterator, TOMBSTONE } from '../../../src/storage/iterator.js';
import { compareKeys, fromSortKey, toSortKey } from '../../../src/storage/keyOrder.js';
import { BLOCK_TRAILER_SIZE, FOOTER_SIZE, MAGIC } from '../../../src/storage/sstable/format.js';
import { newReaderCaches, SSTableReader } from '../../../src/storage/sstable/reader.js';
import { writeSSTable } from '../../../src/storage/sstable/writer.js';
import { expectCorruption } from '../../support/expectCorruption.js';

// ---------------------------------------------------------------- helpers

type Entry = [key: string, value: EntryValue];

/** An InternalIterator over sorted [sortKey, value] pairs (the skip list stands in for this in production). */
class ArrayIterator implements InternalIterator {
  private i = -1;
  constructor(private readonly entries: Array<[string, EntryValue]>) {}
  seekGE(target: string): void {
    this.i = this.entries.findIndex(([key]) => key >= target);
    if (this.i < 0) this.i = this.entries.length;
  }
  seekToFirst(): void {
    this.i = 0;
  }
  valid(): boolean {
    return this.i >= 0 && this.i < this.entries.length;
  }
  key(): string {
    return this.entries[this.i][0];
  }
  value(): EntryValue {
    return this.entries[this.i][1];
  }
  next(): void {
    this.i++;
  }
}

/** Real-key entries in any order → [sortKey, value] in ascending order, as a scan returns them. */
function expected(entries: Entry[]): Entry[] {
  const sorted = [...entries].sort(([a], [b]) => compareKeys(a, b));
  return sorted.map(([key, value]) => [toSortKey(key), value]);
}

/** Real-key entries in any order → a source for writeSSTable. */
function source(entries: Entry[]): ArrayIterator {
  return new ArrayIterator(expected(entries));
}

/**
 * An in-memory FileSystem: fast enough to corrupt a file thousands of ways.
 * A write copies its data only a turn after it was called, as a real one may
 * read the buffer late, so a writer that touches a chunk while its write is in
 * flight produces a wrong file.
 */
function memoryFileSystem() {
  const files = new Map<string, Buffer>();
  const fds = new Map<number, string>();
  const writeSizes: number[] = [];
  let nextFd = 3;
  let failWritesAfter = Infinity;
  const unsupported = () => {
    throw new Error('not supported by memoryFileSystem');
  };
  const fs: FileSystem = {
    mkdirp: async () => undefined,
    readdir: async () => [...files.keys()],
    readFile: async (p) => files.get(p) ?? unsupported(),
    async createWritable(p): Promise<WritableFile> {
      const chunks: Uint8Array[] = [];
      files.set(p, Buffer.alloc(0));
      let open = true;
      return {
        async write(data) {
          if (!open) throw new Error('write after close');
          if (writeSizes.length >= failWritesAfter) throw Object.assign(new Error('ENOSPC: no space left'), { code: 'ENOSPC' });
          writeSizes.push(data.length);
          await new Promise((resolve) => setImmediate(resolve));
          chunks.push(Buffer.from(data));
        },
        sync: async () => undefined,
        async close() {
          open = false;
          files.set(p, Buffer.concat(chunks));
        },
      };
    },
    rename: async () => unsupported(),
    unlink: async (p) => void files.delete(p),
    syncDir: async () => undefined,
    openReadSync(p) {
      if (!files.has(p)) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
      fds.set(nextFd, p);
      return nextFd++;
    },
    readSync(fd, buffer, position, length = buffer.length) {
      const data = files.get(fds.get(fd) ?? unsupported()) ?? unsupported();
      const n = Math.max(0, Math.min(length, data.length - position));
      buffer.set(data.subarray(position, position + n));
      return n;
    },
    sizeSync: (fd) => (files.get(fds.get(fd) ?? unsupported()) ?? unsupported()).length,
    openNewSync: unsupported,
    writeAtSync: unsupported,
    fdatasync: unsupported,
    syncDirSync: unsupported,
    truncateSync: unsupported,
    closeSync(fd) {
      if (!fds.delete(fd)) throw new Error('EBADF');
    },
  };
  return {
    fs,
    files,
    writeSizes,
    openFds: () => fds.size,
    failWritesAfter(n: number) {
      failWritesAfter = n;
    },
  };
}

function scan(it: InternalIterator, limit = Infinity): Entry[] {
  const out: Entry[] = [];
  for (; it.valid() && out.length < limit; it.next()) out.push([it.key(), it.value()]);
  return out;
}

function scanAll(reader: SSTableReader): Entry[] {
  const it = reader.iterator();
  it.seekToFirst();
  return scan(it);
}

function seekScan(reader: SSTableReader, target: string, limit = Infinity): Entry[] {
  const it = reader.iterator();
  it.seekGE(target);
  return scan(it, limit);
}

const json = (n: number) => JSON.stringify({ n, text: `value number ${n}` });

let tmpDir: string;
beforeAll(() => {
  tmpDir = nodeFs.mkdtempSync(path.join(os.tmpdir(), 'sstable-test-'));
});
afterAll(() => {
  nodeFs.rmSync(tmpDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------- round trips

describe('SSTable round trip (real file system)', () => {
  it('writes and reads back values, tombstones and the empty key, with matching properties', async () => {
    const entries: Entry[] = [
      ['', '"empty key"'],
      ['a', '1'],
      ['b', TOMBSTONE],
      ['c', '{"x":[1,2,3]}'],
      ['d', TOMBSTONE],
      ['\u00e9', '""'],
    ];
    const file = path.join(tmpDir, 'basic.sst');
    const written = await writeSSTable(nodeFileSystem, file, source(entries));
    expect(written).toEqual({
      entries: 6,
      tombstones: 2,
      sizeBytes: nodeFs.statSync(file).size,
      bloomFilterBits: 64,
      dataBlocks: 1,
      smallestKey: '',
      largestKey: '\u00e9',
    });

    const reader = SSTableReader.open(nodeFileSystem, file);
    try {
      expect(reader.path).toBe(file);
      expect(reader.properties).toEqual(written);
      expect(scanAll(reader)).toEqual(expected(entries));
      expect(reader.get('')).toMatchObject({ found: true, value: '"empty key"' });
      expect(reader.get('c')).toMatchObject({ found: true, value: '{"x":[1,2,3]}' });
      expect(reader.get('b')).toMatchObject({ found: true, value: TOMBSTONE });
      expect(reader.get('bb')).toMatchObject({ found: false, value: null });
      expect(reader.get('zzz')).toMatchObject({ found: false, value: null });
    } finally {
      reader.close();
    }
  });

  it('writes an empty table that opens and answers nothing', async () => {
    const file = path.join(tmpDir, 'empty.sst');
    const written = await writeSSTable(nodeFileSystem, file, source([]));
    expect(written).toMatchObject({ entries: 0, dataBlocks: 0, smallestKey: null, largestKey: null });
    const reader = SSTableReader.open(nodeFileSystem, file);
    expect(reader.properties).toEqual(written);
    expect(scanAll(reader)).toEqual([]);
    expect(seekScan(reader, '')).toEqual([]);
    expect(reader.get('')).toEqual({ found: false, value: null, bloomMayContain: false, diskReads: 0 });
    reader.close();
    reader.close(); // idempotent
  });
});

describe('SSTable keys and values', () => {
  it('keeps astral and private-use keys in code point order', async () => {
    const keys = ['', 'z', '\u007f', '\u0080', '\u07ff', '\u0800', '\ud7ff', '\ue000', '\uf8ff', '\uffff', '\u{10000}', '\u{1f600}', '\u{f0000}', '\u{10fffd}', 'a\u{1f600}', 'a\uffff'];
    const m = memoryFileSystem();
    await writeSSTable(m.fs, 't', source(keys.map((k, i) => [k, json(i)])), { blockBytes: 64 });
    const reader = SSTableReader.open(m.fs, 't');
    const scanned = scanAll(reader).map(([k]) => fromSortKey(k));
    const byCodePoint = [...keys].sort((a, b) => {
      const x = [...a].map((c) => c.codePointAt(0) as number);
      const y = [...b].map((c) => c.codePointAt(0) as number);
      for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
      return x.length - y.length;
    });
    expect(scanned).toEqual(byCodePoint);
    // And on disk, byte order: the UTF-8 keys ascend under Buffer.compare.
    const utf8 = scanned.map((k) => Buffer.from(k, 'utf8'));
    for (let i = 1; i < utf8.length; i++) expect(Buffer.compare(utf8[i - 1], utf8[i])).toBe(-1);
    keys.forEach((k, i) => expect(reader.get(toSortKey(k)).value).toBe(json(i)));
    expect(reader.properties.smallestKey).toBe('');
    expect(reader.properties.largestKey).toBe('\u{10fffd}');
  });

  it('stores values larger than a block, and the blocks around them', async () => {
    const big = JSON.stringify('x'.repeat(20_000));
    const huge = JSON.stringify({ s: '\u00e9\u{1f600}'.repeat(200_000) }); // ~1.2 MB, several output chunks
    const entries: Entry[] = [
      ['a', '1'],
      ['b', big],
      ['c', '2'],
      ['d', huge],
      ['e', TOMBSTONE],
    ];
    const m = memoryFileSystem();
    const props = await writeSSTable(m.fs, 't', source(entries));
    expect(props.dataBlocks).toBe(3);
    const reader = SSTableReader.open(m.fs, 't');
    expect(reader.get('b').value).toBe(big);
    expect(reader.get('d').value).toBe(huge);
    expect(reader.get('c').value).toBe('2');
    expect(scanAll(reader)).toEqual(expected(entries));
  });

  it('stores values of every size class, ASCII or not, whatever their length varint', async () => {
    const values: string[] = [];
    for (const length of [0, 1, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 8191, 8192, 16383, 16384, 65535, 65536, 65537]) {
      for (const unit of ['x', '\u00e9', '\u20ac', '\u{1f600}']) values.push(JSON.stringify(unit.repeat(Math.ceil(length / unit.length))));
    }
    const entries: Entry[] = values.map((v, i) => [`v${String(i).padStart(3, '0')}`, v]);
    const m = memoryFileSystem();
    await writeSSTable(m.fs, 't', source(entries), { blockBytes: 1024 });
    const reader = SSTableReader.open(m.fs, 't');
    expect(scanAll(reader)).toEqual(expected(entries));
  });

  it('hands the file 256 KiB chunks, never touching one while its write is in flight', async () => {
    const entries: Entry[] = Array.from({ length: 20_000 }, (_, i) => [`key${String(i).padStart(6, '0')}`, json(i)]);
    const m = memoryFileSystem();
    const props = await writeSSTable(m.fs, 't', source(entries));
    expect(m.writeSizes.slice(0, -1).every((n) => n === 256 * 1024)).toBe(true);
    expect(m.writeSizes.reduce((a, b) => a + b, 0)).toBe(props.sizeBytes);
    const reader = SSTableReader.open(m.fs, 't');
    expect(scanAll(reader)).toEqual(expected(entries));
  });

  it('spans many blocks: every key found, absent keys missed, properties right', async () => {
    const entries: Entry[] = Array.from({ length: 5000 }, (_, i) => [`k${i * 2}`, i % 7 === 0 ? TOMBSTONE : json(i)]);
    const m = memoryFileSystem();
    const props = await writeSSTable(m.fs, 't', source(entries), { blockBytes: 512 });
    expect(props.dataBlocks).toBeGreaterThan(100);
    expect(props.tombstones).toBe(entries.filter(([, v]) => v === TOMBSTONE).length);
    expect(props.bloomFilterBits).toBe(Math.ceil((5000 * 10) / 8) * 8);
    const reader = SSTableReader.open(m.fs, 't');
    expect(reader.properties).toEqual(props);
    expect(scanAll(reader)).toEqual(expected(entries));
    for (const [key, value] of entries) expect(reader.get(key)).toMatchObject({ found: true, value });
    for (let i = 0; i < 1000; i++) expect(reader.get(`k${i * 2 + 1}`).found).toBe(false);
  });

  it('seekGE lands at, between, before and after keys, across block boundaries', async () => {
    const entries: Entry[] = Array.from({ length: 300 }, (_, i) => [`k${String(i * 10).padStart(5, '0')}`, json(i)]);
    const m = memoryFileSystem();
    await writeSSTable(m.fs, 't', source(entries), { blockBytes: 128 });
    const reader = SSTableReader.open(m.fs, 't');
    const all = expected(entries);
    expect(seekScan(reader, '')).toEqual(all);
    expect(seekScan(reader, 'a')).toEqual(all);
    for (let i = 0; i < 300; i++) {
      const at = `k${String(i * 10).padStart(5, '0')}`;
      const between = `k${String(i * 10 + 5).padStart(5, '0')}`;
      expect(seekScan(reader, at, 2)).toEqual(all.slice(i, i + 2));
      expect(seekScan(reader, between, 2)).toEqual(all.slice(i + 1, i + 3));
    }
    expect(seekScan(reader, 'k99999')).toEqual([]);
    expect(seekScan(reader, 'l')).toEqual([]);
    // An iterator can be re-positioned, backwards too.
    const it = reader.iterator();
    expect(it.valid()).toBe(false);
    it.seekGE('k02000');
    expect(it.key()).toBe('k02000');
    it.seekGE('k00010');
    expect(it.key()).toBe('k00010');
    it.seekToFirst();
    expect(it.key()).toBe('k00000');
  });

  it('approximateOffsetOf: where the first block that may hold a key starts, from the index alone', async () => {
    const entries: Entry[] = Array.from({ length: 300 }, (_, i) => [`k${String(i * 10).padStart(5, '0')}`, json(i)]);
    const m = memoryFileSystem();
    await writeSSTable(m.fs, 't', source(entries), { blockBytes: 128 });
    const reader = SSTableReader.open(m.fs, 't');
    const reads = reader.diskReads;
    expect(reader.approximateOffsetOf('')).toBe(0);
    expect(reader.approximateOffsetOf('k00000')).toBe(0);
    expect(reader.approximateOffsetOf('k99999')).toBe(reader.properties.sizeBytes);
    const starts = Array.from({ length: reader.blockCount }, (_, j) => reader.blockHandle(j).offset);
    const lastKeys = reader.blockLastKeys;
    // Each stored key and each key between two: the start of block j, the first whose last key is at or past it.
    const keys = Array.from({ length: 599 }, (_, n) => `k${String(n * 5).padStart(5, '0')}`);
    for (const key of keys) {
      const j = starts.indexOf(reader.approximateOffsetOf(key));
      expect(j, key).toBeGreaterThanOrEqual(0);
      expect(lastKeys[j] >= key, key).toBe(true);
      if (j > 0) expect(lastKeys[j - 1] < key, key).toBe(true);
    }
    // Past the last key: the whole file.
    expect(reader.approximateOffsetOf('k02995')).toBe(reader.properties.sizeBytes);
    expect(reader.diskReads).toBe(reads);
  });
});

// ---------------------------------------------------------------- property

describe('SSTable against a model (property)', () => {
  const keyUnit = fc.constantFrom('a', 'b', '\u00e9', '\u0800', '\ue000', '\uffff', '\u{1f600}', '\u{10fffd}');
  const key = fc.oneof(fc.string({ unit: keyUnit, maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 10 }));
  const value = fc.option(fc.json({ maxDepth: 2 }), { nil: TOMBSTONE });

  it('reads back every written map: get, misses and seekGE scans', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(key, value, { maxKeys: 300 }),
        fc.array(key, { maxLength: 30 }),
        fc.integer({ min: 1, max: 1024 }),
        fc.integer({ min: 1, max: 16 }),
        async (dict, probes, blockBytes, bloomBitsPerKey) => {
          const model = new Map<string, EntryValue>(Object.entries(dict));
          const m = memoryFileSystem();
          const props = await writeSSTable(m.fs, 't', source([...model]), { blockBytes, bloomBitsPerKey });
          const reader = SSTableReader.open(m.fs, 't');
          expect(reader.properties).toEqual(props);
          const sorted = expected([...model]);
          expect(scanAll(reader)).toEqual(sorted);
          for (const [k, v] of model) expect(reader.get(toSortKey(k))).toMatchObject({ found: true, value: v, bloomMayContain: true });
          for (const probe of probes) {
            const target = toSortKey(probe);
            const result = reader.get(target);
            expect(result.found).toBe(model.has(probe));
            if (model.has(probe)) expect(result.value).toBe(model.get(probe));
            const from = sorted.findIndex(([k]) => k >= target);
            expect(seekScan(reader, target, 5)).toEqual(from < 0 ? [] : sorted.slice(from, from + 5));
          }
          reader.close();
          expect(m.openFds()).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });

  // The writer encodes runs of ASCII entries in batches, and takes non-ASCII
  // and long entries one by one: mostly-ASCII tables, hundreds of entries
  // long, mix the two paths at every position.
  const asciiUnit = fc.constantFrom('a', 'b', 'c', '/', ':', '0', '1', '~');
  const rareUnit = fc.constantFrom('\u00e9', '\u20ac', '\ue000', '\u{1f600}', '\u007f', '\u0080');
  const mostlyAsciiKey = fc
    .tuple(
      fc.constantFrom('', 'user:', 'user:000', 'a'.repeat(140)),
      fc.string({ unit: asciiUnit, maxLength: 8 }),
      fc.option(rareUnit, { freq: 20 }),
    )
    .map(([prefix, rest, rare]) => prefix + rest + (rare ?? ''));
  const mostlyAsciiValue = fc.oneof(
    { weight: 20, arbitrary: fc.string({ unit: asciiUnit, maxLength: 40 }).map((s) => JSON.stringify(s)) },
    { weight: 2, arbitrary: fc.constant(TOMBSTONE) },
    { weight: 1, arbitrary: fc.integer({ min: 1000, max: 3000 }).map((n) => JSON.stringify('v'.repeat(n))) },
    { weight: 1, arbitrary: fc.string({ unit: rareUnit, maxLength: 5 }).map((s) => JSON.stringify(s)) },
  );

  it('reads back mostly-ASCII tables that span many batches, whatever mix of rare, long and deleted entries', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(mostlyAsciiKey, mostlyAsciiValue, { minKeys: 1, maxKeys: 1200 }),
        fc.constantFrom(1, 100, 4096, 70_000),
        async (dict, blockBytes) => {
          const model = new Map<string, EntryValue>(Object.entries(dict));
          const m = memoryFileSystem();
          const props = await writeSSTable(m.fs, 't', source([...model]), { blockBytes });
          const sorted = expected([...model]);
          expect(props.entries).toBe(model.size);
          expect(props.tombstones).toBe(sorted.filter(([, v]) => v === TOMBSTONE).length);
          expect(props.smallestKey).toBe(fromSortKey(sorted[0][0]));
          expect(props.largestKey).toBe(fromSortKey(sorted[sorted.length - 1][0]));
          const reader = SSTableReader.open(m.fs, 't');
          expect(reader.properties).toEqual(props);
          expect(scanAll(reader)).toEqual(sorted);
          for (const [k, v] of model) expect(reader.get(toSortKey(k))).toMatchObject({ found: true, value: v, bloomMayContain: true });
          reader.close();
        },
      ),
      { numRuns: 40 },
    );
  });
});

// ---------------------------------------------------------------- damage

describe('SSTable damage', () => {
  const entries: Entry[] = Array.from({ length: 60 }, (_, i) => [`key${String(i).padStart(3, '0')}`, i % 5 === 0 ? TOMBSTONE : json(i)]);

  async function smallTable() {
    const m = memoryFileSystem();
    const props = await writeSSTable(m.fs, 't', source(entries), { blockBytes: 256 });
    const bytes = m.files.get('t') as Buffer;
    return { m, props, bytes };
  }

  /** Opens `bytes`, then reads everything: get of every key and a full scan. */
  function readEverything(m: ReturnType<typeof memoryFileSystem>, bytes: Buffer): void {
    m.files.set('t', bytes);
    const reader = SSTableReader.open(m.fs, 't');
    try {
      for (const [key] of entries) reader.get(key);
      scanAll(reader);
    } finally {
      reader.close();
    }
  }

  it('detects a flipped byte anywhere in a data block (payload or trailer) on read', async () => {
    const { m, bytes } = await smallTable();
    const reader = SSTableReader.open(m.fs, 't');
    const block0 = reader.blockHandle(0);
    const block0End = block0.offset + block0.size + BLOCK_TRAILER_SIZE;
    expect(block0.offset).toBe(0);
    const firstKeyOfBlock1 = seekScan(reader, reader.blockLastKeys[0] + '\0', 1)[0][0];
    reader.close();
    for (let pos = 0; pos < block0End; pos++) {
      for (const mask of [0x01, 0x80]) {
        const damaged = Buffer.from(bytes);
        damaged[pos] ^= mask;
        m.files.set('t', damaged);
        const damagedReader = SSTableReader.open(m.fs, 't'); // the footer, index and filter are intact
        expectCorruption(() => damagedReader.get(entries[0][0]));
        expectCorruption(() => scanAll(damagedReader));
        expectCorruption(() => damagedReader.iterator().seekGE(entries[0][0]));
        // Other blocks still read.
        expect(damagedReader.get(firstKeyOfBlock1).found).toBe(true);
        damagedReader.close();
      }
    }
    expect(m.openFds()).toBe(0);
  });

  it('detects a flipped bit anywhere in the file, at open or on read', async () => {
    const { m, bytes } = await smallTable();
    for (let pos = 0; pos < bytes.length; pos++) {
      const damaged = Buffer.from(bytes);
      damaged[pos] ^= 1 << pos % 8;
      expectCorruption(() => readEverything(m, damaged));
    }
    expect(m.openFds()).toBe(0);
  });

  it('detects data blocks whose checksums hold but whose keys disagree with the index, on the walk that meets them', async () => {
    // One entry a block, so each block's only key is stored whole, 4 bytes in (three one-byte varints and the kind).
    const m = memoryFileSystem();
    await writeSSTable(m.fs, 't', source(entries.slice(0, 3)), { blockBytes: 1 });
    const bytes = m.files.get('t') as Buffer;
    /** `bytes` with data block i's key replaced by `key` (same length) and its checksum made right again. */
    const withKey = (i: number, key: string): Buffer => {
      const reader = SSTableReader.open(m.fs, 't');
      const { offset, size } = reader.blockHandle(i);
      reader.close();
      const edited = Buffer.from(bytes);
      expect(edited.toString('latin1', offset + 4, offset + 4 + key.length)).toBe(entries[i][0]);
      edited.write(key, offset + 4, 'latin1');
      edited.writeUInt32LE(maskCrc(crc32c(edited.subarray(offset, offset + size + 1))), offset + size + 1);
      return edited;
    };
    const open = (file: Buffer): SSTableReader => {
      m.files.set('t', file);
      return SSTableReader.open(m.fs, 't');
    };

    // Block 0 ends below its index key: a scan leaving it, and a seek to that key, both notice.
    const endsLow = open(withKey(0, 'kex000'));
    expectCorruption(() => scanAll(endsLow));
    expectCorruption(() => endsLow.iterator().seekGE(entries[0][0]));
    expect(seekScan(endsLow, entries[1][0]).map(([key]) => key)).toEqual([entries[1][0], entries[2][0]]);
    endsLow.close();

    // Block 1 starts at (not above) block 0's last key: noticed on crossing into it.
    const overlaps = open(withKey(1, entries[0][0]));
    const it = overlaps.iterator();
    it.seekGE(entries[0][0]);
    expect([it.key(), it.value()]).toEqual(entries[0]);
    expectCorruption(() => it.next());
    expectCorruption(() => scanAll(overlaps));
    overlaps.close();
  });

  it('fails to open a truncated file, at every length', async () => {
    const { m, bytes } = await smallTable();
    for (let length = 0; length < bytes.length; length++) {
      m.files.set('t', bytes.subarray(0, length));
      expectCorruption(() => SSTableReader.open(m.fs, 't'));
    }
    expect(m.openFds()).toBe(0);
  });

  it('fails to open a truncated file on disk', async () => {
    const file = path.join(tmpDir, 'truncated.sst');
    const props = await writeSSTable(nodeFileSystem, file, source(entries));
    nodeFileSystem.truncateSync(file, props.sizeBytes - 1);
    expectCorruption(() => SSTableReader.open(nodeFileSystem, file));
  });

  it('fails to open a foreign file', async () => {
    const m = memoryFileSystem();
    const foreign = [
      Buffer.alloc(0),
      Buffer.from('{"version":1,"nextFileNumber":2,"sstables":[]}\n1234abcd\n'),
      Buffer.alloc(4096),
      Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)),
      Buffer.concat([Buffer.alloc(FOOTER_SIZE - MAGIC.length), MAGIC]), // magic but nothing else
    ];
    for (const bytes of foreign) {
      m.files.set('t', bytes);
      expectCorruption(() => SSTableReader.open(m.fs, 't'));
    }
    expect(m.openFds()).toBe(0);
  });

  it('reports a missing file as STORAGE_IO', () => {
    const m = memoryFileSystem();
    expect(() => SSTableReader.open(m.fs, 'nope')).toThrow(expect.objectContaining({ code: 'STORAGE_IO' }));
  });
});

// ---------------------------------------------------------------- reads

describe('SSTable disk reads', () => {
  it('costs 0 reads for a Bloom-negative lookup, 1 for a cold block, 0 for a cached one', async () => {
    const entries: Entry[] = Array.from({ length: 2000 }, (_, i) => [`key${i}`, json(i)]);
    const m = memoryFileSystem();
    await writeSSTable(m.fs, 't', source(entries), { blockBytes: 256 });
    const reader = SSTableReader.open(m.fs, 't');
    expect(reader.diskReads).toBe(0);

    let negatives = 0;
    for (let i = 0; i < 1000; i++) {
      const result = reader.get(`absent${i}`);
      expect(result.found).toBe(false);
      if (!result.bloomMayContain) {
        negatives++;
        expect(result.diskReads).toBe(0);
      }
    }
    expect(negatives).toBeGreaterThan(950);
    const afterNegatives = reader.diskReads;
    expect(afterNegatives).toBeLessThanOrEqual(1000 - negatives);

    expect(reader.get('key1234')).toEqual({ found: true, value: json(1234), bloomMayContain: true, diskReads: 1 });
    expect(reader.get('key1234')).toEqual({ found: true, value: json(1234), bloomMayContain: true, diskReads: 0 });
    expect(reader.diskReads).toBe(afterNegatives + 1);
  });

  it('leaves an iterator invalid, not half moved, when the next block cannot be read', async () => {
    const entries: Entry[] = Array.from({ length: 200 }, (_, i) => [`key${String(i).padStart(3, '0')}`, json(i)]);
    const m = memoryFileSystem();
    await writeSSTable(m.fs, 't', source(entries), { blockBytes: 256 });
    const reader = SSTableReader.open(m.fs, 't', newReaderCaches(m.fs, 1, 0)); // no block outlives the next read
    const it = reader.iterator();
    it.seekToFirst();
    while (it.key() !== reader.blockLastKeys[0]) it.next();
    reader.close();
    expect(() => it.next()).toThrow(/closed/);
    expect(it.valid()).toBe(false);
  });

  it('evicts the least recently used block once the block cache budget is spent, across the readers sharing it', async () => {
    const entries: Entry[] = Array.from({ length: 4000 }, (_, i) => [`key${String(i).padStart(4, '0')}`, json(i)]);
    const m = memoryFileSystem();
    const props = await writeSSTable(m.fs, 't', source(entries), { blockBytes: 256 });
    await writeSSTable(m.fs, 'u', source(entries), { blockBytes: 256 });
    expect(props.dataBlocks).toBeGreaterThan(100);
    const caches = newReaderCaches(m.fs, 1, 16 * 1024);
    const reader = SSTableReader.open(m.fs, 't', caches);
    const scanned = scanAll(reader);
    expect(reader.diskReads).toBe(props.dataBlocks); // one read per block
    expect(caches.blocks.chargedBytes).toBeLessThanOrEqual(16 * 1024);
    const last = scanned[scanned.length - 1][0];
    expect(reader.get(last).diskReads).toBe(0); // the last block is cached
    expect(reader.get(scanned[0][0]).diskReads).toBe(1); // the first was evicted long ago
    // A second reader's blocks take the same budget's room: 't' must read its last block again.
    const other = SSTableReader.open(m.fs, 'u', caches);
    expect(scanAll(other)).toEqual(scanned);
    expect(caches.blocks.chargedBytes).toBeLessThanOrEqual(16 * 1024);
    expect(reader.get(last).diskReads).toBe(1);
  });

  it('reads right when scans hold blocks while gets recycle the slots of evicted ones', async () => {
    // A budget of four arena slots, shared by two files: nearly every get evicts a block and reads
    // into its slot, while two scans (one a file) hold their current blocks across the gets.
    const entries: Entry[] = Array.from({ length: 3000 }, (_, i) => [`key${String(i).padStart(4, '0')}`, json(i)]);
    const m = memoryFileSystem();
    await writeSSTable(m.fs, 't', source(entries), { blockBytes: 256 });
    await writeSSTable(m.fs, 'u', source(entries.map(([key], i) => [key, json(-i)])), { blockBytes: 256 });
    const caches = { files: new FileHandleCache(m.fs, 2), blocks: new BlockCache(4 * 512, 512) };
    const readers = [SSTableReader.open(m.fs, 't', caches), SSTableReader.open(m.fs, 'u', caches)];
    const scans = readers.map((reader) => reader.iterator());
    for (const it of scans) it.seekToFirst();
    let step = 0;
    for (let i = 0; i < entries.length; i++) {
      for (const [file, it] of scans.entries()) {
        expect([fromSortKey(it.key()), it.value()]).toEqual([entries[i][0], json(file === 0 ? i : -i)]);
        it.next();
      }
      for (let g = 0; g < 3; g++) {
        const k = (step = (step * 7 + 13) % entries.length);
        expect(readers[0].get(entries[k][0]).value).toBe(json(k));
        expect(readers[1].get(entries[k][0]).value).toBe(json(-k));
      }
    }
    for (const it of scans) expect(it.valid()).toBe(false);
    expect(caches.blocks.recycled).toBeGreaterThan(4 * entries.length); // most gets missed and read into a slot evicted for them
  });
});

// ---------------------------------------------------------------- writer contract

describe('writeSSTable contract', () => {
  it('refuses a source out of order', async () => {
    const m = memoryFileSystem();
    const bad = new ArrayIterator([
      ['b', '1'],
      ['a', '2'],
    ]);
    await expect(writeSSTable(m.fs, 't', bad)).rejects.toThrow(/out of order/);
  });

  it('refuses a repeated or out-of-order key anywhere: first, inside or between batches, ASCII or not', async () => {
    const keys = Array.from({ length: 700 }, (_, i) => `key${String(i).padStart(4, '0')}`);
    for (const at of [1, 2, 100, 255, 256, 257, 300, 511, 512, 699]) {
      for (const bad of [keys[at - 1], 'a\u00e9', 'a', keys[at - 1].slice(0, -1)]) {
        const entries: Array<[string, EntryValue]> = keys.map((k) => [k, '1']);
        entries[at] = [toSortKey(bad), at % 2 === 0 ? TOMBSTONE : '"x"'];
        const m = memoryFileSystem();
        await expect(writeSSTable(m.fs, 't', new ArrayIterator(entries)), `${bad} at ${at}`).rejects.toThrow(/out of order/);
      }
    }
  });

  it('refuses a key with a lone surrogate, which UTF-8 cannot carry', async () => {
    const m = memoryFileSystem();
    await expect(writeSSTable(m.fs, 't', new ArrayIterator([[toSortKey('a\ud800'), '1']]))).rejects.toThrow(/well-formed/);
  });

  it('with sliceMs, hands the event loop back between batches and writes the same file', async () => {
    const entries: Entry[] = Array.from({ length: 2_000 }, (_, i) => [`key${i}`, json(i)]);
    /** Writes the table, counting the event-loop turns (a setImmediate chain) it let through. */
    const write = async (options: { sliceMs?: number }): Promise<{ file: Buffer; turns: number }> => {
      const m = memoryFileSystem();
      let turns = 0;
      let writing = true;
      const turn = (): void => {
        turns++;
        if (writing) setImmediate(turn);
      };
      setImmediate(turn);
      await writeSSTable(m.fs, 't', source(entries), options);
      writing = false;
      return { file: m.files.get('t')!, turns };
    };
    const plain = await write({});
    // sliceMs 0: every batch (256 entries) is a slice, so 2,000 entries give at least 7 more turns.
    const sliced = await write({ sliceMs: 0 });
    expect(sliced.file.equals(plain.file)).toBe(true);
    expect(sliced.turns).toBeGreaterThanOrEqual(plain.turns + 7);
  });

  it('passes on a write failure after closing the file', async () => {
    const m = memoryFileSystem();
    m.failWritesAfter(1);
    const entries: Entry[] = Array.from({ length: 20_000 }, (_, i) => [`key${i}`, json(i)]);
    await expect(writeSSTable(m.fs, 't', source(entries))).rejects.toThrow(/ENOSPC/);
  });
});
