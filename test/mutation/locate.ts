/** Where a mutant applies: the one .ts file of `m.in` (a file or a folder, recursively) holding its original text, exactly once. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Mutant } from './mutants.js';

function tsFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => join(path, f));
}

/** The one file of `m.in` (under `dir`) holding `m.original` (exactly once over all of them), or why not. */
export function locate(dir: string, m: Mutant): { file: string } | { error: string } {
  const hits: string[] = [];
  for (const f of tsFiles(join(dir, m.in))) hits.push(...Array(readFileSync(f, 'utf8').split(m.original).length - 1).fill(f));
  if (hits.length === 1) return { file: hits[0]! };
  const where = hits.length === 0 ? 'not found' : `found ${hits.length} times`;
  return { error: `original text ${where} in ${m.in}; update test/mutation/mutants.ts: ${JSON.stringify(m.original)}` };
}
