/**
 * The baseline for the end-to-end figure: the least a Maelstrom node written
 * in Node can do per message. It reads stdin lines, JSON.parses each, and
 * replies {src, dest, body: {type: type + '_ok', msg_id, in_reply_to}} with
 * JSON.stringify (echoReplies.ts), one batched write per input chunk, pausing
 * stdin while stdout is above its high-water mark. No storage, no
 * validation: what memtable-node pays on top of this is the cost of its own
 * work.
 */
import { EchoReplier } from './echoReplies.js';

const replier = new EchoReplier();

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  const replies = replier.answer(chunk);
  if (replies === '') return;
  if (!process.stdout.write(replies)) {
    process.stdin.pause();
    process.stdout.once('drain', () => process.stdin.resume());
  }
});
