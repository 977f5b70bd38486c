/**
 * The Application Server Dataset corpus (bench/tune/data/asd): every (server, metric) that a
 * labelled anomaly names becomes one 5-minute series of the training then the test month, labelled
 * only where an anomaly names that metric; what `asd-data.ts` writes is what the backtest reads.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ASD_DIR, asdFiles, START, STEP } from '../../bench/tune/asd-data.js';
import { loadCorpus } from '../../bench/tune/corpus.js';
import { evaluate, historyRows } from '../../bench/tune/harness.js';
import type { FileMetrics } from '../../src/backtest/metrics.js';

/** Upstream: 30 days of training data (omi-12: 7,291 readings), then 15 days of test data. */
const TEST_ROWS = 4_320;
const TEST_START = START + 8_640 * STEP;

describe('ASD corpus', () => {
  const files = asdFiles();

  it('holds 208 series of 11,611–12,960 readings 5 minutes apart, 518 windows, all in the test month', () => {
    assert.equal(files.length, 208);
    assert.equal(files.reduce((a, f) => a + f.windows.length, 0), 518);
    for (const f of files) {
      assert.equal(f.ts.length, f.key.startsWith('omi-12/') ? 7_291 + TEST_ROWS : 8_640 + TEST_ROWS, f.key);
      assert.equal(f.ts[1]! - f.ts[0]!, STEP);
      const testStart = f.ts[f.ts.length - TEST_ROWS]!;
      assert.ok(f.windows.length > 0, `${f.key}: a series no anomaly names is left out`);
      // Windows are widened around the labelled rows, so they may begin a little before the test month.
      for (const [a] of f.windows) assert.ok(a >= testStart - 1_300 * STEP, `${f.key}: window at ${new Date(a).toISOString()}`);
    }
  });

  it('labels a metric only where an anomaly names it', () => {
    // omi-2's anomalies (test rows, upstream file): 486-498 names m1, m4, m5; 740-753 only m2; none names m3.
    const lines = readFileSync(join(ASD_DIR, 'upstream/interpretation_label/omi-2.txt'), 'utf8').trim().split(/\s+/);
    const named = (metric: string) => lines.filter((l) => l.split(':')[1]!.split(',').includes(metric.slice(1))).length;
    for (const metric of ['m1', 'm2', 'm3', 'm13']) {
      const f = files.find((x) => x.key === `omi-2/${metric}.csv`);
      if (named(metric) === 0) assert.equal(f, undefined, metric);
      else assert.ok(f !== undefined && f.windows.length >= 1 && f.windows.length <= named(metric), metric);
    }
    const m2 = files.find((x) => x.key === 'omi-2/m2.csv')!;
    assert.equal(m2.windows.length, 1);
    // ⌊10 % of 12,960 rows / 1 anomaly⌋ = 1,296 rows, centred on rows 740–753 of the test month.
    assert.deepEqual(m2.windows[0], [TEST_START + (740 - 648) * STEP, TEST_START + (753 + 648) * STEP]);
  });

  it('is scored on its labelled month only: the training month is the detector\'s history, NAB\'s probation covers exactly it', () => {
    const f = files.find((x) => x.key === 'omi-2/m2.csv')!;
    assert.equal(f.scoreFrom, TEST_START);
    // A burst in the middle of the training month: nobody labelled that month, so it is no false alert.
    const v = Float64Array.from(f.values[0]!);
    for (let i = 4_000; i < 4_012; i++) v[i] = 1e6;
    const burst = { ...f, values: [v] };
    const cfg = { step: { detector: 'default' } };
    const [plain, withBurst, whole] = evaluate([f, burst, { ...burst, scoreFrom: undefined }], cfg) as [FileMetrics, FileMetrics, FileMetrics];
    assert.equal(withBurst.falseAlerts, plain.falseAlerts);
    assert.ok(whole.falseAlerts > plain.falseAlerts, 'scored whole, the burst is a false alert');
    const first = f.ts.findIndex((t) => t >= TEST_START);
    assert.equal(historyRows(f), first);
    assert.equal(plain.probationRows, first, 'the rows before the labelled month are exactly the probation');
  });

  it('writes NAB files the backtest reads back the same', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asd-'));
    try {
      const { execFileSync } = await import('node:child_process');
      execFileSync(process.execPath, ['--import', 'tsx', 'bench/tune/asd-data.ts', dir], { stdio: 'pipe' });
      const back = loadCorpus(join(dir, 'data'), join(dir, 'labels/windows.json'));
      assert.equal(back.length, files.length);
      const a = back.find((f) => f.key === 'omi-2/m2.csv')!;
      assert.deepEqual(a.windows, files.find((f) => f.key === 'omi-2/m2.csv')!.windows);
      assert.deepEqual(Array.from(a.values[0]!.subarray(0, 100)), Array.from(files.find((f) => f.key === 'omi-2/m2.csv')!.values[0]!.subarray(0, 100)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
