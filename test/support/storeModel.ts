/** The plain model Store property tests check against: a Map, read in code point order. */
import { expect } from 'vitest';
import { compareKeys, toSortKey } from '../../src/storage/keyOrder.js';
import type { ScanRange, ScanResult, Store } from '../../src/storage/store.js';
import { NUM_LEVELS } from '../../src/storage/version/fileMetadata.js';

/** What Store.scan must answer for `range` when the store holds `model`. */
export function modelScan(model: Map<string, string>, { start, end, limit }: ScanRange): ScanResult {
  const keys = [...model.keys()].filter((key) => (start === undefined || compareKeys(key, start) >= 0) && (end === undefined || compareKeys(key, end) < 0)).sort(compareKeys);
  const cut = limit !== undefined && keys.length > limit;
  const shown = cut ? keys.slice(0, limit) : keys;
  return { entries: shown.map((key) => ({ key, value: model.get(key)! })), ...(cut ? { nextStart: keys[limit!] } : {}) };
}

export type WriteOp = { kind: 'put'; key: string; value: string } | { kind: 'delete'; key: string };

/** REQUIRES: !store.writesStalled. Applies a put or delete to the store and the model alike. */
export function applyWrite(store: Store, model: Map<string, string>, op: WriteOp): void {
  if (op.kind === 'put') {
    store.put(op.key, op.value);
    model.set(op.key, op.value);
  } else {
    store.delete(op.key);
    model.delete(op.key);
  }
}

/**
 * Expects store.lsmGet(key) to answer what `model` holds and to say truly
 * where it went: the level that answered holds the file it names, levels
 * checked as SPEC 2b counts them, and files checked at most every L0 file
 * whose range holds the key plus one file a deeper level.
 */
export function expectLsmGetAgrees(store: Store, model: Map<string, string>, key: string): void {
  const result = store.lsmGet(key);
  expect(result.found, `lsmGet ${key}`).toBe(model.has(key));
  expect(result.value, `lsmGet ${key}`).toBe(model.get(key) ?? null);
  const version = store.currentVersion;
  if (result.foundAt?.startsWith('L')) {
    const level = Number(result.foundAt.slice(1));
    expect(result.levelsChecked).toBe(level + 1);
    if (result.found) expect(version.levels[level].some((file) => file.name === result.sstableFile)).toBe(true);
  } else if (result.foundAt === null) {
    expect(result.levelsChecked).toBe(version.deepestNonEmptyLevel() + 1);
  } else {
    expect(result).toMatchObject({ levelsChecked: 0, filesChecked: 0 });
  }
  const sortKey = toSortKey(key);
  let candidates = version.levels[0].filter((file) => file.smallest <= sortKey && sortKey <= file.largest).length;
  for (let level = 1; level < NUM_LEVELS; level++) if (version.fileFor(level, sortKey) !== undefined) candidates++;
  expect(result.filesChecked, `lsmGet ${key}: files checked`).toBeLessThanOrEqual(candidates);
}
