/**
 * The local inspector end to end, in headless Chromium: `memtable-node
 * inspector`, a real node streaming to it with --inspect through many
 * flushes, and the page as a user sees it.
 *
 * Chromium is Debian's (/usr/bin/chromium; .ci/run installs it). The
 * screenshot goes to $TMPDIR/memtable-inspector.png (overwritten each run),
 * and to docs/inspector.png with UPDATE_SCREENSHOT=1.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, init, request } from './cli.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Starts `memtable-node inspector --port 0`; resolves with its http:// base once it listens. */
function startInspector(): Promise<{ child: ChildProcessWithoutNullStreams; base: string }> {
  const child = spawn(process.execPath, [CLI, 'inspector', '--port', '0', '--log-level', 'warn']);
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
      const found = /open (http:\/\/\S+)\//.exec(stderr);
      if (found) resolve({ child, base: found[1] });
    });
    child.on('close', (code) => reject(new Error(`inspector exited ${code}: ${stderr}`)));
  });
}

const line = (message: object): string => `${JSON.stringify(message)}\n`;

describe.skipIf(!existsSync(CHROMIUM))('memtable-node inspector in Chromium', () => {
  let browser: Browser;
  let inspector: Awaited<ReturnType<typeof startInspector>>;
  const screenshot = join(tmpdir(), 'memtable-inspector.png');

  beforeAll(async () => {
    [browser, inspector] = await Promise.all([chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS }), startInspector()]);
  });
  afterAll(async () => {
    await browser?.close();
    inspector?.child.kill('SIGTERM');
  });

  it('lists the nodes of a live process, highlights their state, draws their files at L0 and below and moving counters, and marks them gone when the process ends', async () => {
    const wsUrl = inspector.base.replace('http://', 'ws://');
    // Small MemTables and two L0 files to a compaction: flushes and compactions every few batches.
    const node = spawn(process.execPath, [CLI, '--inspect', wsUrl, '--memtable-max-bytes', '2000', '--l0-compaction-trigger', '2', '--log-level', 'warn']);
    const exited = new Promise<number | null>((resolve) => node.on('close', resolve));
    node.stdout.resume();
    node.stdin.write(line(init('n1')) + line(init('n2', 2)));
    // Puts in small batches while the page watches: each MemTable of ~2 KB fills in a few batches and flushes.
    let msgId = 10;
    const feed = setInterval(() => {
      let batch = '';
      for (let i = 0; i < 8; i++, msgId++) {
        const key = `user:${((msgId * 2654435761) >>> 0).toString(16).padStart(8, '0')}`;
        batch += line(request(msgId, 'memtable_put', { key, value: 'v'.repeat(120) }, msgId % 3 === 0 ? 'n2' : 'n1'));
      }
      node.stdin.write(batch);
    }, 40);

    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
      const external: string[] = [];
      page.on('request', (request) => {
        if (!request.url().startsWith(inspector.base)) external.push(request.url());
      });
      await page.goto(`${inspector.base}/`);

      const n1 = page.locator('.node', { hasText: 'n1' });
      await n1.waitFor();
      await page.locator('.node', { hasText: 'n2' }).waitFor();
      await n1.click();
      await expect.poll(() => page.locator('#node-title').textContent()).toMatch(/^n1 · /);
      // The machine diagram: the node is open, a parallel state, with one active state in each of its three regions.
      await page.locator('.state.parallel.active[data-state="open"]').waitFor();
      const active = await page.locator('.state.active').evaluateAll((boxes) => boxes.map((box) => box.getAttribute('data-state')));
      expect(active).not.toContain('uninitialized');
      for (const region of ['flush', 'compaction', 'writes']) {
        expect(active).toContain(`open.${region}`);
        expect(active.filter((path) => path?.startsWith(`open.${region}.`))).toHaveLength(1);
      }
      // Files from real flushes at L0 and from compactions below it, over the key space; all seven levels drawn.
      const filesBelowL0 = () => page.locator('.level:not([data-level="0"]) .file').count();
      await expect.poll(filesBelowL0, { timeout: 10_000 }).toBeGreaterThan(0);
      await expect.poll(() => page.locator('.level[data-level="0"] .file').count(), { timeout: 10_000 }).toBeGreaterThan(0);
      expect(await page.locator('.level').count()).toBe(7);
      await expect.poll(() => page.locator('.event-compaction', { hasText: 'done' }).count(), { timeout: 10_000 }).toBeGreaterThan(0);
      // Counters move while the node works.
      const messages = async (): Promise<number> => Number(await page.locator('[data-counter="messages"]').textContent());
      const before = await messages();
      await expect.poll(messages, { timeout: 5000 }).toBeGreaterThan(before);
      await expect.poll(() => page.locator('.event-flush').count()).toBeGreaterThan(0);
      await page.screenshot({ path: screenshot, fullPage: true });
      if (process.env.UPDATE_SCREENSHOT === '1') copyFileSync(screenshot, fileURLToPath(new URL('../../docs/inspector.png', import.meta.url)));

      // The event filter: only flushes.
      for (const kind of ['transition', 'compaction', 'error', 'event']) await page.locator(`#event-kinds input[value="${kind}"]`).uncheck();
      await expect.poll(() => page.locator('.events li:not(.event-flush)').count()).toBe(0);

      clearInterval(feed);
      node.stdin.end();
      expect(await exited).toBe(0);
      await page.locator('.node.gone', { hasText: 'n1' }).waitFor();
      await page.locator('.node.gone', { hasText: 'n2' }).waitFor();
      expect(external).toEqual([]);
    } finally {
      clearInterval(feed);
      node.kill('SIGKILL');
    }
  }, 30_000);
});
