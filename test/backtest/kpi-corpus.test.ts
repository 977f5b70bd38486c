/**
 * The AIOps Challenge KPI corpus (bench/tune/data/aiops-kpi): the conversion cuts each series to
 * its first MAX_ROWS rows, files it by sampling step and builds NAB windows on what it keeps; the
 * committed folder is what the backtest CLI can read, and stays small.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadCorpus } from '../../bench/tune/corpus.js';
import { convertKpi, KPI_DIR, MAX_ROWS } from '../../bench/tune/kpi-data.js';
import { loadWindows } from '../../src/backtest/labels.js';

const T0 = 1_500_000_000; // unix seconds, a whole minute

/** Upstream layout: `timestamp,value,label`, unix seconds. */
function upstream(dir: string, name: string, rows: number, stepS: number, labelled: (i: number) => boolean): void {
  const lines = ['timestamp,value,label'];
  for (let i = 0; i < rows; i++) lines.push(`${T0 + i * stepS},${(i % 60) / 10},${labelled(i) ? 1 : 0}`);
  writeFileSync(join(dir, name), lines.join('\n') + '\n');
}

describe('AIOps KPI corpus conversion', () => {
  it('keeps the first MAX_ROWS rows, files by step, and builds windows only on the rows it keeps', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kpi-'));
    try {
      const src = join(dir, 'src');
      mkdirSync(src);
      // A labelled run inside the kept part and one after the cut (which must vanish).
      upstream(src, 'a.csv', MAX_ROWS + 5_000, 60, (i) => (i >= 10_000 && i < 10_003) || i === MAX_ROWS + 100);
      upstream(src, 'b.csv', 2_000, 300, (i) => i === 1_000);
      const out = join(dir, 'out');
      assert.deepEqual(convertKpi(src, out), { files: 2, windows: 2 });
      const a = readFileSync(join(out, 'data/1min/a.csv'), 'utf8').trim().split('\n');
      assert.equal(a.length - 1, MAX_ROWS);
      assert.equal(a[1], '2017-07-14 02:40:00,0');
      assert.equal(readFileSync(join(out, 'data/5min/b.csv'), 'utf8').trim().split('\n').length - 1, 2_000);
      const w = JSON.parse(readFileSync(join(out, 'labels/windows.json'), 'utf8')) as Record<string, string[][]>;
      // ⌊10 % of 20,160 rows / 1 anomaly⌋ = 2,016 rows, centred on the 3-row run: ±1,008 rows.
      const at = (i: number) => new Date((T0 + i * 60) * 1000).toISOString().replace('T', ' ').slice(0, 19);
      assert.deepEqual(w['1min/a.csv'], [[at(10_000 - 1_008), at(10_002 + 1_008)]]);
      assert.equal(w['5min/b.csv']!.length, 1);
      assert.equal(loadCorpus(join(out, 'data'), join(out, 'labels/windows.json')).length, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the file and line of a value that is not a number', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kpi-'));
    try {
      writeFileSync(join(dir, 'bad.csv'), `timestamp,value,label\n${T0},1,0\n${T0 + 60},,0\n`);
      assert.throws(() => convertKpi(dir, join(dir, 'out')), /bad\.csv:3: value "" is not a number/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the committed folder: 29 labelled series the backtest reads, ≤ MAX_ROWS rows each, under 30 MB', () => {
    const labels = loadWindows(join(KPI_DIR, 'labels/windows.json'));
    assert.equal(labels.size, 29);
    const files = loadCorpus(join(KPI_DIR, 'data'), join(KPI_DIR, 'labels/windows.json'));
    assert.equal(files.length, 29);
    for (const f of files) {
      assert.ok(f.ts.length <= MAX_ROWS, f.key);
      for (const w of f.windows) assert.ok(w[0] >= f.ts[0]! && w[1] <= f.ts[f.ts.length - 1]!, `${f.key}: window outside the data`);
    }
    let bytes = 0;
    const walk = (d: string) => {
      for (const n of readdirSync(d)) {
        const p = join(d, n);
        if (statSync(p).isDirectory()) walk(p);
        else bytes += statSync(p).size;
      }
    };
    walk(KPI_DIR);
    assert.ok(bytes < 30e6, `${bytes} bytes`);
  });
});
