import { test } from 'node:test';
import assert from 'node:assert/strict';
import { News2Tracker } from '../../src/domain/news2/news2-tracker.js';

const T0 = Date.UTC(2024, 0, 1);

function feed(t: News2Tracker, patient: string, ts: number, v: Record<string, number>): void {
  for (const [metric, value] of Object.entries(v)) t.push({ stream: `${patient}/${metric}`, ts, value });
}

const NORMAL = { heart_rate: 72, spo2: 97, resp_rate: 16, systolic_bp: 120, temperature: 37, consciousness: 0, on_oxygen: 0 };

test('tracker keeps the latest value per vital and patient and scores on demand', () => {
  const t = new News2Tracker();
  feed(t, 'bed-1', T0, NORMAL);
  feed(t, 'bed-2', T0, { ...NORMAL, heart_rate: 135, on_oxygen: 1 });
  feed(t, 'bed-1', T0 + 1000, { heart_rate: 95 });
  const a = t.score('bed-1', T0 + 1000);
  assert.equal(a.complete, true);
  assert.equal(a.subScores.pulse, 1);
  assert.equal(a.total, 1);
  assert.equal(a.band, 'low');
  const b = t.score('bed-2', T0 + 1000);
  assert.equal(b.total, 3 + 2);
  assert.equal(b.band, 'medium');
  assert.deepEqual(t.patientIds(), ['bed-1', 'bed-2']);
  assert.equal(t.stats().accepted, 15);
});

test('a value older than its maximum age counts as missing, not normal', () => {
  const t = new News2Tracker({ maxAge: { pulse: 10_000 } });
  feed(t, 'p', T0, NORMAL);
  const fresh = t.score('p', T0 + 10_000);
  assert.equal(fresh.complete, true);
  const old = t.score('p', T0 + 10_001);
  assert.deepEqual(old.stale, ['pulse']);
  assert.deepEqual(old.missing, ['pulse']);
  assert.match(old.missingReasons.pulse!, /10001 ms old/);
  assert.equal(old.complete, false);
  assert.equal(old.maxPossibleTotal, 3);
  const unknown = t.score('nobody', T0);
  assert.equal(unknown.missing.length, 7);
});

test('probe-off (SpO2 0) is refused as implausible and does not replace the last good value', () => {
  const t = new News2Tracker();
  feed(t, 'p', T0, NORMAL);
  assert.equal(t.update('p', 'spo2', 0, T0 + 1000), false);
  const s = t.score('p', T0 + 2000);
  assert.equal(s.subScores.spo2, 0);
  assert.equal(s.observations.spo2, 97);
  assert.equal(t.drops.count('implausible'), 1);
  // still off after the maximum age: SpO2 becomes missing, the score does not rise
  const later = t.score('p', T0 + 61_001);
  assert.ok(later.missing.includes('spo2'));
  assert.ok(later.stale.includes('spo2'));
});

test('refused input is counted: not finite, out of order, too many patients; other metrics ignored', () => {
  const t = new News2Tracker({ maxPatients: 1 });
  assert.equal(t.update('a', 'pulse', NaN, T0), false);
  assert.equal(t.update('a', 'pulse', 80, T0 + 5), true);
  assert.equal(t.update('a', 'pulse', 81, T0), false);
  assert.equal(t.update('b', 'pulse', 80, T0), false);
  assert.equal(t.push({ stream: 'a/battery', ts: T0, value: 3 }), false);
  assert.deepEqual(t.stats().dropped, { not_finite: 1, out_of_order: 1, too_many_patients: 1 });
  assert.equal(t.stats().ignored, 1);
  assert.equal(t.score('a', T0 + 5).observations.pulse, 80);
});

test('SpO2 scale per patient, custom metric names, consciousness as a number', () => {
  const t = new News2Tracker({ metrics: { hr: 'pulse', sat: 'spo2', o2: 'on_oxygen', avpu: 'consciousness' } });
  t.setScale('copd-1', 2);
  feed(t, 'copd-1', T0, { hr: 70, sat: 97, o2: 1, avpu: 2 });
  const s = t.score('copd-1', T0);
  assert.equal(s.spo2Scale, 2);
  assert.equal(s.subScores.spo2, 3);
  assert.equal(s.subScores.air_or_oxygen, 2);
  assert.equal(s.subScores.consciousness, 3);
  assert.equal(s.observations.consciousness, 'V');
  assert.ok(t.forget('copd-1'));
  assert.deepEqual(t.patientIds(), []);
});
