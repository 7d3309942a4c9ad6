/**
 * The first check on a line: is it a Maelstrom message we could answer?
 *
 * Always holds for a returned Envelope: `src` and `dest` are strings, `body`
 * is a plain object with a string `type`, and `body.msg_id` is absent or a
 * safe integer that a reply can echo as `in_reply_to`. Everything else about
 * the body is checked later by `parseRequest`, which can answer 10 or 12.
 *
 * The rule for what is malformed here: if we can reply sensibly, the line is
 * kept and the reply says 12; if we cannot, it is `{malformed}` and the caller
 * logs it at warn and skips it. So:
 *  - not JSON, not an object, `src`/`dest` not strings, `body` not an object,
 *    `body.type` not a string: nobody or nothing to answer → malformed.
 *  - `msg_id` present but not an integer (a string, 1.5, 1e300, null, ...):
 *    a reply could not carry an `in_reply_to` the sender would match, and an
 *    error without one looks to Maelstrom like an unsolicited message →
 *    malformed.
 *  - `msg_id` a negative safe integer: echoable, so it is kept and
 *    parseRequest answers 12 ("msg_id must be a non-negative integer").
 */

export interface Envelope {
  src: string;
  dest: string;
  body: { type: string; msg_id?: number; [k: string]: unknown };
  /** The raw line, for raw-value extraction and debug logs. */
  line: string;
}

/** Parses one line into an Envelope, or says in `malformed` why nobody can be answered. */
export function parseEnvelope(line: string): Envelope | { malformed: string } {
  let message: unknown;
  try {
    message = JSON.parse(line);
  } catch (error) {
    return { malformed: `not JSON: ${(error as Error).message}` };
  }
  if (!isPlainObject(message)) return { malformed: 'message is not a JSON object' };
  const { src, dest, body } = message;
  if (typeof src !== 'string') return { malformed: 'src is missing or not a string' };
  if (typeof dest !== 'string') return { malformed: 'dest is missing or not a string' };
  if (!isPlainObject(body)) return { malformed: 'body is missing or not an object' };
  if (typeof body.type !== 'string') return { malformed: 'body.type is missing or not a string' };
  if (body.msg_id !== undefined && !Number.isSafeInteger(body.msg_id)) {
    return { malformed: 'body.msg_id is not an integer, so no reply could name it' };
  }
  return { src, dest, body: body as Envelope['body'], line };
}

/** True iff the value is a JSON object (not null, not an array). */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
