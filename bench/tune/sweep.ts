/**
 * Small grid over overrides of the default detector on every corpus, one process, cached per
 * setting in a JSON file (re-runs only score settings not seen before).
 *   npx tsx bench/tune/sweep.ts GRID.json [--sim DIR,DIR] [--cache FILE]
 * GRID.json: { "param": [values...], ... } (the cartesian product is scored).
 * Corpora: NAB artificial, NAB realKnownCause, SKAB, Microsoft's cloud data (hourly, minute), the
 * AIOps Challenge KPIs (minute, 5-minute), the application servers' metrics (ASD, 5-minute), a water
 * utility's station (GECCO water, 9 sensors a minute) and each simulator dir (its own corpus).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { summarise } from '../../src/backtest/metrics.js';
import { asdFiles, smdFiles } from './asd-data.js';
import { CLOUD_DIR } from './cloud-data.js';
import { loadCorpus } from './corpus.js';
import { geccoFiles } from './gecco-data.js';
import { evaluate, loadAll } from './harness.js';
import { KPI_DIR } from './kpi-data.js';

export type Scores = Record<string, { nab: number; det: number; win: number; fa: number; p: number; r: number; f1: number }>;

export function corpora(simDirs: string[]) {
  const { nab, skab } = loadAll();
  const c: Record<string, ReturnType<typeof loadAll>['nab']> = {
    'NAB artificial': nab.filter((f) => f.key.startsWith('artificial')),
    'NAB realKnownCause': nab.filter((f) => f.key.startsWith('realKnownCause')),
    SKAB: skab,
    ...cloudCorpora(),
    ...kpiCorpora(),
    ASD: asdFiles(),
    'GECCO water': geccoFiles(),
  };
  for (const d of simDirs) c[`sim ${d.split('/').pop()}`] = loadCorpus(`${d}/data`, `${d}/labels/combined_windows.json`);
  // A check corpus kept out of the repository (bench/tune/data/asd/SOURCE.md): EDGEWISE_SMD=DIR.
  if (process.env.EDGEWISE_SMD) c.SMD = smdFiles(process.env.EDGEWISE_SMD);
  return c;
}

/**
 * Microsoft's Cloud Monitoring Dataset (bench/tune/data/msft-cloud/SOURCE.md) as two corpora by
 * sampling interval: hourly (crash rates, purchases, API latency and requests; short, many
 * anomalies) and per minute (ingress, MongoDB query rates, service-unavailable; two weeks each).
 */
export function cloudCorpora() {
  const files = loadCorpus(`${CLOUD_DIR}data`, `${CLOUD_DIR}labels/windows.json`);
  const hourly = (f: (typeof files)[number]) => f.ts[1]! - f.ts[0]! >= 3_600_000;
  return { 'cloud hourly': files.filter(hourly), 'cloud minute': files.filter((f) => !hourly(f)) };
}

/**
 * The AIOps Challenge 2018 KPIs (bench/tune/data/aiops-kpi/SOURCE.md) as two corpora by sampling
 * interval, the folder the conversion put them in: per minute (22 web and server KPIs, their first
 * 14 days) and every 5 minutes (7 KPIs, 30–43 days each).
 */
export function kpiCorpora() {
  const files = loadCorpus(`${KPI_DIR}data`, `${KPI_DIR}labels/windows.json`);
  return { 'KPI minute': files.filter((f) => f.key.startsWith('1min/')), 'KPI 5-minute': files.filter((f) => f.key.startsWith('5min/')) };
}

export function score(c: ReturnType<typeof corpora>, over: Record<string, unknown>): Scores {
  const out: Scores = {};
  for (const [name, files] of Object.entries(c)) {
    const m = summarise(evaluate(files, { step: { detector: 'default', ...over } }));
    out[name] = { nab: m.nab.score, det: m.detected, win: m.windows, fa: m.falseAlerts, p: m.precision, r: m.recall, f1: m.f1 };
  }
  return out;
}

function product(grid: Record<string, unknown[]>): Array<Record<string, unknown>> {
  let acc: Array<Record<string, unknown>> = [{}];
  for (const [k, vs] of Object.entries(grid)) acc = acc.flatMap((a) => vs.map((v) => ({ ...a, [k]: v })));
  return acc;
}

if (process.argv[1]?.endsWith('sweep.ts')) {
  const args = process.argv.slice(2);
  const grid = JSON.parse(readFileSync(args[0]!, 'utf8')) as Record<string, unknown[]>;
  const sim = args.includes('--sim') ? args[args.indexOf('--sim') + 1]!.split(',') : [];
  const cachePath = args.includes('--cache') ? args[args.indexOf('--cache') + 1]! : '/tmp/detect-sweep-cache.json';
  const cache: Record<string, Scores> = existsSync(cachePath) ? JSON.parse(readFileSync(cachePath, 'utf8')) : {};
  const c = corpora(sim);
  for (const over of product(grid)) {
    const key = JSON.stringify(over) + '|' + Object.keys(c).join(',');
    const s = (cache[key] ??= score(c, over));
    writeFileSync(cachePath, JSON.stringify(cache));
    console.log(JSON.stringify(over).padEnd(70), Object.entries(s).map(([n, v]) => `${n.slice(0, 8)} ${v.nab.toFixed(1)} ${v.det}/${v.win} fa${v.fa} p${(100 * v.p).toFixed(0)}`).join(' | '));
  }
}
