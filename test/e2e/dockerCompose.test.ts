/**
 * docker-compose.yml and the Dockerfiles it builds name only paths that exist
 * in the repository (no Docker needed: the files are read, not run). The
 * syntax itself is checked in CI by `docker-compose config -q`.
 *
 * No YAML library is a dependency, so a small parser below reads the subset
 * compose files use: block mappings, block sequences, plain or quoted
 * scalars, `# comments`.
 */
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

type Yaml = string | Yaml[] | { [key: string]: Yaml };

interface Line {
  indent: number;
  text: string;
  number: number;
}

/** Parses the block-style subset of YAML used by compose files; throws on anything else. */
function parseSimpleYaml(source: string): Yaml {
  const lines: Line[] = [];
  source.split(/\r?\n/).forEach((raw, index) => {
    const text = stripComment(raw).trimEnd();
    if (text.trim() === '' || text.trim() === '---') return;
    if (/^\s*\t/.test(raw)) throw new Error(`line ${index + 1}: tabs are not allowed for indentation`);
    lines.push({ indent: text.length - text.trimStart().length, text: text.trim(), number: index + 1 });
  });
  let position = 0;

  function parseBlock(indent: number): Yaml {
    const first = lines[position];
    if (first.text.startsWith('- ') || first.text === '-') return parseSequence(indent);
    return parseMapping(indent);
  }

  function parseSequence(indent: number): Yaml[] {
    const items: Yaml[] = [];
    while (position < lines.length && lines[position].indent === indent && /^-( |$)/.test(lines[position].text)) {
      const line = lines[position];
      const rest = line.text.slice(1).trim();
      position++;
      if (rest === '') {
        items.push(position < lines.length && lines[position].indent > indent ? parseBlock(lines[position].indent) : '');
      } else if (/^[^'"][^:]*:( |$)/.test(rest)) {
        // "- key: value" starts a mapping whose keys sit two columns in.
        lines[position - 1] = { indent: indent + 2, text: rest, number: line.number };
        position--;
        items.push(parseMapping(indent + 2));
      } else {
        items.push(scalar(rest, line.number));
      }
    }
    return items;
  }

  function parseMapping(indent: number): { [key: string]: Yaml } {
    const map: { [key: string]: Yaml } = {};
    while (position < lines.length && lines[position].indent === indent) {
      const line = lines[position];
      const match = /^("[^"]*"|'[^']*'|[^'"\s][^:]*?)\s*:(?: +(.*))?$/.exec(line.text);
      if (!match) throw new Error(`line ${line.number}: expected "key: value", got ${JSON.stringify(line.text)}`);
      const key = scalar(match[1], line.number) as string;
      if (key in map) throw new Error(`line ${line.number}: duplicate key ${key}`);
      position++;
      if (match[2] !== undefined && match[2] !== '') {
        map[key] = scalar(match[2], line.number);
      } else if (position < lines.length && lines[position].indent > indent) {
        map[key] = parseBlock(lines[position].indent);
      } else if (position < lines.length && lines[position].indent === indent && /^-( |$)/.test(lines[position].text)) {
        map[key] = parseSequence(indent); // a sequence may sit at its key's indentation
      } else {
        map[key] = '';
      }
    }
    if (position < lines.length && lines[position].indent > indent) {
      throw new Error(`line ${lines[position].number}: unexpected indentation`);
    }
    return map;
  }

  if (lines.length === 0) return {};
  const document = parseBlock(lines[0].indent);
  if (position < lines.length) throw new Error(`line ${lines[position].number}: unexpected content`);
  return document;
}

function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) {
      return line.slice(0, i);
    }
  }
  return line;
}

function scalar(text: string, lineNumber: number): string {
  if (/^[[{&*!|>]/.test(text)) throw new Error(`line ${lineNumber}: flow or block scalars are not supported: ${text}`);
  if (text.startsWith('"')) return JSON.parse(text) as string;
  if (text.startsWith("'")) return text.slice(1, -1).replace(/''/g, "'");
  return text;
}

function asMap(value: Yaml | undefined, what: string): { [key: string]: Yaml } {
  if (value === undefined || typeof value === 'string' || Array.isArray(value)) throw new Error(`${what} is not a mapping`);
  return value;
}

function asList(value: Yaml | undefined): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Error(`expected a list, got ${JSON.stringify(value)}`);
  return value.map((item) => {
    if (typeof item !== 'string') throw new Error(`expected a string, got ${JSON.stringify(item)}`);
    return item;
  });
}

/** The host paths that COPY / ADD instructions read from the build context (not `--from` stages). */
function copySources(dockerfile: string): string[] {
  const text = dockerfile.replace(/\\\r?\n/g, ' ');
  const sources: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*(COPY|ADD)\s+(.*)$/i.exec(line);
    if (!match) continue;
    const words = match[2].trim().split(/\s+/);
    if (words.some((word) => word.startsWith('--from='))) continue;
    const args = words.filter((word) => !word.startsWith('--'));
    sources.push(...args.slice(0, -1));
  }
  return sources;
}

const compose = parseSimpleYaml(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8'));
const services = asMap(asMap(compose, 'docker-compose.yml').services, 'services');

describe('the YAML subset parser', () => {
  it('reads mappings, sequences, quoted scalars and comments', () => {
    expect(
      parseSimpleYaml(
        [
          '# top',
          'a:',
          '  b: "x # not a comment"  # a comment',
          "  c: 'it''s'",
          '  list:',
          '    - one',
          '    - "2"',
          '  seq:',
          '  - k: v',
          '    k2: v2',
          '  - plain',
          'empty:',
        ].join('\n'),
      ),
    ).toEqual({ a: { b: 'x # not a comment', c: "it's", list: ['one', '2'], seq: [{ k: 'v', k2: 'v2' }, 'plain'] }, empty: '' });
  });

  it('rejects what it does not understand instead of guessing', () => {
    expect(() => parseSimpleYaml('a:\n  b: 1\n c: 2\n')).toThrow();
    expect(() => parseSimpleYaml('a: [1, 2]\n')).toThrow(/flow/);
    expect(() => parseSimpleYaml('a: 1\na: 2\n')).toThrow(/duplicate/);
  });
});

describe('docker-compose.yml', () => {
  it('defines the node and maelstrom services', () => {
    expect(Object.keys(services).sort()).toEqual(['maelstrom', 'node']);
    expect(asMap(services.node, 'node').stdin_open).toBe('true');
  });

  for (const [name, value] of Object.entries(services)) {
    const service = asMap(value, name);

    it(`${name}: its build context and Dockerfile exist, and so does every path the Dockerfile copies`, () => {
      const build = typeof service.build === 'string' ? { context: service.build } : asMap(service.build, `${name}.build`);
      const context = resolve(repoRoot, String(build.context ?? '.'));
      expect(existsSync(context) && statSync(context).isDirectory(), `build context ${context}`).toBe(true);
      const dockerfile = resolve(context, String(build.dockerfile ?? 'Dockerfile'));
      expect(existsSync(dockerfile), `dockerfile ${dockerfile}`).toBe(true);
      for (const source of copySources(readFileSync(dockerfile, 'utf8'))) {
        expect(existsSync(resolve(context, source)), `${dockerfile} copies ${source}, which is missing`).toBe(true);
      }
    });

    it(`${name}: every volume's host path exists (./store is made by the run)`, () => {
      for (const volume of asList(service.volumes)) {
        const host = volume.split(':')[0];
        if (!/^(\.{1,2}\/|\/)/.test(host)) continue; // a named volume
        if (posix.normalize(host) === 'store') continue;
        expect(existsSync(resolve(repoRoot, host)), `volume host path ${host}`).toBe(true);
      }
    });
  }

  it('maelstrom runs lin-kv against /app/bin/memtable-node, which is bin/memtable-node, executable, running dist/cli.js', () => {
    const maelstrom = asMap(services.maelstrom, 'maelstrom');
    const command = asList(maelstrom.command);
    expect(command.slice(0, 4)).toEqual(['maelstrom', 'test', '-w', 'lin-kv']);
    expect(command[command.indexOf('--bin') + 1]).toBe('/app/bin/memtable-node');
    expect(asList(maelstrom.volumes)).toContain('./store:/work/store');
    expect(maelstrom.working_dir).toBe('/work');

    const wrapper = join(repoRoot, 'bin', 'memtable-node');
    expect(() => accessSync(wrapper, constants.X_OK), `${wrapper} must be executable`).not.toThrow();
    expect(readFileSync(wrapper, 'utf8')).toContain('exec node "$(dirname "$0")/../dist/cli.js" "$@"');
    expect(existsSync(join(repoRoot, 'src', 'cli.ts')), 'dist/cli.js is built from src/cli.ts').toBe(true);
  });

  it('the images build the project the way a clone does: npm install (prepare builds dist/), then node dist/cli.js', () => {
    const node = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
    expect(node).toMatch(/^FROM node:20/m);
    expect(node).toMatch(/npm install/);
    expect(node).toMatch(/^ENTRYPOINT \["node", "dist\/cli\.js"\]/m);
    const maelstrom = readFileSync(join(repoRoot, 'docker', 'maelstrom.Dockerfile'), 'utf8');
    expect(maelstrom).toMatch(/jepsen-io\/maelstrom\/releases\/download\/\$\{MAELSTROM_VERSION\}\/maelstrom\.tar\.bz2/);
    expect(maelstrom).toMatch(/ARG MAELSTROM_VERSION=v0\.2\.4/);
    expect(maelstrom).toMatch(/gnuplot/);
    expect(maelstrom).toMatch(/graphviz/);
  });
});
