import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { OutputSink } from '../../src/protocol/outputSink.js';

/** A Writable that records each write call and completes it only when told to (or at once). */
class RecordingWritable extends Writable {
  readonly writes: string[] = [];
  readonly #pending: Array<() => void> = [];

  constructor(
    highWaterMark: number,
    private readonly completeAtOnce: boolean,
  ) {
    super({ highWaterMark, decodeStrings: false });
  }

  override _write(chunk: string | Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.writes.push(chunk.toString());
    if (this.completeAtOnce) callback();
    else this.#pending.push(() => callback());
  }

  /** Completes every write held so far. */
  release(): void {
    while (this.#pending.length > 0) this.#pending.shift()!();
  }
}

/** A stream whose every write fails later, like a pipe whose reader went away. */
class BrokenPipe extends Writable {
  writesSeen = 0;
  override _write(_chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.writesSeen++;
    setImmediate(() => callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })));
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('OutputSink', () => {
  it('writes a batch of lines as one write ending with a newline', () => {
    const stream = new RecordingWritable(1 << 20, true);
    const sink = new OutputSink(stream);
    sink.writeBatch('{"a":1}\n{"b":2}\n{"c":3}\n');
    sink.writeBatch('{"d":4}\n');
    sink.writeBatch('');
    expect(stream.writes).toEqual(['{"a":1}\n{"b":2}\n{"c":3}\n', '{"d":4}\n']);
  });

  it('reports backpressure and resolves drained() once the stream drains', async () => {
    const stream = new RecordingWritable(16, false);
    const sink = new OutputSink(stream);
    expect(sink.needsDrain).toBe(false);
    await sink.drained(); // immediate while not needed

    sink.writeBatch('x'.repeat(40) + '\n');
    expect(sink.needsDrain).toBe(true);
    let drained = 0;
    const waiters = [sink.drained().then(() => drained++), sink.drained().then(() => drained++)];
    await tick();
    expect(drained).toBe(0);
    expect(stream.listenerCount('drain')).toBe(1); // waiters share the sink's one listener

    stream.release();
    await Promise.all(waiters);
    expect(drained).toBe(2);
    expect(sink.needsDrain).toBe(false);
  });

  it('flush() resolves after earlier writes completed', async () => {
    const stream = new RecordingWritable(1 << 20, false);
    const sink = new OutputSink(stream);
    sink.writeBatch('one\n');
    let flushed = false;
    const flush = sink.flush().then(() => (flushed = true));
    await tick();
    expect(flushed).toBe(false);
    stream.release();
    await tick();
    stream.release(); // the empty write queued behind 'one'
    await flush;
    expect(flushed).toBe(true);
  });

  it('survives an EPIPE-like error: no throw, later writes dropped, waits resolve', async () => {
    const stream = new BrokenPipe({ highWaterMark: 4 });
    const sink = new OutputSink(stream);
    sink.writeBatch('a long line that fills the buffer\n');
    expect(sink.needsDrain).toBe(true);
    const drained = sink.drained();
    const flushed = sink.flush();
    await Promise.all([drained, flushed]);
    await tick();
    expect(stream.writesSeen).toBe(1);
    expect(() => sink.writeBatch('after the error\n')).not.toThrow();
    expect(sink.needsDrain).toBe(false);
    await sink.drained();
    await sink.flush();
    await tick();
    expect(stream.writesSeen).toBe(1);
  });

  it('does not hang or throw on a destroyed stream', async () => {
    const stream = new PassThrough();
    const sink = new OutputSink(stream);
    stream.destroy();
    expect(() => sink.writeBatch('x\n')).not.toThrow();
    await sink.flush();
    await sink.drained();
  });

  it('keeps the process alive through an error emitted with no other listener', async () => {
    const stream = new PassThrough();
    new OutputSink(stream);
    expect(() => stream.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))).not.toThrow();
  });
});
