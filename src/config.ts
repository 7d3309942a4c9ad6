/**
 * Command-line flags and their environment equivalents. A flag wins over its
 * environment variable, which wins over the default.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_BLOCK_CACHE_BYTES } from './storage/cache/blockCache.js';
import { DEFAULT_MAX_OPEN_FILES } from './storage/cache/fileHandleCache.js';

/** `memtable-node inspector` listens where a bare `--inspect` sends. */
export const DEFAULT_INSPECTOR_HOST = '127.0.0.1';
export const DEFAULT_INSPECTOR_PORT = 8080;
export const DEFAULT_INSPECT_URL = `ws://localhost:${DEFAULT_INSPECTOR_PORT}`;

export interface Config {
  /** `run` serves stdin; `replay` reproduces a logged run from its debug log; `inspector` serves the local inspector. */
  command: { kind: 'run' } | { kind: 'replay'; logFile: string } | { kind: 'inspector'; host: string; port: number };
  /** undefined: a fresh temporary folder, removed at exit. */
  dataDir: string | undefined;
  memtableMaxBytes: number;
  maxImmutable: number;
  /** Nodes one process may host (open stores); an init past it is answered 10. */
  maxNodes: number;
  /** SSTable descriptors the process keeps open at most; the rest are opened again when read. */
  maxOpenFiles: number;
  /** Bytes of SSTable data blocks the process keeps in memory. */
  blockCacheBytes: number;
  logLevel: string;
  maxLineBytes: number;
  /** With --data-dir: fdatasync every WAL group commit ('always') or leave it to the OS ('none'). */
  sync: 'always' | 'none';
  /** WebSocket URL of a Stately inspector to stream the node machines to, if any. */
  inspect: string | undefined;
}

export const HELP = `memtable-node: a Maelstrom storage node (LSM write path: skip-list MemTable,
write-ahead log, SSTables)

Usage: memtable-node [options]
       memtable-node replay LOGFILE [--log-level LEVEL] [--inspect [URL]]
       memtable-node inspector [--port N] [--host HOST]

Reads Maelstrom JSON messages, one per line, on stdin; writes replies on stdout
and JSON logs on stderr. Exits 0 when stdin ends, after finishing its work.

Options (each also read from the environment variable shown):
  --data-dir DIR             keep files under DIR/<node_id>/, with a write-ahead
                             log (MEMTABLE_DATA_DIR); default: a fresh temporary
                             folder, removed at exit, and no log
  --memtable-max-bytes N     freeze the active MemTable when its accounted size
                             reaches N bytes (MEMTABLE_MAX_BYTES, default 4194304)
  --max-immutable N          frozen MemTables allowed to wait for a flush before
                             writes stall (MEMTABLE_MAX_IMMUTABLE, default 4)
  --sync always|none         with --data-dir: fdatasync the write-ahead log before
                             replies leave (always), or leave flushing it to the
                             OS (none: a machine crash may lose acknowledged
                             writes; a process crash does not) (MEMTABLE_SYNC,
                             default always)
  --max-nodes N              nodes (distinct initialized dests) this process may
                             host; an init past them is answered error 10
                             (MEMTABLE_MAX_NODES, default 256)
  --max-open-files N         SSTable files kept open at once, across all nodes;
                             the least recently read is closed and opened again
                             when next read. Keep it well under ulimit -n
                             (MEMTABLE_MAX_OPEN_FILES, default 500)
  --block-cache-bytes N      SSTable data blocks kept in memory, across all
                             nodes, least recently used dropped first
                             (MEMTABLE_BLOCK_CACHE_BYTES, default 33554432)
  --max-line-bytes N         skip input lines longer than N bytes
                             (MEMTABLE_MAX_LINE_BYTES, default 67108864)
  --log-level LEVEL          fatal, error, warn, info, debug, trace or silent
                             (LOG_LEVEL, default info)
  --inspect [URL]            stream the node state machines and LSM summaries
                             over WebSocket to \`memtable-node inspector\` or a
                             Stately inspector relay (MEMTABLE_INSPECT,
                             default URL ${DEFAULT_INSPECT_URL})
  -h, --help                 show this help

replay LOGFILE reads a log written at --log-level debug, feeds the lines that
run received to a fresh node with the same settings, in the same batches and
with flushes at the same points, and prints its replies on stdout; with
--inspect it streams the replayed nodes as a run does.

inspector serves a page that draws every node streaming to it live (state
machine, MemTables, levels, flushes, counters, events); everything it needs
is in the package, so it works with no network:
  --port N                   listen on port N (default ${DEFAULT_INSPECTOR_PORT})
  --host HOST                listen on HOST (default ${DEFAULT_INSPECTOR_HOST})
Then open http://HOST:N/ and start nodes with --inspect ws://HOST:N.
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

/** `--inspect` takes an optional value: alone (or before another flag) it means the default URL. */
function withInspectDefault(argv: string[]): string[] {
  return argv.map((arg, i) => (arg === '--inspect' && (argv[i + 1] === undefined || argv[i + 1].startsWith('-')) ? `--inspect=${DEFAULT_INSPECT_URL}` : arg));
}

/** Parses argv (without node and script) and env; throws ConfigError for bad values. Returns 'help' for --help. */
export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): Config | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: withInspectDefault(argv),
      strict: true,
      allowPositionals: true,
      options: {
        'data-dir': { type: 'string' },
        'memtable-max-bytes': { type: 'string' },
        'max-immutable': { type: 'string' },
        'max-nodes': { type: 'string' },
        'max-open-files': { type: 'string' },
        'block-cache-bytes': { type: 'string' },
        'max-line-bytes': { type: 'string' },
        sync: { type: 'string' },
        'log-level': { type: 'string' },
        inspect: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const flags = parsed.values;
  if (flags.help) return 'help';

  const [subcommand, logFile, ...extra] = parsed.positionals;
  let command: Config['command'] = { kind: 'run' };
  if (subcommand === 'replay') {
    if (logFile === undefined || extra.length > 0) throw new ConfigError('replay takes exactly one LOGFILE');
    command = { kind: 'replay', logFile };
  } else if (subcommand === 'inspector') {
    if (logFile !== undefined) throw new ConfigError(`inspector takes no arguments, got ${JSON.stringify(logFile)}`);
    const port = Number(flags.port ?? DEFAULT_INSPECTOR_PORT);
    if (!/^\d+$/.test(flags.port ?? '0') || port > 65535) throw new ConfigError(`--port must be a port number (0 to 65535), got ${JSON.stringify(flags.port)}`);
    command = { kind: 'inspector', host: flags.host ?? DEFAULT_INSPECTOR_HOST, port };
  } else if (subcommand !== undefined) {
    throw new ConfigError(`unknown command ${JSON.stringify(subcommand)}`);
  }
  if (command.kind !== 'inspector' && (flags.port !== undefined || flags.host !== undefined)) throw new ConfigError('--port and --host belong to the inspector command');

  const logLevel = flags['log-level'] ?? env.LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.has(logLevel)) throw new ConfigError(`--log-level must be one of ${[...LOG_LEVELS].join(', ')}`);
  const dataDir = flags['data-dir'] ?? env.MEMTABLE_DATA_DIR;
  const sync = flags.sync ?? env.MEMTABLE_SYNC ?? 'always';
  if (sync !== 'always' && sync !== 'none') throw new ConfigError(`--sync must be always or none, got ${JSON.stringify(sync)}`);
  const inspect = flags.inspect ?? env.MEMTABLE_INSPECT;
  if (inspect !== undefined && !/^wss?:\/\//.test(inspect)) throw new ConfigError(`--inspect takes a ws:// or wss:// URL, got ${JSON.stringify(inspect)}`);
  return {
    command,
    dataDir: dataDir === '' ? undefined : dataDir,
    memtableMaxBytes: positiveInteger('--memtable-max-bytes', flags['memtable-max-bytes'] ?? env.MEMTABLE_MAX_BYTES ?? '4194304'),
    maxImmutable: positiveInteger('--max-immutable', flags['max-immutable'] ?? env.MEMTABLE_MAX_IMMUTABLE ?? '4'),
    maxNodes: positiveInteger('--max-nodes', flags['max-nodes'] ?? env.MEMTABLE_MAX_NODES ?? '256'),
    blockCacheBytes: positiveInteger('--block-cache-bytes', flags['block-cache-bytes'] ?? env.MEMTABLE_BLOCK_CACHE_BYTES ?? String(DEFAULT_BLOCK_CACHE_BYTES)),
    maxOpenFiles: positiveInteger('--max-open-files', flags['max-open-files'] ?? env.MEMTABLE_MAX_OPEN_FILES ?? String(DEFAULT_MAX_OPEN_FILES)),
    maxLineBytes: positiveInteger('--max-line-bytes', flags['max-line-bytes'] ?? env.MEMTABLE_MAX_LINE_BYTES ?? '67108864'),
    logLevel,
    sync,
    inspect: inspect === '' ? undefined : inspect,
  };
}
