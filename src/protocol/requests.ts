/**
 * Request validation: an Envelope's body becomes a typed Request or a
 * MaelstromError the caller sends back.
 *
 * Always holds for a returned Request: every key is a well-formed UTF-16
 * string (no lone surrogate; lin-kv keys may also be safe integers), every
 * value is the client's exact JSON text as RawJson, and `limit` is a positive
 * safe integer. An unknown type throws 10; any bad field throws 12 with the
 * field's name in the text. Fields a type does not use are ignored (Maelstrom
 * messages may carry extras).
 */
import type { Envelope } from './envelope.js';
import { ErrorCode, MaelstromError } from './errors.js';
import { RawJson, rawMember } from './rawJson.js';

export type Request =
  | { type: 'init'; nodeId: string; nodeIds: string[] }
  | { type: 'memtable_put'; key: string; value: RawJson }
  | { type: 'memtable_get'; key: string }
  | { type: 'memtable_delete'; key: string }
  | { type: 'memtable_scan'; start?: string; end?: string; limit?: number }
  | { type: 'memtable_stats' }
  | { type: 'sstable_flush' }
  | { type: 'sstable_lookup'; sstable: string; key: string }
  | { type: 'lsm_level_info'; files: boolean }
  | { type: 'lsm_read'; key: string }
  /** Both levels or neither: neither compacts the whole key range down (LevelDB's CompactRange(nullptr, nullptr)). */
  | { type: 'lsm_compact'; sourceLevel?: number; targetLevel?: number }
  | { type: 'lsm_compact_status' }
  | { type: 'read'; key: string | number }
  | { type: 'write'; key: string | number; value: RawJson }
  | { type: 'cas'; key: string | number; from: RawJson; to: RawJson; createIfNotExists: boolean };

type Body = Envelope['body'];

/** Validates the body; throws MaelstromError 10 for an unknown type, 12 for a malformed field, naming the field in the text. */
export function parseRequest(envelope: Envelope): Request {
  const { body } = envelope;
  if (body.msg_id !== undefined && body.msg_id < 0) throw malformed('msg_id must be a non-negative integer');
  switch (body.type) {
    case 'init':
      return { type: 'init', nodeId: requireNodeId(body), nodeIds: requireStringArray(body, 'node_ids') };
    case 'memtable_put':
      return { type: 'memtable_put', key: requireKey(body, 'key'), value: requireRaw(envelope, 'value') };
    case 'memtable_get':
      return { type: 'memtable_get', key: requireKey(body, 'key') };
    case 'memtable_delete':
      return { type: 'memtable_delete', key: requireKey(body, 'key') };
    case 'memtable_scan':
      return parseScan(body);
    case 'memtable_stats':
      return { type: 'memtable_stats' };
    case 'sstable_flush':
      return { type: 'sstable_flush' };
    case 'sstable_lookup':
      return { type: 'sstable_lookup', sstable: requireString(body, 'sstable'), key: requireKey(body, 'key') };
    case 'lsm_level_info':
      return { type: 'lsm_level_info', files: optionalBoolean(body, 'files') ?? false };
    case 'lsm_read':
      return { type: 'lsm_read', key: requireKey(body, 'key') };
    case 'lsm_compact':
      return parseCompact(body);
    case 'lsm_compact_status':
      return { type: 'lsm_compact_status' };
    case 'read':
      return { type: 'read', key: requireLinKvKey(body) };
    case 'write':
      return { type: 'write', key: requireLinKvKey(body), value: requireRaw(envelope, 'value') };
    case 'cas':
      return {
        type: 'cas',
        key: requireLinKvKey(body),
        from: requireRaw(envelope, 'from'),
        to: requireRaw(envelope, 'to'),
        createIfNotExists: optionalBoolean(body, 'create_if_not_exists') ?? false,
      };
    default:
      throw new MaelstromError(ErrorCode.NotSupported, `unsupported request type: ${JSON.stringify(body.type)}`);
  }
}

/** Scan bounds and limit are optional; `null` counts as absent (unbounded / no limit). */
function parseScan(body: Body): Request {
  const request: { type: 'memtable_scan'; start?: string; end?: string; limit?: number } = { type: 'memtable_scan' };
  if (body.start != null) request.start = requireKey(body, 'start');
  if (body.end != null) request.end = requireKey(body, 'end');
  if (body.limit != null) {
    const limit = body.limit;
    if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit <= 0) {
      throw malformed(`limit must be a positive integer, got ${describe(limit)}`);
    }
    request.limit = limit;
  }
  return request;
}

/** The deepest level: L0 to L6, as in LevelDB. */
const DEEPEST_LEVEL = 6;

/**
 * lsm_compact: a source level 0 to 5 and target = source + 1, or neither.
 * One without the other takes the missing one as its neighbour.
 */
function parseCompact(body: Body): Request {
  const source = optionalLevel(body, 'source_level', DEEPEST_LEVEL - 1);
  const target = optionalLevel(body, 'target_level', DEEPEST_LEVEL);
  if (source === undefined && target === undefined) return { type: 'lsm_compact' };
  const sourceLevel = source ?? target! - 1;
  const targetLevel = target ?? source! + 1;
  if (sourceLevel < 0) throw malformed('target_level 0 has no level above it to compact from');
  if (targetLevel !== sourceLevel + 1) {
    throw malformed(`target_level must be source_level + 1 (${sourceLevel + 1}), got ${targetLevel}`);
  }
  return { type: 'lsm_compact', sourceLevel, targetLevel };
}

/** An optional level number: an integer from 0 to `max`; `null` counts as absent. */
function optionalLevel(body: Body, field: string, max: number): number | undefined {
  const value = body[field];
  if (value == null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw malformed(`${field} must be an integer from 0 to ${max}, got ${describe(value)}`);
  }
  return value;
}

function malformed(text: string): MaelstromError {
  return new MaelstromError(ErrorCode.MalformedRequest, text);
}

function requireString(body: Body, field: string): string {
  const value = body[field];
  if (typeof value !== 'string') throw malformed(`${field} must be a string, got ${describe(value)}`);
  return value;
}

/** A store key: a string without lone surrogates (so it has a UTF-8 form and a code-point order). */
function requireKey(body: Body, field: string): string {
  const key = requireString(body, field);
  if (!isWellFormed(key)) throw malformed(`${field} contains a lone surrogate`);
  return key;
}

/** lin-kv keys: a well-formed string or a safe integer (Maelstrom's workload uses integers). */
function requireLinKvKey(body: Body): string | number {
  const key = body.key;
  if (typeof key === 'number') {
    if (!Number.isSafeInteger(key)) throw malformed(`key must be a string or an integer, got ${describe(key)}`);
    return key;
  }
  if (typeof key !== 'string') throw malformed(`key must be a string or an integer, got ${describe(key)}`);
  if (!isWellFormed(key)) throw malformed('key contains a lone surrogate');
  return key;
}

/** Node ids name the node's data folder, so they are plain names: never a path, never `.` or `..`. */
const NODE_ID = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,128}$/;

function requireNodeId(body: Body): string {
  const nodeId = requireString(body, 'node_id');
  if (!NODE_ID.test(nodeId)) {
    throw malformed(`node_id must be 1 to 128 letters, digits, '.', '_' or '-' (it names the node's folder), got ${describe(nodeId)}`);
  }
  return nodeId;
}

function requireStringArray(body: Body, field: string): string[] {
  const value = body[field];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw malformed(`${field} must be an array of strings, got ${describe(value)}`);
  }
  return value as string[];
}

function optionalBoolean(body: Body, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw malformed(`${field} must be a boolean, got ${describe(value)}`);
  return value;
}

/** The member's exact source text. Requires envelope.line to be the text the body was parsed from. */
function requireRaw(envelope: Envelope, field: string): RawJson {
  const value = envelope.body[field];
  // Presence is decided on the parsed body (cheap), the text by the scanner.
  if (value === undefined) throw malformed(`${field} is missing`);
  // A string, boolean or null written without a backslash has one JSON text,
  // and JSON.stringify writes exactly it: no need to find the source text.
  // (JSON.stringify escapes only what cannot appear raw in well-formed input.)
  if ((typeof value === 'string' || typeof value === 'boolean' || value === null) && !envelope.line.includes('\\')) {
    return new RawJson(JSON.stringify(value));
  }
  const text = rawMember(envelope.line, ['body', field]);
  if (text === undefined) throw malformed(`${field} is missing`);
  return new RawJson(detached(text));
}

/**
 * A copy of `text` that shares no memory with the line it was cut from: V8
 * keeps a slice's whole parent string alive (here, a stdin chunk), and values
 * live on in MemTables long after their line is gone.
 */
function detached(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

/** String.prototype.isWellFormed (Node 20+, ES2024; our lib setting is ES2023). */
function isWellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/** A short description of a bad value for error texts, bounded in size whatever the value. */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}...` : JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value);
}
