/** Backtest metrics on tiny hand-made cases whose answers are known (NAB rules, standard profile). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { backtestFile, scaledSigmoid, summarise, type LabelWindow } from '../../src/backtest/metrics.js';
import { backtest } from '../../src/backtest/run.js';

const T0 = Date.UTC(2020, 0, 1);
const MIN = 60_000;
/** 100 rows, one a minute; probation = floor(0.15·100) = 15 rows. */
function rows(alertAt: number[], n = 100) {
  const set = new Set(alertAt);
  return Array.from({ length: n }, (_, i) => ({ ts: T0 + i * MIN, alert: set.has(i) }));
}
/** Window on rows 50..59 (W = 10). */
const WIN: LabelWindow[] = [[T0 + 50 * MIN, T0 + 59 * MIN]];
const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} != ${b}`);

describe('backtestFile', () => {
  it('an alert on the first row of the window scores 100; never firing scores 0', () => {
    const hit = backtestFile(rows([50]), WIN);
    close(hit.nab.raw, 1);
    close(hit.nab.score, 100);
    assert.equal(hit.detected, 1);
    assert.equal(hit.falseAlerts, 0);
    assert.equal(hit.precision, 1);
    assert.equal(hit.recall, 1);
    assert.equal(hit.f1, 1);
    assert.equal(hit.meanDelayMs, 0);
    const never = backtestFile(rows([]), WIN);
    close(never.nab.raw, -1);
    close(never.nab.score, 0);
    assert.equal(never.missed, 1);
    assert.equal(never.f1, 0);
  });

  it('a late detection earns the scaled sigmoid of its position', () => {
    const last = backtestFile(rows([59]), WIN);
    // x = -(R - i + 1)/W = -0.1; credit S(-0.1)/S(-1)
    close(last.nab.raw, scaledSigmoid(-0.1) / scaledSigmoid(-1));
    assert.ok(Math.abs(last.nab.raw - 0.24824) < 1e-5);
    assert.equal(last.meanDelayMs, 9 * MIN);
    close(last.meanDelayFraction, 0.9);
  });

  it('false alerts: −0.11 before any window; less right after a window; nothing in the probationary period', () => {
    close(backtestFile(rows([20]), WIN).nab.raw, -1 - 0.11);
    // Row 60 is 1 row after R = 59: 0.11 · S(1/(W−1)).
    close(backtestFile(rows([60]), WIN).nab.raw, -1 + 0.11 * scaledSigmoid(1 / 9));
    close(backtestFile(rows([10]), WIN).nab.raw, -1);
    const m = backtestFile(rows([10, 20, 55, 70]), WIN);
    assert.equal(m.alerts, 3);
    assert.equal(m.falseAlerts, 2);
    assert.equal(m.alertsInWindows, 1);
    close(m.precision, 1 / 3);
  });

  it('one detection per alert: the rows of one active alert count once (a rising edge)', () => {
    const active = backtestFile(rows([52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62]), WIN);
    assert.equal(active.alerts, 1);
    assert.equal(active.falseAlerts, 0);
    close(active.nab.raw, scaledSigmoid(-8 / 10) / scaledSigmoid(-1));
  });

  it('only the earliest detection in a window counts', () => {
    close(backtestFile(rows([51, 57]), WIN).nab.raw, scaledSigmoid(-0.9) / scaledSigmoid(-1));
  });

  it('windows that end inside the probationary period are not scored', () => {
    const early: LabelWindow[] = [[T0 + 2 * MIN, T0 + 5 * MIN]];
    const m = backtestFile(rows([]), early);
    assert.equal(m.windows, 0);
    close(m.nab.raw, 0);
    // As in nab_score.py, "perfect" still counts every window (tpWeight × windows).
    close(m.nab.perfectRaw, 1);
    close(m.nab.nullRaw, 0);
  });

  it('summarise pools counts and normalises the corpus score', () => {
    const a = backtestFile(rows([50]), WIN, { file: 'a' });
    const b = backtestFile(rows([20]), WIN, { file: 'b' });
    const t = summarise([a, b]);
    assert.equal(t.files, 2);
    assert.equal(t.windows, 2);
    assert.equal(t.detected, 1);
    assert.equal(t.falseAlerts, 1);
    close(t.precision, 0.5);
    close(t.recall, 0.5);
    // raw = 1 + (−1 − 0.11); null = −2; perfect = 2 → 100 · (−0.11 + 2) / 4
    close(t.nab.score, (100 * (1 - 1.11 + 2)) / 4);
  });
});

describe('backtest over files (engine + reader)', () => {
  it('runs the default detector over a folder of CSVs and matches labels by path suffix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ew-bt-'));
    try {
      const lines = ['timestamp,value'];
      for (let i = 0; i < 1000; i++) {
        const t = new Date(T0 + i * MIN).toISOString().replace('T', ' ').slice(0, 19);
        lines.push(`${t},${(i >= 600 && i < 620 ? 50 : 10) + Math.sin(i / 3)}`);
      }
      writeFileSync(join(dir, 'step.csv'), lines.join('\n') + '\n');
      writeFileSync(join(dir, 'unlabelled.csv'), 'timestamp,value\n2020-01-01 00:00:00,1\n');
      const labels = join(dir, 'labels.json');
      writeFileSync(labels, JSON.stringify({ 'step.csv': [['2020-01-01 09:50:00.000000', '2020-01-01 10:30:00.000000']] }));
      const report = await backtest({ input: dir, labels });
      assert.equal(report.files.length, 1);
      assert.equal(report.files[0]!.file, 'step.csv');
      assert.equal(report.total.detected, 1);
      assert.equal(report.total.falseAlerts, 0);
      assert.ok(report.skipped.some((s) => s.endsWith('unlabelled.csv')));
      await assert.rejects(backtest({ input: join(dir, 'nope'), labels }), /no such file or folder/);
      assert.equal(report.learningAtEnd, undefined, 'a file of 1,000 readings leaves the warm-up');
      // a recording shorter than the default detector's warm-up (100 readings) is scored on no judgement: the report says so
      writeFileSync(join(dir, 'short.csv'), `${lines.slice(0, 61).join('\n')}\n`);
      writeFileSync(labels, JSON.stringify({ 'step.csv': [['2020-01-01 09:50:00.000000', '2020-01-01 10:30:00.000000']], 'short.csv': [] }));
      const withShort = await backtest({ input: dir, labels });
      assert.deepEqual(withShort.learningAtEnd, [{ file: 'short.csv', streams: 1 }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
