/**
 * Leave-one-group-out choice of the `multivariate` step's settings on SKAB (valve1: 16 runs, valve2:
 * 4 runs, anomaly-free: 1 run of 2.6 h without a fault, which only counts false alerts). For each
 * group, the setting with the best pooled F1 on the *other two* (NAB score breaks ties) is scored
 * on it; the spread of those held-out figures is what to quote. Runs the real pipeline (engine +
 * step + alert tracker) in memory with the backtest's scoring (NAB standard profile, one detection
 * per raised alert).
 *   npx tsx bench/tune/multivariate.ts            # grid, LOGO table, committed default
 *   npx tsx bench/tune/multivariate.ts '{"threshold":4}'   # one setting, per-group figures
 */
import { backtestFile, summarise, type FileMetrics } from '../../src/backtest/metrics.js';
import { pipelineSchema } from '../../src/config/pipeline.js';
import type { Emission } from '../../src/core/records.js';
import { compilePipeline } from '../../src/compile.js';
import { multivariateStepSchema } from '../../test/helpers/schemas.js';
import { loadCorpus, SKAB_DIR, SKAB_LABELS, type LoadedFile } from './corpus.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** SKAB with the anomaly-free run as a file with no windows (the shared labels leave it out). */
export function loadSkabAll(): LoadedFile[] {
  const dir = mkdtempSync(join(tmpdir(), 'skab-labels-'));
  const labels = JSON.parse(readFileSync(SKAB_LABELS, 'utf8')) as Record<string, unknown>;
  labels['anomaly-free/anomaly-free.csv'] = [];
  const path = join(dir, 'skab_all.json');
  writeFileSync(path, JSON.stringify(labels));
  try {
    return loadCorpus(SKAB_DIR, path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One file through a pipeline with these steps: per-row "an alert is active" flags, scored. */
export function runSteps(f: LoadedFile, steps: unknown[]): FileMetrics {
  const spec = pipelineSchema().parse({ name: 'tune', input: { streams: ['**'] }, steps });
  const active = new Set<string>();
  const sink = (e: Emission) => {
    if (e.kind !== 'alert') return;
    if (e.alert.state === 'cleared') active.delete(e.alert.id);
    else active.add(e.alert.id);
  };
  const p = compilePipeline(spec, sink);
  const dev = f.key.replace(/\//g, '_');
  const rows = [];
  for (let i = 0; i < f.ts.length; i++) {
    const ts = f.ts[i]!;
    for (let c = 0; c < f.columns.length; c++) p.push({ stream: `${dev}/${f.columns[c]}`, ts, value: f.values[c]![i]! });
    rows.push({ ts, alert: active.size > 0 });
  }
  p.flush(false);
  return backtestFile(rows, f.windows, { file: f.key });
}

export const GROUPS = ['valve1', 'valve2', 'anomaly-free'] as const;
type Totals = ReturnType<typeof summarise>;
export function byGroup(files: LoadedFile[], steps: unknown[]): Record<string, FileMetrics[]> {
  const out: Record<string, FileMetrics[]> = {};
  for (const f of files) (out[f.corpus] ??= []).push(runSteps(f, steps));
  return out;
}
const pct = (x: number) => (Number.isNaN(x) ? '-' : `${(100 * x).toFixed(0)}%`);
export function fmt(m: Totals): string {
  return m.windows === 0 ? `${m.falseAlerts} false alerts` : `P ${pct(m.precision)}, R ${pct(m.recall)}, F1 ${pct(m.f1)}, NAB ${m.nab.score.toFixed(1)} (${m.detected}/${m.windows}, ${m.falseAlerts} false)`;
}
const pooled = (g: Record<string, FileMetrics[]>, names: readonly string[]) => summarise(names.flatMap((n) => g[n]!));

if (process.argv[1]?.endsWith('multivariate.ts')) {
  const files = loadSkabAll();
  const arg = process.argv[2];
  const before = byGroup(files, [{ detect: { detector: 'default', alert: { severity: 'warning' } } }]);
  if (arg?.startsWith('[')) {
    for (const setting of JSON.parse(arg) as unknown[]) {
      const g = byGroup(files, [{ multivariate: setting }]);
      console.log(`${JSON.stringify(setting)}: ${GROUPS.map((n) => `${n} ${fmt(pooled(g, [n]))}`).join('; ')}`);
    }
  } else if (arg) {
    const g = byGroup(files, [{ multivariate: JSON.parse(arg) }]);
    for (const n of GROUPS) console.log(`${n.padEnd(13)} before ${fmt(pooled(before, [n]))}\n${''.padEnd(13)} after  ${fmt(pooled(g, [n]))}`);
    console.log(`all           before ${fmt(pooled(before, GROUPS))}\n${''.padEnd(13)} after  ${fmt(pooled(g, GROUPS))}`);
  } else {
    const grid: Array<Record<string, unknown>> = [];
    for (const lambda of [0.05, 0.1, 0.2])
      for (const agree of [2, 8])
        for (const threshold of [3, 3.5, 4, 4.5, 5])
          for (const [baseline, calibration] of [[200, 200], [250, 250]])
            for (const [clear_score, clear_readings] of [[0.5, 10], [0.4, 10], [0.4, 30], [0.3, 30]]) grid.push({ lambda, agree, threshold, baseline, calibration, alert: { clear_score, clear_readings } });
    const results = grid.map((s) => ({ s, g: byGroup(files, [{ multivariate: s }]) }));
    const key = (r: (typeof results)[number], names: readonly string[]) => {
      const m = pooled(r.g, names);
      return (Number.isNaN(m.f1) ? 0 : m.f1) + m.nab.score / 1e4 - (names.length === 1 && names[0] === 'anomaly-free' ? m.falseAlerts : 0);
    };
    console.log(`grid of ${grid.length} settings; pooled F1 picks (NAB breaks ties)\n`);
    console.log('| held out | picked on the other two | in-sample | held-out | committed default on it | before: default detector per column |');
    console.log('|---|---|---|---|---|---|');
    const D = multivariateStepSchema.parse({});
    const same = (s: Record<string, unknown>) => ['lambda', 'agree', 'threshold', 'baseline', 'calibration'].every((k) => s[k] === (D as Record<string, unknown>)[k]) && JSON.stringify(s.alert) === JSON.stringify({ clear_score: D.alert.clear_score, clear_readings: D.alert.clear_readings });
    const committed = results.find((r) => same(r.s));
    for (const out of GROUPS) {
      const ins = GROUPS.filter((n) => n !== out);
      const best = results.reduce((a, b) => (key(b, ins) > key(a, ins) ? b : a));
      console.log(`| ${out} | ${JSON.stringify(best.s)} | ${fmt(pooled(best.g, ins))} | ${fmt(pooled(best.g, [out]))} | ${committed ? fmt(pooled(committed.g, [out])) : '-'} | ${fmt(pooled(before, [out]))} |`);
    }
    const all = results.reduce((a, b) => (key(b, GROUPS) > key(a, GROUPS) ? b : a));
    console.log(`\npicked on all groups: ${JSON.stringify(all.s)}: ${fmt(pooled(all.g, GROUPS))}`);
    if (committed) console.log(`committed ${JSON.stringify(committed.s)}: ${fmt(pooled(committed.g, GROUPS))}; rank ${[...results].sort((a, b) => key(b, GROUPS) - key(a, GROUPS)).indexOf(committed) + 1}/${results.length}`);
    console.log(`before (default detector on every column): ${fmt(pooled(before, GROUPS))}`);
    // how flat is the optimum: the top 10 on all groups
    for (const r of [...results].sort((a, b) => key(b, GROUPS) - key(a, GROUPS)).slice(0, 10)) console.log(`  ${JSON.stringify(r.s)}: ${fmt(pooled(r.g, GROUPS))}`);
  }
}
