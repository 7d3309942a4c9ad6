/**
 * A Mermaid `stateDiagram-v2` generated from an xstate v5 machine definition,
 * so the picture of the node machine cannot drift from the code.
 *
 * The walk starts at `machine.root` and visits state nodes in definition
 * order, so the same machine always gives the same text:
 *
 * - every state is declared as `state "<key>" as <id>`, where `<id>` is its
 *   path joined with `_` (Mermaid ids admit no dots or dashes); compound and
 *   parallel states become composite blocks (parallel regions are separated
 *   by `--`), a state that invokes actors gets the description
 *   `invoke <src>`;
 * - a compound state's initial child is drawn as `[*] --> child` inside its
 *   block, a final state as `state --> [*]`;
 * - every other transition is written at the top level, after all blocks:
 *   Mermaid files a state under the last composite block that mentions it, so
 *   an edge written inside a block could move a state out of its parent.
 *   Labels: the event type for `on` transitions, `onDone` / `onError` /
 *   `onSnapshot` for an invoked actor's events (and `onDone` for a compound
 *   state reaching a final child), `after <delay>` for delayed transitions,
 *   `always` for eventless ones, and the guard in brackets: `event [guard]`,
 *   or just `[guard]` for a guarded eventless transition. A transition
 *   without a target (actions only) is drawn as a self-loop.
 *
 * Mermaid labels cannot contain `:`, `;` or line breaks, and state labels
 * cannot contain `"`; those characters are replaced.
 */
import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from 'xstate';

/** Words that start a statement in Mermaid's state diagram grammar. */
const RESERVED_IDS = new Set([
  'state', 'note', 'class', 'classdef', 'style', 'direction', 'click', 'hide', 'scale', 'end', 'acctitle', 'accdescr',
]);

const INDENT = '  ';

/** Renders `machine` as Mermaid `stateDiagram-v2` text (no trailing newline). */
export function toMermaid(machine: AnyStateMachine): string {
  const root = machine.root as AnyStateNode;
  const ids = assignIds(root);
  const idOf = (node: AnyStateNode): string => ids.get(node)!;

  const lines: string[] = ['stateDiagram-v2'];
  // The root is the diagram itself, unless it has transitions or invokes of
  // its own: then it is drawn as an outer composite state so they have a source.
  const rootIsDrawn = hasOwnBehaviour(root);
  if (rootIsDrawn) {
    lines.push(`${INDENT}[*] --> ${idOf(root)}`);
    declareState(root, 1, idOf, lines);
  } else {
    writeBlockBody(root, 1, idOf, lines);
  }

  for (const node of allNodes(root)) {
    for (const edge of edgesFrom(node)) {
      const targets = edge.targets.length > 0 ? edge.targets : [node];
      for (const target of targets) {
        lines.push(`${INDENT}${idOf(node)} --> ${idOf(target)} : ${edge.label}`);
      }
    }
  }
  return lines.join('\n');
}

/** Mermaid ids: the state's path joined with `_`, made unique and never a keyword. */
function assignIds(root: AnyStateNode): Map<AnyStateNode, string> {
  const ids = new Map<AnyStateNode, string>();
  const used = new Set<string>();
  for (const node of allNodes(root)) {
    const path = [sanitizeId(root.key), ...node.path.map(sanitizeId)];
    let base = node === root ? path[0] : path.slice(1).join('_');
    if (RESERVED_IDS.has(base.toLowerCase())) base = `${base}_`;
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}_${n}`;
    used.add(id);
    ids.set(node, id);
  }
  return ids;
}

function sanitizeId(text: string): string {
  const id = text.replace(/[^A-Za-z0-9_]/g, '_');
  return id === '' ? '_' : id;
}

/** The node and its descendants, depth first, children in definition order. */
function allNodes(node: AnyStateNode): AnyStateNode[] {
  return [node, ...children(node).flatMap(allNodes)];
}

function children(node: AnyStateNode): AnyStateNode[] {
  return Object.values(node.states) as AnyStateNode[];
}

function hasOwnBehaviour(node: AnyStateNode): boolean {
  return node.transitions.size > 0 || (node.always?.length ?? 0) > 0 || node.invoke.length > 0;
}

/** `state "key" as id`, its description, and its block when it has children. */
function declareState(node: AnyStateNode, depth: number, idOf: (node: AnyStateNode) => string, lines: string[]): void {
  const pad = INDENT.repeat(depth);
  const id = idOf(node);
  const name = stateLabel(node);
  if (children(node).length === 0) {
    lines.push(`${pad}state "${name}" as ${id}`);
  } else {
    lines.push(`${pad}state "${name}" as ${id} {`);
    writeBlockBody(node, depth + 1, idOf, lines);
    lines.push(`${pad}}`);
  }
  for (const invoked of node.invoke) {
    lines.push(`${pad}${id} : invoke ${cleanLabel(invokeName(invoked))}`);
  }
  if (node.type === 'final') lines.push(`${pad}${id} --> [*]`);
}

/** The inside of a composite block (or the whole diagram for an undrawn root). */
function writeBlockBody(node: AnyStateNode, depth: number, idOf: (node: AnyStateNode) => string, lines: string[]): void {
  const pad = INDENT.repeat(depth);
  const kids = children(node);
  if (node.type === 'parallel') {
    kids.forEach((region, index) => {
      if (index > 0) lines.push(`${pad}--`);
      declareState(region, depth, idOf, lines);
    });
    return;
  }
  for (const target of node.type === 'compound' ? node.initial.target : []) {
    lines.push(`${pad}[*] --> ${idOf(target)}`);
  }
  for (const kid of kids) declareState(kid, depth, idOf, lines);
}

function stateLabel(node: AnyStateNode): string {
  const name = node.key.replace(/"/g, "'").replace(/[\r\n]+/g, ' ');
  if (node.type === 'history') return `${name} (${node.history === 'deep' ? 'deep ' : ''}history)`;
  return name;
}

function invokeName(invoked: { id: string; src: unknown }): string {
  return typeof invoked.src === 'string' ? invoked.src : invoked.id;
}

interface Edge {
  label: string;
  targets: readonly AnyStateNode[];
}

/** The node's own transitions in a fixed order: `on` events, done/error/snapshot, `after`, then `always`. */
function edgesFrom(node: AnyStateNode): Edge[] {
  const names = eventNames(node);
  const edges: Edge[] = [];
  for (const [eventType, transitions] of node.transitions) {
    for (const transition of transitions) {
      edges.push({ label: labelFor(names.get(eventType) ?? eventType, transition), targets: transition.target ?? [] });
    }
  }
  for (const transition of node.always ?? []) {
    const guard = guardName(transition.guard);
    edges.push({ label: guard === null ? 'always' : `[${cleanLabel(guard)}]`, targets: transition.target ?? [] });
  }
  return edges;
}

/** Display names for the xstate-internal event types this node listens to. */
function eventNames(node: AnyStateNode): Map<string, string> {
  const names = new Map<string, string>();
  const several = node.invoke.length > 1;
  for (const invoked of node.invoke) {
    const prefix = several ? `${invokeName(invoked)} ` : '';
    names.set(`xstate.done.actor.${invoked.id}`, `${prefix}onDone`);
    names.set(`xstate.error.actor.${invoked.id}`, `${prefix}onError`);
    names.set(`xstate.snapshot.${invoked.id}`, `${prefix}onSnapshot`);
  }
  names.set(`xstate.done.state.${node.id}`, 'onDone');
  for (const delayed of node.after) {
    const delay = delayed.delay;
    const name = typeof delay === 'number' ? `${delay}ms` : typeof delay === 'string' ? delay : delay.name || 'delay';
    names.set(delayed.eventType, `after ${name}`);
  }
  return names;
}

function labelFor(eventName: string, transition: AnyTransitionDefinition): string {
  const guard = guardName(transition.guard);
  return cleanLabel(guard === null ? eventName : `${eventName} [${guard}]`);
}

/**
 * A guard as text: its name (`'isReady'` or `{ type: 'isReady' }`),
 * `and(a, b)` / `or(a, b)` / `not(a)` for combinators, `stateIn(...)`, or
 * an inline function's name.
 */
function guardName(guard: unknown): string | null {
  if (guard === undefined || guard === null) return null;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') {
    const combinator = guard as { name: string; guards?: unknown[]; stateValue?: unknown };
    if (Array.isArray(combinator.guards)) {
      return `${combinator.name}(${combinator.guards.map((inner) => guardName(inner) ?? 'guard').join(', ')})`;
    }
    if (combinator.stateValue !== undefined) return `stateIn(${JSON.stringify(combinator.stateValue)})`;
    return combinator.name || 'guard';
  }
  if (typeof guard === 'object' && typeof (guard as { type?: unknown }).type === 'string') {
    return (guard as { type: string }).type;
  }
  return 'guard';
}

/** Mermaid ends a label at `:`, `;` or a line break. */
function cleanLabel(text: string): string {
  return text.replace(/[:;]/g, '_').replace(/[\r\n]+/g, ' ');
}

/** Where `npm run diagram` writes the node machine's diagram, relative to the repository root. */
export const NODE_MACHINE_DOC = 'docs/node-machine.md';

/**
 * The whole of `docs/node-machine.md`: a heading, how to read the diagram,
 * and the diagram of `nodeMachine` in a mermaid fence. Regenerate it with
 * `npm run diagram`; a test fails when the file and the machine disagree.
 */
export function nodeMachineDocument(machine: AnyStateMachine): string {
  return [
    '# The node state machine',
    '',
    '<!-- Generated by `npm run diagram` from src/actors/nodeMachine.ts. Do not edit by hand:',
    '     test/actors/machineDiagram.test.ts fails when this file and the machine disagree. -->',
    '',
    'Each Maelstrom node is one xstate actor running `nodeMachine`',
    '([src/actors/nodeMachine.ts](../src/actors/nodeMachine.ts)). This diagram is',
    'generated from the machine definition itself (`toMermaid` in',
    '[src/actors/machineDiagram.ts](../src/actors/machineDiagram.ts)), so it shows',
    'exactly the states and transitions the code has.',
    '',
    'How to read the labels:',
    '',
    '- `requests` and other plain names are events sent to the actor; a self-loop',
    '  is a transition that only runs actions and stays in its state.',
    '- `[guard]` is an eventless (`always`) transition taken as soon as the guard',
    '  holds; `always` is an unguarded one; `event [guard]` is a guarded event.',
    '- `onDone` / `onError` follow the actor invoked by the state (named in the',
    '  state as `invoke <actor>`) resolving or failing.',
    '- `after <delay>` is a delayed transition, with the delay named in the',
    '  machine\'s `delays`.',
    '- `xstate.done.actor.<id>` / `xstate.error.actor.<id>` are the end of a child',
    '  actor the machine spawns from an action (`walSync`: the WAL\'s fdatasync, in',
    '  any state, so the transitions sit on the outer `node` state).',
    '',
    '```mermaid',
    toMermaid(machine),
    '```',
    '',
  ].join('\n');
}
