/**
 * The end-to-end peer that stores its data: the bench's messages served on
 * LevelDB (classic-level), as a Node developer would write such a node.
 * Per stdin chunk: every whole line is JSON.parsed and answered in order;
 * the chunk's puts go into one LevelDB batch, written (with `sync: true`
 * under --sync) before any of the chunk's replies leave; gets use getSync,
 * scans an iterator. A get or scan sees the chunk's own earlier puts from
 * the pending batch, so no extra batch (or fsync) is ever needed. stdin
 * pauses while a chunk is served and while stdout is above its high-water
 * mark.
 *
 *   node levelNode.js DIR [--sync]
 *
 * Replies carry the fields memtable-node's do (SPEC.md): values are spliced
 * in as the JSON text they were stored as.
 */
import { ClassicLevel } from 'classic-level';

const [dir, syncFlag] = process.argv.slice(2);
if (dir === undefined || (syncFlag !== undefined && syncFlag !== '--sync')) {
  process.stderr.write('usage: levelNode.js DIR [--sync]\n');
  process.exit(2);
}
const sync = syncFlag === '--sync';
const db = new ClassicLevel<string, string>(dir);
await db.open();
let iterator = db.iterator(); // reseeked by every scan
/** A batch was written since the iterator was made: it reads a snapshot, so a new one is needed to see it. */
let iteratorStale = false;

async function currentIterator(): Promise<typeof iterator> {
  if (iteratorStale) {
    await iterator.close();
    iterator = db.iterator();
    iteratorStale = false;
  }
  return iterator;
}

interface Body {
  type: string;
  msg_id: number;
  key?: string;
  value?: unknown;
  start?: string;
  limit?: number;
}

let msgId = 0;
let carry = '';

/** The reply line for `body` with `fields` (JSON text after the type) spliced in. */
function reply(src: string, dest: string, body: Body, fields: string): string {
  return `{"src":${JSON.stringify(src)},"dest":${JSON.stringify(dest)},"body":{"type":"${body.type}_ok"${fields},"msg_id":${msgId++},"in_reply_to":${body.msg_id}}}`;
}

async function serve(chunk: string): Promise<string> {
  const lines = (carry + chunk).split('\n');
  carry = lines.pop()!;
  const pending = new Map<string, string>();
  const batch = db.batch();
  const replies: string[] = [];
  for (const line of lines) {
    if (line === '') continue;
    const { src, dest, body } = JSON.parse(line) as { src: string; dest: string; body: Body };
    switch (body.type) {
      case 'memtable_put': {
        const value = JSON.stringify(body.value);
        pending.set(body.key!, value);
        batch.put(body.key!, value);
        replies.push(reply(dest, src, body, ''));
        break;
      }
      case 'memtable_get': {
        const value = pending.get(body.key!) ?? db.getSync(body.key!);
        replies.push(reply(dest, src, body, value === undefined ? ',"value":null,"found":false' : `,"value":${value},"found":true`));
        break;
      }
      case 'memtable_scan': {
        const scanner = await currentIterator();
        scanner.seek(body.start!);
        const limit = body.limit!;
        const stored = (await scanner.nextv(limit)) as Array<[string, string]>;
        replies.push(reply(dest, src, body, `,"entries":${scanEntries(stored, pending, body.start!, limit)}`));
        break;
      }
      default:
        replies.push(reply(dest, src, body, '')); // init, memtable_stats
    }
  }
  if (batch.length > 0) {
    await batch.write({ sync });
    iteratorStale = true;
  } else await batch.close();
  return replies.length === 0 ? '' : replies.join('\n') + '\n';
}

/** The first `limit` entries >= start of the stored ones merged with the chunk's pending puts (which win), as JSON. */
function scanEntries(stored: Array<[string, string]>, pending: Map<string, string>, start: string, limit: number): string {
  const merged = new Map<string, string>(stored);
  for (const [key, value] of pending) if (key >= start) merged.set(key, value);
  const keys = [...merged.keys()].sort().slice(0, limit);
  return `[${keys.map((key) => `{"key":${JSON.stringify(key)},"value":${merged.get(key)}}`).join(',')}]`;
}

let serving = Promise.resolve();
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  process.stdin.pause();
  serving = serving.then(async () => {
    const out = await serve(chunk);
    if (out !== '' && !process.stdout.write(out)) await new Promise((resolve) => process.stdout.once('drain', resolve));
    process.stdin.resume();
  });
});
process.stdin.on('end', () => {
  void serving.then(async () => {
    await iterator.close();
    await db.close();
  });
});
