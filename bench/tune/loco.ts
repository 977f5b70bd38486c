/**
 * Leave-one-corpus-out check: pick the default detector's parameters on one corpus only, score
 * them on the other. Grid: range_margin × range_steps × spike_z (alerts as committed).
 *   npx tsx bench/tune/loco.ts
 */
import { summarise } from '../../src/backtest/metrics.js';
import { evaluate, loadAll } from './harness.js';

const { nab, skab } = loadAll();
const grid: Array<Record<string, number>> = [];
for (const range_margin of [0.01, 0.02, 0.05]) for (const range_steps of [0.5, 1, 1.5, 2]) for (const spike_z of [4, 6, 8]) grid.push({ range_margin, range_steps, spike_z });
const results = grid.map((g) => {
  const cfg = { step: { detector: 'default', ...g } };
  return { g, nab: summarise(evaluate(nab, cfg)).nab.score, skab: summarise(evaluate(skab, cfg)).nab.score };
});
const best = (k: 'nab' | 'skab') => results.reduce((a, b) => (b[k] > a[k] ? b : a));
const committed = results.find((r) => r.g.range_margin === 0.02 && r.g.range_steps === 1 && r.g.spike_z === 6)!;
const bn = best('nab');
const bs = best('skab');
console.log(`grid of ${grid.length} settings; NAB = NAB subset (18 files), SKAB = all 8 columns, default detector, standard profile`);
console.log(`tuned on NAB only : ${JSON.stringify(bn.g)}  NAB ${bn.nab.toFixed(1)} (in-sample)  → SKAB ${bn.skab.toFixed(1)} (held out)`);
console.log(`tuned on SKAB only: ${JSON.stringify(bs.g)}  SKAB ${bs.skab.toFixed(1)} (in-sample) → NAB ${bs.nab.toFixed(1)} (held out)`);
console.log(`committed default : ${JSON.stringify(committed.g)}  NAB ${committed.nab.toFixed(1)}  SKAB ${committed.skab.toFixed(1)}`);
const sorted = (k: 'nab' | 'skab') => [...results].sort((a, b) => b[k] - a[k]).map((r) => r.g);
const rank = (k: 'nab' | 'skab') => sorted(k).findIndex((g) => g === committed.g) + 1;
console.log(`committed default ranks ${rank('nab')}/${grid.length} on NAB and ${rank('skab')}/${grid.length} on SKAB`);
