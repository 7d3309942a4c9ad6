/**
 * The baseline for the end-to-end figure: the least a Maelstrom node written
 * in Node can do per message. It reads stdin lines, JSON.parses each, and
 * replies {src, dest, body: {type: type + '_ok', msg_id, in_reply_to}} with
 * JSON.stringify, one batched write per input chunk, pausing stdin while
 * stdout is above its high-water mark. No storage, no validation: what
 * memtable-node pays on top of this is the cost of its own work.
 */
let msgId = 0;
let carry = '';

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  const text = carry + chunk;
  const lines = text.split('\n');
  carry = lines.pop()!; // the unterminated tail waits for the next chunk
  const replies: string[] = [];
  for (const line of lines) {
    if (line === '') continue;
    const message = JSON.parse(line) as { src: string; dest: string; body: { type: string; msg_id?: number } };
    replies.push(
      JSON.stringify({
        src: message.dest,
        dest: message.src,
        body: { type: message.body.type + '_ok', msg_id: msgId++, in_reply_to: message.body.msg_id },
      }),
    );
  }
  if (replies.length === 0) return;
  if (!process.stdout.write(replies.join('\n') + '\n')) {
    process.stdin.pause();
    process.stdout.once('drain', () => process.stdin.resume());
  }
});
