/**
 * Backtest by type: an alert counts as a detection only for a window of its type. The case is the
 * one that fooled the untyped backtest: a harsh brake followed by a rebound pulse that a
 * threshold detector calls "harsh acceleration".
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadWindows } from '../../src/backtest/labels.js';
import { backtest } from '../../src/backtest/run.js';
import { pipelineSchema } from '../../src/config/pipeline.js';
import { drive, eventsFirstDrive } from '../domain/telematics-signals.js';

const T0 = Date.UTC(2020, 0, 1);
const SEC = 1000;
const text = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 23);

/** 1 Hz longitudinal acceleration: quiet, a brake at 600–602 s (−6 m/s²), a rebound at 603 s (+4), a real harsh acceleration at 800–802 s. */
function writeCase(dir: string): string {
  const lines = ['timestamp,accel_ms2'];
  for (let i = 0; i < 1000; i++) {
    const a = i >= 600 && i <= 602 ? -6 : i === 603 ? 4 : i >= 800 && i <= 802 ? 4 : 0.3 * Math.sin(i / 5);
    lines.push(`${text(T0 + i * SEC)},${a}`);
  }
  writeFileSync(join(dir, 'van.csv'), lines.join('\n') + '\n');
  const labels = join(dir, 'labels.json');
  writeFileSync(labels, JSON.stringify({ 'van.csv': [[text(T0 + 600 * SEC), text(T0 + 606 * SEC), 'harsh_braking'], [text(T0 + 800 * SEC), text(T0 + 806 * SEC), 'harsh_acceleration']] }));
  return labels;
}

const pipeline = pipelineSchema().parse({
  name: 'thresholds',
  input: { streams: ['*/accel_ms2'] },
  steps: [
    { detect: { name: 'harsh-braking', detector: 'threshold', below: -4.5 } },
    { detect: { name: 'harsh-acceleration', detector: 'threshold', above: 3.2 } },
  ],
});

describe('backtest --by-type', () => {
  it('reads typed windows and refuses a bad type', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ew-bt-type-'));
    try {
      const labels = writeCase(dir);
      assert.equal(loadWindows(labels).get('van.csv')![0]![2], 'harsh_braking');
      const bad = join(dir, 'bad.json');
      writeFileSync(bad, JSON.stringify({ 'van.csv': [['2020-01-01 00:00:00', '2020-01-01 00:01:00', 7]] }));
      assert.throws(() => loadWindows(bad), /"van.csv"\[0\]: the third element \(the window's type\) must be a non-empty string/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a rebound called harsh acceleration is a false alert by type, a detection without types', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ew-bt-type-'));
    try {
      const labels = writeCase(dir);
      const plain = await backtest({ input: dir, labels, pipeline });
      // untyped: the rebound lands in the braking window and counts as an alert in a window
      assert.equal(plain.total.detected, 2);
      assert.equal(plain.total.falseAlerts, 0);
      assert.equal(plain.byType, undefined);
      // no operator step, no operators' counters
      assert.equal(plain.operators, undefined);

      const typed = await backtest({ input: dir, labels, pipeline, byType: true });
      assert.deepEqual(Object.keys(typed.byType!), ['harsh_acceleration', 'harsh_braking']);
      const acc = typed.byType!.harsh_acceleration!;
      const brk = typed.byType!.harsh_braking!;
      assert.equal(brk.windows, 1);
      assert.equal(brk.detected, 1);
      assert.equal(brk.falseAlerts, 0);
      assert.equal(acc.windows, 1);
      assert.equal(acc.detected, 1);
      assert.equal(acc.falseAlerts, 1, 'the rebound pulse is a false harsh acceleration');
      assert.equal(acc.precision, 0.5);
      assert.equal(typed.total.detected, 2);
      assert.equal(typed.total.falseAlerts, 1);
      assert.ok(typed.total.nab.score < plain.total.nab.score);
      assert.ok(Number.isFinite(acc.f1) && Number.isFinite(acc.nab.score));

      // a detector whose name differs from the label type is mapped with `types`
      const renamed = pipelineSchema().parse({ ...pipeline, steps: [{ detect: { name: 'hard-stop', detector: 'threshold', below: -4.5 } }] });
      const unmapped = await backtest({ input: dir, labels, pipeline: renamed, byType: true });
      assert.equal(unmapped.byType!.harsh_braking!.detected, 0);
      assert.equal(unmapped.byType!.hard_stop!.falseAlerts, 1);
      const mapped = await backtest({ input: dir, labels, pipeline: renamed, byType: true, types: { 'hard-stop': 'harsh_braking' } });
      assert.equal(mapped.byType!.harsh_braking!.detected, 1);
      assert.equal(mapped.byType!.hard_stop, undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('harsh events judged late (before the vehicle\'s forward was known) are scored at their own time, and the report says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ew-bt-late-'));
    try {
      const { script, at } = eventsFirstDrive();
      const { readings, marks } = drive(script, { device: 'van', t0: T0 });
      const byTs = new Map<number, Record<string, number>>();
      for (const r of readings) (byTs.get(r.ts) ?? byTs.set(r.ts, {}).get(r.ts)!)[r.stream.split('/')[1]!] = r.value;
      const cols = ['accel_x', 'accel_y', 'accel_z', 'gyro_x', 'gyro_y', 'gyro_z'];
      const lines = [`timestamp,${cols.join(',')}`, ...[...byTs].map(([ts, v]) => `${text(ts)},${cols.map((c) => v[c]).join(',')}`)];
      writeFileSync(join(dir, 'van.csv'), `${lines.join('\n')}\n`);
      const labels = join(dir, 'labels.json');
      const win = (i: number, type: string) => [text(marks[i]![0]), text(marks[i]![0] + 5 * SEC), type];
      writeFileSync(labels, JSON.stringify({ 'van.csv': [win(at.brake, 'harsh_braking'), win(at.harshAccel, 'harsh_acceleration'), win(at.corner, 'harsh_cornering')] }));
      const imu = pipelineSchema().parse({ name: 'telematics', input: { streams: ['*/*'] }, steps: [{ telematics: {} }] });
      const r = await backtest({ input: dir, labels, pipeline: imu, byType: true });
      for (const t of ['harsh_braking', 'harsh_acceleration', 'harsh_cornering']) {
        assert.deepEqual([r.byType![t]!.detected, r.byType![t]!.falseAlerts], [1, 0], t);
      }
      // forward came from the gyro's turns, over a minute after the harsh acceleration
      assert.equal(r.late!.alerts, 3);
      assert.ok(r.late!.maxDelayMs > 60_000, String(r.late!.maxDelayMs));
      assert.equal(r.operators!.telematics!.judged_late, r.operators!.telematics!.unjudged);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
