/**
 * Writes docs/BENCHMARKS.md, docs/benchmarks.svg and (after a soak)
 * docs/soak.svg. The bench owns only the
 * region between the markers; everything around it (notably "What we
 * tried") is written by people and kept as it is.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const BEGIN = '<!-- bench:begin -->';
export const END = '<!-- bench:end -->';

const SKELETON = `# Benchmarks

\`npm run bench\` measures the storage engine against LevelDB, the node end
to end against an echo node and a LevelDB node, reply latency under a paced
load and, with \`--soak\`, a long sustained run. It regenerates the section
between the markers below and the charts; edit anything outside the markers
by hand.

${BEGIN}
${END}

## What we tried

_Nothing yet: note here each attempt to close a gap above, the figure before and after, and why it was kept or dropped._
`;

export function writeBenchmarkDocs(root: string, generated: string, svg: string, soakSvg: string | undefined): void {
  const mdPath = join(root, 'docs', 'BENCHMARKS.md');
  let text = existsSync(mdPath) ? readFileSync(mdPath, 'utf8') : SKELETON;
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (begin === -1 || end < begin) throw new Error(`${mdPath}: missing ${BEGIN} … ${END} markers; restore them where the generated section belongs`);
  text = `${text.slice(0, begin + BEGIN.length)}\n${generated.trim()}\n${text.slice(end)}`;
  writeFileSync(mdPath, text);
  writeFileSync(join(root, 'docs', 'benchmarks.svg'), svg);
  if (soakSvg !== undefined) writeFileSync(join(root, 'docs', 'soak.svg'), soakSvg);
}
