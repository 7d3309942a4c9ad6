/**
 * The page's panels other than the diagram and the LSM: the node list, the
 * counters and the event log. Pure: data in, HTML text out.
 */
import type { EventKind, NodeDetail, NodeListing } from '../registry.js';
import { escapeHtml, formatBytes, stateText } from './format.js';

/** The list of nodes, the selected one marked, gone ones marked gone. */
export function drawNodeList(nodes: NodeListing[], selected: string | null): string {
  if (nodes.length === 0) return '<p class="muted">No node connected yet. Start one with --inspect.</p>';
  return `<ul class="nodes">${nodes
    .map((node) => {
      const classes = ['node', node.key === selected ? 'selected' : '', node.connected ? '' : 'gone'].filter(Boolean).join(' ');
      const where = node.pid === null ? `connection ${node.connection}` : `pid ${node.pid}`;
      return `<li class="${classes}" data-node="${escapeHtml(node.key)}"><span class="label">${escapeHtml(node.label)}</span> <span class="muted">${escapeHtml(where)}</span> <span class="node-state">${node.connected ? escapeHtml(stateText(node.value)) : 'gone'}</span></li>`;
    })
    .join('')}</ul>`;
}

/** Counters of one node: messages, their rate, write amplification, files and bytes. */
export function drawCounters(node: NodeDetail): string {
  const lsm = node.context?.lsm ?? null;
  const rows: Array<[string, string, string]> = [['messages', 'messages sent', String(node.context?.nextMsgId ?? 0)], ['rate', 'messages / s', node.messagesPerSecond.toFixed(0)]];
  if (lsm) {
    const { userBytes, flushedBytes, compactedBytes } = lsm.counters;
    const files = lsm.levels.reduce((sum, level) => sum + level.files.length, 0);
    const bytes = lsm.levels.reduce((sum, level) => sum + level.bytes, 0);
    rows.push(
      ['write-amp', 'write amplification', userBytes === 0 ? '–' : `${((flushedBytes + compactedBytes) / userBytes).toFixed(2)}×`],
      ['files', 'SSTable files', String(files)],
      ['bytes', 'SSTable bytes', formatBytes(bytes)],
      ['user-bytes', 'bytes written by clients', formatBytes(userBytes)],
      ['flushed-bytes', 'bytes flushed', formatBytes(flushedBytes)],
      ['compacted-bytes', 'bytes compacted', formatBytes(compactedBytes)],
    );
  }
  return `<dl class="counters">${rows.map(([field, label, value]) => `<div><dt>${label}</dt><dd data-counter="${field}">${value}</dd></div>`).join('')}</dl>`;
}

/** The last events, newest first, those of the `shown` kinds whose text contains `text`. */
export function drawEvents(node: NodeDetail, shown: Set<EventKind>, text: string): string {
  const needle = text.toLowerCase();
  const events = node.events.filter((event) => shown.has(event.kind) && event.text.toLowerCase().includes(needle)).reverse();
  if (events.length === 0) return '<p class="muted">No events match.</p>';
  return `<ol class="events">${events
    .map((event) => `<li class="event-${event.kind}"><time>${new Date(event.at).toISOString().slice(11, 23)}</time> <span class="kind">${event.kind}</span> ${escapeHtml(event.text)}</li>`)
    .join('')}</ol>`;
}
