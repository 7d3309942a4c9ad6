/** The sample cases (test/fixtures, copied from the task) run through the CLI. */
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

interface SampleCase {
  name: string;
  timeout_ms: number;
  input: object[];
  expected: Array<{ src: string; dest: string; body: Record<string, unknown> }>;
}

const fixtures = new URL('../fixtures/', import.meta.url);
const cases: SampleCase[] = readdirSync(fixtures)
  .filter((name) => name.endsWith('.json'))
  .flatMap((name) => JSON.parse(readFileSync(new URL(name, fixtures), 'utf8')) as SampleCase[]);

/** Every field of `expected` is present in `actual` with an equal value (recursively for objects). */
function matches(actual: unknown, expected: unknown): boolean {
  if (typeof expected !== 'object' || expected === null || Array.isArray(expected)) {
    return JSON.stringify(actual) === JSON.stringify(expected);
  }
  if (typeof actual !== 'object' || actual === null) return false;
  return Object.entries(expected).every(([key, value]) => matches((actual as Record<string, unknown>)[key], value));
}

describe('sample cases', () => {
  it('has cases to run', () => expect(cases.length).toBeGreaterThanOrEqual(3));

  for (const sample of cases) {
    it(sample.name, async () => {
      const run = await runCli(sample.input, { timeoutMs: sample.timeout_ms });
      expect(run.code).toBe(0);
      // Each expected envelope is matched, in order, by an output line.
      let cursor = 0;
      for (const expected of sample.expected) {
        while (cursor < run.messages.length && !matches(run.messages[cursor], expected)) cursor++;
        expect(cursor, `expected ${JSON.stringify(expected)} in\n${run.lines.join('\n')}`).toBeLessThan(run.messages.length);
        cursor++;
      }
    });
  }
});
