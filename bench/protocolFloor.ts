/**
 * What the protocol alone costs (a development aid, not part of npm run
 * bench): the end-to-end bench's session, in process, with no pipe, no actor
 * and no store, timed two ways over the same 64 KiB chunks:
 *   echo      what bench/echoNode.ts does a chunk (echoReplies.ts): decode,
 *             split, JSON.parse, JSON.stringify a reply, join
 *   protocol  what memtable-node does before and after its store: LineSplitter,
 *             parseEnvelope, parseRequest, encodeReply with bodies shaped as
 *             serveRequests.ts answers them (a get's value a stored JSON text)
 * Rounds alternate; prints medians and µs a message. If `protocol` alone
 * costs about what `echo` does, a node at 0.75x the echo node's throughput
 * has a quarter of its time left for everything else.
 *
 *   node protocolFloor.js [RUNS]
 */
import { encodeReply } from '../src/protocol/encode.js';
import { parseEnvelope } from '../src/protocol/envelope.js';
import { LineSplitter } from '../src/protocol/lineSplitter.js';
import { RawJson } from '../src/protocol/rawJson.js';
import { parseRequest } from '../src/protocol/requests.js';
import { EchoReplier } from './echoReplies.js';
import { median } from './stats.js';
import { E2E_MESSAGES, maelstromSession } from './workload.js';

const CHUNK_BYTES = 64 * 1024;
const STORED_VALUE = new RawJson('"a stored value, 32 bytes long.."');

function echo(input: Buffer): number {
  const replier = new EchoReplier();
  let out = 0;
  for (let offset = 0; offset < input.length; offset += CHUNK_BYTES) {
    out += replier.answer(input.toString('utf8', offset, Math.min(input.length, offset + CHUNK_BYTES))).length;
  }
  return out;
}

function protocol(input: Buffer): number {
  const splitter = new LineSplitter(64 * 1024 * 1024);
  let out = 0;
  let msgId = 0;
  for (let offset = 0; offset < input.length; offset += CHUNK_BYTES) {
    const replies: string[] = [];
    for (const line of splitter.push(input.subarray(offset, offset + CHUNK_BYTES))) {
      const envelope = parseEnvelope(line);
      if ('malformed' in envelope) throw new Error(envelope.malformed);
      const request = parseRequest(envelope);
      let body: Record<string, unknown>;
      if (request.type === 'memtable_get') body = { type: 'memtable_get_ok', value: STORED_VALUE, found: true, source: 'memtable' };
      else if (request.type === 'memtable_scan') body = { type: 'memtable_scan_ok', entries: [] };
      else body = { type: `${request.type}_ok`, size_bytes: 4096 };
      replies.push(encodeReply(envelope.dest, envelope.src, body, msgId++, envelope.body.msg_id));
    }
    out += (replies.join('\n') + '\n').length;
  }
  return out;
}

const runs = Number(process.argv[2] ?? 7);
const session = maelstromSession(E2E_MESSAGES, E2E_MESSAGES, 42);
const times: Record<'echo' | 'protocol', number[]> = { echo: [], protocol: [] };
let sink = 0;
for (let round = 0; round < runs + 2; round++) {
  for (const [name, run] of [['echo', echo], ['protocol', protocol]] as const) {
    const start = process.hrtime.bigint();
    sink += run(session.input);
    if (round >= 2) times[name].push(Number(process.hrtime.bigint() - start) / 1e6); // two warm-up rounds
  }
}
const messages = session.requests + 1;
const line = (name: 'echo' | 'protocol'): string => {
  const ms = median(times[name]);
  return `${name} ${ms.toFixed(0)} ms (${((ms * 1000) / messages).toFixed(2)} µs a message)`;
};
process.stdout.write(`${messages} messages, medians of ${runs}: ${line('echo')}; ${line('protocol')}${sink < 0 ? '!' : ''}\n`);
