/**
 * The offline tools, one a subcommand: `memtable-node TOOL ARGS`. They look
 * into a node's folder (DATA_DIR/<node_id>/) without starting a node, after
 * RocksDB's sst_dump and ldb and LevelDB's leveldbutil. docs/TOOLS.md
 * describes them for users.
 *
 * Every tool but repair is read-only: it opens files for reading only and
 * never creates, renames or removes anything (the folder's lock included),
 * so it may run on a folder a node holds open. repair takes the folder's
 * lock, as a node does, so it refuses to run while a node holds it.
 */
import { wrapWords } from '../textWrap.js';
import { EXIT_USAGE, parseToolArgs, RefusedError, type ToolFlags, type ToolOutput, UsageError } from './output.js';

interface Tool {
  /** The arguments after the tool's name, as --help shows them. */
  usage: string;
  summary: string;
  positionals: string[];
  options: Record<string, { type: 'string' | 'boolean' }>;
  run(positionals: string[], flags: ToolFlags, out: ToolOutput): number | Promise<number>;
}

const JSON_FLAG = { json: { type: 'boolean' } } as const;

/** The subcommands by name; --help lists them in this order. */
export const TOOLS: Record<string, Tool> = {
  'sst-dump': {
    usage: 'FILE [--entries] [--start K] [--end K] [--json]',
    summary: "an SSTable's properties and index, and with --entries its entries from --start up to (not including) --end; verifies every checksum",
    positionals: ['FILE'],
    options: { ...JSON_FLAG, entries: { type: 'boolean' }, start: { type: 'string' }, end: { type: 'string' } },
    // Each tool is imported when it runs: the node's CLI imports this table, and loads none of them.
    run: async ([file], flags, out) => (await import('./sstDump.js')).sstDump(file, flags, out),
  },
  'wal-dump': {
    usage: 'FILE [--json]',
    summary: "a WAL segment's records, and where a torn tail or damage begins",
    positionals: ['FILE'],
    options: JSON_FLAG,
    run: async ([file], flags, out) => (await import('./walDump.js')).walDump(file, flags, out),
  },
  manifest: {
    usage: 'DIR [--json]',
    summary: 'the live file set the MANIFEST names (level, key range, size, entries), the next file number, the oldest live WAL',
    positionals: ['DIR'],
    options: JSON_FLAG,
    run: async ([dir], flags, out) => (await import('./manifest.js')).manifestDump(dir, flags, out),
  },
  verify: {
    usage: 'DIR [--json]',
    summary: 'reads every live file whole, checks every checksum and the MANIFEST against the folder; exit 1 names each damaged file and where',
    positionals: ['DIR'],
    options: JSON_FLAG,
    run: async ([dir], flags, out) => (await import('./verify.js')).verify(dir, flags, out),
  },
  repair: {
    usage: 'DIR [--json]',
    summary: 'LOSSY: keeps every intact SSTable and WAL record before damage, moves the rest into DIR/lost/, writes a fresh MANIFEST, reports what was lost. Takes the folder lock, so it refuses while a node holds the folder',
    positionals: ['DIR'],
    options: JSON_FLAG,
    run: async ([dir], flags, out) => (await import('./repair.js')).repair(dir, flags, out),
  },
};

/** True iff `name` is one of the tools. */
export function isTool(name: string | undefined): name is string {
  return name !== undefined && Object.hasOwn(TOOLS, name);
}

/**
 * Runs the tool `name` with `argv` (the arguments after its name); returns
 * the exit code: 0 sound, 1 damage found, 2 bad arguments or a refusal
 * (one line on stderr).
 */
export async function runTool(name: string, argv: string[], stdout: ToolOutput, stderr: ToolOutput): Promise<number> {
  const tool = TOOLS[name];
  if (argv.includes('--help') || argv.includes('-h')) {
    stdout.write(`Usage: memtable-node ${name} ${tool.usage}\n  ${tool.summary}\nSee docs/TOOLS.md.\n`);
    return 0;
  }
  try {
    const { positionals, flags } = parseToolArgs(argv, tool.options, tool.positionals);
    return await tool.run(positionals, flags, stdout);
  } catch (error) {
    if (error instanceof RefusedError) {
      stderr.write(`memtable-node ${name}: ${error.message}\n`);
      return EXIT_USAGE;
    }
    if (!(error instanceof UsageError)) throw error;
    stderr.write(`memtable-node ${name}: ${error.message} (usage: memtable-node ${name} ${tool.usage})\n`);
    return EXIT_USAGE;
  }
}

/** The tools' lines of --help. */
export function toolsHelp(): string {
  return Object.entries(TOOLS)
    .map(([name, tool]) => `  memtable-node ${name} ${tool.usage}\n${wrapWords(tool.summary, 72).map((line) => `      ${line}\n`).join('')}`)
    .join('');
}
