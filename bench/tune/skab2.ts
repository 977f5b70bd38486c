import { summarise } from '../../src/backtest/metrics.js';
import { loadCorpus, SKAB_DIR, SKAB_LABELS } from './corpus.js';
import { evaluate, HEADER, row } from './harness.js';
const skab = loadCorpus(SKAB_DIR, SKAB_LABELS);
const F = 'Volume Flow RateRMS', C = 'Current', P = 'Pressure', A2 = 'Accelerometer2RMS', A1 = 'Accelerometer1RMS';
console.log(HEADER);
for (const cd of [200, 400]) for (const cols of [[F], [F, C], [F, P], [F, C, P], [F, C, P, A2], [F, C, P, A1, A2]]) console.log(row(`cd${cd} ${cols.map((c) => c.slice(0, 4)).join('+')}`, summarise(evaluate(skab, { step: { detector: 'default', alert: { cooldown_readings: cd } }, columns: cols }))));
