/**
 * Deterministic workloads shared by every benchmark: the keys, values and
 * Maelstrom messages are a pure function of a seed, so each structure (and
 * each run) sees exactly the same data.
 *
 * Keys are `user:` + 8 hex digits, values a JSON string of a fixed byte
 * length. Both are built with String.fromCharCode so they are flat
 * sequential strings, as JSON.parse produces them on the real request path;
 * `'user:' + hex` would make a 13-character ConsString, which V8 flattens
 * (and reallocates) on first comparison, blurring both time and memory.
 */

import { fmix32 } from '../src/storage/sstable/bloomFilter.js';

/** mulberry32: a tiny, fast, seedable PRNG; quality is ample for shuffling test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HEX = [...'0123456789abcdef'].map((c) => c.charCodeAt(0));
const PREFIX = [...'user:'].map((c) => c.charCodeAt(0));
/** Value payload alphabet: JSON-safe, no escapes, so the text length is the byte length. */
const ALPHABET = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'].map((c) => c.charCodeAt(0));

const keyCodes = [...PREFIX, 0, 0, 0, 0, 0, 0, 0, 0];

/** `user:` + the 8 hex digits of a 32-bit id, as a fresh flat string. */
export function keyOf(id: number): string {
  for (let i = 0; i < 8; i++) keyCodes[PREFIX.length + i] = HEX[(id >>> (28 - 4 * i)) & 15];
  return String.fromCharCode.apply(null, keyCodes);
}

/** A JSON string literal of exactly `bytes` bytes (quotes included): what a MemTable stores as a value. */
export function valueOf(random: () => number, bytes: number): string {
  const codes = new Array<number>(bytes);
  codes[0] = codes[bytes - 1] = 0x22; // '"'
  let bits = 0;
  for (let i = 1; i < bytes - 1; i++) {
    // Five 6-bit letters per draw: value generation is most of the setup time at 1M entries.
    if ((i - 1) % 5 === 0) bits = (random() * 1073741824) >>> 0;
    codes[i] = ALPHABET[bits & 63];
    bits >>>= 6;
  }
  return String.fromCharCode.apply(null, codes);
}

/**
 * `n` distinct random-looking 32-bit ids: fmix32 of n consecutive integers
 * from a seed-chosen start. A bijection needs no Set to stay distinct.
 */
export function distinctIds(n: number, random: () => number): Uint32Array {
  const start = (random() * 4294967296) >>> 0;
  const ids = new Uint32Array(n);
  for (let i = 0; i < n; i++) ids[i] = fmix32((start + i) >>> 0);
  return ids;
}

/** Fisher–Yates shuffle of 0..n-1. */
export function permutation(n: number, random: () => number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = (random() * (i + 1)) | 0;
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

export const MEMTABLE_VALUE_BYTES = 40;
export const SCAN_LENGTH = 100;

/** What the MemTable benchmark feeds every structure. */
export interface MemTableWorkload {
  /** Insertion order: random. */
  keys: string[];
  values: string[];
  /**
   * Up to `lookups` inserted keys, each once, in another random order, as separate string objects
   * equal to the inserted ones: a real get carries a key just parsed from a
   * request, never the very string stored, so no identity shortcut applies.
   */
  lookups: string[];
  /**
   * Scan starts: absent keys (an existing key + '!', which sorts before its
   * successor), chosen among all but the last SCAN_LENGTH + 1 keys so every
   * scan really visits SCAN_LENGTH entries.
   */
  scanStarts: string[];
}

export function memTableWorkload(n: number, lookupCount: number, scans: number, seed: number): MemTableWorkload {
  const random = rng(seed);
  const ids = distinctIds(n, random);
  const keys = new Array<string>(n);
  const values = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    keys[i] = keyOf(ids[i]);
    values[i] = valueOf(random, MEMTABLE_VALUE_BYTES);
  }
  const order = permutation(n, random);
  const lookups = new Array<string>(Math.min(n, lookupCount));
  for (let i = 0; i < lookups.length; i++) lookups[i] = keyOf(ids[order[i]]);
  const sorted = ids.slice().sort(); // a typed array sorts numerically: the order of their fixed-width hex keys
  const eligible = Math.max(1, n - SCAN_LENGTH - 1);
  const scanStarts = new Array<string>(scans);
  for (let i = 0; i < scans; i++) scanStarts[i] = keyOf(sorted[(random() * eligible) | 0]) + '!';
  return { keys, values, lookups, scanStarts };
}

/** The engine bench (issue 14): 100-byte values, written in batches of 1,000. */
export const ENGINE_VALUE_BYTES = 100;
export const ENGINE_BATCH = 1000;

const HEX_DIGITS = [...'0123456789abcdef'].map((c) => c.charCodeAt(0));

/**
 * A JSON string literal of exactly `bytes` bytes (quotes included) of random
 * hex digits: what the engine bench stores in both engines. Hex leaves
 * LevelDB's Snappy nothing to win (no repeats), as random user data would.
 */
export function hexValueOf(random: () => number, bytes: number): string {
  const codes = new Array<number>(bytes);
  codes[0] = codes[bytes - 1] = 0x22; // '"'
  let bits = 0;
  for (let i = 1; i < bytes - 1; i++) {
    if ((i - 1) % 7 === 0) bits = (random() * 268435456) >>> 0; // seven 4-bit digits a draw
    codes[i] = HEX_DIGITS[bits & 15];
    bits >>>= 4;
  }
  return String.fromCharCode.apply(null, codes);
}

// ---------------------------------------------------------------------------
// End to end: a Maelstrom session.

export const E2E_VALUE_BYTES = 32;
export const E2E_SCAN_LIMIT = 20;
/** 1M messages over 1M distinct keys (issue 14): ~118 MB of input, 500k puts, so the 4 MiB MemTable freezes over a dozen times. */
export const E2E_MESSAGES = 1_000_000;

export interface SessionCounts {
  /** Requests (each must get exactly one reply); their msg_ids are 1..requests. */
  requests: number;
  puts: number;
  gets: number;
  scans: number;
  /** Distinct keys put: each holds a 13-byte key and an E2E_VALUE_BYTES value at the end. */
  keysPut: number;
}

export interface Session extends SessionCounts {
  /** The whole session, one JSON message a line. */
  input: Buffer;
}

/**
 * init, then `messages` requests: 50% memtable_put, 48% memtable_get, 2%
 * memtable_scan (start key + limit 20), keys drawn uniformly from `keyspace`
 * ids, then one memtable_stats (so the report can show how many SSTables the
 * run flushed). The mix is drawn per message, so puts and reads interleave.
 * Yields the lines in buffers of about `chunkBytes` (whole lines only), so a
 * session of 10M messages never has to be in memory at once; returns the
 * counts once every line was yielded.
 */
export function* sessionChunks(messages: number, keyspace: number, seed: number, chunkBytes = 1 << 20): Generator<Buffer, SessionCounts> {
  const random = rng(seed);
  const ids = distinctIds(keyspace, random);
  const written = new Uint8Array(keyspace);
  let lines: string[] = [];
  let pending = 0;
  let msgId = 1;
  const counts = { puts: 0, gets: 0, scans: 0, keysPut: 0 };
  const push = (line: string): Buffer | undefined => {
    lines.push(line);
    pending += line.length + 1;
    if (pending < chunkBytes) return undefined;
    const chunk = Buffer.from(lines.join('\n') + '\n');
    lines = [];
    pending = 0;
    return chunk;
  };
  push(JSON.stringify({ src: 'c0', dest: 'n1', body: { type: 'init', msg_id: msgId++, node_id: 'n1', node_ids: ['n1'] } }));
  for (let i = 0; i < messages; i++) {
    const index = (random() * keyspace) | 0;
    const key = keyOf(ids[index]);
    const draw = random();
    let body: string;
    // Bodies are spliced by hand: the value is already JSON text.
    if (draw < 0.5) {
      body = `{"type":"memtable_put","msg_id":${msgId++},"key":"${key}","value":${valueOf(random, E2E_VALUE_BYTES)}}`;
      counts.puts++;
      if (written[index] === 0) {
        written[index] = 1;
        counts.keysPut++;
      }
    } else if (draw < 0.98) {
      body = `{"type":"memtable_get","msg_id":${msgId++},"key":"${key}"}`;
      counts.gets++;
    } else {
      body = `{"type":"memtable_scan","msg_id":${msgId++},"start":"${key}","limit":${E2E_SCAN_LIMIT}}`;
      counts.scans++;
    }
    const chunk = push(`{"src":"c1","dest":"n1","body":${body}}`);
    if (chunk !== undefined) yield chunk;
  }
  push(JSON.stringify({ src: 'c1', dest: 'n1', body: { type: 'memtable_stats', msg_id: msgId++ } }));
  if (lines.length > 0) yield Buffer.from(lines.join('\n') + '\n');
  return { requests: msgId - 1, ...counts };
}

/** The whole of sessionChunks' session in one buffer. */
export function maelstromSession(messages: number, keyspace: number, seed: number): Session {
  const chunks: Buffer[] = [];
  const generator = sessionChunks(messages, keyspace, seed);
  for (;;) {
    const next = generator.next();
    if (next.done === true) return { input: Buffer.concat(chunks), ...next.value };
    chunks.push(next.value);
  }
}
