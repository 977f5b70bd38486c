/**
 * One bench, this tree against another commit, run in turn (A B A B …) so that both see the same
 * machine: on a shared, noisy machine only figures from alternating runs can be compared.
 *
 * Run: npx tsx bench/alternate.ts REF BENCH [--pairs 3] [--grep REGEX]
 *   REF    a commit (e.g. 5832124, the code before the ingest journal)
 *   BENCH  a file under bench/ in both trees (e.g. runtime.bench.ts, peers/run.ts)
 *   --grep the output lines to print (default: lines with "µs", "MB" or "p99")
 *   Anything after `--` is passed to the bench; the environment (RUNTIME_BENCH_*, …) too.
 * REF is checked out once into $TMPDIR/edgewise-alternate-<ref> (a git worktree sharing this
 * tree's node_modules) and kept for the next run; `git worktree remove` it when done.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { pairs: { type: 'string', default: '3' }, grep: { type: 'string', default: 'µs|MB|p99' } },
});
const [ref, bench, ...benchArgs] = positionals;
if (!ref || !bench) {
  console.error('usage: npx tsx bench/alternate.ts REF BENCH [--pairs N] [--grep REGEX] [-- bench args]');
  process.exit(2);
}
const sha = execFileSync('git', ['-C', here, 'rev-parse', '--short', ref], { encoding: 'utf8' }).trim();
const other = join(os.tmpdir(), `edgewise-alternate-${sha}`);
if (!existsSync(other)) {
  execFileSync('git', ['-C', here, 'worktree', 'add', '--detach', other, sha], { stdio: 'inherit' });
  symlinkSync(join(here, 'node_modules'), join(other, 'node_modules'));
}
for (const tree of [here, other]) {
  if (!existsSync(join(tree, 'bench', bench))) {
    console.error(`bench/${bench} does not exist in ${tree === here ? 'this tree' : sha}`);
    process.exit(2);
  }
}
const head = execFileSync('git', ['-C', here, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
const pick = new RegExp(values.grep);
for (let i = 1; i <= Number(values.pairs); i++) {
  for (const [name, tree] of [[sha, other], [`${head} (this tree)`, here]] as const) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(tree, 'bench', bench), ...benchArgs], { cwd: tree, encoding: 'utf8', maxBuffer: 64 << 20 });
    const load = os.loadavg()[0]!.toFixed(2);
    console.log(`== pair ${i}, ${name}, ${new Date().toISOString().slice(11, 19)} UTC, load ${load}${r.status !== 0 ? `, exit ${r.status}` : ''}`);
    for (const line of `${r.stdout}${r.status !== 0 ? r.stderr : ''}`.split('\n')) if (pick.test(line)) console.log(`  ${line.trim()}`);
  }
}
