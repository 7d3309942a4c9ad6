import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TOMBSTONE, type EntryValue } from '../../../src/storage/iterator.js';
import { fromSortKey, toSortKey } from '../../../src/storage/keyOrder.js';
import { ENTRY_OVERHEAD_BYTES, MemTable } from '../../../src/storage/memtable/memTable.js';

const key = fc.oneof(fc.constantFrom('a', 'b', 'user:00000001', 'user:00000002', 'é', '😀'), fc.string({ maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 4 }));
const value = fc.oneof(fc.constant(TOMBSTONE), fc.json({ maxDepth: 1 }));

describe('MemTable', () => {
  it('answers every get, size and scan as a Map model does, through inserts, overwrites and tombstones', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(key, value), { maxLength: 200 }), fc.array(key, { maxLength: 20 }), (writes, probes) => {
        const table = new MemTable(1);
        const model = new Map<string, EntryValue>();
        for (const [k, v] of writes) {
          const sortKey = toSortKey(k);
          model.set(sortKey, v);
          const accounted = [...model].reduce((sum, [mk, mv]) => sum + Buffer.byteLength(fromSortKey(mk), 'utf8') + (mv === TOMBSTONE ? 0 : Buffer.byteLength(mv, 'utf8')) + ENTRY_OVERHEAD_BYTES, 0);
          expect(table.put(sortKey, v)).toBe(accounted);
        }
        for (const k of [...writes.map(([w]) => w), ...probes]) expect(table.get(toSortKey(k))).toBe(model.get(toSortKey(k)));
        expect(table.entries).toBe(model.size);
        const it = table.iterator();
        const seen: Array<[string, EntryValue]> = [];
        for (it.seekToFirst(); it.valid(); it.next()) seen.push([it.key(), it.value()]);
        expect(seen).toEqual([...model].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      }),
    );
  });

  it('charges a key and the overhead once, and the value it holds now', () => {
    const table = new MemTable(1);
    table.put('k', '"one"');
    expect(table.sizeBytes).toBe(1 + 5 + ENTRY_OVERHEAD_BYTES);
    table.put('k', '"three"');
    expect(table.sizeBytes).toBe(1 + 7 + ENTRY_OVERHEAD_BYTES);
    table.put('k', TOMBSTONE);
    expect(table.sizeBytes).toBe(1 + ENTRY_OVERHEAD_BYTES);
    expect(table.get('k')).toBe(TOMBSTONE);
    expect(table.get('j')).toBeUndefined();
  });
});
