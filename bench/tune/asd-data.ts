/**
 * The Application Server Dataset (ASD, published with InterFusion, github.com/zhhlee/InterFusion,
 * MIT; see bench/tune/data/asd/SOURCE.md) as univariate series in NAB's form, for the tuning
 * harness and for `edgewise backtest`.
 *
 * Upstream: 12 servers, 19 metrics each, every 5 minutes, 30 days of training data then 15 days of
 * test data whose anomalies experts labelled with the metrics that showed them. Kept here as one
 * gzipped CSV a server (`upstream/omi-<n>.csv.gz`: `part,m1..m19,label`). Each (server, metric)
 * named in at least one of that server's labelled anomalies becomes one series of 12,960 readings
 * (omi-12: 11,611; training then test, 5 minutes apart from START), anomalous where a labelled
 * anomaly names it; NAB windows are built from those points as for the other corpora
 * (windowsFromPoints).
 *
 *   npx tsx bench/tune/asd-data.ts [OUT_DIR]   # writes OUT_DIR/data/omi-<n>/m<j>.csv and OUT_DIR/labels/
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { formatTimestamp } from '../../src/core/time.js';
import { windowsFromPoints } from './cloud-data.js';
import type { LoadedFile } from './corpus.js';

export const ASD_DIR = new URL('./data/asd/', import.meta.url).pathname;
/** Upstream has no timestamps: the first reading is put at this time (a Monday), 5 minutes apart. */
export const START = Date.UTC(2026, 0, 5);
export const STEP = 300_000;
const SERVERS = 12;

interface Server {
  name: string;
  metrics: string[];
  /** values[metric][row] */
  values: Float64Array[];
  /** The first test row. */
  testStart: number;
  /** Labelled anomalies: test rows (0-based within the test part, inclusive) and the metrics named. */
  anomalies: Array<{ start: number; end: number; metrics: Set<string> }>;
}

function readServer(dir: string, name: string, nMetrics: number): Server {
  const path = `${dir}/${name}.csv.gz`;
  const lines = gunzipSync(readFileSync(path)).toString('utf8').split('\n').filter((l) => l.length > 0);
  const header = lines[0]!.split(',');
  const metrics = header.slice(1, -1);
  if (header[0] !== 'part' || header[header.length - 1] !== 'label' || metrics.length !== nMetrics) throw new Error(`${path}: expected the header part,m1..m${nMetrics},label, found ${lines[0]}`);
  const rows = lines.length - 1;
  const values = metrics.map(() => new Float64Array(rows));
  let testStart = -1;
  for (let r = 0; r < rows; r++) {
    const cells = lines[r + 1]!.split(',');
    if (cells[0] === 'test' && testStart < 0) testStart = r;
    for (let j = 0; j < metrics.length; j++) {
      const v = Number(cells[j + 1]);
      if (!Number.isFinite(v)) throw new Error(`${path}:${r + 2}: ${metrics[j]} ${JSON.stringify(cells[j + 1])} is not a number`);
      values[j]![r] = v;
    }
  }
  if (testStart < 0) throw new Error(`${path}: no test rows`);
  const labelPath = `${dir}/interpretation_label/${name}.txt`;
  const anomalies = readFileSync(labelPath, 'utf8')
    .split(/\s+/)
    .filter((l) => l.length > 0)
    .map((l) => {
      const m = /^(\d+)-(\d+):(\d+(?:,\d+)*)$/.exec(l);
      if (m === null) throw new Error(`${labelPath}: ${JSON.stringify(l)} is not start-end:metric,metric,…`);
      return { start: Number(m[1]), end: Number(m[2]), metrics: new Set(m[3]!.split(',').map((d) => `m${d}`)) };
    });
  return { name, metrics, values, testStart, anomalies };
}

/** Every labelled series of the corpus, in memory (key `omi-<n>/m<j>.csv`). */
export function asdFiles(): LoadedFile[] {
  return serverFiles(`${ASD_DIR}upstream`, Array.from({ length: SERVERS }, (_, i) => `omi-${i + 1}`), 19, STEP, 'ASD');
}

/**
 * The Server Machine Dataset's machines in the same form (OmniAnomaly's data, MIT; 38 metrics a
 * minute), from `dir` holding `machine-<x>-<y>.csv.gz` and `interpretation_label/` as written for
 * ASD (bench/tune/data/asd/SOURCE.md; not committed: 27 MB for the 8 machines InterFusion's
 * snapshot holds). A check corpus, not a tuning one.
 */
export function smdFiles(dir: string): LoadedFile[] {
  const names = readdirSync(dir).filter((n) => n.endsWith('.csv.gz')).map((n) => n.slice(0, -'.csv.gz'.length)).sort();
  if (names.length === 0) throw new Error(`${dir}: no machine-*.csv.gz files (see bench/tune/data/asd/SOURCE.md)`);
  return serverFiles(dir, names, 38, 60_000, 'SMD');
}

function serverFiles(dir: string, names: string[], nMetrics: number, step: number, corpus: string): LoadedFile[] {
  const out: LoadedFile[] = [];
  for (const name of names) {
    const s = readServer(dir, name, nMetrics);
    const rows = s.values[0]!.length;
    const ts = new Float64Array(rows);
    for (let r = 0; r < rows; r++) ts[r] = START + r * step;
    for (const [j, metric] of s.metrics.entries()) {
      const named = s.anomalies.filter((a) => a.metrics.has(metric));
      if (named.length === 0) continue;
      const labels = new Uint8Array(rows);
      for (const a of named) labels.fill(1, s.testStart + a.start, s.testStart + a.end + 1);
      const windows = windowsFromPoints(labels).map(([a, b]): [number, number] => [ts[a]!, ts[b]!]);
      out.push({ key: `${s.name}/${metric}.csv`, corpus, ts, columns: ['value'], values: [s.values[j]!], windows, scoreFrom: ts[s.testStart]! });
    }
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2] ?? '/tmp/edgewise-asd';
  const files = asdFiles();
  const windows: Record<string, string[][]> = {};
  for (const f of files) {
    mkdirSync(join(out, 'data', f.key, '..'), { recursive: true });
    writeFileSync(join(out, 'data', f.key), `timestamp,value\n${Array.from(f.ts, (t, i) => `${formatTimestamp(t)},${f.values[0]![i]}`).join('\n')}\n`);
    windows[f.key] = f.windows.map(([a, b]) => [formatTimestamp(a), formatTimestamp(b)]);
  }
  mkdirSync(join(out, 'labels'), { recursive: true });
  writeFileSync(join(out, 'labels/windows.json'), `${JSON.stringify(windows, null, 1)}\n`);
  console.log(`${files.length} series, ${files.reduce((a, f) => a + f.windows.length, 0)} windows → ${out}`);
  // Every server's test month but omi-12's (its training part is 4.7 days shorter) starts 30 days in.
  console.log(`edgewise backtest --input ${join(out, 'data')} --labels ${join(out, 'labels/windows.json')} --score-from ${formatTimestamp(START + 8_640 * STEP)}`);
}
