import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BloomFilter, BloomFilterBuilder, bloomHash, probesFor } from '../../../src/storage/sstable/bloomFilter.js';
import { StorageError } from '../../../src/storage/errors.js';

describe('bloomHash', () => {
  it("matches LevelDB's Hash(data, n, 0xbc9f1d34) test vectors (util/hash_test.cc)", () => {
    expect(bloomHash(new Uint8Array([]))).toBe(0xbc9f1d34);
    expect(bloomHash(new Uint8Array([0x62]))).toBe(0xef1345c4);
    expect(bloomHash(new Uint8Array([0xc3, 0x97]))).toBe(0x5b663814);
    expect(bloomHash(new Uint8Array([0xe2, 0x99, 0xa5]))).toBe(0x323c078f);
    expect(bloomHash(new Uint8Array([0xe1, 0x80, 0xb9, 0x32]))).toBe(0xed21633a);
  });

  it('hashes a byte range the same as a copy of it', () => {
    const bytes = Buffer.from('xxhello, worldyy');
    expect(bloomHash(bytes, 2, 14)).toBe(bloomHash(Buffer.from('hello, world')));
  });
});

describe('BloomFilter', () => {
  it('uses 7 probes at 10 bits a key, at least 64 bits, whole bytes', () => {
    expect(probesFor(10)).toBe(7);
    expect(BloomFilter.build([]).bits).toBe(64);
    const filter = BloomFilter.build(Array.from({ length: 1001 }, (_, i) => `k${i}`));
    expect(filter.bits).toBe(10016);
    expect(filter.probes).toBe(7);
  });

  it('answers false for everything when empty', () => {
    const filter = BloomFilter.build([]);
    expect(filter.mayContain('')).toBe(false);
    expect(filter.mayContain('anything')).toBe(false);
  });

  it('has no false negatives and at most 2% false positives on 100k absent keys (10 bits a key)', () => {
    const n = 100_000;
    const builder = new BloomFilterBuilder(10);
    for (let i = 0; i < n; i++) builder.addKey(`user${i}`);
    const filter = BloomFilter.decode(builder.finish());
    let falseNegatives = 0;
    for (let i = 0; i < n; i++) if (!filter.mayContain(`user${i}`)) falseNegatives++;
    expect(falseNegatives).toBe(0);

    let falsePositives = 0;
    for (let i = n; i < 2 * n; i++) if (filter.mayContain(`user${i}`)) falsePositives++;
    const rate = falsePositives / n;
    console.log(`bloom filter: ${falsePositives} false positives in ${n} absent keys = ${(rate * 100).toFixed(3)}% (${filter.bits} bits, k=${filter.probes})`);
    expect(rate).toBeLessThanOrEqual(0.02);
  });

  it('keeps its false-positive rate on random unrelated keys', () => {
    const n = 20_000;
    const keys = Array.from({ length: n }, (_, i) => `${(i * 2654435761) >>> 0}:${i}`);
    const filter = BloomFilter.build(keys);
    let falsePositives = 0;
    for (let i = 0; i < n; i++) if (filter.mayContain(`absent/${i}/${(i * 40503) >>> 0}`)) falsePositives++;
    expect(falsePositives / n).toBeLessThanOrEqual(0.02);
  });

  it('never gives a false negative for arbitrary Unicode keys (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 20 }), { maxLength: 200 }), fc.integer({ min: 1, max: 20 }), (keys, bitsPerKey) => {
        const filter = BloomFilter.build(keys, bitsPerKey);
        for (const key of keys) expect(filter.mayContain(key)).toBe(true);
      }),
    );
  });

  it('round-trips through its serialized form', () => {
    const filter = BloomFilter.build(['a', 'b', 'c', '\u{1F600}']);
    const copy = BloomFilter.decode(filter.encode());
    expect(copy.bits).toBe(filter.bits);
    expect(copy.probes).toBe(filter.probes);
    for (const key of ['a', 'b', 'c', '\u{1F600}']) expect(copy.mayContain(key)).toBe(true);
    for (let i = 0; i < 100; i++) expect(copy.mayContain(`x${i}`)).toBe(filter.mayContain(`x${i}`));
  });

  it('matches on UTF-8 bytes', () => {
    const filter = BloomFilter.build(['\u00e9t\u00e9']);
    const bytes = Buffer.from('\u00e9t\u00e9', 'utf8');
    expect(filter.mayContainBytes(bytes, 0, bytes.length)).toBe(true);
  });

  it('rejects a malformed serialized filter as STORAGE_CORRUPTION', () => {
    for (const bytes of [new Uint8Array(0), new Uint8Array(8), new Uint8Array(9), Uint8Array.from({ length: 9 }, () => 31)]) {
      expect(() => BloomFilter.decode(bytes)).toThrow(StorageError);
    }
  });
});
