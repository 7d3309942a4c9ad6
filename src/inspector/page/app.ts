/**
 * The inspector page's glue: polls the server's /api (every POLL_MS), draws
 * the node list and the selected node with the pure drawing modules, and
 * keeps the selection (in the URL hash) and the event filter. Runs in the
 * browser; the few DOM calls it makes are typed below, so the node build
 * needs no DOM library.
 */
import { drawDiagram } from './diagram.js';
import { drawCounters, drawEvents, drawNodeList } from './draw.js';
import { stateText } from './format.js';
import { drawLsm } from './lsm.js';
import type { EventKind, NodeDetail, NodeListing } from '../registry.js';

interface PageElement {
  innerHTML: string;
  textContent: string | null;
  value: string;
  checked: boolean;
  dataset: Record<string, string | undefined>;
  closest(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
  addEventListener(type: string, listener: (event: { target: PageElement }) => void): void;
}
declare const document: { getElementById(id: string): PageElement | null; body: PageElement };
declare const location: { hash: string };

const POLL_MS = 400;

const element = (id: string): PageElement => document.getElementById(id)!;
let selected: string | null = decodeURIComponent(location.hash.slice(1)) || null;
let detail: NodeDetail | null = null;

function shownKinds(): Set<EventKind> {
  const kinds = new Set<EventKind>();
  const boxes = element('event-kinds').querySelectorAll('input[type=checkbox]');
  for (let i = 0; i < boxes.length; i++) if (boxes[i].checked) kinds.add(boxes[i].value as EventKind);
  return kinds;
}

function drawEventLog(): void {
  element('events').innerHTML = detail === null ? '' : drawEvents(detail, shownKinds(), element('event-text').value);
}

function drawSelected(): void {
  if (detail === null) {
    element('node-title').textContent = 'Select a node';
    for (const id of ['counters', 'diagram', 'lsm', 'events']) element(id).innerHTML = '';
    return;
  }
  element('node-title').textContent = `${detail.label} · ${detail.connected ? stateText(detail.value) : 'gone'} · ${detail.status}`;
  element('counters').innerHTML = drawCounters(detail);
  element('diagram').innerHTML = drawDiagram(detail.definition, detail.value);
  const lsm = detail.context?.lsm;
  element('lsm').innerHTML = lsm ? drawLsm(lsm, detail.lastCompaction) : '<p class="muted">The store is not open yet (no init).</p>';
  drawEventLog();
}

/** Fetches the node list and the selected node, and draws them. */
async function refresh(): Promise<void> {
  try {
    const nodes = (await (await fetch('/api/nodes')).json()) as NodeListing[];
    if (selected === null && nodes.length > 0) selected = nodes[0].key;
    element('node-list').innerHTML = drawNodeList(nodes, selected);
    const response = selected === null ? null : await fetch(`/api/nodes/${encodeURIComponent(selected)}`);
    detail = response !== null && response.ok ? ((await response.json()) as NodeDetail) : null;
    drawSelected();
    element('status').textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    element('status').textContent = `inspector unreachable: ${String(error)}`;
  }
}

/** One loop of refreshes, POLL_MS apart. */
async function poll(): Promise<void> {
  await refresh();
  setTimeout(() => void poll(), POLL_MS);
}

element('node-list').addEventListener('click', ({ target }) => {
  const item = target.closest('[data-node]');
  if (item === null) return;
  selected = item.dataset.node ?? null;
  location.hash = encodeURIComponent(selected ?? '');
  void refresh();
});
element('event-kinds').addEventListener('change', drawEventLog);
element('event-text').addEventListener('input', drawEventLog);
void poll();
