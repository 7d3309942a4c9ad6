/**
 * Command-line flags and their environment equivalents, from one table
 * (OPTIONS) that drives parsing, the environment, --help and what `replay`
 * accepts. A flag wins over its environment variable, which wins over the
 * default; an empty variable counts as unset.
 *
 * Every bad flag or variable is a ConfigError whose message is one line
 * naming what the user typed (the flag, or the variable) and what is
 * allowed; the CLI prints it and exits 2.
 */
import { DEFAULT_BLOCK_CACHE_BYTES } from './storage/cache/blockCache.js';
import { type CompactionOptions, DEFAULT_COMPACTION_OPTIONS } from './storage/compaction/compactor.js';
import { DEFAULT_MAX_OPEN_FILES } from './storage/cache/fileHandleCache.js';
import { wrapWords } from './textWrap.js';
import { isTool, TOOLS, toolsHelp } from './tools/commands.js';

/** `memtable-node inspector` listens where a bare `--inspect` sends. */
export const DEFAULT_INSPECTOR_HOST = '127.0.0.1';
export const DEFAULT_INSPECTOR_PORT = 8080;
export const DEFAULT_INSPECT_URL = `ws://localhost:${DEFAULT_INSPECTOR_PORT}`;

/** LevelDB-style levels and compaction (SPEC 2b): the Store's own settings, checked here. */
export type CompactionConfig = CompactionOptions;

/** Settings a replay takes from its log when the log has them (the `starting` line); flags only stand in for missing ones. */
export interface LoggedRunSettings {
  memtableMaxBytes?: number;
  maxImmutable?: number;
  maxNodes?: number;
  /** Absent from logs of nodes that predate compaction (they never compacted). */
  compaction?: CompactionConfig;
}

export interface Config {
  /**
   * `run` serves stdin; `replay` reproduces a logged run from its debug log.
   * `flagged` holds the logged-run settings given as flags, which replay checks against the log.
   */
  command: { kind: 'run' } | { kind: 'replay'; logFile: string; flagged: LoggedRunSettings } | { kind: 'inspector'; host: string; port: number };
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
  compaction: CompactionConfig;
}

export class ConfigError extends Error {}

export interface OptionSpec {
  /** The long flag, without its dashes. */
  flag: string;
  env?: string;
  /** What the flag takes, as --help shows it; absent for a switch. `[URL]`: optional. */
  value?: string;
  /** The default as text, when there is one to show. */
  default?: string;
  help: string;
  /** Options that change nothing in `replay`, which refuses them. */
  ignoredByReplay?: boolean;
  section: 'node' | 'compaction' | 'inspector';
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Every flag, in --help order; the README's options table lists the same. */
export const OPTIONS: readonly OptionSpec[] = [
  { section: 'node', flag: 'data-dir', env: 'MEMTABLE_DATA_DIR', value: 'DIR', ignoredByReplay: true, help: 'keep files under DIR/<node_id>/, with a write-ahead log; default: a fresh temporary folder, removed at exit, and no log' },
  { section: 'node', flag: 'memtable-max-bytes', env: 'MEMTABLE_MAX_BYTES', value: 'N', default: '4194304', help: 'freeze the active MemTable when its accounted size reaches N bytes' },
  { section: 'node', flag: 'max-immutable', env: 'MEMTABLE_MAX_IMMUTABLE', value: 'N', default: '4', help: 'frozen MemTables allowed to wait for a flush before writes stall' },
  { section: 'node', flag: 'sync', env: 'MEMTABLE_SYNC', value: 'always|none', default: 'always', ignoredByReplay: true, help: 'with --data-dir: fdatasync the write-ahead log before replies leave (always), or leave flushing it to the OS (none: a machine crash may lose acknowledged writes; a process crash does not)' },
  { section: 'node', flag: 'max-nodes', env: 'MEMTABLE_MAX_NODES', value: 'N', default: '256', help: 'nodes (distinct initialized dests) this process may host; an init past them is answered error 10' },
  { section: 'node', flag: 'max-open-files', env: 'MEMTABLE_MAX_OPEN_FILES', value: 'N', default: String(DEFAULT_MAX_OPEN_FILES), help: 'SSTable files kept open at once, across all nodes; the least recently read is closed and opened again when next read. Keep it well under ulimit -n' },
  { section: 'node', flag: 'block-cache-bytes', env: 'MEMTABLE_BLOCK_CACHE_BYTES', value: 'N', default: String(DEFAULT_BLOCK_CACHE_BYTES), help: 'SSTable data blocks kept in memory, across all nodes, least recently used dropped first' },
  { section: 'node', flag: 'max-line-bytes', env: 'MEMTABLE_MAX_LINE_BYTES', value: 'N', default: '67108864', help: 'skip input lines longer than N bytes' },
  { section: 'node', flag: 'log-level', env: 'LOG_LEVEL', value: 'LEVEL', default: 'info', help: `${LOG_LEVELS.slice(0, -1).join(', ')} or ${LOG_LEVELS.at(-1)}, in any case` },
  { section: 'node', flag: 'inspect', env: 'MEMTABLE_INSPECT', value: '[URL]', help: `stream the node state machines and LSM summaries over WebSocket to \`memtable-node inspector\` or a Stately inspector relay (replay too); off by default, ${DEFAULT_INSPECT_URL} when given without a URL` },
  { section: 'node', flag: 'version', help: 'print the version and exit' },
  { section: 'node', flag: 'help', help: 'show this help' },
  { section: 'compaction', flag: 'compaction', env: 'MEMTABLE_COMPACTION', value: 'auto|manual', default: DEFAULT_COMPACTION_OPTIONS.mode, ignoredByReplay: true, help: 'compact when a trigger fires (auto), or only on request (manual)' },
  { section: 'compaction', flag: 'level-base-bytes', env: 'MEMTABLE_LEVEL_BASE_BYTES', value: 'N', default: String(DEFAULT_COMPACTION_OPTIONS.levelBaseBytes), ignoredByReplay: true, help: 'bytes L1 may hold' },
  { section: 'compaction', flag: 'level-multiplier', env: 'MEMTABLE_LEVEL_MULTIPLIER', value: 'N', default: String(DEFAULT_COMPACTION_OPTIONS.levelMultiplier), ignoredByReplay: true, help: 'each level below L1 holds N times the one above (at least 2)' },
  { section: 'compaction', flag: 'target-file-bytes', env: 'MEMTABLE_TARGET_FILE_BYTES', value: 'N', default: String(DEFAULT_COMPACTION_OPTIONS.targetFileBytes), ignoredByReplay: true, help: 'cut compaction output files at about N bytes' },
  { section: 'compaction', flag: 'l0-compaction-trigger', env: 'MEMTABLE_L0_COMPACTION_TRIGGER', value: 'N', default: String(DEFAULT_COMPACTION_OPTIONS.l0CompactionTrigger), ignoredByReplay: true, help: 'L0 files that start a compaction' },
  { section: 'compaction', flag: 'l0-slowdown-trigger', env: 'MEMTABLE_L0_SLOWDOWN_TRIGGER', value: 'N', default: String(DEFAULT_COMPACTION_OPTIONS.l0SlowdownTrigger), ignoredByReplay: true, help: 'L0 files at which writes are slowed' },
  { section: 'compaction', flag: 'l0-stop-trigger', env: 'MEMTABLE_L0_STOP_TRIGGER', value: 'N', default: String(DEFAULT_COMPACTION_OPTIONS.l0StopTrigger), ignoredByReplay: true, help: 'L0 files at which writes wait (compaction <= slowdown <= stop)' },
  { section: 'compaction', flag: 'max-subcompactions', env: 'MEMTABLE_MAX_SUBCOMPACTIONS', value: 'N', default: String(DEFAULT_COMPACTION_OPTIONS.maxSubcompactions), ignoredByReplay: true, help: 'split a large compaction into up to N key ranges run side by side, each in a worker thread of its own (1: never split)' },
  { section: 'inspector', flag: 'port', env: 'MEMTABLE_INSPECTOR_PORT', value: 'N', default: String(DEFAULT_INSPECTOR_PORT), help: 'the inspector listens on port N (0: any free port)' },
  { section: 'inspector', flag: 'host', env: 'MEMTABLE_INSPECTOR_HOST', value: 'HOST', default: DEFAULT_INSPECTOR_HOST, help: 'the inspector listens on HOST' },
];

const OPTION_BY_FLAG = new Map(OPTIONS.map((option) => [option.flag, option]));

const SECTION_TITLES: Record<OptionSpec['section'], string> = {
  node: 'Options (each also read from the environment variable shown; an empty\nvariable counts as unset):',
  compaction: 'Compaction settings (levels L0 to L6, LevelDB style; docs/COMPACTION.md):',
  inspector: 'memtable-node inspector serves a page that draws every node streaming to it\nlive (state machine, MemTables, levels, flushes, compactions, counters,\nevents); everything it needs is in the package, so it works with no network.\nStart it first, open http://HOST:N/, then start nodes with --inspect:',
};


const HELP_COLUMN = 29;

function helpEntry(option: OptionSpec): string {
  const names = `  ${option.flag === 'help' ? '-h, ' : ''}--${option.flag}${option.value ? ` ${option.value}` : ''}`;
  const origin = [option.env, option.default && `default ${option.default}`].filter(Boolean).join(', ');
  const [first, ...rest] = wrapWords(origin ? `${option.help} (${origin})` : option.help, 80 - HELP_COLUMN);
  const head = names.length < HELP_COLUMN - 1 ? `${names.padEnd(HELP_COLUMN)}${first}` : `${names}\n${' '.repeat(HELP_COLUMN)}${first}`;
  return [head, ...rest.map((line) => ' '.repeat(HELP_COLUMN) + line)].join('\n');
}

export const HELP = `memtable-node: a Maelstrom storage node (LSM write path: skip-list MemTable,
write-ahead log, SSTables)

Usage: memtable-node [options]
       memtable-node replay LOGFILE [--log-level LEVEL] [--max-line-bytes N]
                                    [--max-open-files N] [--block-cache-bytes N]
                                    [--inspect [URL]]
       memtable-node inspector [--port N] [--host HOST]
       memtable-node TOOL ARGS (offline tools, below)
       memtable-node --version

Reads Maelstrom JSON messages, one per line, on stdin; writes replies on stdout
and JSON logs on stderr. Exits 0 when stdin ends, after finishing its work; a
bad flag, variable or data folder is one line on stderr and exit 2.

${(['node', 'compaction', 'inspector'] as const)
  .map((section) => [SECTION_TITLES[section], ...OPTIONS.filter((option) => option.section === section).map(helpEntry)].join('\n'))
  .join('\n\n')}

replay LOGFILE reads a log written at --log-level debug, feeds the lines that
run received to a fresh node with the same settings, in the same batches and
with flushes at the same points, and prints its replies on stdout; with
--inspect it streams the replayed nodes as a run does. It takes
--memtable-max-bytes, --max-immutable, --max-nodes and the compaction settings
from the log, and refuses flags that would change nothing (--data-dir, --sync
and the compaction settings). A run that began on a non-empty store is
replayed from an empty one, with a warning: its replies will differ.

Offline tools look into a node's folder (DIR is DATA_DIR/<node_id>) without
starting a node; all but repair change nothing. Human-readable output, or one
JSON document with --json; exit 0 sound, 1 damage found, 2 bad arguments.
See docs/TOOLS.md.
${toolsHelp()}`;

/** A setting's text and where it came from: `--flag` or the variable's name, as messages name it. */
interface Given {
  text: string;
  from: string;
}

/** Splits argv into option texts by flag (the last of repeats wins) and positionals; throws ConfigError for unknown or valueless flags. */
function scanArgv(argv: string[]): { flags: Map<string, string>; positionals: string[] } {
  const flags = new Map<string, string>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h') {
      flags.set('help', '');
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const equals = arg.indexOf('=');
    const name = arg.startsWith('--') ? arg.slice(2, equals === -1 ? undefined : equals) : '';
    const option = OPTION_BY_FLAG.get(name);
    if (option === undefined) throw new ConfigError(`unknown option ${arg}; memtable-node --help lists the options`);
    const inline = equals === -1 ? undefined : arg.slice(equals + 1);
    if (option.value === undefined) {
      if (inline !== undefined) throw new ConfigError(`--${name} takes no value, got ${arg}`);
      flags.set(name, '');
      continue;
    }
    let value = inline;
    // The next argument is the value unless it is another flag; `-5` is a (bad) value, not a flag.
    const next = argv[i + 1];
    if (value === undefined && next !== undefined && (!next.startsWith('-') || /^-\d/.test(next))) value = argv[++i];
    if (value === undefined && option.value === '[URL]') value = DEFAULT_INSPECT_URL;
    if (value === undefined || value === '') throw new ConfigError(`--${name} needs a value (${option.value})`);
    flags.set(name, value);
  }
  return { flags, positionals };
}

/** Parses argv (without node and script) and env; throws ConfigError for bad values. */
export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): Config | 'help' | 'version' {
  const { flags, positionals } = scanArgv(argv);
  if (flags.has('help')) return 'help';
  if (flags.has('version')) return 'version';

  const given = (flag: string): Given | undefined => {
    const fromFlag = flags.get(flag);
    if (fromFlag !== undefined) return { text: fromFlag, from: `--${flag}` };
    const name = OPTION_BY_FLAG.get(flag)!.env!;
    const fromEnv = env[name];
    return fromEnv === undefined || fromEnv === '' ? undefined : { text: fromEnv, from: name };
  };
  const withDefault = (flag: string): Given => given(flag) ?? { text: OPTION_BY_FLAG.get(flag)!.default!, from: `--${flag}` };
  const integer = (flag: string, min = 1): number => {
    const { text, from } = withDefault(flag);
    const value = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min) {
      throw new ConfigError(`${from} must be ${min === 1 ? 'a positive integer' : `an integer of at least ${min}`}, got ${JSON.stringify(text)}`);
    }
    return value;
  };
  const choice = <T extends string>(flag: string, choices: readonly T[]): T => {
    const { text, from } = withDefault(flag);
    const value = text.toLowerCase() as T;
    if (!choices.includes(value)) throw new ConfigError(`${from} must be one of ${choices.join(', ')}, got ${JSON.stringify(text)}`);
    return value;
  };

  const [subcommand, logFile, ...extra] = positionals;
  let command: Config['command'] = { kind: 'run' };
  const inspectorFlags = [...flags.keys()].filter((flag) => OPTION_BY_FLAG.get(flag)!.section === 'inspector');
  if (subcommand === 'inspector') {
    if (logFile !== undefined) throw new ConfigError(`inspector takes no arguments, got ${JSON.stringify(logFile)}`);
    const others = [...flags.keys()].filter((flag) => !['port', 'host', 'log-level', 'help'].includes(flag));
    if (others.length > 0) throw new ConfigError(`inspector takes only --port, --host and --log-level, got ${others.map((flag) => `--${flag}`).join(', ')}`);
    const port = withDefault('port');
    if (!/^\d+$/.test(port.text) || Number(port.text) > 65535) throw new ConfigError(`${port.from} must be a port number (0 to 65535), got ${JSON.stringify(port.text)}`);
    command = { kind: 'inspector', host: withDefault('host').text, port: Number(port.text) };
  } else if (inspectorFlags.length > 0) {
    const named = inspectorFlags.map((flag) => `--${flag}`).join(' and ');
    throw new ConfigError(`${named} ${inspectorFlags.length === 1 ? 'belongs' : 'belong'} to the inspector command: memtable-node inspector [--port N] [--host HOST]`);
  } else if (subcommand !== undefined) {
    if (isTool(subcommand)) throw new ConfigError(`${subcommand} takes no node options; put it first: memtable-node ${subcommand} ${TOOLS[subcommand].usage}`);
    if (subcommand !== 'replay') throw new ConfigError(`unknown command ${JSON.stringify(subcommand)}; the commands are replay LOGFILE, inspector and the offline tools (memtable-node --help)`);
    if (logFile === undefined || extra.length > 0) throw new ConfigError(`replay takes exactly one LOGFILE, got ${positionals.length - 1} arguments`);
    const ignored = [...flags.keys()].filter((flag) => OPTION_BY_FLAG.get(flag)!.ignoredByReplay);
    if (ignored.length > 0) {
      throw new ConfigError(`replay does not take ${ignored.map((flag) => `--${flag}`).join(', ')}: a replay runs in a temporary folder with the logged run's settings`);
    }
    const flagged: LoggedRunSettings = {};
    if (flags.has('memtable-max-bytes')) flagged.memtableMaxBytes = integer('memtable-max-bytes');
    if (flags.has('max-immutable')) flagged.maxImmutable = integer('max-immutable');
    if (flags.has('max-nodes')) flagged.maxNodes = integer('max-nodes');
    command = { kind: 'replay', logFile, flagged };
  }

  const inspect = given('inspect');
  if (inspect !== undefined && !/^wss?:\/\//.test(inspect.text)) {
    throw new ConfigError(`${inspect.from} takes a ws:// or wss:// URL, got ${JSON.stringify(inspect.text)}`);
  }
  const compaction: CompactionConfig = {
    mode: choice('compaction', ['auto', 'manual'] as const),
    levelBaseBytes: integer('level-base-bytes'),
    levelMultiplier: integer('level-multiplier', 2),
    targetFileBytes: integer('target-file-bytes'),
    l0CompactionTrigger: integer('l0-compaction-trigger'),
    l0SlowdownTrigger: integer('l0-slowdown-trigger'),
    l0StopTrigger: integer('l0-stop-trigger'),
    maxSubcompactions: integer('max-subcompactions'),
  };
  if (!(compaction.l0CompactionTrigger <= compaction.l0SlowdownTrigger && compaction.l0SlowdownTrigger <= compaction.l0StopTrigger)) {
    const triggers = ['l0-compaction-trigger', 'l0-slowdown-trigger', 'l0-stop-trigger'].map(withDefault);
    throw new ConfigError(`the L0 triggers must satisfy compaction <= slowdown <= stop, got ${triggers.map(({ from, text }) => `${from} ${text}`).join(', ')}`);
  }
  return {
    command,
    dataDir: given('data-dir')?.text,
    memtableMaxBytes: integer('memtable-max-bytes'),
    maxImmutable: integer('max-immutable'),
    maxNodes: integer('max-nodes'),
    blockCacheBytes: integer('block-cache-bytes'),
    maxOpenFiles: integer('max-open-files'),
    maxLineBytes: integer('max-line-bytes'),
    logLevel: choice('log-level', LOG_LEVELS),
    sync: choice('sync', ['always', 'none'] as const),
    inspect: inspect?.text,
    compaction,
  };
}
