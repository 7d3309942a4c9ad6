/**
 * The inspector server with real clients: nodes run in this process stream
 * through --inspect's client (startStatelyInspection, @statelyai/inspect's
 * WebSocket inspector) and the HTTP API answers what the page reads.
 */
import { PassThrough } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startStatelyInspection } from '../../src/actors/inspection.js';
import { runNodes } from '../../src/actors/runtime.js';
import { type InspectorServer, startInspectorServer } from '../../src/inspector/server.js';
import { DEFAULT_COMPACTION_OPTIONS } from '../../src/storage/compaction/compactor.js';
import { nodeFileSystem } from '../../src/storage/env/fileSystem.js';
import { useTempDirs } from '../support/tempDirs.js';

const tempDir = useTempDirs('inspector-server');
let server: InspectorServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const line = (dest: string, body: object): string => `${JSON.stringify({ src: 'c1', dest, body })}\n`;

/** Runs nodes n1 and n2 in this process over a few flushes each, streaming to `url`; resolves when they are done (the socket still open). */
async function runTwoNodes(url: string) {
  const inspection = await startStatelyInspection(url, pino({ level: 'silent' }));
  let input = line('n1', { type: 'init', msg_id: 1, node_id: 'n1', node_ids: ['n1', 'n2'] }) + line('n2', { type: 'init', msg_id: 1, node_id: 'n2', node_ids: ['n1', 'n2'] });
  for (let i = 0; i < 40; i++) input += line(i % 2 ? 'n2' : 'n1', { type: 'memtable_put', msg_id: 10 + i, key: `k${i}`, value: 'v'.repeat(200) });
  const output = new PassThrough().resume();
  await runNodes({
    input: (async function* () {
      yield input;
    })(),
    output,
    log: pino({ level: 'silent' }),
    maxLineBytes: 1 << 20,
    node: { dataRoot: tempDir(), memtableMaxBytes: 1000, maxImmutable: 4, fs: nodeFileSystem, compaction: DEFAULT_COMPACTION_OPTIONS },
    inspect: (event) => inspection.inspect(event),
  });
  return inspection;
}

describe('startInspectorServer', () => {
  it('lists the nodes of every process streaming to it, with their state and LSM summary, and marks them gone when their process disconnects', async () => {
    server = await startInspectorServer({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${server.port}`;
    // Two "processes": two clients, two connections, each with nodes n1 and n2.
    const inspection = await runTwoNodes(`ws://127.0.0.1:${server.port}`);
    const other = await runTwoNodes(`ws://127.0.0.1:${server.port}`);

    const nodes = async () => (await (await fetch(`${base}/api/nodes`)).json()) as Array<{ key: string; label: string; connection: number; connected: boolean; value: unknown }>;
    await expect.poll(async () => (await nodes()).map((node) => node.label).sort()).toEqual(['n1', 'n1', 'n2', 'n2']);
    expect(new Set((await nodes()).map((node) => node.connection)).size).toBe(2);
    const [n1] = (await nodes()).filter((node) => node.label === 'n1');
    expect(n1.connected).toBe(true);

    const detail = async () => (await (await fetch(`${base}/api/nodes/${encodeURIComponent(n1.key)}`)).json()) as { value: unknown; definition: { id: string }; context: { lsm: { levels: Array<{ files: unknown[] }> } }; events: Array<{ kind: string }> };
    // The last snapshot (the actor stopped at the end of input) is the store as it was, flushed files and all,
    // at L0 or, once compacted, below it.
    const files = async () => (await detail()).context?.lsm?.levels.reduce((sum, level) => sum + level.files.length, 0) ?? 0;
    await expect.poll(files).toBeGreaterThan(0);
    const { definition, events, value } = await detail();
    expect(definition.id).toBe('node');
    expect(value).toMatchObject({ open: { flush: expect.any(String), compaction: expect.any(String), writes: expect.any(String) } });
    expect(events.some((event) => event.kind === 'flush')).toBe(true);
    expect(events.some((event) => event.kind === 'transition')).toBe(true);

    await inspection.stop();
    await expect.poll(async () => (await nodes()).filter((node) => !node.connected).map((node) => node.connection)).toEqual([n1.connection, n1.connection]);
    await other.stop();
    await expect.poll(async () => (await nodes()).map((node) => node.connected)).toEqual([false, false, false, false]);
    expect((await fetch(`${base}/api/nodes/nobody`)).status).toBe(404);
  });

  it('serves the page with a policy that forbids every other origin', async () => {
    server = await startInspectorServer({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${server.port}`;
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain('<script type="module" src="/app.js">');
    expect(html).not.toMatch(/https?:\/\//);
    expect((await fetch(`${base}/style.css`)).headers.get('content-type')).toContain('text/css');
    expect((await fetch(`${base}/secret.txt`)).status).toBe(404);
    expect((await fetch(`${base}/../package.json`)).status).toBe(404);
  });

  it('rejects when the port is taken', async () => {
    server = await startInspectorServer({ host: '127.0.0.1', port: 0 });
    await expect(startInspectorServer({ host: '127.0.0.1', port: server.port })).rejects.toThrow(/EADDRINUSE/);
  });
});
