/**
 * memtable-node: reads Maelstrom messages on stdin, replies on stdout, logs
 * on stderr. See --help and docs/PROTOCOL.md. Started by cli.ts.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { type StatelyInspection, startStatelyInspection } from './actors/inspection.js';
import { runNodes } from './actors/runtime.js';
import { type Config, ConfigError, HELP, type LoggedRunSettings, parseConfig } from './config.js';
import { lowerV8HelperPriority } from './helperThreads.js';
import { createLogger } from './logger.js';
import { parseReplayLog, replay } from './replay.js';
import { DataRootError, prepareDataRoot } from './storage/env/dataRoot.js';
import { faultInjectingFileSystem, planFromFile } from './storage/env/faultInjection.js';
import { type FileSystem, nodeFileSystem } from './storage/env/fileSystem.js';
import { workerRunner } from './storage/compaction/runner.js';
import { newReaderCaches } from './storage/sstable/reader.js';
import { isTool, runTool } from './tools/commands.js';
import { capYoungGeneration } from './youngGeneration.js';

async function main(): Promise<number> {
  // The offline tools take their own arguments (src/tools/commands.ts) and start no node.
  const [subcommand, ...toolArgs] = process.argv.slice(2);
  if (isTool(subcommand)) return runTool(subcommand, toolArgs, process.stdout, process.stderr);
  let config;
  try {
    config = parseConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return usageError(error.message);
  }
  if (config === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (config === 'version') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }

  if (config.command.kind === 'inspector') return runInspector(config.command, createLogger(config.logLevel));
  const temporary = config.dataDir === undefined || config.command.kind === 'replay';
  let dataRoot: string;
  try {
    dataRoot = temporary ? mkdtempSync(join(tmpdir(), 'memtable-node-')) : prepareDataRoot(config.dataDir!);
  } catch (error) {
    if (!(error instanceof DataRootError)) throw error;
    return usageError(`unusable data folder ${error.message}`);
  }
  const log = createLogger(config.logLevel);
  const removeTemporary = (): void => {
    if (temporary) rmSync(dataRoot, { recursive: true, force: true });
  };
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      log.info({ signal }, 'stopping on signal');
      removeTemporary();
      process.exit(code);
    });
  }
  // A testing hook (docs/WAL.md): file-system faults switched on and off through a plan file.
  const faultFile = process.env.MEMTABLE_FAULT_FILE;
  const fs = faultFile ? faultInjectingFileSystem(nodeFileSystem, planFromFile(faultFile)) : nodeFileSystem;
  if (faultFile) log.warn({ file: faultFile }, 'fault injection enabled');

  try {
    if (config.command.kind === 'replay') return await runReplay(config.command, config, { log, dataRoot, fs });
    await serveStdin(config, { log, dataRoot, fs, temporary });
    return 0;
  } finally {
    removeTemporary();
  }
}

/** A bad flag, variable or folder: one line on stderr, exit 2. */
function usageError(message: string): number {
  process.stderr.write(`memtable-node: ${message}\n`);
  return 2;
}

/** package.json's version: dist/main.js sits one folder below it. */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

interface Environment {
  log: Logger;
  dataRoot: string;
  fs: FileSystem;
}

async function serveStdin(config: Config, { log, dataRoot, fs, temporary }: Environment & { temporary: boolean }): Promise<void> {
  if (process.stdin.isTTY) {
    process.stderr.write('memtable-node: reading Maelstrom JSON messages from stdin, one per line; start with {"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1"]}} (Ctrl-D ends)\n');
  }
  const inspection = await startInspection(config, log);
  // Short scavenges, and V8's helper threads behind the main thread for a core: the reply latency's tail
  // (src/youngGeneration.ts, src/helperThreads.ts).
  capYoungGeneration();
  const helperThreads = lowerV8HelperPriority().length;
  log.info(
    { data_dir: dataRoot, temporary, wal: !temporary, sync: config.sync, memtable_max_bytes: config.memtableMaxBytes, max_immutable: config.maxImmutable, max_nodes: config.maxNodes, max_open_files: config.maxOpenFiles, block_cache_bytes: config.blockCacheBytes, compaction: config.compaction, v8_helper_threads_reniced: helperThreads },
    'starting',
  );
  const compactionRunner = workerRunner({ workers: config.compaction.maxSubcompactions });
  try {
    await runNodes({
      input: process.stdin,
      output: process.stdout,
      log,
      maxLineBytes: config.maxLineBytes,
      maxNodes: config.maxNodes,
      node: {
        dataRoot,
        memtableMaxBytes: config.memtableMaxBytes,
        maxImmutable: config.maxImmutable,
        fs,
        caches: newReaderCaches(fs, config.maxOpenFiles, config.blockCacheBytes),
        // Without --data-dir nothing outlives the process, so there is nothing to log ahead for.
        wal: temporary ? undefined : { sync: config.sync === 'always' },
        compaction: config.compaction,
        // Worker threads (one a subcompaction) merge for every node of the process, off the main thread.
        compactionRunner,
      },
      inspect: inspection && ((event) => inspection.inspect(event)),
    });
  } finally {
    await compactionRunner.close();
    await stopInspection(inspection);
  }
  log.info('stdin ended; exiting');
}

async function startInspection(config: Config, log: Logger): Promise<StatelyInspection | undefined> {
  if (config.inspect === undefined) return undefined;
  const inspection = await startStatelyInspection(config.inspect, log);
  log.info({ url: config.inspect }, 'streaming to the inspector');
  return inspection;
}

async function stopInspection(inspection: StatelyInspection | undefined): Promise<void> {
  if (inspection === undefined) return;
  await inspection.stop();
  // The inspector's client may still hold a reconnect timer; do not let it keep us alive.
  setTimeout(() => process.exit(), 1000).unref();
}

/** Serves the inspector until SIGINT or SIGTERM; returns 2 when it cannot listen. */
async function runInspector({ host, port }: { host: string; port: number }, log: Logger): Promise<number> {
  // Loaded only for this command: it pulls in the WebSocket server.
  const { startInspectorServer } = await import('./inspector/server.js');
  let server;
  try {
    server = await startInspectorServer({ host, port });
  } catch (error) {
    process.stderr.write(`memtable-node: inspector cannot listen on ${host}:${port}: ${(error as Error).message}\n`);
    return 2;
  }
  const where = server.host.includes(':') ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
  log.info({ url: `http://${where}/`, inspect_url: `ws://${where}` }, 'inspector listening');
  process.stderr.write(`memtable-node inspector: open http://${where}/ and start nodes with --inspect ws://${where}\n`);
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
  });
  await server.close();
  return 0;
}

async function runReplay(command: Extract<Config['command'], { kind: 'replay' }>, config: Config, { log, dataRoot, fs }: Environment): Promise<number> {
  const { logFile, flagged } = command;
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8');
  } catch (error) {
    return usageError(`cannot read ${logFile}: ${(error as Error).message}`);
  }
  const plan = parseReplayLog(text);
  if (plan.batches.length === 0) return usageError(`${logFile} has no received lines; record the run with --log-level debug`);
  const conflicts = FLAGGED_SETTINGS.filter(({ key }) => flagged[key] !== undefined && plan.settings[key] !== undefined && flagged[key] !== plan.settings[key]);
  if (conflicts.length > 0) {
    const described = conflicts.map(({ key, flag }) => `${flag} ${flagged[key]} (the log has ${plan.settings[key]})`).join(', ');
    return usageError(`replay uses the logged run's settings, and ${logFile} disagrees with ${described}`);
  }
  if (plan.otherPids.length > 0) log.warn({ other_pids: plan.otherPids }, 'the log holds several runs; replaying the first');
  if (plan.nonEmptyStores.length > 0) {
    log.warn({ node_ids: plan.nonEmptyStores }, 'the logged run began on a non-empty store, which the log does not hold: replies that read older data will differ');
  }
  const settings = {
    memtableMaxBytes: plan.settings.memtableMaxBytes ?? config.memtableMaxBytes,
    maxImmutable: plan.settings.maxImmutable ?? config.maxImmutable,
    maxNodes: plan.settings.maxNodes ?? config.maxNodes,
  };
  log.info({ log_file: logFile, batches: plan.batches.length, memtable_max_bytes: settings.memtableMaxBytes, max_immutable: settings.maxImmutable }, 'replaying');
  // The logged run's; a node older than compaction never compacted, so neither does its replay.
  const compaction = plan.settings.compaction ?? { ...config.compaction, mode: 'manual' };
  const compactionRunner = workerRunner({ workers: compaction.maxSubcompactions });
  const inspection = await startInspection(config, log);
  try {
    await replay(plan, {
      output: process.stdout,
      log,
      dataRoot,
      fs,
      maxLineBytes: config.maxLineBytes,
      maxOpenFiles: config.maxOpenFiles,
      blockCacheBytes: config.blockCacheBytes,
      ...settings,
      compaction,
      compactionRunner,
      inspect: inspection && ((event) => inspection.inspect(event)),
    });
  } finally {
    await compactionRunner.close();
    await stopInspection(inspection);
  }
  return 0;
}

/** Settings replay takes from the log, with the flag that may stand in for each. */
const FLAGGED_SETTINGS: ReadonlyArray<{ key: keyof LoggedRunSettings; flag: string }> = [
  { key: 'memtableMaxBytes', flag: '--memtable-max-bytes' },
  { key: 'maxImmutable', flag: '--max-immutable' },
  { key: 'maxNodes', flag: '--max-nodes' },
];

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`memtable-node: fatal: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
