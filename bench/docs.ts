/**
 * Writes docs/BENCHMARKS.md and docs/benchmarks.svg. The bench owns only the
 * region between the markers; everything around it (notably "What we
 * tried") is written by people and kept as it is.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const BEGIN = '<!-- bench:begin -->';
export const END = '<!-- bench:end -->';

const SKELETON = `# Benchmarks

\`npm run bench\` measures the MemTable's skip list against three ordered-map
libraries, the node end to end against a bare JSON-lines echo node, and
SSTable flushes against a raw sequential write. It regenerates the section
between the markers below and \`docs/benchmarks.svg\`; edit anything outside
the markers by hand.

${BEGIN}
${END}

## What we tried

_Nothing yet: note here each attempt to close a gap above, the figure before and after, and why it was kept or dropped._
`;

export function writeBenchmarkDocs(root: string, generated: string, svg: string): void {
  const mdPath = join(root, 'docs', 'BENCHMARKS.md');
  let text = existsSync(mdPath) ? readFileSync(mdPath, 'utf8') : SKELETON;
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (begin === -1 || end < begin) throw new Error(`${mdPath}: missing ${BEGIN} … ${END} markers; restore them where the generated section belongs`);
  text = `${text.slice(0, begin + BEGIN.length)}\n${generated.trim()}\n${text.slice(end)}`;
  writeFileSync(mdPath, text);
  writeFileSync(join(root, 'docs', 'benchmarks.svg'), svg);
}
