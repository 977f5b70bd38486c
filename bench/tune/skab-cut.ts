/**
 * SKAB's 20 valve runs (and the fault-free run) with each run's first N rows cut off, so every
 * fault starts N rows earlier in its run than in the recordings (SKAB's start at rows 560–580): does
 * a pipeline hold when the fault's timing is not the one it was chosen on? Pooled precision, recall,
 * F1 and NAB per cut, false alerts on the fault-free run (docs/backtest.md, the SKAB section).
 *   npx tsx bench/tune/skab-cut.ts                                   # the multivariate step
 *   npx tsx bench/tune/skab-cut.ts '[{"detect":{"detector":"default","alert":{"severity":"warning"}}}]' 0,200,400
 */
import { summarise } from '../../src/backtest/metrics.js';
import type { LoadedFile } from './corpus.js';
import { fmt, loadSkabAll, runSteps } from './multivariate.js';

const steps = JSON.parse(process.argv[2] || '[{"multivariate":{"alert":{"severity":"warning"}}}]') as unknown[];
const cuts = (process.argv[3] ?? '0,100,200,300,400,450').split(',').map(Number);
const files = loadSkabAll();
const cut = (f: LoadedFile, rows: number): LoadedFile => ({ ...f, ts: f.ts.slice(rows), values: f.values.map((v) => v.slice(rows)) });
const faultFree = (file: string) => file.startsWith('anomaly-free');
for (const rows of cuts) {
  const ms = files.map((f) => runSteps(cut(f, rows), steps));
  console.log(`${rows} rows cut (faults at about row ${570 - rows}): ${fmt(summarise(ms.filter((m) => !faultFree(m.file))))}; fault-free run: ${ms.find((m) => faultFree(m.file))?.falseAlerts} false alerts`);
}
