/**
 * What every offline tool shares: exit codes, the one-line usage error, and
 * output, human-readable by default and one JSON document with --json.
 */
import { parseArgs } from 'node:util';

/** Exit codes, after RocksDB's ldb: sound, damage found, bad arguments. */
export const EXIT_SOUND = 0;
export const EXIT_DAMAGED = 1;
export const EXIT_USAGE = 2;

/** A bad argument or an unreadable input: one line on stderr, exit 2. */
export class UsageError extends Error {}

/** Right arguments, but the tool cannot run now (repair on a folder a node holds): one line on stderr, no usage, exit 2. */
export class RefusedError extends Error {}

/** Where a tool writes: stdout for its report, stderr for the one line of a usage error. */
export interface ToolOutput {
  write(text: string): void;
}

export interface ToolFlags {
  [name: string]: string | boolean | undefined;
}

/**
 * Parses a tool's argv (after its name) strictly against `options`; returns
 * exactly `positionals` positionals. Throws UsageError with one line naming
 * what was typed.
 */
export function parseToolArgs(
  argv: string[],
  options: Record<string, { type: 'string' | 'boolean' }>,
  positionals: string[],
): { positionals: string[]; flags: ToolFlags } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError(usageMessage(error as Error & { code?: string }));
  }
  if (parsed.positionals.length !== positionals.length) {
    const wanted = positionals.join(' ');
    throw new UsageError(
      parsed.positionals.length < positionals.length ? `missing ${wanted}` : `unexpected argument ${JSON.stringify(parsed.positionals[positionals.length])}`,
    );
  }
  return { positionals: parsed.positionals, flags: parsed.values };
}

/** parseArgs' multi-sentence errors, as one line that names the option. */
function usageMessage(error: Error & { code?: string }): string {
  const option = /'(-[^' ]*)/.exec(error.message)?.[1] ?? '';
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      // parseArgs refuses a value that starts with '-' as ambiguous, and a missing one.
      return /ambiguous/.test(error.message)
        ? `${option} takes a value; write ${option}=VALUE for one that starts with '-'`
        : `${option} ${/argument missing/.test(error.message) ? 'needs a value' : 'takes no value'}`;
    default:
      return error.message.split('\n')[0];
  }
}

/** A key as the tools print it: JSON-quoted, so an empty key or one with spaces or control characters reads unambiguously. */
export function quoteKey(key: string | null | undefined): string {
  return key === null || key === undefined ? '-' : JSON.stringify(key);
}

/** Values longer than this many characters are cut in human output (--json prints them whole). */
const PREVIEW_CHARS = 60;

/** A value's JSON text for human eyes: whole when short, else its start and its size in bytes. */
export function previewValue(valueJson: string): string {
  if (valueJson.length <= PREVIEW_CHARS) return valueJson;
  return `${valueJson.slice(0, PREVIEW_CHARS)}... (${Buffer.byteLength(valueJson, 'utf8')} bytes)`;
}

/** Rows as columns padded to their widest cell, two spaces apart, each line indented by `indent`. */
export function table(rows: string[][], indent = '  '): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ') + '\n').join('');
}

/** `label  value` lines, labels padded to the widest. */
export function fields(pairs: Array<[string, string]>): string {
  return table(pairs, '');
}

/** `n thing` or `n things`. */
export function count(n: number, thing: string, things = `${thing}s`): string {
  return `${n} ${n === 1 ? thing : things}`;
}

/** The one JSON document a tool prints with --json. */
export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** The message of something thrown, for a report line. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
