import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Config, ConfigError, HELP, OPTIONS, parseConfig } from '../src/config.js';

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}): Config => parseConfig(argv, env) as Config;
const refusal = (argv: string[], env: NodeJS.ProcessEnv = {}): string => {
  try {
    parseConfig(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const { message } = error as Error;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error(`accepted ${argv.join(' ')}`);
};

describe('parseConfig', () => {
  it('takes a flag over its variable over the default', () => {
    expect(parse([]).memtableMaxBytes).toBe(4194304);
    expect(parse([], { MEMTABLE_MAX_BYTES: '100' }).memtableMaxBytes).toBe(100);
    expect(parse(['--memtable-max-bytes', '200'], { MEMTABLE_MAX_BYTES: '100' }).memtableMaxBytes).toBe(200);
    expect(parse(['--memtable-max-bytes=300']).memtableMaxBytes).toBe(300);
  });

  it('names the flag or the variable the bad value came from, and what is allowed', () => {
    expect(refusal(['--memtable-max-bytes', '-5'])).toBe('--memtable-max-bytes must be a positive integer, got "-5"');
    expect(refusal([], { MEMTABLE_MAX_BYTES: '-5' })).toBe('MEMTABLE_MAX_BYTES must be a positive integer, got "-5"');
    expect(refusal(['--max-nodes', '1.5'])).toMatch(/^--max-nodes must be a positive integer/);
    expect(refusal([], { MEMTABLE_SYNC: 'sometimes' })).toBe('MEMTABLE_SYNC must be one of always, none, got "sometimes"');
    expect(refusal([], { MEMTABLE_INSPECT: 'http://x' })).toBe('MEMTABLE_INSPECT takes a ws:// or wss:// URL, got "http://x"');
    expect(refusal(['--level-multiplier', '1'])).toBe('--level-multiplier must be an integer of at least 2, got "1"');
  });

  it('treats every empty variable as unset', () => {
    const env = Object.fromEntries(OPTIONS.flatMap((option) => (option.env === undefined ? [] : [[option.env, '']])));
    expect(parse([], env)).toEqual(parse([]));
    expect(parse([]).dataDir).toBeUndefined();
  });

  it('takes log levels in any case', () => {
    expect(parse([], { LOG_LEVEL: 'INFO' }).logLevel).toBe('info');
    expect(parse(['--log-level', 'Debug']).logLevel).toBe('debug');
    expect(refusal(['--log-level', 'loud'])).toMatch(/^--log-level must be one of fatal, error, warn, info, debug, trace, silent, got "loud"$/);
  });

  it('refuses unknown options and commands, and flags without their value, in one balanced line', () => {
    for (const message of [refusal(['--frob']), refusal(['--frob=1']), refusal(['-x']), refusal(['frob']), refusal(['--data-dir']), refusal(['--help=yes'])]) {
      expect(message.split('"').length % 2).toBe(1);
      expect(message.split("'").length % 2).toBe(1);
    }
    expect(refusal(['--frob'])).toContain('--frob');
    expect(refusal(['--data-dir', '--sync', 'none'])).toBe('--data-dir needs a value (DIR)');
  });

  it('answers help and version first', () => {
    expect(parseConfig(['--max-nodes', 'bad', '-h'], {})).toBe('help');
    expect(parseConfig(['--version'], { MEMTABLE_MAX_BYTES: 'bad' })).toBe('version');
  });

  it('reads the compaction settings, checking compaction <= slowdown <= stop', () => {
    expect(parse([]).compaction).toEqual({
      mode: 'auto',
      levelBaseBytes: 10485760,
      levelMultiplier: 10,
      targetFileBytes: 2097152,
      l0CompactionTrigger: 4,
      l0SlowdownTrigger: 8,
      l0StopTrigger: 12,
      maxSubcompactions: 1,
    });
    expect(parse(['--max-subcompactions', '2']).compaction.maxSubcompactions).toBe(2);
    expect(refusal(['--max-subcompactions', '0'])).toBe('--max-subcompactions must be a positive integer, got "0"');
    expect(parse(['--compaction', 'MANUAL', '--l0-compaction-trigger', '2', '--l0-slowdown-trigger', '2', '--l0-stop-trigger', '3']).compaction).toMatchObject({
      mode: 'manual',
      l0CompactionTrigger: 2,
      l0SlowdownTrigger: 2,
      l0StopTrigger: 3,
    });
    expect(refusal(['--l0-slowdown-trigger', '20'], { MEMTABLE_L0_STOP_TRIGGER: '16' })).toBe(
      'the L0 triggers must satisfy compaction <= slowdown <= stop, got --l0-compaction-trigger 4, --l0-slowdown-trigger 20, MEMTABLE_L0_STOP_TRIGGER 16',
    );
    expect(refusal([], { MEMTABLE_COMPACTION: 'sometimes' })).toMatch(/^MEMTABLE_COMPACTION must be one of auto, manual/);
  });

  it('gives replay the settings flags it checks against the log, and refuses those it would ignore', () => {
    expect(parse(['replay', 'run.log', '--max-immutable', '3']).command).toEqual({ kind: 'replay', logFile: 'run.log', flagged: { maxImmutable: 3 } });
    expect(refusal(['replay', 'run.log', '--data-dir', 'd', '--sync', 'none'])).toMatch(/^replay does not take --data-dir, --sync:/);
    // A replay streams to an inspector as a run does.
    expect(parse(['replay', 'run.log', '--inspect']).inspect).toBe('ws://localhost:8080');
    expect(refusal(['replay', 'run.log', '--compaction', 'manual'])).toMatch(/^replay does not take --compaction:/);
  });

  it('--help and the README list every option with its variable and default', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const { flag, env, default: byDefault } of OPTIONS) {
      expect(HELP).toContain(`--${flag}`);
      if (env === undefined) continue;
      expect(HELP.replace(/\s+/g, ' ')).toContain(env);
      const row = readme.split('\n').find((line) => line.startsWith(`| \`--${flag}`));
      expect(row, `README row for --${flag}`).toBeDefined();
      expect(row).toContain(`\`${env}\``);
      if (byDefault !== undefined && flag !== 'inspect') expect(row).toContain(byDefault);
    }
    for (const line of HELP.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
  });
});
