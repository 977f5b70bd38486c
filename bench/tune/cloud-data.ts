/**
 * Converts Microsoft's Cloud Monitoring Dataset (github.com/microsoft/cloud-monitoring-dataset,
 * MIT) into NAB's layout for `edgewise backtest` and the tuning harness:
 * `bench/tune/data/msft-cloud/data/<folder>/<file>.csv` (`timestamp,value`, UTC) and
 * `labels/windows.json` (NAB windows) + `labels/points.json` (the upstream point labels).
 *
 *   npx tsx bench/tune/cloud-data.ts UPSTREAM_DATA_DIR     # the upstream repository's data/ folder
 *
 * Upstream labels are points (a `Label` of 1 on a row). NAB labels windows, so, as NAB built its
 * own: a run of consecutive labelled rows is one anomaly; each gets a window of ⌊10% of the file's
 * rows / anomalies⌋ rows, centred on the run and widened to cover it; overlapping windows merge.
 * Rows without a value (upstream writes an empty cell) are left out and counted. Deterministic.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { formatTimestamp, parseTimestamp } from '../../src/core/time.js';

export const CLOUD_DIR = new URL('./data/msft-cloud/', import.meta.url).pathname;

interface Series {
  ts: number[];
  values: number[];
  labels: number[];
}

function readUpstream(path: string): Series & { missing: number } {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).filter((l) => l.trim().length > 0);
  const header = lines[0]!.split(',').map((h) => h.trim().replace(/"/g, '').toLowerCase());
  if (header.join(',') !== 'timestamp,value,label') throw new Error(`${path}: expected the header TimeStamp,Value,Label, found ${lines[0]}`);
  const s = { ts: [] as number[], values: [] as number[], labels: [] as number[], missing: 0 };
  for (const [i, line] of lines.slice(1).entries()) {
    const [t, v, l] = line.split(',').map((c) => c.trim().replace(/"/g, ''));
    const ts = parseTimestamp(t);
    if (!Number.isFinite(ts)) throw new Error(`${path}:${i + 2}: cannot read the time ${JSON.stringify(t)}`);
    if (v === undefined || v === '') {
      s.missing++;
      continue;
    }
    const value = Number(v);
    if (!Number.isFinite(value)) throw new Error(`${path}:${i + 2}: value ${JSON.stringify(v)} is not a number`);
    s.ts.push(ts);
    s.values.push(value);
    s.labels.push(l === '1' ? 1 : 0);
  }
  return s;
}

/** NAB-style windows (row index pairs) around each run of labelled rows. */
export function windowsFromPoints(labels: ArrayLike<number>): Array<[number, number]> {
  const n = labels.length;
  const runs: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) {
    if (labels[i] !== 1) continue;
    const start = i;
    while (i + 1 < n && labels[i + 1] === 1) i++;
    runs.push([start, i]);
  }
  if (runs.length === 0) return [];
  const half = Math.floor(Math.floor((0.1 * n) / runs.length) / 2);
  const out: Array<[number, number]> = [];
  for (const [a, b] of runs) {
    const w: [number, number] = [Math.max(0, a - half), Math.min(n - 1, b + half)];
    const last = out[out.length - 1];
    if (last && w[0] <= last[1]) last[1] = Math.max(last[1], w[1]);
    else out.push(w);
  }
  return out;
}

/** Writes `labels/windows.json` (one file a line) and `labels/points.json` under `dir`; returns the number of windows. */
export function writeLabels(dir: string, windows: Record<string, string[][]>, points: Record<string, string[]>): number {
  mkdirSync(join(dir, 'labels'), { recursive: true });
  const lines = Object.entries(windows).map(([k, w]) => `  ${JSON.stringify(k)}: ${JSON.stringify(w)}`);
  writeFileSync(join(dir, 'labels/windows.json'), `{\n${lines.join(',\n')}\n}\n`);
  writeFileSync(join(dir, 'labels/points.json'), `${JSON.stringify(points)}\n`);
  return Object.values(windows).reduce((a, w) => a + w.length, 0);
}

function main(src: string): void {
  const windows: Record<string, string[][]> = {};
  const points: Record<string, string[]> = {};
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.csv')) files.push(p);
    }
  };
  walk(src);
  let missing = 0;
  for (const p of files) {
    const key = relative(src, p).replace(/\\/g, '/');
    const s = readUpstream(p);
    missing += s.missing;
    const out = join(CLOUD_DIR, 'data', key);
    mkdirSync(join(out, '..'), { recursive: true });
    writeFileSync(out, `timestamp,value\n${s.ts.map((t, i) => `${formatTimestamp(t)},${s.values[i]}`).join('\n')}\n`);
    windows[key] = windowsFromPoints(s.labels).map(([a, b]) => [formatTimestamp(s.ts[a]!), formatTimestamp(s.ts[b]!)]);
    points[key] = s.ts.filter((_, i) => s.labels[i] === 1).map(formatTimestamp);
  }
  const nWin = writeLabels(CLOUD_DIR, windows, points);
  console.log(`${files.length} files, ${nWin} windows, ${missing} rows without a value left out → ${CLOUD_DIR}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const src = process.argv[2];
  if (!src) throw new Error('usage: npx tsx bench/tune/cloud-data.ts UPSTREAM_DATA_DIR (the data/ folder of microsoft/cloud-monitoring-dataset)');
  main(src);
}
