/**
 * The one writer of stdout: every protocol line leaves through here.
 *
 * Invariants:
 *  1. Each `writeBatch` call is ONE `write` of whole lines (each ending in
 *     '\n'), so a batch is never interleaved with other output and every
 *     message ends with a newline (Maelstrom frames by line).
 *  2. A stream error (EPIPE when the reader went away, ...) never throws and
 *     never crashes the process: the sink marks itself broken, drops later
 *     writes, and every pending or later `drained()`/`flush()` resolves.
 *  3. Backpressure is the caller's to honour: `needsDrain` says the buffer
 *     is above its high-water mark, `drained()` waits for it to empty.
 */

type SinkStream = NodeJS.WritableStream & { writableNeedDrain?: boolean; destroyed?: boolean };

export class OutputSink {
  readonly #stream: SinkStream;
  #broken = false;
  /** Our own view of backpressure, for streams without `writableNeedDrain`. */
  #lastWriteFull = false;
  /** Shared by all callers waiting for 'drain', so waiters add no listeners. */
  #drainWaiter: Promise<void> | null = null;
  #settleDrainWaiter: (() => void) | null = null;

  constructor(stream: NodeJS.WritableStream & { writableNeedDrain?: boolean }) {
    this.#stream = stream;
    stream.on('error', () => this.#markBroken());
    stream.on('close', () => this.#markBroken());
    stream.on('drain', () => {
      this.#lastWriteFull = false;
      this.#settleDrain();
    });
  }

  /** Writes `text`, whole lines each ending in '\n', as ONE write call. No-op for ''. */
  writeBatch(text: string): void {
    if (text === '' || this.#unusable()) return;
    try {
      this.#lastWriteFull = !this.#stream.write(text);
    } catch {
      // Some streams throw synchronously once destroyed (ERR_STREAM_DESTROYED).
      this.#markBroken();
    }
  }

  /** True while the stream's buffer is above its high-water mark (false once broken). */
  get needsDrain(): boolean {
    if (this.#broken) return false;
    return this.#stream.writableNeedDrain ?? this.#lastWriteFull;
  }

  /** Resolves once the stream has drained (immediately if it does not need to); also resolves if the stream errors or closes. */
  drained(): Promise<void> {
    if (!this.needsDrain) return Promise.resolve();
    if (this.#drainWaiter === null) {
      this.#drainWaiter = new Promise<void>((resolve) => {
        this.#settleDrainWaiter = resolve;
      });
    }
    return this.#drainWaiter;
  }

  /** Resolves when everything written so far has been handed to the OS (write('', cb)), or the stream errored. */
  flush(): Promise<void> {
    if (this.#unusable()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const onError = (): void => settle();
      const settle = (): void => {
        this.#stream.removeListener('error', onError);
        this.#stream.removeListener('close', onError);
        resolve();
      };
      this.#stream.once('error', onError);
      this.#stream.once('close', onError);
      try {
        this.#stream.write('', () => settle());
      } catch {
        this.#markBroken();
        settle();
      }
    });
  }

  #unusable(): boolean {
    if (!this.#broken && this.#stream.destroyed === true) this.#markBroken();
    return this.#broken;
  }

  #markBroken(): void {
    this.#broken = true;
    this.#settleDrain();
  }

  #settleDrain(): void {
    const settle = this.#settleDrainWaiter;
    this.#drainWaiter = null;
    this.#settleDrainWaiter = null;
    settle?.();
  }
}
