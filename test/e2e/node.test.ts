/** The node through its CLI: transport, every error code, ordering, values and keys, freezing. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLI, init, logLines, replyTo, request, runCli, runCliRaw } from './cli.js';

describe('transport', () => {
  it('replies from the node id with in_reply_to and msg_ids counting from 0, and exits 0 at end of stdin', async () => {
    const run = await runCli([init(), request(2, 'memtable_put', { key: 'a', value: 1 }), request(3, 'memtable_get', { key: 'a' })]);
    expect(run.code).toBe(0);
    expect(run.messages.map((m) => [m.src, m.dest, m.body.type, m.body.msg_id, m.body.in_reply_to])).toEqual([
      ['n1', 'c0', 'init_ok', 0, 1],
      ['n1', 'c1', 'memtable_put_ok', 1, 2],
      ['n1', 'c1', 'memtable_get_ok', 2, 3],
    ]);
  });

  it('keeps stdout to protocol lines and logs JSON on stderr', async () => {
    const run = await runCli([init(), 'not json', request(2, 'memtable_stats')], { env: { LOG_LEVEL: 'debug' } });
    for (const line of run.lines) expect(Object.keys(JSON.parse(line)).sort()).toEqual(['body', 'dest', 'src']);
    const logs = logLines(run);
    expect(logs.length).toBeGreaterThan(3);
    expect(logs.some((log) => log.msg === 'transition' && log.node_id === 'n1')).toBe(true);
    expect(logs.some((log) => log.msg === 'reply' && log.in_reply_to === 2 && log.msg_id === 1)).toBe(true);
  });

  it('answers thousands of pipelined requests in arrival order', async () => {
    const input = [init()];
    for (let i = 0; i < 3000; i++) {
      input.push(i % 3 === 2 ? request(10 + i, 'memtable_get', { key: `k${i % 50}` }) : request(10 + i, 'memtable_put', { key: `k${i % 50}`, value: i }));
    }
    const run = await runCli(input);
    expect(run.messages.map((m) => m.body.in_reply_to)).toEqual(input.map((m) => m.body.msg_id));
    expect(run.messages.map((m) => m.body.msg_id)).toEqual(input.map((_, i) => i));
  });

  it('skips garbage lines with a warning, without a reply or a msg_id, and keeps going', async () => {
    const run = await runCli([
      init(),
      'this is not json',
      '[1,2,3]',
      '{"src":"c1","dest":"n1"}',
      '{"src":"c1","dest":"n1","body":"no"}',
      '{"dest":"n1","body":{"type":"memtable_get","msg_id":5,"key":"a"}}',
      '{"src":"c1","dest":"n1","body":{"type":"memtable_get","msg_id":6,"key":"a"',
      '',
      request(7, 'memtable_get', { key: 'a' }),
    ]);
    expect(run.code).toBe(0);
    expect(run.messages.map((m) => [m.body.in_reply_to, m.body.msg_id])).toEqual([
      [1, 0],
      [7, 1],
    ]);
    expect(logLines(run).filter((log) => log.level === 40 && log.msg === 'malformed line skipped')).toHaveLength(6);
  });

  it('skips a line longer than --max-line-bytes and serves the next one', async () => {
    const long = JSON.stringify(request(2, 'memtable_put', { key: 'big', value: 'x'.repeat(200_000) }));
    const run = await runCli([init(), long, request(3, 'memtable_get', { key: 'big' })], { args: ['--max-line-bytes', '65536'] });
    expect(run.messages.map((m) => m.body.in_reply_to)).toEqual([1, 3]);
    expect(replyTo(run, 3)).toMatchObject({ found: false, value: null });
    expect(logLines(run).some((log) => log.msg === 'over-long line skipped')).toBe(true);
  });

  it('routes by dest: two nodes in one process keep their own msg_id counters and stores', async () => {
    const run = await runCli([
      init('n1'),
      init('n2'),
      request(2, 'memtable_put', { key: 'a', value: 'one' }, 'n1'),
      request(3, 'memtable_get', { key: 'a' }, 'n2'),
    ]);
    const fromN2 = run.messages.filter((m) => m.src === 'n2').map((m) => m.body);
    expect(fromN2.map((b) => b.msg_id)).toEqual([0, 1]);
    expect(replyTo(run, 3)).toMatchObject({ found: false });
  });
});

describe('error codes', () => {
  it('10 for an unknown type, after init', async () => {
    const run = await runCli([init(), request(2, 'frobnicate')]);
    expect(replyTo(run, 2)).toMatchObject({ type: 'error', code: 10, msg_id: 1 });
  });

  it('10 for an init past --max-nodes; the nodes already hosted keep serving', async () => {
    const run = await runCli([init('n1', 1), init('n2', 2), { src: 'c1', dest: 'n1', body: { type: 'memtable_get', msg_id: 3, key: 'a' } }], { args: ['--max-nodes', '1'] });
    expect(replyTo(run, 2, 'c0')).toMatchObject({ type: 'error', code: 10, text: expect.stringMatching(/--max-nodes/) });
    expect(replyTo(run, 3).type).toBe('memtable_get_ok');
  });

  it('11 for a request before init, then serves normally', async () => {
    const run = await runCli([request(1, 'memtable_get', { key: 'a' }), init('n1', 2), request(3, 'memtable_get', { key: 'a' })]);
    expect(replyTo(run, 1)).toMatchObject({ type: 'error', code: 11 });
    expect(run.messages.find((m) => m.body.in_reply_to === 2)?.body.type).toBe('init_ok');
    expect(replyTo(run, 3).type).toBe('memtable_get_ok');
  });

  it.each([
    ['a non-string key', { type: 'memtable_put', key: 7, value: 1 }],
    ['a missing key', { type: 'memtable_get' }],
    ['a missing value', { type: 'memtable_put', key: 'a' }],
    ['a zero limit', { type: 'memtable_scan', limit: 0 }],
    ['a fractional limit', { type: 'memtable_scan', limit: 1.5 }],
    ['a string limit', { type: 'memtable_scan', limit: '3' }],
    ['a non-string scan bound', { type: 'memtable_scan', start: 3 }],
  ])('12 for %s', async (_, body) => {
    const run = await runCli([init(), { src: 'c1', dest: 'n1', body: { msg_id: 2, ...body } }]);
    expect(replyTo(run, 2)).toMatchObject({ type: 'error', code: 12 });
  });

  it('12 for a key with a lone surrogate', async () => {
    const run = await runCli([init(), '{"src":"c1","dest":"n1","body":{"type":"memtable_put","msg_id":2,"key":"a\\ud800b","value":1}}']);
    expect(replyTo(run, 2)).toMatchObject({ type: 'error', code: 12 });
  });

  it('12 for an init whose node id could name a folder outside the data folder', async () => {
    for (const nodeId of ['../escape', '.', 'a/b', '']) {
      const run = await runCli([{ src: 'c0', dest: nodeId, body: { type: 'init', msg_id: 1, node_id: nodeId, node_ids: [nodeId] } }]);
      expect(run.messages[0].body).toMatchObject({ type: 'error', code: 12, in_reply_to: 1 });
    }
  });

  it('22 for an init naming another node', async () => {
    const run = await runCli([{ src: 'c0', dest: 'n1', body: { type: 'init', msg_id: 1, node_id: 'n9', node_ids: ['n9'] } }]);
    expect(run.messages[0].body).toMatchObject({ type: 'error', code: 22, in_reply_to: 1 });
  });

  it('20 for sstable_lookup of an unknown file', async () => {
    const run = await runCli([init(), request(2, 'sstable_lookup', { sstable: 'L0_999999.sst', key: 'a' })]);
    expect(replyTo(run, 2)).toMatchObject({ type: 'error', code: 20 });
  });
});

describe('keys and values', () => {
  it('returns values exactly as written, byte for byte', async () => {
    const values = ['1.0', '12345678901234567890', '1e400', '{"b":1, "a":[true,null,"\\u00e9"]}', '"caf\\u00e9 \u2028"', '-0'];
    const input: string[] = [JSON.stringify(init())];
    values.forEach((value, i) => {
      input.push(`{"src":"c1","dest":"n1","body":{"type":"memtable_put","msg_id":${10 + i},"key":"k${i}","value":${value}}}`);
      input.push(`{"src":"c1","dest":"n1","body":{"type":"memtable_get","msg_id":${100 + i},"key":"k${i}"}}`);
    });
    const run = await runCli(input);
    values.forEach((value, i) => {
      const line = run.lines.find((l) => l.includes(`"in_reply_to":${100 + i}`))!;
      expect(line).toContain(`"value":${value}`);
    });
  });

  it('orders keys by code point, not UTF-16 units, and scans half-open ranges with limit and next_start', async () => {
    const keys = ['a', '\u{1F600}', '\uFFFF', '\uE000', 'b', '\u{10000}', 'z'];
    const input = [init(), ...keys.map((key, i) => request(10 + i, 'memtable_put', { key, value: i }))];
    input.push(request(50, 'memtable_scan', {}));
    input.push(request(51, 'memtable_scan', { start: 'b', end: '\u{10000}', limit: 2 }));
    input.push(request(52, 'memtable_scan', { start: 'z', end: 'b' }));
    const run = await runCli(input);
    const sorted = [...keys].sort((x, y) => (Buffer.compare(Buffer.from(x), Buffer.from(y))));
    expect((replyTo(run, 50).entries as Array<{ key: string }>).map((e) => e.key)).toEqual(sorted);
    expect(replyTo(run, 51)).toMatchObject({ entries: [{ key: 'b' }, { key: 'z' }], next_start: '\uE000' });
    expect(replyTo(run, 52).entries).toEqual([]);
  });

  it('deletes with tombstones and accounts size_bytes by the documented formula', async () => {
    const run = await runCli([
      init(),
      request(2, 'memtable_put', { key: 'ké', value: 'abc' }),
      request(3, 'memtable_put', { key: 'ké', value: 'a' }),
      request(4, 'memtable_delete', { key: 'ké' }),
      request(5, 'memtable_get', { key: 'ké' }),
      request(6, 'memtable_delete', { key: 'never' }),
    ]);
    // utf8("ké") = 3, utf8('"abc"') = 5, overhead 32.
    expect(replyTo(run, 2).size_bytes).toBe(3 + 5 + 32);
    expect(replyTo(run, 3).size_bytes).toBe(3 + 3 + 32);
    expect(replyTo(run, 4).size_bytes).toBe(3 + 0 + 32);
    expect(replyTo(run, 5)).toMatchObject({ found: false, value: null, source: 'memtable' });
    expect(replyTo(run, 6).size_bytes).toBe(3 + 32 + 5 + 32);
  });
});

describe('freezing', () => {
  it('freezes the active MemTable at --memtable-max-bytes and keeps every value readable', async () => {
    const input = [init()];
    for (let i = 0; i < 40; i++) input.push(request(10 + i, 'memtable_put', { key: `key${String(i).padStart(2, '0')}`, value: i }));
    input.push(request(100, 'memtable_stats'));
    for (let i = 0; i < 40; i++) input.push(request(200 + i, 'memtable_get', { key: `key${String(i).padStart(2, '0')}` }));
    input.push(request(300, 'memtable_scan', {}));
    const run = await runCli(input, { args: ['--memtable-max-bytes', '400'] });
    const frozenReplies = run.messages.filter((m) => m.body.type === 'memtable_put_ok' && m.body.frozen === true);
    expect(frozenReplies.length).toBeGreaterThan(2);
    for (const m of frozenReplies) expect(m.body.size_bytes as number).toBeGreaterThanOrEqual(400);
    const stats = replyTo(run, 100);
    expect(stats.max_bytes).toBe(400);
    for (let i = 0; i < 40; i++) expect(replyTo(run, 200 + i)).toMatchObject({ found: true, value: i });
    expect((replyTo(run, 300).entries as unknown[]).length).toBe(40);
  });

  it('logs the start and the end of each stall behind a full frozen queue, with its duration', async () => {
    const input = [init()];
    for (let i = 0; i < 60; i++) input.push(request(10 + i, 'memtable_put', { key: `key${i}`, value: 'v'.repeat(50) }));
    const run = await runCli(input, { args: ['--memtable-max-bytes', '200', '--max-immutable', '1'] });
    expect(run.messages.filter((m) => m.body.type === 'memtable_put_ok')).toHaveLength(60);
    const stalls = logLines(run).filter((log) => typeof log.msg === 'string' && log.msg.startsWith('writes '));
    expect(stalls.length).toBeGreaterThanOrEqual(2);
    stalls.forEach((log, i) => {
      expect(log).toMatchObject({ level: 30, node_id: 'n1' });
      if (i % 2 === 0) expect(log).toMatchObject({ msg: 'writes stalled: frozen MemTables full, waiting for a flush', frozen: 1, max_immutable: 1 });
      else expect(log).toMatchObject({ msg: 'writes resumed after a stall', ms: expect.any(Number) });
    });
    expect(stalls.length % 2).toBe(0); // every stall ended: all writes were answered
  });
});

describe('input edge cases', () => {
  it('exits 0 on empty stdin', async () => {
    const run = await runCliRaw('');
    expect(run.code).toBe(0);
    expect(run.lines).toEqual([]);
  });

  it.skipIf(!existsSync('/usr/bin/script'))('prints a one-line hint on stderr when stdin is a terminal', async () => {
    // script(1) gives the CLI a pseudo-terminal; Ctrl-D ends its input.
    const child = spawn('/usr/bin/script', ['-qc', `${process.execPath} ${CLI} 2>&1`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let seen = '';
    child.stdout.on('data', (chunk: Buffer) => (seen += chunk.toString()));
    await new Promise<void>((resolve) => child.stdout.on('data', () => seen.includes('Ctrl-D') && resolve()));
    child.stdin.write('\x04');
    await new Promise((resolve) => child.on('close', resolve));
    expect(seen).toContain('reading Maelstrom JSON messages from stdin');
  });

  it('--help prints usage on stdout and exits 0; a bad flag exits 2', async () => {
    const help = await runCliRaw('', { args: ['--help'] });
    expect(help.code).toBe(0);
    expect(help.lines.join('\n')).toContain('--memtable-max-bytes');
    const bad = await runCliRaw('', { args: ['--max-immutable', 'zero'] });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--max-immutable');
  });
});
