/**
 * Long main-thread work in the storage layer (a flush's encoding, opening a
 * compaction's outputs) is cut into pieces with this between them, so a
 * request that arrives meanwhile waits for one piece, not for all of them.
 */

/** Resolves after the event loop's next turn: I/O callbacks (stdin) and timers due run first. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
