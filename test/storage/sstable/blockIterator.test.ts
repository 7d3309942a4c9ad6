import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BlockIterator } from '../../../src/storage/sstable/blockIterator.js';
import { expectCorruption } from '../../support/expectCorruption.js';

type Entry = [key: Buffer, value: Buffer | null];

function pushVarint(out: number[], value: number): void {
  while (value >= 0x80) {
    out.push((value & 0x7f) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
}

function pushU32(out: number[], value: number): void {
  out.push(value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24);
}

/**
 * A block payload straight from the grammar in sstable/format.ts, written
 * here rather than by the writer so the cursor is checked against the format
 * itself. `sharedOf` may lie about a shared prefix, to build malformed blocks.
 */
function encodeBlock(entries: Entry[], interval: number, sharedOf = (common: number, _i: number) => common): Buffer {
  const out: number[] = [];
  const restarts: number[] = [];
  let prev: Buffer = Buffer.alloc(0);
  entries.forEach(([key, value], i) => {
    let shared = 0;
    if (i % interval === 0) restarts.push(out.length);
    else {
      while (shared < key.length && shared < prev.length && key[shared] === prev[shared]) shared++;
      shared = sharedOf(shared, i);
    }
    pushVarint(out, shared);
    pushVarint(out, key.length - shared);
    pushVarint(out, value === null ? 0 : value.length);
    out.push(value === null ? 0 : 1);
    out.push(...key.subarray(shared));
    if (value !== null) out.push(...value);
    prev = key;
  });
  for (const at of restarts) pushU32(out, at);
  pushU32(out, restarts.length);
  return Buffer.from(out);
}

function cursorOver(block: Buffer): BlockIterator {
  return new BlockIterator().reset(block, block.length, 'test block');
}

function walk(cursor: BlockIterator): Array<[string, string | null]> {
  const seen: Array<[string, string | null]> = [];
  for (; cursor.valid(); cursor.next()) seen.push([cursor.key(), cursor.isTombstone() ? null : cursor.value()]);
  return seen;
}

// Keys that share long prefixes (so suffixes are short and long), include
// multi-byte UTF-8, and reach 200 bytes (two-byte varints); values likewise.
const keyArb = fc
  .tuple(fc.constantFrom('', 'user:', 'a'.repeat(40), 'é€'), fc.string({ unit: 'grapheme', maxLength: 12 }), fc.nat({ max: 200 }))
  .map(([prefix, rest, pad]) => Buffer.from(prefix + rest + (pad > 150 ? 'z'.repeat(pad) : ''), 'utf8'));
const valueArb = fc.option(
  fc.oneof(fc.string({ maxLength: 8 }), fc.string({ minLength: 130, maxLength: 300 })).map((text) => Buffer.from(JSON.stringify(text), 'utf8')),
  { nil: null, freq: 5 },
);
const blockArb = fc.record({
  entries: fc.uniqueArray(fc.tuple(keyArb, valueArb), { selector: ([key]) => key.toString('latin1'), maxLength: 80 }).map((entries) => entries.sort(([a], [b]) => Buffer.compare(a, b))),
  interval: fc.integer({ min: 1, max: 20 }),
});

describe('BlockIterator', () => {
  it('walks every entry of a block in order, values and tombstones, and knows the last and which keys are ASCII (property)', () => {
    fc.assert(
      fc.property(blockArb, ({ entries, interval }) => {
        const cursor = cursorOver(encodeBlock(entries, interval));
        cursor.seekToFirst();
        const seen: Array<[string, string | null]> = [];
        for (; cursor.valid(); cursor.next()) {
          seen.push([cursor.key(), cursor.isTombstone() ? null : cursor.value()]);
          expect(cursor.atLast()).toBe(seen.length === entries.length);
          expect(cursor.keyIsAscii()).toBe(entries[seen.length - 1][0].every((byte) => byte < 0x80));
        }
        expect(seen).toEqual(entries.map(([key, value]) => [key.toString('utf8'), value === null ? null : value.toString('utf8')]));
      }),
    );
  });

  it('seekGE lands on the first key >= the target, present or absent, before, between and past every key (property)', () => {
    fc.assert(
      fc.property(blockArb, fc.array(keyArb, { maxLength: 10 }), ({ entries, interval }, extraTargets) => {
        const cursor = cursorOver(encodeBlock(entries, interval));
        const targets = [...entries.map(([key]) => key), ...extraTargets, Buffer.alloc(0), Buffer.from([0xff, 0xff])];
        for (const target of targets) {
          cursor.seekGE(target);
          const expected = entries.findIndex(([key]) => Buffer.compare(key, target) >= 0);
          if (expected === -1) {
            expect(cursor.valid()).toBe(false);
            continue;
          }
          expect(cursor.valid()).toBe(true);
          expect(cursor.key()).toBe(entries[expected][0].toString('utf8'));
          expect(Math.sign(cursor.compareKey(target))).toBe(Math.sign(Buffer.compare(entries[expected][0], target)));
          // The walk goes on from there, to the end.
          expect(walk(cursor).map(([key]) => key)).toEqual(entries.slice(expected).map(([key]) => key.toString('utf8')));
        }
      }),
    );
  });

  it('serves block after block once reset, whatever the key lengths before', () => {
    const cursor = new BlockIterator();
    const long = encodeBlock([[Buffer.from('k'.repeat(500)), Buffer.from('1')]], 16);
    const short = encodeBlock([[Buffer.from('a'), null], [Buffer.from('ab'), Buffer.from('"x"')]], 16);
    for (const block of [long, short, long]) {
      cursor.reset(block, block.length, 'test block').seekToFirst();
      expect(walk(cursor)).toEqual(block === long ? [['k'.repeat(500), '1']] : [['a', null], ['ab', '"x"']]);
    }
  });

  it('reads an empty block as no entries', () => {
    const cursor = cursorOver(encodeBlock([], 16));
    cursor.seekToFirst();
    expect(cursor.valid()).toBe(false);
    cursor.seekGE(Buffer.from('a'));
    expect(cursor.valid()).toBe(false);
  });

  describe('malformed blocks surface as STORAGE_CORRUPTION, never as an entry out of order', () => {
    const keys = ['apple', 'apricot', 'banana', 'cherry'].map((key) => Buffer.from(key));
    const entries: Entry[] = keys.map((key) => [key, Buffer.from('1')]);

    it('keys that do not ascend', () => {
      const block = encodeBlock([entries[1], entries[0], entries[2]], 16);
      const cursor = cursorOver(block);
      cursor.seekToFirst();
      expectCorruption(() => cursor.next(), /keys out of order/);
    });

    it('a repeated key', () => {
      const cursor = cursorOver(encodeBlock([entries[0], entries[0]], 16));
      cursor.seekToFirst();
      expectCorruption(() => cursor.next(), /keys out of order/);
    });

    it('a shared prefix longer than the key before it', () => {
      // 'apricot' after 'apple' shares 2 bytes; claiming 9 reaches past 'apple'.
      const cursor = cursorOver(encodeBlock(entries.slice(0, 2), 16, (common, i) => (i === 1 ? 9 : common)));
      cursor.seekToFirst();
      expectCorruption(() => cursor.next(), /out of bounds/);
    });

    it('a restart point that does not start a whole key', () => {
      const block = encodeBlock(entries, 2);
      // Entry 2 is a restart: its shared count must be 0. Rewrite it as 1 in place.
      const restartAt = block.readUInt32LE(block.length - 4 - 4 * 2 + 4);
      block[restartAt] = 1;
      expectCorruption(() => cursorOver(block).seekGE(Buffer.from('cherry')), /out of bounds/);
    });

    it('restart arrays and entries that leave the payload', () => {
      const block = encodeBlock(entries, 2);
      expectCorruption(() => new BlockIterator().reset(block.subarray(0, 3), 3, 'test block'), /too short/);
      const badCount = Buffer.from(block);
      badCount.writeUInt32LE(1000, badCount.length - 4);
      expectCorruption(() => new BlockIterator().reset(badCount, badCount.length, 'test block'), /bad restart array/);
      const badRestart = Buffer.from(block);
      badRestart.writeUInt32LE(badRestart.length, badRestart.length - 8);
      expectCorruption(() => cursorOver(badRestart).seekGE(Buffer.from('zzz')), /restart point out of bounds/);
      const longValue = Buffer.from(block);
      longValue[2] = 0x7f; // entry 0's value length, now past the restart array
      expectCorruption(() => cursorOver(longValue).seekToFirst(), /out of bounds/);
    });

    it('an unknown entry kind, or a tombstone with a value', () => {
      const block = encodeBlock(entries, 16);
      const unknownKind = Buffer.from(block);
      unknownKind[3] = 7;
      expectCorruption(() => cursorOver(unknownKind).seekToFirst(), /bad entry kind 7/);
      const tombstoneWithValue = Buffer.from(block);
      tombstoneWithValue[3] = 0;
      expectCorruption(() => cursorOver(tombstoneWithValue).seekToFirst(), /bad entry kind 0/);
    });
  });
});
