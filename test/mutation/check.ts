/**
 * A small mutation check (npm run test:mutation): applies each mutant of ./mutants.ts, one at a
 * time, in a temporary copy of the sources, runs its tests, and expects them to fail. Prints the
 * kill ratio; exits 1 if a mutant survives, its original text is not found exactly once, or its
 * tests fail before any mutation (a kill would then prove nothing).
 *
 *   npm run test:mutation                  all mutants, MUTATION_JOBS (default 2) at a time
 *   npm run test:mutation -- outbox NaN    only those whose id contains "outbox" or "NaN"
 *   MUTATION_BASELINE=skip npm run ...     without the unmutated runs: for CI, whose npm test has
 *                                          just passed those tests on the same tree
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { locate } from './locate.js';
import { MUTANTS } from './mutants.js';

const ROOT = resolve(import.meta.dirname, '../..');
// bench: tests read its corpora (bench/tune/data) and their loaders.
const COPIED = ['src', 'drivers', 'firmware-sim', 'pipelines', 'test', 'bench', 'package.json', 'tsconfig.json'];
const JOBS = Math.max(1, Number(process.env.MUTATION_JOBS ?? 2));
const TIMEOUT_MS = 180_000;
// A mutant's test often fails by a waitFor timing out: 10 s, not 30, ends it sooner; the unmutated
// baseline runs with the same limit, so a wait that needs longer fails there, not as a false kill.
const WAIT_MS = process.env.EDGEWISE_TEST_WAIT_MS ?? '10000';
const SKIP_BASELINE = process.env.MUTATION_BASELINE === 'skip';
const TSX_CACHE = mkdtempSync(join(tmpdir(), 'edgewise-mutation-tsx-'));

interface Outcome {
  label: string;
  failed: boolean;
  timedOut: boolean;
  ms: number;
  output: string;
}

function copyTree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-mutation-'));
  for (const p of COPIED) if (existsSync(join(ROOT, p))) cpSync(join(ROOT, p), join(dir, p), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** Run tests in `dir`; failed: they did not all pass (or took longer than TIMEOUT_MS). */
function runTests(dir: string, label: string, files: string[], patterns: string[] = []): Promise<Outcome> {
  const t0 = Date.now();
  const args = ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=dot', ...patterns.map((p) => `--test-name-pattern=${p}`), ...files];
  // The tests' temporary files go to a folder of this run, removed after it: a test killed
  // mid-way (the first X, a timeout) never runs its cleanup, and left 4 MB outboxes in /tmp.
  const tmp = mkdtempSync(join(tmpdir(), 'edgewise-mutation-tmp-'));
  // tsx keeps its compiled files in $TMPDIR/tsx-<uid>: pointed at one cache for the whole check, a
  // run compiles only what changed (the mutated file; the cache is keyed by content), ~1 s less a run.
  symlinkSync(TSX_CACHE, join(tmp, `tsx-${process.geteuid?.() ?? userInfo().username}`));
  const env = { ...process.env, EDGEWISE_TEST_WAIT_MS: WAIT_MS, TMPDIR: tmp };
  const child = spawn(process.execPath, args, { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let stdout = '';
  let bailed = false;
  child.stdout.on('data', (d) => {
    output += d;
    stdout += d;
    // The dot reporter prints a dot per test passed and an X per test failed: the first X settles
    // it (the tests after it, often a mutant's other waits for what never comes, need not run).
    if (!bailed && /^[.\n]*X/.test(stdout)) {
      bailed = true;
      process.kill(-child.pid!, 'SIGKILL');
    }
  });
  child.stderr.on('data', (d) => (output += d));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    process.kill(-child.pid!, 'SIGKILL'); // the runner and the test processes it started
  }, TIMEOUT_MS);
  return new Promise((done) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
      done({ label, failed: bailed || code !== 0, timedOut, ms: Date.now() - t0, output });
    }),
  );
}

interface BaselineRun {
  label: string;
  files: string[];
  /** Empty: every test of the files. */
  patterns: string[];
}

/** The unmutated runs: one per set of test files, selecting every test some mutant relies on. */
function baselineRuns(mutants: readonly { tests: string[]; pattern?: string }[]): BaselineRun[] {
  const byFiles = new Map<string, BaselineRun & { whole: boolean }>();
  for (const m of mutants) {
    const key = m.tests.join(' ');
    const run = byFiles.get(key) ?? { label: key, files: m.tests, patterns: [], whole: false };
    byFiles.set(key, run);
    if (!m.pattern) run.whole = true;
    else if (!run.patterns.includes(m.pattern)) run.patterns.push(m.pattern);
  }
  return [...byFiles.values()].map(({ whole, ...run }) => {
    const patterns = whole ? [] : run.patterns;
    return { ...run, patterns, label: patterns.length ? `${run.label} (tests matching ${patterns.map((p) => `"${p}"`).join(' or ')})` : run.label };
  });
}

/** Run `work` over `items`, `JOBS` at a time, each job with its own copy of the tree. */
async function inCopies<T, R>(copies: string[], items: T[], work: (dir: string, item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    copies.map(async (dir) => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(dir, items[i]!);
      }
    }),
  );
  return results;
}

async function main(): Promise<number> {
  const filters = process.argv.slice(2);
  const mutants = MUTANTS.filter((m) => filters.length === 0 || filters.some((f) => m.id.includes(f)));
  const t0 = Date.now();
  const copies = Array.from({ length: Math.min(JOBS, mutants.length) }, copyTree);
  try {
    const problems: string[] = [];
    for (const m of mutants) {
      const at = locate(copies[0]!, m);
      if ('error' in at) problems.push(`${m.id}: ${at.error}`);
    }
    if (problems.length) {
      for (const p of problems) console.error(`mutation check: ${p}`);
      return 1;
    }
    // Unmutated, each test selection must pass, or killing a mutant would prove nothing. Selections
    // over the same files run once, with every pattern (a test runs if it matches any of them).
    // In CI npm test has just run every one of these files on the same tree (with 30 s waits, not
    // 10): the baseline would repeat ~150 s of it. A mutant added or moved is checked locally,
    // where the baseline runs.
    if (SKIP_BASELINE) console.log('mutation check: unmutated runs skipped (MUTATION_BASELINE=skip: npm test passed them on this tree)');
    else {
      const baseline = await inCopies(copies, baselineRuns(mutants), (dir, run) => runTests(dir, run.label, run.files, run.patterns));
      const broken = baseline.filter((b) => b.failed);
      for (const b of broken) console.error(`mutation check: fails before any mutation: ${b.label}\n${b.output.slice(-3000)}`);
      if (broken.length) return 1;
      console.log(`mutation check: ${baseline.length} unmutated runs passed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }

    const outcomes = await inCopies(copies, mutants, async (dir, m) => {
      const { file } = locate(dir, m) as { file: string };
      const text = readFileSync(file, 'utf8');
      writeFileSync(file, text.replace(m.original, m.replacement));
      try {
        return await runTests(dir, m.id, m.tests, m.pattern ? [m.pattern] : []);
      } finally {
        writeFileSync(file, text);
      }
    });
    let killed = 0;
    for (const [i, o] of outcomes.entries()) {
      const m = mutants[i]!;
      if (o.failed) killed++;
      const verdict = o.failed ? (o.timedOut ? 'killed (timed out)' : 'killed') : 'SURVIVED';
      console.log(`${verdict.padEnd(18)} ${(o.ms / 1000).toFixed(1).padStart(5)} s  ${m.id}  [${m.tests.join(' ')}${m.pattern ? ` ~ ${m.pattern}` : ''}]`);
    }
    const ratio = mutants.length ? (100 * killed) / mutants.length : 100;
    console.log(`mutation check: ${killed}/${mutants.length} mutants killed (${ratio.toFixed(0)}%) in ${((Date.now() - t0) / 1000).toFixed(0)} s, ${copies.length} at a time`);
    if (killed < mutants.length) {
      console.error('mutation check: a mutant survived: the tests listed for it no longer catch that removal. Strengthen them (or, if the feature changed on purpose, the mutant in test/mutation/mutants.ts).');
      return 1;
    }
    return 0;
  } finally {
    for (const c of copies) rmSync(c, { recursive: true, force: true });
    rmSync(TSX_CACHE, { recursive: true, force: true });
  }
}

process.exitCode = await main();
