/**
 * Command-line flags and their environment equivalents. A flag wins over its
 * environment variable, which wins over the default.
 */
import { parseArgs } from 'node:util';

export interface Config {
  /** undefined: a fresh temporary folder, removed at exit. */
  dataDir: string | undefined;
  memtableMaxBytes: number;
  maxImmutable: number;
  logLevel: string;
  maxLineBytes: number;
  /** With --data-dir: fdatasync every WAL group commit ('always') or leave it to the OS ('none'). */
  sync: 'always' | 'none';
}

export const HELP = `memtable-node: a Maelstrom storage node (LSM write path: skip-list MemTable, SSTables)

Usage: memtable-node [options]

Reads Maelstrom JSON messages, one per line, on stdin; writes replies on stdout
and JSON logs on stderr. Exits 0 when stdin ends, after finishing its work.

Options (each also read from the environment variable shown):
  --data-dir DIR             keep files under DIR/<node_id>/ (MEMTABLE_DATA_DIR)
                             default: a fresh temporary folder, removed at exit
  --memtable-max-bytes N     freeze the active MemTable when its accounted size
                             reaches N bytes (MEMTABLE_MAX_BYTES, default 4194304)
  --max-immutable N          frozen MemTables allowed to wait for a flush before
                             writes stall (MEMTABLE_MAX_IMMUTABLE, default 4)
  --sync always|none         with --data-dir: fdatasync the write-ahead log before
                             replies leave (always), or leave flushing it to the
                             OS (none: a machine crash may lose acknowledged
                             writes; a process crash does not) (MEMTABLE_SYNC,
                             default always)
  --max-line-bytes N         skip input lines longer than N bytes
                             (MEMTABLE_MAX_LINE_BYTES, default 67108864)
  --log-level LEVEL          fatal, error, warn, info, debug, trace or silent
                             (LOG_LEVEL, default info)
  -h, --help                 show this help
`;

export class ConfigError extends Error {}

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError(`${name} must be a positive integer, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** Parses argv (without node and script) and env; throws ConfigError for bad values. Returns 'help' for --help. */
export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): Config | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        'data-dir': { type: 'string' },
        'memtable-max-bytes': { type: 'string' },
        'max-immutable': { type: 'string' },
        'max-line-bytes': { type: 'string' },
        sync: { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const flags = parsed.values;
  if (flags.help) return 'help';

  const logLevel = flags['log-level'] ?? env.LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.has(logLevel)) throw new ConfigError(`--log-level must be one of ${[...LOG_LEVELS].join(', ')}`);
  const dataDir = flags['data-dir'] ?? env.MEMTABLE_DATA_DIR;
  const sync = flags.sync ?? env.MEMTABLE_SYNC ?? 'always';
  if (sync !== 'always' && sync !== 'none') throw new ConfigError(`--sync must be always or none, got ${JSON.stringify(sync)}`);
  return {
    dataDir: dataDir === '' ? undefined : dataDir,
    memtableMaxBytes: positiveInteger('--memtable-max-bytes', flags['memtable-max-bytes'] ?? env.MEMTABLE_MAX_BYTES ?? '4194304'),
    maxImmutable: positiveInteger('--max-immutable', flags['max-immutable'] ?? env.MEMTABLE_MAX_IMMUTABLE ?? '4'),
    maxLineBytes: positiveInteger('--max-line-bytes', flags['max-line-bytes'] ?? env.MEMTABLE_MAX_LINE_BYTES ?? '67108864'),
    logLevel,
    sync,
  };
}
