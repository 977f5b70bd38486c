/**
 * The runtime import graph of `src/` and `drivers/`, from esbuild's metafile (type-only imports are
 * erased, as at run time), and its cycles between files and between modules (folders), as strongly
 * connected components.
 * Used by test/architecture/cycles.test.ts; `npx tsx test/architecture/import-graph.ts` prints them.
 */
import { build, type Metafile } from 'esbuild';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');

/** The .ts files under a folder (paths relative to the repository). */
export function tsFiles(dir: string): string[] {
  return readdirSync(resolve(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : tsFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** What esbuild finds reachable from these entry points (paths relative to the repository), static imports and `import()` alike. */
export async function reachable(entryPoints: string[]): Promise<Metafile> {
  const r = await build({
    entryPoints: entryPoints.map((f) => resolve(ROOT, f)),
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outdir: 'out',
    logLevel: 'silent',
  });
  return r.metafile;
}

/** file → files it imports at run time (paths relative to the repository). */
export async function importGraph(dirs = ['src', 'drivers']): Promise<Map<string, string[]>> {
  const metafile = await reachable(dirs.flatMap(tsFiles));
  const g = new Map<string, string[]>();
  for (const [file, input] of Object.entries(metafile.inputs)) {
    if (file.startsWith('node_modules') || !dirs.some((d) => file.startsWith(`${d}/`))) continue;
    g.set(file, input.imports.filter((im) => !im.external && dirs.some((d) => im.path.startsWith(`${d}/`))).map((im) => im.path));
  }
  return g;
}

/**
 * The module a file belongs to: its top folder under `src/` or `drivers/` (`src/engine` holds
 * `src/engine/windows/...`), or `src`/`drivers` for files at the top (the composition root).
 */
export function moduleOf(file: string): string {
  const parts = file.split('/');
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

/** The graph between modules (a file's module imports its imports' modules). */
export function moduleGraph(g: Map<string, string[]>): Map<string, Set<string>> {
  const mg = new Map<string, Set<string>>();
  for (const [file, imports] of g) {
    const from = moduleOf(file);
    const to = mg.get(from) ?? mg.set(from, new Set()).get(from)!;
    for (const im of imports) if (moduleOf(im) !== from) to.add(moduleOf(im));
  }
  return mg;
}

/** Strongly connected components with more than one node (Tarjan), each sorted. */
export function cycles(graph: Map<string, Iterable<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const g = await importGraph();
  console.log('file cycles:', JSON.stringify(cycles(g), null, 1));
  console.log('module cycles:', JSON.stringify(cycles(moduleGraph(g)), null, 1));
}
