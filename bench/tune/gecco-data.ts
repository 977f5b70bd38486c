/**
 * The GECCO Industrial Challenge 2018 water quality data (a drinking-water utility's station,
 * nine sensors a minute, events labelled by the operator; bench/tune/data/gecco-water/SOURCE.md)
 * as two multivariate files, for the tuning harness and for `edgewise backtest`.
 *
 * Decided before any score, as for SKAB: each of the two published parts (training, Aug–Nov 2016;
 * test, Nov 2016–Feb 2017) is one file of nine columns, each column judged by its own detector
 * state, a minute alerting while any column's alert is; NAB windows are built from the runs of
 * `EVENT` rows as for the other point-labelled corpora (windowsFromPoints); a row without values
 * (the station's outages: 1,044 and 24,480 minutes) is missing, not 0.
 *
 *   npx tsx bench/tune/gecco-data.ts [OUT_DIR]   # writes OUT_DIR/data/{train,test}.csv and OUT_DIR/labels/
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { formatTimestamp, parseTimestamp } from '../../src/core/time.js';
import { windowsFromPoints } from './cloud-data.js';
import type { LoadedFile } from './corpus.js';

export const GECCO_DIR = new URL('./data/gecco-water/', import.meta.url).pathname;
const SENSORS = ['Tp', 'Cl', 'pH', 'Redox', 'Leit', 'Trueb', 'Cl_2', 'Fm', 'Fm_2'];

function readPart(part: 'train' | 'test'): LoadedFile {
  const path = `${GECCO_DIR}upstream/gecco2018-${part}.csv.gz`;
  const lines = gunzipSync(readFileSync(path)).toString('utf8').split('\n').filter((l) => l.length > 0);
  const expected = ['Time', ...SENSORS, 'EVENT'].join(',');
  if (lines[0] !== expected) throw new Error(`${path}: expected the header ${expected}, found ${lines[0]}`);
  const n = lines.length - 1;
  const ts = new Float64Array(n);
  const values = SENSORS.map(() => new Float64Array(n));
  const labels = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    const cells = lines[r + 1]!.split(',');
    ts[r] = parseTimestamp(cells[0]!);
    for (let j = 0; j < SENSORS.length; j++) {
      const cell = cells[j + 1]!;
      const v = cell === '' ? NaN : Number(cell);
      if (cell !== '' && !Number.isFinite(v)) throw new Error(`${path}:${r + 2}: ${SENSORS[j]} ${JSON.stringify(cell)} is not a number`);
      values[j]![r] = v;
    }
    if (cells[10] !== '0' && cells[10] !== '1') throw new Error(`${path}:${r + 2}: EVENT ${JSON.stringify(cells[10])} is not 0 or 1`);
    labels[r] = cells[10] === '1' ? 1 : 0;
  }
  const windows = windowsFromPoints(labels).map(([a, b]): [number, number] => [ts[a]!, ts[b]!]);
  return { key: `${part}.csv`, corpus: 'GECCO water', ts, columns: SENSORS, values, windows };
}

/** Both parts, in memory (keys `train.csv`, `test.csv`). */
export function geccoFiles(): LoadedFile[] {
  return [readPart('train'), readPart('test')];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2] ?? '/tmp/edgewise-gecco';
  const files = geccoFiles();
  const windows: Record<string, string[][]> = {};
  mkdirSync(join(out, 'data'), { recursive: true });
  for (const f of files) {
    const rows = Array.from(f.ts, (t, i) => `${formatTimestamp(t)},${f.values.map((v) => (Number.isNaN(v[i]!) ? '' : v[i])).join(',')}`);
    writeFileSync(join(out, 'data', f.key), `timestamp,${f.columns.join(',')}\n${rows.join('\n')}\n`);
    windows[f.key] = f.windows.map(([a, b]) => [formatTimestamp(a), formatTimestamp(b)]);
  }
  mkdirSync(join(out, 'labels'), { recursive: true });
  writeFileSync(join(out, 'labels/windows.json'), `${JSON.stringify(windows, null, 1)}\n`);
  console.log(`${files.length} files, ${files.reduce((a, f) => a + f.windows.length, 0)} windows → ${out}`);
  console.log(`edgewise backtest --input ${join(out, 'data')} --labels ${join(out, 'labels/windows.json')}`);
}
