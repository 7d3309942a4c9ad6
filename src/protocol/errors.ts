/**
 * Maelstrom error codes and the one mapping from thrown values to them.
 *
 * Always holds: whatever a request handler throws, `toMaelstromError` turns it
 * into a MaelstromError whose code is in the Maelstrom table, so every request
 * gets an error reply and no failure escapes as a crash of the node. Storage
 * errors carry stable string codes; this file is where they meet Maelstrom's
 * numbers (storage itself knows nothing of Maelstrom).
 */

/** Maelstrom's error codes (jepsen-io/maelstrom doc/protocol.md). Wire values: do not change. */
export const ErrorCode = {
  Timeout: 0,
  NotSupported: 10,
  TemporarilyUnavailable: 11,
  MalformedRequest: 12,
  Crash: 13,
  KeyDoesNotExist: 20,
  KeyAlreadyExists: 21,
  PreconditionFailed: 22,
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** An error that becomes `{type: "error", code, text}` on the wire. */
export class MaelstromError extends Error {
  readonly code: ErrorCodeValue;

  constructor(code: ErrorCodeValue, text: string, options?: { cause?: unknown }) {
    super(text, options);
    this.name = 'MaelstromError';
    this.code = code;
  }
}

/** String error codes from lower layers (by value, not by import) and the Maelstrom code each maps to. */
const CODE_BY_STRING_CODE: ReadonlyMap<string, ErrorCodeValue> = new Map<string, ErrorCodeValue>([
  ['STORAGE_UNKNOWN_SSTABLE', ErrorCode.KeyDoesNotExist],
  ['STORAGE_CORRUPTION', ErrorCode.Crash],
  ['STORAGE_IO', ErrorCode.Crash],
  // Definite (nothing was opened) and retryable once the holder exits.
  ['STORAGE_LOCKED', ErrorCode.TemporarilyUnavailable],
]);

/**
 * Maps any thrown value to a MaelstromError: a MaelstromError as is; an error
 * whose string `code` is in the table to that code with its message; anything
 * else to 13 crash (indefinite: the operation may have happened). The
 * original is kept as `cause`.
 */
export function toMaelstromError(error: unknown): MaelstromError {
  if (error instanceof MaelstromError) return error;
  const stringCode = codeOf(error);
  const mapped = stringCode === undefined ? undefined : CODE_BY_STRING_CODE.get(stringCode);
  if (mapped !== undefined) return new MaelstromError(mapped, messageOf(error), { cause: error });
  return new MaelstromError(ErrorCode.Crash, `internal error: ${messageOf(error)}`, { cause: error });
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null) {
    const message = (error as { message?: unknown }).message;
    if (typeof message === 'string') return message;
  }
  try {
    return String(error);
  } catch {
    return 'unprintable error';
  }
}
