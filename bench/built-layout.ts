/**
 * Our code as `npm run build` lays it out (one .js per .ts), transpiled by esbuild in a second into
 * node_modules/.cache/<name>. Benches run the runtime from there with plain node: no tsx loader
 * (which alone adds ~35 MB), npm packages loaded from node_modules as installed.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Transpile src/ and drivers/ into node_modules/.cache/<name>; returns that folder and the CLI entry. */
export async function transpileBuiltLayout(name: string): Promise<{ dir: string; main: string }> {
  const { build } = (await import('esbuild' as string)) as typeof import('esbuild');
  const { globSync } = await import('tinyglobby');
  const dir = join(repoRoot, 'node_modules', '.cache', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const files = globSync(['src/**/*.ts', 'drivers/**/*.ts'], { cwd: repoRoot, absolute: true, ignore: ['**/*.d.ts'] });
  await build({ entryPoints: files, outbase: repoRoot, outdir: dir, bundle: false, platform: 'node', format: 'esm', logLevel: 'error' });
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  return { dir, main: join(dir, 'src', 'cli', 'main.js') };
}
