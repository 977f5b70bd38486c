/**
 * The default detector on each of SKAB's columns, with settings chosen to hold whenever the fault
 * comes: every setting of a grid is scored at six fault timings (each run's first 0–450 rows cut
 * off, as in skab-cut.ts), and by leaving one group of runs out (valve1, valve2, the fault-free
 * run) the setting with the best worst-timing F1 on the other two (fewest false alerts breaks
 * ties) is scored on the held-out group at every timing (docs/backtest.md, the SKAB section).
 *   npx tsx bench/tune/skab-timing.ts
 */
import { summarise, type FileMetrics } from '../../src/backtest/metrics.js';
import type { LoadedFile } from './corpus.js';
import { fmt, GROUPS, loadSkabAll, runSteps } from './multivariate.js';

const CUTS = [0, 100, 200, 300, 400, 450];
const files = loadSkabAll();
const cut = (f: LoadedFile, rows: number): LoadedFile => ({ ...f, ts: f.ts.slice(rows), values: f.values.map((v) => v.slice(rows)) });
const settings: Record<string, number>[] = [];
for (const range_margin of [0.02, 0.1, 0.2, 0.3, 0.35, 0.4, 0.5])
  for (const warmup of [60, 100, 200, 300]) for (const flat_readings of [10, 60]) settings.push({ range_margin, warmup, flat_readings });

/** results[setting][cut][file] */
const results: FileMetrics[][][] = settings.map((s) =>
  CUTS.map((c) => files.map((f) => runSteps(cut(f, c), [{ detect: { detector: 'default', ...s, alert: { severity: 'warning' } } }]))),
);
const of = (m: FileMetrics[], groups: readonly string[]) => m.filter((_, i) => groups.includes(files[i]!.corpus));
/** The lowest pooled F1 over the timings (a group without faults, the fault-free run, counts only its false alerts). */
const worstF1 = (si: number, groups: readonly string[]) =>
  Math.min(
    ...CUTS.map((_, ci) => {
      const t = summarise(of(results[si]![ci]!, groups));
      return t.windows ? t.f1 : 1;
    }),
  );
const falseAlerts = (si: number, groups: readonly string[]) => CUTS.reduce((a, _, ci) => a + summarise(of(results[si]![ci]!, groups)).falseAlerts, 0);
const pick = (groups: readonly string[]) =>
  settings.reduce((best, _, si) => {
    const a = worstF1(si, groups);
    const b = worstF1(best, groups);
    return a > b + 1e-9 || (Math.abs(a - b) < 1e-9 && falseAlerts(si, groups) < falseAlerts(best, groups)) ? si : best;
  }, 0);
const row = (si: number, groups: readonly string[]) => CUTS.map((c, ci) => `${c}: ${fmt(summarise(of(results[si]![ci]!, groups)))}`).join(' | ');

for (const [si, s] of settings.entries()) console.log(JSON.stringify(s), row(si, ['valve1', 'valve2']), `| fault-free: ${CUTS.map((_, ci) => summarise(of(results[si]![ci]!, ['anomaly-free'])).falseAlerts).join(',')} false`);
for (const held of GROUPS) {
  const others = GROUPS.filter((g) => g !== held);
  const si = pick(others);
  console.log(`held out ${held}: picked ${JSON.stringify(settings[si])} (worst-timing F1 on the others ${(100 * worstF1(si, others)).toFixed(0)}%); on ${held}: ${row(si, [held])}`);
}
const all = pick(GROUPS);
console.log(`all three groups: ${JSON.stringify(settings[all])} (worst-timing F1 ${(100 * worstF1(all, GROUPS)).toFixed(0)}%): ${row(all, ['valve1', 'valve2'])}`);
