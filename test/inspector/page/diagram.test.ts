/** The machine diagram, drawn from the node machine's own config as --inspect sends it. */
import { describe, expect, it } from 'vitest';
import { nodeMachine } from '../../../src/actors/nodeMachine.js';
import { activePaths, drawDiagram, lifecycleOrder, type StateConfig } from '../../../src/inspector/page/diagram.js';

/** The config as it travels: JSON, functions as `{type: name}` (@statelyai/inspect's safeReplacer). */
const sent = JSON.parse(JSON.stringify(nodeMachine.config, (_key, value: unknown) => (typeof value === 'function' ? { type: value.name } : value))) as StateConfig;

/** data-state of every highlighted box, in document order. */
const highlighted = (html: string): string[] => [...html.matchAll(/class="state active[^"]*" data-state="([^"]+)"/g)].map((match) => match[1]);

describe('drawDiagram', () => {
  it('highlights the states of the value, parents included, and only those', () => {
    expect(highlighted(drawDiagram(sent, { flushing: 'writing' }))).toEqual(['flushing', 'flushing.writing']);
    expect(highlighted(drawDiagram(sent, 'ready'))).toEqual(['ready']);
    expect([...activePaths({ flushing: 'backoff' })]).toEqual(['flushing', 'flushing.backoff']);
  });

  it('draws every state, in the order a run meets them, with its transitions', () => {
    const html = drawDiagram(sent, 'ready');
    const states = [...html.matchAll(/data-state="([^"]+)"/g)].map((match) => match[1]);
    expect(states).toEqual(['uninitialized', 'recovering', 'ready', 'flushing', 'flushing.writing', 'flushing.written', 'flushing.backoff']);
    expect(lifecycleOrder(sent)).toEqual(['uninitialized', 'recovering', 'ready', 'flushing']);
    expect(html).toContain('<span class="event">always</span> → recovering [initRequested]');
    expect(html).toContain('invokes openStore');
    expect(html).toContain('<span class="event">done</span> → ready');
    expect(html).toContain('<span class="event">after flushRetry</span> → writing');
    expect(html).toContain('<span class="event">always</span> → ready');
  });

  it('says so when no definition arrived', () => {
    expect(drawDiagram(null, 'ready')).toContain('No machine definition');
  });
});
