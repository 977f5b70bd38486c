/** Ad-hoc experiments: npx tsx bench/tune/try.ts '{"range_margin":0.03}' [--detail] */
import { summarise } from '../../src/backtest/metrics.js';
import { evaluate, HEADER, loadAll, row } from './harness.js';

const { nab, skab } = loadAll();
const detail = process.argv.includes('--detail');
const over = JSON.parse(process.argv.find((a) => a.startsWith('{')) ?? '{}');
const cfg = { step: { detector: 'default', ...over } };
console.log(HEADER);
const nm = evaluate(nab, cfg);
for (const c of ['artificialNoAnomaly', 'artificialWithAnomaly', 'realKnownCause']) console.log(row(c, summarise(nm.filter((m) => m.file.startsWith(c)))));
console.log(row('NAB total', summarise(nm)));
const sm = evaluate(skab, cfg);
console.log(row('SKAB total', summarise(sm)));
if (detail) for (const m of [...nm, ...sm]) console.log(row(m.file.slice(-28), summarise([m])), m.alerts);
