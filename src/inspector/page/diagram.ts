/**
 * The machine diagram: nested boxes drawn from the machine config a node
 * sent (xstate's `logic.config`, functions serialized as `{type: name}`),
 * with the states of the current value highlighted. Each box lists its
 * transitions as `event → target [guard]`. A parallel state (the node's
 * `open`) is marked so, and its regions are drawn side by side with dashed
 * borders: all of them are active at once, each with one active child.
 * Runs in the browser: no imports but the page's own.
 */
import { escapeHtml } from './format.js';

export interface StateConfig {
  initial?: string;
  type?: string;
  states?: Record<string, StateConfig>;
  on?: Record<string, unknown>;
  always?: unknown;
  after?: Record<string, unknown>;
  invoke?: unknown;
  entry?: unknown;
}

/**
 * Paths of the active states of `value`, dot-joined, ancestors included:
 * `{open: {flush: 'writing', writes: 'flowing'}}` gives open, open.flush,
 * open.flush.writing, open.writes and open.writes.flowing.
 */
export function activePaths(value: unknown, prefix = ''): Set<string> {
  const paths = new Set<string>();
  if (typeof value === 'string') paths.add(prefix + value);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      paths.add(prefix + key);
      for (const path of activePaths(child, `${prefix}${key}.`)) paths.add(path);
    }
  }
  return paths;
}

/** HTML for `definition` (a machine config) with the states of `value` highlighted; a note when there is none. */
export function drawDiagram(definition: unknown, value: unknown): string {
  if (typeof definition !== 'object' || definition === null) return '<p class="muted">No machine definition received yet.</p>';
  const root = definition as StateConfig & { id?: string };
  const active = activePaths(value);
  const own = transitions(root);
  return `<div class="machine">
  <div class="machine-name">${escapeHtml(root.id ?? 'machine')}</div>${own === '' ? '' : `\n  <ul class="transitions">${own}</ul>`}
  ${children(root, '', active)}
</div>`;
}

function children(config: StateConfig, prefix: string, active: Set<string>): string {
  const states = config.states ?? {};
  const keys = lifecycleOrder(config);
  if (keys.length === 0) return '';
  const parallel = config.type === 'parallel';
  const boxes = keys.map((key) => box(key, states[key], prefix + key, !parallel && key === config.initial, parallel, active)).join('');
  return `<div class="states${parallel ? ' regions' : ''}">${boxes}</div>`;
}

/**
 * A compound state's children in the order a run meets them: the initial
 * one, then each one first targeted by those before it (breadth first), then
 * any left. The config arrives with its keys sorted, which says nothing. A
 * parallel state's regions are all entered at once: they keep the order sent.
 */
export function lifecycleOrder(config: StateConfig): string[] {
  const states = config.states ?? {};
  const keys = Object.keys(states);
  const order = config.initial !== undefined && config.initial in states ? [config.initial] : [];
  for (let i = 0; i < order.length; i++) {
    for (const target of targetsWithin(states[order[i]])) {
      const sibling = target.split('.')[0];
      if (sibling in states && !order.includes(sibling)) order.push(sibling);
    }
  }
  return [...order, ...keys.filter((key) => !order.includes(key))];
}

/** Every transition target of a state and its descendants, shortened (see shortTarget). */
function targetsWithin(config: StateConfig): string[] {
  const specs: unknown[] = [...Object.values(config.on ?? {}), config.always, ...Object.values(config.after ?? {})];
  for (const invoke of list(config.invoke)) specs.push((invoke as { onDone?: unknown }).onDone, (invoke as { onError?: unknown }).onError);
  const own = specs.flatMap((spec) => list(spec)).flatMap((item) => list(typeof item === 'string' ? item : (item as { target?: unknown }).target).map((target) => shortTarget(String(target))));
  return [...own, ...Object.values(config.states ?? {}).flatMap(targetsWithin)];
}

function box(key: string, config: StateConfig, path: string, initial: boolean, region: boolean, active: Set<string>): string {
  const parallel = config.type === 'parallel';
  const classes = ['state', active.has(path) ? 'active' : '', initial ? 'initial' : '', region ? 'region' : '', parallel ? 'parallel' : '', config.type === 'final' ? 'final' : '']
    .filter(Boolean)
    .join(' ');
  const list = transitions(config);
  const mark = initial ? '<span class="initial-mark" title="initial state">●</span> ' : '';
  const kind = parallel ? ' <span class="parallel-mark" title="parallel state: every region is active at once">parallel</span>' : region ? ' <span class="region-mark">region</span>' : '';
  return `<div class="${classes}" data-state="${escapeHtml(path)}">
  <div class="state-name">${mark}${escapeHtml(key)}${kind}</div>${list === '' ? '' : `<ul class="transitions">${list}</ul>`}${children(config, `${path}.`, active)}
</div>`;
}

/** `<li>`s for every transition of a state: `on`, `always`, `after`, and the invoked actor's onDone/onError. */
function transitions(config: StateConfig): string {
  const items: string[] = [];
  const add = (label: string, spec: unknown): void => {
    for (const edge of edges(spec)) items.push(`<li><span class="event">${escapeHtml(label)}</span> → ${escapeHtml(edge)}</li>`);
  };
  for (const invoke of list(config.invoke)) {
    const { src, onDone, onError } = invoke as { src?: unknown; onDone?: unknown; onError?: unknown };
    items.push(`<li class="invoke">invokes ${escapeHtml(name(src))}</li>`);
    if (onDone !== undefined) add('done', onDone);
    if (onError !== undefined) add('error', onError);
  }
  for (const [event, spec] of Object.entries(config.on ?? {})) add(event, spec);
  if (config.always !== undefined) add('always', config.always);
  for (const [delay, spec] of Object.entries(config.after ?? {})) add(`after ${delay}`, spec);
  return items.join('');
}

/** One text per transition: `target [guard]`, or `(stays) [guard]` when it only runs actions. */
function edges(spec: unknown): string[] {
  return list(spec).map((item) => {
    const transition = typeof item === 'string' ? { target: item } : (item as { target?: unknown; guard?: unknown });
    const targets = list(transition.target).map((target) => shortTarget(String(target)));
    const guard = transition.guard === undefined ? '' : ` [${name(transition.guard)}]`;
    return `${targets.length === 0 ? '(stays)' : targets.join(', ')}${guard}`;
  });
}

/** `#node.open` → `open`; `.child` → `child`. */
function shortTarget(target: string): string {
  if (target.startsWith('#')) return target.split('.').slice(1).join('.') || target.slice(1);
  return target.startsWith('.') ? target.slice(1) : target;
}

function name(thing: unknown): string {
  if (typeof thing === 'string') return thing;
  if (typeof thing === 'object' && thing !== null && typeof (thing as { type?: unknown }).type === 'string') return (thing as { type: string }).type;
  return '?';
}

function list(thing: unknown): unknown[] {
  if (thing === undefined || thing === null) return [];
  return Array.isArray(thing) ? thing : [thing];
}
