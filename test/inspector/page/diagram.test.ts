/** The machine diagram, drawn from the node machine's own config as --inspect sends it. */
import { describe, expect, it } from 'vitest';
import { nodeMachine } from '../../../src/actors/nodeMachine.js';
import { activePaths, drawDiagram, lifecycleOrder, type StateConfig } from '../../../src/inspector/page/diagram.js';

/** The config as it travels: JSON, functions as `{type: name}` (@statelyai/inspect's safeReplacer). */
const sent = JSON.parse(JSON.stringify(nodeMachine.config, (_key, value: unknown) => (typeof value === 'function' ? { type: value.name } : value))) as StateConfig;

/** data-state of every highlighted box, in document order. */
const highlighted = (html: string): string[] => [...html.matchAll(/class="state active[^"]*" data-state="([^"]+)"/g)].map((match) => match[1]);

/** The open state's value with its three regions. */
const open = (flush: string, compaction: string, writes: string) => ({ open: { flush, compaction, writes } });

describe('drawDiagram', () => {
  it('highlights every active leaf of a parallel state and its ancestors, and only those', () => {
    expect(highlighted(drawDiagram(sent, open('writing', 'running', 'flowing')))).toEqual([
      'open',
      'open.flush',
      'open.flush.writing',
      'open.compaction',
      'open.compaction.running',
      'open.writes',
      'open.writes.flowing',
    ]);
    expect(highlighted(drawDiagram(sent, open('backoff', 'idle', 'delayed')))).toEqual(['open', 'open.flush', 'open.flush.backoff', 'open.compaction', 'open.compaction.idle', 'open.writes', 'open.writes.delayed']);
    expect(highlighted(drawDiagram(sent, 'recovering'))).toEqual(['recovering']);
    expect([...activePaths({ open: { flush: 'idle', writes: 'flowing' } })]).toEqual(['open', 'open.flush', 'open.flush.idle', 'open.writes', 'open.writes.flowing']);
  });

  it('marks the parallel state and draws its regions side by side, none of them initial', () => {
    const html = drawDiagram(sent, open('idle', 'idle', 'flowing'));
    expect(html).toMatch(/class="state active parallel" data-state="open">\s*<div class="state-name">open <span class="parallel-mark"/);
    expect(html).toContain('<div class="states regions">');
    for (const region of ['flush', 'compaction', 'writes']) expect(html).toMatch(new RegExp(`class="state active region" data-state="open\\.${region}">`));
    // Inside a region, its initial child is marked as any compound state's.
    expect(html).toMatch(/class="state active initial" data-state="open\.flush\.idle">/);
  });

  it('draws every state, in the order a run meets them, with its transitions', () => {
    const html = drawDiagram(sent, 'recovering');
    const states = [...html.matchAll(/data-state="([^"]+)"/g)].map((match) => match[1]);
    expect(states).toEqual([
      'uninitialized',
      'recovering',
      'open',
      'open.flush',
      'open.flush.idle',
      'open.flush.writing',
      'open.flush.backoff',
      'open.compaction',
      'open.compaction.idle',
      'open.compaction.running',
      'open.compaction.backoff',
      'open.writes',
      'open.writes.flowing',
      'open.writes.delayed',
    ]);
    expect(lifecycleOrder(sent)).toEqual(['uninitialized', 'recovering', 'open']);
    expect(html).toContain('<span class="event">always</span> → recovering [initRequested]');
    expect(html).toContain('invokes openStore');
    expect(html).toContain('<span class="event">done</span> → open');
    expect(html).toContain('invokes compact');
    expect(html).toContain('<span class="event">always</span> → running [autoCompactionDue]');
    expect(html).toContain('<span class="event">after flushRetry</span> → writing');
    expect(html).toContain('<span class="event">after compactionRetry</span> → idle');
    expect(html).toContain('<span class="event">done</span> → flowing');
  });

  it('says so when no definition arrived', () => {
    expect(drawDiagram(null, 'recovering')).toContain('No machine definition');
  });
});
