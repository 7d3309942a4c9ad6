#!/usr/bin/env node
/**
 * memtable-node: reads Maelstrom messages on stdin, replies on stdout, logs
 * on stderr. See --help and docs/PROTOCOL.md.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { type StatelyInspection, startStatelyInspection } from './actors/inspection.js';
import { runNodes } from './actors/runtime.js';
import { type Config, ConfigError, HELP, parseConfig } from './config.js';
import { createLogger } from './logger.js';
import { parseReplayLog, replay } from './replay.js';
import { faultInjectingFileSystem, planFromFile } from './storage/env/faultInjection.js';
import { type FileSystem, nodeFileSystem } from './storage/env/fileSystem.js';
import { newReaderCaches } from './storage/sstable/reader.js';

async function main(): Promise<number> {
  let config;
  try {
    config = parseConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`memtable-node: ${error.message}\nTry memtable-node --help\n`);
    return 2;
  }
  if (config === 'help') {
    process.stdout.write(HELP);
    return 0;
  }

  const log = createLogger(config.logLevel);
  if (config.command.kind === 'inspector') return runInspector(config.command, log);
  const temporary = config.dataDir === undefined || config.command.kind === 'replay';
  const dataRoot = temporary ? mkdtempSync(join(tmpdir(), 'memtable-node-')) : resolve(config.dataDir!);
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
    if (config.command.kind === 'replay') return await runReplay(config.command.logFile, config, { log, dataRoot, fs });
    await serveStdin(config, { log, dataRoot, fs, temporary });
    return 0;
  } finally {
    removeTemporary();
  }
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
  log.info(
    { data_dir: dataRoot, temporary, wal: !temporary, sync: config.sync, memtable_max_bytes: config.memtableMaxBytes, max_immutable: config.maxImmutable, max_nodes: config.maxNodes, max_open_files: config.maxOpenFiles, block_cache_bytes: config.blockCacheBytes },
    'starting',
  );
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
      },
      inspect: inspection && ((event) => inspection.inspect(event)),
    });
  } finally {
    await stopInspection(inspection);
  }
  log.info('stdin ended; exiting');
}

async function startInspection(config: Config, log: Logger): Promise<StatelyInspection | undefined> {
  if (config.inspect === undefined) return undefined;
  const inspection = await startStatelyInspection(config.inspect);
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

async function runReplay(logFile: string, config: Config, { log, dataRoot, fs }: Environment): Promise<number> {
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8');
  } catch (error) {
    process.stderr.write(`memtable-node: cannot read ${logFile}: ${(error as Error).message}\n`);
    return 2;
  }
  const plan = parseReplayLog(text);
  if (plan.batches.length === 0) {
    process.stderr.write(`memtable-node: ${logFile} has no received lines; record the run with --log-level debug\n`);
    return 2;
  }
  if (plan.otherPids.length > 0) log.warn({ other_pids: plan.otherPids }, 'the log holds several runs; replaying the first');
  const settings = {
    memtableMaxBytes: plan.settings.memtableMaxBytes ?? config.memtableMaxBytes,
    maxImmutable: plan.settings.maxImmutable ?? config.maxImmutable,
    maxNodes: plan.settings.maxNodes ?? config.maxNodes,
  };
  log.info({ log_file: logFile, batches: plan.batches.length, memtable_max_bytes: settings.memtableMaxBytes, max_immutable: settings.maxImmutable }, 'replaying');
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
      inspect: inspection && ((event) => inspection.inspect(event)),
      ...settings,
    });
  } finally {
    await stopInspection(inspection);
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`memtable-node: fatal: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
