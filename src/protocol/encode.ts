/**
 * Encoding of outgoing messages: one JSON line per message, values spliced.
 *
 * Always holds: `encodeMessage(src, dest, body)` is byte-for-byte
 * `JSON.stringify({src, dest, body})`, except that each RawJson anywhere in
 * the body (nested in arrays and objects too) appears as its exact text. So a
 * value leaves the node exactly as the client wrote it.
 *
 * Why hand-written: Node 20 has no JSON.rawJSON, and a JSON.stringify replacer
 * with placeholder substitution measured slower than this walk, which hands
 * every leaf (string, number, ...) to JSON.stringify and only joins the
 * punctuation itself. See test/protocol/encode.test.ts for the equivalence
 * property.
 */
import type { MaelstromError } from './errors.js';
import { RawJson } from './rawJson.js';

/** One JSON line WITHOUT the trailing newline. Throws (as JSON.stringify does) on a BigInt or a cycle. */
export function encodeMessage(src: string, dest: string, body: Record<string, unknown>): string {
  const encodedBody = encodeValue(body, 'body', []);
  return `{"src":${JSON.stringify(src)},"dest":${JSON.stringify(dest)},"body":${encodedBody ?? 'null'}}`;
}

/**
 * A reply body already encoded: its members' JSON text, type first, without
 * braces. The hot replies (writes' and gets') are built this way by
 * writeReplyBody and getReplyBody, so encodeReply splices one string
 * instead of walking an object: ~0.5 µs and ~500 bytes of garbage less a
 * reply.
 */
export class EncodedBody {
  constructor(
    /** The body's `type`, for logs. */
    readonly type: string,
    /** `"type":…,…`: JSON members, no braces, no trailing comma. */
    readonly members: string,
  ) {}
}

/** The body `{type, size_bytes, frozen?}` of a memtable_put_ok or memtable_delete_ok, encoded: frozen appears only when true. */
export function writeReplyBody(type: 'memtable_put_ok' | 'memtable_delete_ok', sizeBytes: number, frozen: boolean): EncodedBody {
  const members = `"type":"${type}","size_bytes":${encodeNumber(sizeBytes)}`;
  return new EncodedBody(type, frozen ? `${members},"frozen":true` : members);
}

/**
 * The body `{type: 'memtable_get_ok', value, found, source, sstable_file?, deleted_in?}`, encoded:
 * `value` is JSON text spliced as written; the optional members appear only when given.
 */
export function getReplyBody(value: string, found: boolean, source: string, sstableFile?: string, deletedIn?: string): EncodedBody {
  let members = `"type":"memtable_get_ok","value":${value},"found":${found ? 'true' : 'false'},"source":${quoted(source)}`;
  if (sstableFile !== undefined) members += `,"sstable_file":${quoted(sstableFile)}`;
  if (deletedIn !== undefined) members += `,"deleted_in":${quoted(deletedIn)}`;
  return new EncodedBody('memtable_get_ok', members);
}

/** A number's JSON text, as JSON.stringify writes it. */
function encodeNumber(n: number): string {
  return Number.isFinite(n) ? `${n}` : 'null';
}

/**
 * A reply line: the same text as encodeMessage(src, dest, {...body, msg_id,
 * in_reply_to}) (in_reply_to left out when undefined), built without copying
 * the body. The hot path: one call per reply.
 * REQUIRES: body's member names need no JSON escaping (our replies' fixed,
 * ASCII names) and none is msg_id or in_reply_to.
 */
export function encodeReply(src: string, dest: string, body: Record<string, unknown> | EncodedBody, msgId: number, inReplyTo: number | undefined): string {
  const head = replyHead(src, dest);
  const members = body instanceof EncodedBody ? body.members + ',' : encodeMembers(body);
  return inReplyTo === undefined ? `${head}${members}"msg_id":${msgId}}}` : `${head}${members}"msg_id":${msgId},"in_reply_to":${inReplyTo}}}`;
}

/** An object body's members, each followed by a comma (see encodeReply's REQUIRES). */
function encodeMembers(body: Record<string, unknown>): string {
  let text = '';
  for (const key in body) {
    const value = body[key];
    // The common leaves directly: reply types and sources are a few constant strings, quoted once.
    const member =
      typeof value === 'string' ? quoted(value)
      : typeof value === 'boolean' ? (value ? 'true' : 'false')
      : value instanceof RawJson ? value.text
      : encodeValue(value, key, []);
    if (member !== undefined) text += '"' + key + '":' + member + ',';
  }
  return text;
}

/** JSON text of ids and reply constants: a few distinct strings, quoted millions of times. */
const quotedIds = new Map<string, string>();

/** `{"src":…,"dest":…,"body":{` per sending node, per client: a node answers few clients, many times each. */
const replyHeads = new Map<string, Map<string, string>>();

function replyHead(src: string, dest: string): string {
  let heads = replyHeads.get(src);
  if (heads === undefined) {
    if (replyHeads.size >= 1024) replyHeads.clear();
    heads = new Map();
    replyHeads.set(src, heads);
  }
  let head = heads.get(dest);
  if (head === undefined) {
    head = '{"src":' + JSON.stringify(src) + ',"dest":' + JSON.stringify(dest) + ',"body":{';
    if (heads.size >= 4096) heads.clear();
    heads.set(dest, head);
  }
  return head;
}

/**
 * `[{"key":…,"value":…},…]` for scan results: keys JSON-quoted, values
 * spliced as they were written. The generic walk (encodeValue) would visit
 * every entry object and its members; a scan reply is one string built here.
 */
export function encodeEntries(entries: ReadonlyArray<{ key: string; value: string }>): RawJson {
  let text = '[';
  for (let i = 0; i < entries.length; i++) {
    const { key, value } = entries[i];
    text += (i === 0 ? '{"key":' : ',{"key":') + JSON.stringify(key) + ',"value":' + value + '}';
  }
  return new RawJson(text + ']');
}

function quoted(id: string): string {
  let text = quotedIds.get(id);
  if (text === undefined) {
    text = JSON.stringify(id);
    // Long or one-off strings (error texts, scan keys) are not worth keeping.
    if (id.length > 64) return text;
    if (quotedIds.size >= 4096) quotedIds.clear();
    quotedIds.set(id, text);
  }
  return text;
}

/** The Maelstrom error body for an error (the caller adds msg_id and in_reply_to). */
export function errorBody(error: MaelstromError): { type: 'error'; code: number; text: string } {
  return { type: 'error', code: error.code, text: error.message };
}

/**
 * JSON text of `value` as JSON.stringify would write it (as the member or
 * element named `key`), or undefined where JSON.stringify omits it
 * (undefined, functions, symbols). `ancestors` detects cycles.
 */
function encodeValue(value: unknown, key: string, ancestors: object[]): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return JSON.stringify(value);
    case 'object':
      if (value === null) return 'null';
      break;
    default:
      return JSON.stringify(value); // undefined, function, symbol → undefined; bigint throws
  }
  if (value instanceof RawJson) return value.text;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return encodeValue(toJSON.call(value, key), key, ancestors);
  if (value instanceof Number || value instanceof String || value instanceof Boolean) return JSON.stringify(value);
  if (ancestors.includes(value)) throw new TypeError('Converting circular structure to JSON');
  ancestors.push(value);
  const text = Array.isArray(value) ? encodeArray(value, ancestors) : encodeObject(value as Record<string, unknown>, ancestors);
  ancestors.pop();
  return text;
}

function encodeArray(array: readonly unknown[], ancestors: object[]): string {
  let text = '[';
  for (let i = 0; i < array.length; i++) {
    if (i > 0) text += ',';
    text += encodeValue(array[i], String(i), ancestors) ?? 'null';
  }
  return text + ']';
}

function encodeObject(object: Record<string, unknown>, ancestors: object[]): string {
  let text = '{';
  let first = true;
  for (const key of Object.keys(object)) {
    const member = encodeValue(object[key], key, ancestors);
    if (member === undefined) continue;
    text += first ? '' : ',';
    text += quoted(key) + ':' + member;
    first = false;
  }
  return text + '}';
}
