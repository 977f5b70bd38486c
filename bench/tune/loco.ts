/**
 * Leave-one-corpus-out choice of the default detector's settings. Corpora: NAB artificial
 * (artificialNoAnomaly + artificialWithAnomaly), NAB realKnownCause, SKAB (8 columns), Microsoft's
 * cloud monitoring data (hourly and per-minute series, two corpora; bench/tune/data/msft-cloud),
 * the AIOps Challenge 2018 KPIs (per-minute and 5-minute series, two corpora; bench/tune/data/aiops-kpi),
 * the application servers' 5-minute metrics (ASD, bench/tune/data/asd; with EDGEWISE_SMD=DIR also
 * the Server Machine Dataset's, SMD), and the simulator (sim 6 h seed 1 and 3 d seed 1, made with `edgewise sim`, see SIM below). For
 * each corpus, the setting with the best mean NAB score on the *other* corpora is scored on it; the
 * spread of those held-out scores is the figure to quote. Results are cached (bench/tune/sweep.ts).
 *   npx tsx bench/tune/loco.ts [--sim DIR,DIR] [--sim-slow DIR,DIR] [--grid GRID.json] [--cache FILE]
 * --sim-slow: simulator runs of a reading a minute or slower over weeks (`edgewise sim --rate 0.016667
 * --duration 14d`), a ninth corpus.
 * GRID.json: a list of overrides (`[{}, {"seq_z": 5}, ...]`); `{}` is the committed default. Without
 * it, the sequence-rule grid below.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { DEFAULT_DETECTOR_PARAMS } from '../../src/detectors/default/detector.js';
import { corpora, score, type Scores } from './sweep.js';

const SIM = ['/tmp/detect-sim/h6s1', '/tmp/detect-sim/d3s1'];
const args = process.argv.slice(2);
const simDirs = args.includes('--sim') ? args[args.indexOf('--sim') + 1]!.split(',') : SIM;
// Slow simulator runs (one reading a minute or slower, weeks long) as a corpus of their own.
const slowDirs = args.includes('--sim-slow') ? args[args.indexOf('--sim-slow') + 1]!.split(',') : [];
const all = corpora([...simDirs, ...slowDirs]);
// The simulator dirs form one corpus: merge their files.
const c: typeof all = {};
for (const [name, files] of Object.entries(all)) {
  const key = !name.startsWith('sim ') ? name : slowDirs.some((d) => name === `sim ${d.split('/').pop()}`) ? 'simulator slow' : 'simulator';
  (c[key] ??= []).push(...files);
}
const names = Object.keys(c);

let grid: Array<Record<string, unknown>> = [{ rules: ['range', 'spike', 'flat', 'season'] }];
for (const seq_width of [4, 6, 8, 12])
  for (const seq_z of [3, 5])
    for (const seq_share of [0.4, 0.5, 0.6])
      for (const seq_age of [500, 2000]) grid.push({ seq_width, seq_z, seq_share, seq_age });
const P = DEFAULT_DETECTOR_PARAMS;
let committed: Record<string, unknown> = { seq_width: P.seq_width, seq_z: P.seq_z, seq_share: P.seq_share, seq_age: P.seq_age };
if (args.includes('--grid')) {
  grid = JSON.parse(readFileSync(args[args.indexOf('--grid') + 1]!, 'utf8'));
  committed = {};
}

// The cache is keyed by the overrides only: use a new file (--cache) after changing a default.
const cachePath = args.includes('--cache') ? args[args.indexOf('--cache') + 1]! : '/tmp/detect-loco-cache.json';
const cache: Record<string, Scores> = existsSync(cachePath) ? JSON.parse(readFileSync(cachePath, 'utf8')) : {};
const results = grid.map((g) => {
  const key = `${JSON.stringify(g)}|${names.join(',')}|${[...simDirs, ...slowDirs].join(',')}`;
  const s = (cache[key] ??= score(c, g));
  writeFileSync(cachePath, JSON.stringify(cache));
  return { g, s };
});

const fmt = (v: Scores[string]) => `${v.nab.toFixed(1)} (${v.det}/${v.win}, ${v.fa} FA, P ${(100 * v.p).toFixed(0)}%, R ${(100 * v.r).toFixed(0)}%, F1 ${(100 * v.f1).toFixed(0)}%)`;
console.log(`grid of ${grid.length} settings (the first: no sequence rule); default detector, NAB standard profile, fixed threshold, one detection per alert`);
console.log(`| held out | picked on the other corpora | in-sample mean | held-out score | committed default on it | ${JSON.stringify(grid[0])} |`);
console.log('|---|---|---:|---|---|---|');
const held: number[] = [];
const com = results.find((r) => JSON.stringify(r.g) === JSON.stringify(committed));
for (const out of names) {
  const ins = names.filter((n) => n !== out);
  const mean = (r: (typeof results)[number]) => ins.reduce((a, n) => a + r.s[n]!.nab, 0) / ins.length;
  const best = results.reduce((a, b) => (mean(b) > mean(a) ? b : a));
  held.push(best.s[out]!.nab);
  console.log(`| ${out} | ${JSON.stringify(best.g)} | ${mean(best).toFixed(1)} | ${fmt(best.s[out]!)} | ${com ? fmt(com.s[out]!) : '-'} | ${fmt(results[0]!.s[out]!)} |`);
}
const overall = (r: (typeof results)[number]) => names.reduce((a, n) => a + r.s[n]!.nab, 0) / names.length;
const pick = results.reduce((a, b) => (overall(b) > overall(a) ? b : a));
console.log(`picked on all corpora (the committed default should be this): ${JSON.stringify(pick.g)}, mean ${overall(pick).toFixed(1)}; ${JSON.stringify(grid[0])}: mean ${overall(results[0]!).toFixed(1)}`);
const m = held.reduce((a, b) => a + b, 0) / held.length;
console.log(`held-out scores: mean ${m.toFixed(1)}, min ${Math.min(...held).toFixed(1)}, max ${Math.max(...held).toFixed(1)}`);
if (com) {
  const c = names.map((n) => com.s[n]!.nab);
  console.log(`committed default, per corpus: mean ${(c.reduce((a, b) => a + b, 0) / c.length).toFixed(1)}, min ${Math.min(...c).toFixed(1)}`);
}
if (com) {
  const rank = (n: string) => [...results].sort((a, b) => b.s[n]!.nab - a.s[n]!.nab).findIndex((r) => r === com) + 1;
  console.log(`committed ${JSON.stringify(committed)}: ${names.map((n) => `${n} ${com.s[n]!.nab.toFixed(1)} (rank ${rank(n)}/${grid.length})`).join(', ')}`);
}
