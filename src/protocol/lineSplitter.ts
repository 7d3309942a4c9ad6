/**
 * Splits a byte stream into text lines, with a hard bound on what it holds.
 *
 * Invariants:
 *  1. The partial line carried between chunks never exceeds `maxLineBytes`
 *     bytes: once it would, it is dropped and the splitter discards bytes up
 *     to the next newline. So memory stays bounded whatever the input.
 *  2. Lines are cut on raw bytes (0x0A) before decoding, so a multi-byte
 *     UTF-8 character split across chunks decodes whole.
 *  3. Carried bytes are copies: the caller may reuse a chunk after `push`.
 *
 * A line's length is the bytes before its `\n` (a trailing `\r` included).
 * Empty and whitespace-only lines are skipped; a trailing `\r` is removed.
 */
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

export class LineSplitter {
  #oversized = 0;
  /** Copies of the bytes of the current partial line, in order. */
  #carried: Buffer[] = [];
  #carriedBytes = 0;
  /** True while skipping the rest of an over-long line (until its newline). */
  #discarding = false;

  /** Requires maxLineBytes >= 1. */
  constructor(private readonly maxLineBytes: number) {
    if (!(maxLineBytes >= 1)) throw new RangeError(`maxLineBytes must be >= 1, got ${maxLineBytes}`);
  }

  /** Lines dropped for length so far (the caller logs). */
  get oversized(): number {
    return this.#oversized;
  }

  /** Bytes of the partial line held right now (for tests and metrics); never above maxLineBytes. */
  get carriedBytes(): number {
    return this.#carriedBytes;
  }

  /** Returns the complete, non-blank lines that `chunk` finishes, in order. */
  push(chunk: Buffer): string[] {
    const lastNewline = chunk.lastIndexOf(NEWLINE);
    // Fast path: no line this chunk completes can be over the limit, so decode
    // everything up to the last newline at once and split it natively.
    if (lastNewline !== -1 && !this.#discarding && this.#carriedBytes + chunk.length <= this.maxLineBytes) {
      const lines: string[] = [];
      // The carried part of a line may end inside a UTF-8 sequence: decode it with the rest of its line.
      const firstNewline = this.#carriedBytes === 0 ? -1 : chunk.indexOf(NEWLINE);
      if (firstNewline !== -1) this.#emit(lines, this.#decode(chunk, 0, firstNewline));
      if (firstNewline < lastNewline) {
        for (const text of chunk.toString('utf8', firstNewline + 1, lastNewline).split('\n')) this.#emit(lines, text);
      }
      this.#carry(chunk, lastNewline + 1);
      return lines;
    }
    const lines: string[] = [];
    let from = 0;
    for (;;) {
      const newline = chunk.indexOf(NEWLINE, from);
      if (newline === -1) break;
      if (this.#discarding) {
        this.#discarding = false; // this newline ends the over-long line
      } else if (this.#carriedBytes + (newline - from) > this.maxLineBytes) {
        this.#dropCarried();
      } else {
        this.#emit(lines, this.#decode(chunk, from, newline));
      }
      from = newline + 1;
    }
    this.#carry(chunk, from);
    return lines;
  }

  /** Input ended: returns the last line if it had no newline, and resets. */
  end(): string[] {
    const lines: string[] = [];
    if (!this.#discarding && this.#carriedBytes > 0) {
      this.#emit(lines, Buffer.concat(this.#carried, this.#carriedBytes).toString('utf8'));
    }
    this.#carried = [];
    this.#carriedBytes = 0;
    this.#discarding = false;
    return lines;
  }

  /** Keeps chunk[from..] as part of the partial line, or starts discarding if that would pass the limit. */
  #carry(chunk: Buffer, from: number): void {
    const rest = chunk.length - from;
    if (rest === 0 || this.#discarding) return;
    if (this.#carriedBytes + rest > this.maxLineBytes) {
      this.#dropCarried();
      this.#discarding = true;
      return;
    }
    const copy = Buffer.allocUnsafe(rest);
    chunk.copy(copy, 0, from);
    this.#carried.push(copy);
    this.#carriedBytes += rest;
  }

  #dropCarried(): void {
    this.#oversized++;
    this.#carried = [];
    this.#carriedBytes = 0;
  }

  /** Decodes the carried bytes followed by chunk[from..end) and clears the carry. */
  #decode(chunk: Buffer, from: number, end: number): string {
    if (this.#carriedBytes === 0) return chunk.toString('utf8', from, end);
    this.#carried.push(chunk.subarray(from, end));
    const text = Buffer.concat(this.#carried, this.#carriedBytes + (end - from)).toString('utf8');
    this.#carried = [];
    this.#carriedBytes = 0;
    return text;
  }

  #emit(lines: string[], text: string): void {
    const line = text.charCodeAt(text.length - 1) === CARRIAGE_RETURN ? text.slice(0, -1) : text;
    if (!isBlank(line)) lines.push(line);
  }
}

/** True iff the line holds only JSON whitespace (space, tab, CR, LF) or nothing. */
function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) return false;
  }
  return true;
}
