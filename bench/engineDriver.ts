/**
 * Drives a Store the way the node does, without the node: writes in group
 * commits, background work started after each and awaited only when writes
 * stall. The engine bench (engineChild.ts) drives our Store through it.
 *
 * BackgroundWork is the one place that knows what background work a store
 * has: flushes of frozen MemTables and the compactions LevelDB's score asks
 * for (run on the store's compaction runner: the engine bench gives it a
 * worker thread, as the CLI does), each in a loop of its own as the node
 * runs them. The stall condition in StoreDriver.putBatch is the Store's own
 * (a full frozen queue, or L0 at its stop trigger), so every figure that
 * runs through this driver includes them.
 */
import { SLOWDOWN_DELAY_MS } from '../src/actors/nodeMachine.js';
import type { Store } from '../src/storage/store.js';

/**
 * The store's background work, as the node's machine runs it: a flush loop
 * and a compaction loop, side by side (the machine's `flush` and
 * `compaction` regions), so a flush never waits behind a compaction (nor
 * does LevelDB's: its compaction flushes the immutable MemTable mid-merge).
 * `changed` resolves whenever either loop finishes a job, which is when a
 * stall can end.
 */
export class BackgroundWork {
  private flushing: Promise<void> | null = null;
  private compacting: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private failure: unknown = undefined;

  constructor(private readonly store: Store) {}

  /** Starts whichever loop has work and is not running. */
  kick(): void {
    if (this.flushing === null && this.store.frozenCount > 0) {
      this.flushing = this.run(() => this.flushAll()).finally(() => {
        this.flushing = null;
      });
    }
    if (this.compacting === null && this.store.compactionDue()) {
      this.compacting = this.run(() => this.compactAll()).finally(() => {
        this.compacting = null;
      });
    }
  }

  /** Resolves once some job finished (or at once if nothing runs); rejects with a loop's failure. */
  async changed(): Promise<void> {
    this.throwFailure();
    if (this.flushing === null && this.compacting === null) return;
    await new Promise<void>((resolve) => {
      this.wake = resolve;
    });
    this.throwFailure();
  }

  /** Resolves once neither loop has anything left to do. */
  async quiesce(): Promise<void> {
    for (;;) {
      this.kick();
      if (this.flushing === null && this.compacting === null) return this.throwFailure();
      await Promise.all([this.flushing, this.compacting]);
      this.throwFailure();
    }
  }

  private async flushAll(): Promise<void> {
    while (this.store.frozenCount > 0) {
      this.store.installFlushed(await this.store.flushOldest());
      this.jobDone();
    }
  }

  private async compactAll(): Promise<void> {
    while (this.store.compactionDue()) {
      await this.store.compact(this.store.pickCompaction());
      this.jobDone();
    }
  }

  /** Wakes a stalled writer, and lets a flush start a compaction (and the reverse). */
  private jobDone(): void {
    this.wake?.();
    this.wake = null;
    queueMicrotask(() => this.kick());
  }

  private async run(loop: () => Promise<void>): Promise<void> {
    try {
      await loop();
    } catch (error) {
      this.failure ??= error;
      this.wake?.();
      this.wake = null;
    }
  }

  private throwFailure(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}

/** Group commits into one store, with its background work running meanwhile. */
export class StoreDriver {
  private readonly background: BackgroundWork;

  constructor(readonly store: Store) {
    this.background = new BackgroundWork(store);
  }

  /**
   * Puts keys[i] = values[i] for i in [from, to) and commits them to the
   * WAL (written; synced only if the store was opened with sync) as one
   * batch. Waits for background work only while writes stall, as the node
   * pauses stdin then.
   */
  async putBatch(keys: string[], values: string[], from: number, to: number, valueOffset = 0): Promise<void> {
    const n = values.length;
    // L0 at its slowdown trigger: the group waits a moment first, as the node's `writes` region (and LevelDB's MakeRoomForWrite) does.
    if (this.store.writesSlowed) await new Promise<void>((resolve) => setTimeout(resolve, SLOWDOWN_DELAY_MS));
    for (let i = from; i < to; i++) {
      while (this.store.writesStalled) {
        this.store.writeWal();
        this.background.kick();
        await this.background.changed();
      }
      this.store.put(keys[i], values[(i + valueOffset) % n]);
    }
    this.store.writeWal();
    this.background.kick();
    // Let the flush's I/O callbacks run between batches, as they do between the node's stdin chunks.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Resolves once the store has no background work left. */
  async quiesce(): Promise<void> {
    await this.background.quiesce();
  }
}
