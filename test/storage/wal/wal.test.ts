/** WAL segments: the record format, torn tails at every byte, corruption in the middle, failed commits. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { faultInjectingFileSystem, type FaultPlan } from '../../../src/storage/env/faultInjection.js';
import { nodeFileSystem } from '../../../src/storage/env/fileSystem.js';
import { replayWal, WAL_HEADER_SIZE, walFileName, walSegmentNumber, type WalRecord, WalWriter } from '../../../src/storage/wal/wal.js';
import { gatedSyncs } from '../../support/gatedSyncs.js';
import { useTempDirs } from '../../support/tempDirs.js';

const freshDir = useTempDirs('wal-test');

function writeSegment(records: WalRecord[]): { path: string; ends: number[] } {
  const path = join(freshDir(), walFileName(1));
  const writer = WalWriter.create(nodeFileSystem, path);
  const ends: number[] = [];
  for (const record of records) {
    if (record.kind === 'put') writer.appendPut(record.key, record.valueJson);
    else writer.appendDelete(record.key);
    writer.write();
    writer.assumeWrittenDurable();
    ends.push(readFileSync(path).length);
  }
  writer.close();
  return { path, ends };
}

function replayAll(bytes: Buffer) {
  const records: WalRecord[] = [];
  const result = replayWal(bytes, 'test.wal', (record) => records.push(record));
  return { ...result, records };
}

const recordArb: fc.Arbitrary<WalRecord> = fc.oneof(
  fc.record({ kind: fc.constant('put' as const), key: fc.string({ unit: 'grapheme', maxLength: 8 }), valueJson: fc.json({ maxDepth: 2 }) }),
  fc.record({ kind: fc.constant('delete' as const), key: fc.string({ unit: 'grapheme', maxLength: 8 }) }),
);

describe('WAL', () => {
  it('names segments by number', () => {
    expect(walFileName(42)).toBe('000042.wal');
    expect(walSegmentNumber('000042.wal')).toBe(42);
    expect(walSegmentNumber('L0_000042.sst')).toBeUndefined();
  });

  it('replays what was appended, in order (property)', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { maxLength: 30 }), (records) => {
        const { path } = writeSegment(records);
        const replay = replayAll(readFileSync(path));
        expect(replay.records).toEqual(records);
        expect(replay.tornBytes).toBe(0);
      }),
      { numRuns: 50 },
    );
  });

  it('replays long keys and values, ASCII or not, and short ones around them, byte for byte', () => {
    // Past 4,096 units the writer measures a string instead of making room for 3 bytes a unit.
    // The first record is bigger than twice the writer's initial 64 KiB buffer, so the buffer
    // grows to exactly the room asked for: asking too little would cut the value short.
    const mixed = 'aé€\u{1F600}'.repeat(18_000); // 90,000 units, 180,000 bytes
    const records: WalRecord[] = [
      { kind: 'put', key: 'short', valueJson: JSON.stringify(mixed) },
      { kind: 'put', key: 'k'.repeat(5000), valueJson: JSON.stringify('v'.repeat(70_000)) },
      { kind: 'delete', key: mixed },
      { kind: 'put', key: mixed, valueJson: '1' },
      { kind: 'put', key: 'é', valueJson: '"\u{1F600}"' },
    ];
    const { path, ends } = writeSegment(records);
    const replay = replayAll(readFileSync(path));
    expect(replay.records).toEqual(records);
    expect(replay.tornBytes).toBe(0);
    expect(ends.at(-1)).toBe(readFileSync(path).length);
  });

  it('replays many short non-ASCII records appended in one batch, across every growth of the buffer', () => {
    // Room for a short string is its worst case: were it less, a record crossing the buffer's end would be cut.
    const records: WalRecord[] = [];
    for (let i = 0; i < 3000; i++) records.push({ kind: 'put', key: `${'é'.repeat(50)}${i}`, valueJson: JSON.stringify('€'.repeat(i % 97)) });
    const path = join(freshDir(), walFileName(1));
    const writer = WalWriter.create(nodeFileSystem, path);
    for (const record of records) if (record.kind === 'put') writer.appendPut(record.key, record.valueJson);
    writer.write();
    writer.close();
    expect(replayAll(readFileSync(path))).toMatchObject({ records, tornBytes: 0 });
  });

  it('treats a segment cut at any byte as a torn tail and keeps every whole record before the cut', () => {
    const records: WalRecord[] = [
      { kind: 'put', key: 'a', valueJson: '"first"' },
      { kind: 'delete', key: 'b' },
      { kind: 'put', key: '\u{1F600}', valueJson: '{"x":[1,2,3]}' },
      { kind: 'put', key: 'd', valueJson: 'null' },
    ];
    const { path, ends } = writeSegment(records);
    const whole = readFileSync(path);
    for (let cut = 0; cut <= whole.length; cut++) {
      const replay = replayAll(whole.subarray(0, cut));
      const complete = ends.filter((end) => end <= cut).length;
      expect(replay.records).toEqual(records.slice(0, complete));
      expect(replay.validBytes).toBe(complete === 0 ? 0 : ends[complete - 1]);
      expect(replay.tornBytes).toBe(cut - replay.validBytes);
    }
  });

  it('treats a zero-filled or garbage tail as torn', () => {
    const { path, ends } = writeSegment([{ kind: 'put', key: 'a', valueJson: '1' }]);
    const zeros = Buffer.concat([readFileSync(path), Buffer.alloc(4096)]);
    expect(replayAll(zeros)).toMatchObject({ records: [{ key: 'a' }], validBytes: ends[0], tornBytes: 4096 });
    const garbage = Buffer.concat([readFileSync(path), Buffer.from('\x07\x00\x00\x00garbage that is no record')]);
    expect(replayAll(garbage).records).toHaveLength(1);
  });

  it('refuses a segment damaged in the middle, with valid records after the damage', () => {
    const records: WalRecord[] = Array.from({ length: 5 }, (_, i) => ({ kind: 'put', key: `k${i}`, valueJson: `"value ${i}"` }));
    const { path, ends } = writeSegment(records);
    const damaged = readFileSync(path);
    damaged[ends[1] + WAL_HEADER_SIZE + 2] ^= 0x20; // inside the third record's payload
    expect(() => replayAll(damaged)).toThrow(expect.objectContaining({ code: 'STORAGE_CORRUPTION' }));
    // The same damage in the last record is a torn tail.
    const tail = readFileSync(path);
    tail[ends[3] + WAL_HEADER_SIZE + 2] ^= 0x20;
    expect(replayAll(tail).records).toEqual(records.slice(0, 4));
  });

  it('keeps records across a failed write and writes them again at the same offset', () => {
    let plan: FaultPlan = {};
    const fs = faultInjectingFileSystem(nodeFileSystem, () => plan);
    const path = join(freshDir(), walFileName(7));
    const writer = WalWriter.create(fs, path);
    writer.appendPut('a', '1');
    writer.write();
    writer.assumeWrittenDurable();
    writer.appendPut('b', '2');
    plan = { writeAtSync: 'ENOSPC' };
    expect(() => writer.write()).toThrow(/ENOSPC/);
    expect(writer.hasUnsynced).toBe(true);
    writer.appendDelete('a');
    plan = {};
    writer.write();
    writer.assumeWrittenDurable();
    expect(writer.hasUnsynced).toBe(false);
    writer.close();
    expect(replayAll(readFileSync(path)).records).toEqual([
      { kind: 'put', key: 'a', valueJson: '1' },
      { kind: 'put', key: 'b', valueJson: '2' },
      { kind: 'delete', key: 'a' },
    ]);
    expect(replayAll(readFileSync(path)).tornBytes).toBe(0);
  });

  it('sync() makes durable what was appended before it; records appended meanwhile wait for the next', async () => {
    let closes = 0;
    const { fs, gates } = gatedSyncs({
      ...nodeFileSystem,
      closeSync: (fd) => {
        closes++;
        nodeFileSystem.closeSync(fd);
      },
    });
    const path = join(freshDir(), walFileName(8));
    const writer = WalWriter.create(fs, path);
    writer.appendPut('a', '1');
    const first = writer.sync(); // writes 'a' now, then waits for the gate
    expect(() => writer.assumeWrittenDurable()).toThrow(/in flight/);
    writer.appendPut('b', '2');
    writer.write(); // lands after 'a' while the sync runs
    expect(replayAll(readFileSync(path)).records.map((r) => r.key)).toEqual(['a', 'b']);
    writer.close(); // deferred: the sync still needs the descriptor
    expect(closes).toBe(0);
    gates[0].pass();
    await first;
    expect(closes).toBe(1);
    expect(writer.hasUnsynced).toBe(true); // 'b' was written after the sync began
    writer.close();
    expect(closes).toBe(1);
    await writer.sync(); // closed (its MemTable flushed, say): nothing left to sync, and no call on a closed descriptor
    expect(gates).toHaveLength(1);
  });

  it('writes everything a failed sync covered again, at the same offsets, before the next sync', async () => {
    let plan: FaultPlan = { fdatasync: 'EIO' };
    const fs = faultInjectingFileSystem(nodeFileSystem, () => plan);
    const path = join(freshDir(), walFileName(9));
    const writer = WalWriter.create(fs, path);
    writer.appendPut('a', '1');
    await expect(writer.sync()).rejects.toThrow(/EIO/);
    // As if the failed sync had lost the page: the bytes are gone from the file.
    writeFileSync(path, Buffer.alloc(readFileSync(path).length));
    plan = {};
    writer.appendDelete('a');
    await writer.sync();
    expect(writer.hasUnsynced).toBe(false);
    writer.close();
    const replay = replayAll(readFileSync(path));
    expect(replay.records).toEqual([
      { kind: 'put', key: 'a', valueJson: '1' },
      { kind: 'delete', key: 'a' },
    ]);
    expect(replay.tornBytes).toBe(0);
  });

  it('never creates over an existing segment', () => {
    const dir = freshDir();
    writeFileSync(join(dir, walFileName(3)), 'existing');
    expect(() => WalWriter.create(nodeFileSystem, join(dir, walFileName(3)))).toThrow(/EEXIST/);
  });
});
