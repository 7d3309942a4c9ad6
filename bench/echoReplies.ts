/**
 * The echo node's work on one chunk of input (bench/echoNode.ts runs it over
 * stdin; protocolFloor.ts times it in process): the chunk after the carried
 * partial line, split into lines, each JSON.parsed and answered with
 * {src, dest, body: {type: type + '_ok', msg_id, in_reply_to}} via
 * JSON.stringify. No storage, no validation.
 */
export class EchoReplier {
  private msgId = 0;
  private carry = '';

  /** The replies to the whole lines `chunk` completes, joined, each ending in a newline ('' if none). */
  answer(chunk: string): string {
    const lines = (this.carry + chunk).split('\n');
    this.carry = lines.pop()!; // the unterminated tail waits for the next chunk
    const replies: string[] = [];
    for (const line of lines) {
      if (line === '') continue;
      const message = JSON.parse(line) as { src: string; dest: string; body: { type: string; msg_id?: number } };
      replies.push(
        JSON.stringify({
          src: message.dest,
          dest: message.src,
          body: { type: message.body.type + '_ok', msg_id: this.msgId++, in_reply_to: message.body.msg_id },
        }),
      );
    }
    return replies.length === 0 ? '' : replies.join('\n') + '\n';
  }
}
