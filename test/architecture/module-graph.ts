/**
 * The module graph in docs/architecture.md, generated from the imports as they are.
 *
 *   npm run docs:graph            rewrite the graph section of docs/architecture.md
 *   tsx scripts/module-graph.ts   print it
 *
 * One node per folder (src/<folder>, drivers/<driver>, firmware-sim); an edge when a file in one
 * imports a file in the other, `import type` included (dashed: only through a dynamic `import()`,
 * loaded on demand).
 * Folders in an import cycle are listed under the graph. test/architecture/module-graph.test.ts fails when the
 * committed graph is stale.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cycles, ROOT, tsFiles } from './import-graph.js';

const SCANNED = ['src', 'drivers', 'firmware-sim'];
export const DOC = join(ROOT, 'docs', 'architecture.md');
const BEGIN = '<!-- module-graph:begin (npm run docs:graph) -->';
const END = '<!-- module-graph:end -->';

/** Static imports and re-exports, and dynamic `import('…')`, of relative paths. */
const STATIC_RE = /(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s*['"](\.[^'"]+)['"]|(?:^|\n)\s*import\s*['"](\.[^'"]+)['"]/g;
const DYNAMIC_RE = /\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g;

/** The graph node a file belongs to: its folder (`src/engine`, `drivers/mqtt`, `firmware-sim`), or itself when it sits directly in `src` or `drivers` (`src/plugins.ts`). */
function nodeOf(file: string): string {
  const parts = relative(ROOT, file).split(sep);
  if (parts[0] === 'firmware-sim') return 'firmware-sim';
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts.join('/').replace(/\.[jt]s$/, '');
}

interface Edge {
  from: string;
  to: string;
  /** Only through dynamic imports. */
  dynamic: boolean;
}

export function moduleEdges(): Edge[] {
  const edges = new Map<string, Edge>();
  const add = (from: string, to: string, dynamic: boolean) => {
    if (from === to) return;
    const key = `${from} ${to}`;
    const e = edges.get(key);
    if (e) e.dynamic &&= dynamic;
    else edges.set(key, { from, to, dynamic });
  };
  for (const file of SCANNED.flatMap((d) => tsFiles(d)).map((f) => join(ROOT, f))) {
    const text = readFileSync(file, 'utf8');
    const from = nodeOf(file);
    for (const m of text.matchAll(STATIC_RE)) add(from, nodeOf(resolve(dirname(file), m[1] ?? m[2] ?? '')), false);
    for (const m of text.matchAll(DYNAMIC_RE)) add(from, nodeOf(resolve(dirname(file), m[1] ?? '')), true);
  }
  return [...edges.values()].sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
}

/** Folders that reach each other through imports (strongly connected components, largest first). */
export function folderCycles(edges: Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  return cycles(next).sort((x, y) => y.length - x.length);
}

const id = (node: string) => node.replace(/[^a-zA-Z0-9]/g, '_');

export function graphSection(): string {
  const edges = moduleEdges();
  const nodes = [...new Set(edges.flatMap((e) => [e.from, e.to]))].sort();
  const lines = [BEGIN, '', '```mermaid', 'flowchart LR'];
  for (const n of nodes) lines.push(`  ${id(n)}["${n}"]`);
  for (const e of edges) lines.push(`  ${id(e.from)} ${e.dynamic ? '-.->' : '-->'} ${id(e.to)}`);
  lines.push('```', '');
  const found = folderCycles(edges);
  if (found.length === 0) lines.push('No import cycles between folders.');
  else {
    lines.push('Import cycles between folders (each line: folders that reach each other through imports):', '');
    for (const c of found) lines.push(`- ${c.map((n) => `\`${n}\``).join(', ')}`);
  }
  lines.push('', END);
  return lines.join('\n');
}

/** docs/architecture.md with its graph section replaced by the current one. */
export function renderedDoc(current = readFileSync(DOC, 'utf8')): string {
  const a = current.indexOf(BEGIN);
  const b = current.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${DOC}: the markers ${BEGIN} … ${END} are missing; put them where the graph goes`);
  return current.slice(0, a) + graphSection() + current.slice(b + END.length);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--write')) {
    writeFileSync(DOC, renderedDoc());
    console.log(`wrote the module graph into ${relative(ROOT, DOC)}`);
  } else console.log(graphSection());
}
