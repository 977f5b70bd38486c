/**
 * Converts the AIOps Challenge 2018 KPI data (the 29 final-round KPIs published by NetManAIOps,
 * github.com/NetManAIOps/KPI-Anomaly-Detection, MIT; see bench/tune/data/aiops-kpi/SOURCE.md) into
 * NAB's layout for `edgewise backtest` and the tuning harness, as bench/tune/cloud-data.ts does for
 * Microsoft's data: `bench/tune/data/aiops-kpi/data/<1min|5min>/<kpi id>.csv` (`timestamp,value`,
 * UTC; the folder is the series' most common step),
 * `labels/windows.json` (NAB windows) and `labels/points.json` (the upstream point labels).
 *
 *   npx tsx bench/tune/kpi-data.ts UPSTREAM_DIR    # one `timestamp,value,label` CSV per KPI
 *
 * Upstream rows are `unix seconds,value,label`. Each file keeps at most its first MAX_ROWS rows
 * (14 days at one reading a minute) so that the folder stays small: the 5-minute KPIs (≤ 10,780
 * rows) are kept whole, the 1-minute ones (75–104 days) are cut. NAB windows are then built on
 * what is kept, exactly as cloud-data.ts builds them (windowsFromPoints). Deterministic.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { formatTimestamp } from '../../src/core/time.js';
import { windowsFromPoints, writeLabels } from './cloud-data.js';

export const KPI_DIR = new URL('./data/aiops-kpi/', import.meta.url).pathname;
/** 14 days of 1-minute readings. */
export const MAX_ROWS = 20_160;

interface Series {
  ts: number[];
  values: number[];
  labels: number[];
}

function readUpstream(path: string): Series {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).filter((l) => l.trim().length > 0);
  if (lines[0]!.trim().toLowerCase() !== 'timestamp,value,label') throw new Error(`${path}: expected the header timestamp,value,label, found ${lines[0]}`);
  const s: Series = { ts: [], values: [], labels: [] };
  for (const [i, line] of lines.slice(1, MAX_ROWS + 1).entries()) {
    const [t, v, l] = line.split(',').map((c) => c.trim());
    const sec = Number(t);
    const value = Number(v);
    const where = `${path}:${i + 2}`;
    if (!Number.isInteger(sec)) throw new Error(`${where}: time ${JSON.stringify(t)} is not whole unix seconds`);
    if (s.ts.length > 0 && sec * 1000 <= s.ts[s.ts.length - 1]!) throw new Error(`${where}: time ${sec} does not follow the row before`);
    if (v === undefined || v === '' || !Number.isFinite(value)) throw new Error(`${where}: value ${JSON.stringify(v)} is not a number`);
    if (l !== '0' && l !== '1') throw new Error(`${where}: label ${JSON.stringify(l)} is neither 0 nor 1`);
    s.ts.push(sec * 1000);
    s.values.push(value);
    s.labels.push(Number(l));
  }
  return s;
}

/** The most common step between rows, as a folder name (`1min`, `5min`). */
function stepFolder(ts: number[]): string {
  const count = new Map<number, number>();
  for (let i = 1; i < ts.length; i++) count.set(ts[i]! - ts[i - 1]!, (count.get(ts[i]! - ts[i - 1]!) ?? 0) + 1);
  const [step] = [...count.entries()].reduce((a, b) => (b[1] > a[1] ? b : a));
  if (step % 60_000 !== 0) throw new Error(`most common step ${step} ms is not whole minutes`);
  return `${step / 60_000}min`;
}

/** Converts every `*.csv` in `src` into `out` (data/, labels/); returns the number of files and windows. */
export function convertKpi(src: string, out = KPI_DIR): { files: number; windows: number } {
  const windows: Record<string, string[][]> = {};
  const points: Record<string, string[]> = {};
  const files = readdirSync(src).filter((n) => n.endsWith('.csv')).sort();
  if (files.length === 0) throw new Error(`${src}: no .csv files`);
  for (const name of files) {
    const s = readUpstream(join(src, name));
    const key = `${stepFolder(s.ts)}/${basename(name)}`;
    mkdirSync(join(out, 'data', key, '..'), { recursive: true });
    writeFileSync(join(out, 'data', key), `timestamp,value\n${s.ts.map((t, i) => `${formatTimestamp(t)},${s.values[i]}`).join('\n')}\n`);
    windows[key] = windowsFromPoints(s.labels).map(([a, b]) => [formatTimestamp(s.ts[a]!), formatTimestamp(s.ts[b]!)]);
    points[key] = s.ts.filter((_, i) => s.labels[i] === 1).map(formatTimestamp);
  }
  return { files: files.length, windows: writeLabels(out, windows, points) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const src = process.argv[2];
  if (!src) throw new Error('usage: npx tsx bench/tune/kpi-data.ts UPSTREAM_DIR (one timestamp,value,label CSV per KPI; see bench/tune/data/aiops-kpi/SOURCE.md)');
  const n = convertKpi(src);
  console.log(`${n.files} files (at most ${MAX_ROWS} rows each), ${n.windows} windows → ${KPI_DIR}`);
}
