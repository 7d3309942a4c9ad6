#!/usr/bin/env node
/**
 * memtable-node: reads Maelstrom messages on stdin, replies on stdout, logs
 * on stderr. See --help and docs/PROTOCOL.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runNodes } from './actors/runtime.js';
import { ConfigError, HELP, parseConfig } from './config.js';
import { createLogger } from './logger.js';
import { faultInjectingFileSystem, planFromFile } from './storage/faultInjection.js';
import { nodeFileSystem } from './storage/fileSystem.js';

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
  const temporary = config.dataDir === undefined;
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
  if (process.stdin.isTTY) {
    process.stderr.write('memtable-node: reading Maelstrom JSON messages from stdin, one per line; start with {"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1"]}} (Ctrl-D ends)\n');
  }

  // A testing hook (docs/WAL.md): file-system faults switched on and off through a plan file.
  const faultFile = process.env.MEMTABLE_FAULT_FILE;
  const fs = faultFile ? faultInjectingFileSystem(nodeFileSystem, planFromFile(faultFile)) : nodeFileSystem;
  if (faultFile) log.warn({ file: faultFile }, 'fault injection enabled');
  log.info(
    { data_dir: dataRoot, temporary, wal: !temporary, sync: config.sync, memtable_max_bytes: config.memtableMaxBytes, max_immutable: config.maxImmutable },
    'starting',
  );
  try {
    await runNodes({
      input: process.stdin,
      output: process.stdout,
      log,
      maxLineBytes: config.maxLineBytes,
      node: {
        dataRoot,
        memtableMaxBytes: config.memtableMaxBytes,
        maxImmutable: config.maxImmutable,
        fs,
        // Without --data-dir nothing outlives the process, so there is nothing to log ahead for.
        wal: temporary ? undefined : { sync: config.sync === 'always' },
      },
    });
  } finally {
    removeTemporary();
  }
  log.info('stdin ended; exiting');
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
