/** summarizeLsm: what the inspector is told of a real Store, from real flushes. */
import { describe, expect, it } from 'vitest';
import { KEY_PREVIEW_CHARS, LEVEL_COUNT, summarizeLsm } from '../../src/actors/lsmSummary.js';
import { Store } from '../../src/storage/store.js';
import { useTempDirs } from '../support/tempDirs.js';

const tempDir = useTempDirs('lsm-summary');

/** Puts `keys`, freezes, flushes and installs: one more L0 file. */
async function flushKeys(store: Store, keys: string[]): Promise<void> {
  for (const key of keys) store.put(key, JSON.stringify('v'.repeat(50)));
  store.freezeActive();
  store.installFlushed(await store.flushOldest());
}

describe('summarizeLsm', () => {
  it('gives seven levels, L0 newest first with key ranges and sizes, the MemTables, and the bytes written', async () => {
    const store = await Store.open({ dir: tempDir(), memtableMaxBytes: 1 << 20, maxImmutable: 4 });
    try {
      await flushKeys(store, ['a1', 'a2', 'a3']);
      const long = `m${'x'.repeat(100)}`;
      await flushKeys(store, [long, 'z9']);
      store.put('q', '"in the active MemTable"');
      store.freezeActive();
      store.put('r', '"active"');

      const summary = summarizeLsm(store, 'writing', null);
      expect(summary.levels.map((level) => level.level)).toEqual([0, 1, 2, 3, 4, 5, 6]);
      expect(summary.levels).toHaveLength(LEVEL_COUNT);
      const [second, first] = summary.levels[0].files;
      expect(first).toMatchObject({ file: 'L0_000001.sst', smallest: 'a1', largest: 'a3', entries: 3 });
      expect(second).toMatchObject({ smallest: `${long.slice(0, KEY_PREVIEW_CHARS)}…`, largest: 'z9', entries: 2 });
      expect(summary.levels[0].bytes).toBe(first.sizeBytes + second.sizeBytes);
      expect(summary.levels.slice(1).every((level) => level.files.length === 0)).toBe(true);
      expect(summary.l0.files).toBe(2);
      expect(summary.active.entries).toBe(1);
      expect(summary.frozen).toEqual([{ bytes: expect.any(Number), entries: 1 }]);
      expect(summary.flush).toEqual({ bytes: summary.frozen[0].bytes, entries: 1, retrying: false });
      expect(summary.compaction).toBeNull();
      expect(summary.counters.flushedBytes).toBe(summary.levels[0].bytes);
      expect(summary.counters.userBytes).toBeGreaterThan(5 * 50);
      // MemTable contents never travel.
      expect(JSON.stringify(summary)).not.toContain('in the active MemTable');
      expect(summarizeLsm(store, 'idle', null).flush).toBeNull();
    } finally {
      store.close();
    }
  });
});
