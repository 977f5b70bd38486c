/**
 * Leave-one-corpus-out check: pick the default detector's parameters on all corpora but one, score
 * them on the one left out. Corpora: NAB artificial (artificialNoAnomaly + artificialWithAnomaly),
 * NAB realKnownCause, SKAB (8 columns). The pick maximises the mean of the in-sample NAB scores.
 * Grid: range_margin × spike_z × season_z × season_h × season_alpha (alerts as committed).
 *   npx tsx bench/tune/loco.ts
 */
import { summarise } from '../../src/backtest/metrics.js';
import { evaluate, loadAll } from './harness.js';

const { nab, skab } = loadAll();
const corpora: Record<string, typeof nab> = {
  'NAB artificial': nab.filter((f) => f.key.startsWith('artificial')),
  'NAB realKnownCause': nab.filter((f) => f.key.startsWith('realKnownCause')),
  SKAB: skab,
};
const names = Object.keys(corpora);
const grid: Array<Record<string, number>> = [];
for (const range_margin of [0.01, 0.02, 0.05])
  for (const spike_z of [4, 6, 8])
    for (const season_z of [4, 6, 10])
      for (const season_h of [10, 20, 40])
        for (const season_alpha of [0.1, 0.2, 0.3]) grid.push({ range_margin, spike_z, season_z, season_h, season_alpha });
const committed = { range_margin: 0.02, spike_z: 4, season_z: 6, season_h: 10, season_alpha: 0.2 };
const same = (a: Record<string, number>, b: Record<string, number>) => Object.keys(b).every((k) => a[k] === b[k]);
const results = grid.map((g) => {
  const cfg = { step: { detector: 'default', ...g } };
  const score: Record<string, number> = {};
  for (const n of names) score[n] = summarise(evaluate(corpora[n]!, cfg)).nab.score;
  return { g, score };
});
console.log(`grid of ${grid.length} settings; default detector, standard profile, fixed threshold, one detection per alert`);
console.log(`${'held out'.padEnd(20)} ${'picked on the others'.padEnd(86)} in-sample  held-out  committed-on-it`);
const com = results.find((r) => same(r.g, committed))!;
for (const out of names) {
  const ins = names.filter((n) => n !== out);
  const mean = (r: (typeof results)[number]) => ins.reduce((s, n) => s + r.score[n]!, 0) / ins.length;
  const best = results.reduce((a, b) => (mean(b) > mean(a) ? b : a));
  console.log(`${out.padEnd(20)} ${JSON.stringify(best.g).padEnd(86)} ${mean(best).toFixed(1).padStart(9)} ${best.score[out]!.toFixed(1).padStart(9)} ${com.score[out]!.toFixed(1).padStart(9)}`);
}
const rank = (n: string) => [...results].sort((a, b) => b.score[n]! - a.score[n]!).findIndex((r) => r === com) + 1;
console.log(`committed ${JSON.stringify(committed)}: ${names.map((n) => `${n} ${com.score[n]!.toFixed(1)} (rank ${rank(n)}/${grid.length})`).join(', ')}`);
