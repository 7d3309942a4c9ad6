/** The plain model Store property tests check against: a Map, read in code point order. */
import { compareKeys } from '../../src/storage/keyOrder.js';
import type { ScanRange, ScanResult, Store } from '../../src/storage/store.js';

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
