/**
 * Drives a Store the way the node does, without the node: writes in group
 * commits, background work started after each and awaited only when writes
 * stall. The engine bench (engineChild.ts) drives our Store through it.
 *
 * settle() is the one place that knows what background work a store has:
 * flushes of frozen MemTables and the compactions LevelDB's score asks for
 * (run on the store's compaction runner: the engine bench gives it a worker
 * thread, as the CLI does). The stall condition in StoreDriver.putBatch is
 * the Store's own (a full frozen queue, or L0 at its stop trigger), so every
 * figure that runs through this driver includes them.
 */
import type { Store } from '../src/storage/store.js';

/**
 * Does the store's background work, one job at a time, until none is left:
 * every frozen MemTable flushed and installed, oldest first, then each
 * compaction due, flushing again between compactions so a flush never waits
 * behind more than one. REQUIRES: no other settle() on this store in flight
 * (StoreDriver guarantees it).
 */
export async function settle(store: Store): Promise<void> {
  for (;;) {
    while (store.frozenCount > 0) store.installFlushed(await store.flushOldest());
    if (!store.compactionDue()) return;
    await store.compact(store.pickCompaction());
  }
}

/** Group commits into one store, with settle() running in the background meanwhile. */
export class StoreDriver {
  private background: Promise<void> | null = null;

  constructor(readonly store: Store) {}

  /**
   * Puts keys[i] = values[i] for i in [from, to) and commits them to the
   * WAL (written; synced only if the store was opened with sync) as one
   * batch. Waits for the background work whenever writes stall, as the node
   * pauses stdin then.
   */
  async putBatch(keys: string[], values: string[], from: number, to: number, valueOffset = 0): Promise<void> {
    const n = values.length;
    for (let i = from; i < to; i++) {
      while (this.store.writesStalled) {
        this.store.writeWal();
        await this.startBackground();
      }
      this.store.put(keys[i], values[(i + valueOffset) % n]);
    }
    this.store.writeWal();
    if (this.store.frozenCount > 0 || this.store.compactionDue()) void this.startBackground();
    // Let the flush's I/O callbacks run between batches, as they do between the node's stdin chunks.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Resolves once the store has no background work left. */
  async quiesce(): Promise<void> {
    await this.startBackground();
  }

  /** The running settle(), or a new one; a failure rejects whoever awaits it. */
  private startBackground(): Promise<void> {
    this.background ??= settle(this.store).finally(() => {
      this.background = null;
    });
    return this.background;
  }
}
