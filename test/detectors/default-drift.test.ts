/**
 * The default detector's drift rule (`drift_margin`, issue 12): the range rule learns every new
 * extreme, so a slow rise that extends the range a little at each reading is never outside it; the
 * drift rule adds up those extensions over `drift_time` and finds the rise. Off by default.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DefaultDetector, DEFAULT_DETECTOR_PARAMS, type DefaultParams } from '../../src/detectors/default/detector.js';
import { noise, T0 } from './helpers.js';

// As the pump pipeline sets them: a wide range margin for short runs, the drift well above the noise.
const PUMP = { range_margin: 0.35, flat_readings: 60 };
const DRIFT = { ...PUMP, drift_margin: 0.5, drift_steps: 5 };

/** Noise N(0, 1) at 1 Hz, from `at` a rise of `rise` over `over` readings, then held. */
function rising(seed: number, n: number, at: number, rise: number, over: number): number[] {
  const g = noise(seed);
  return Array.from({ length: n }, (_, i) => 10 + g() + (i < at ? 0 : (rise * Math.min(i - at, over)) / over));
}

/** The readings judged anomalous, with their rules. */
function anomalies(values: number[], over: Partial<DefaultParams>, d = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS, ...over })): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  values.forEach((v, i) => {
    const o = d.update(T0 + i * 1000, v);
    if (o.anomalous) out.push([i, o.rule]);
  });
  return out;
}

describe('default detector, drift rule', () => {
  it('a rise of 20 noise widths over 400 s is found as drift in every seed; the range rule alone learns it as it comes', () => {
    for (let seed = 1; seed <= 8; seed++) {
      const v = rising(seed, 1800, 600, 20, 400);
      const found = anomalies(v, DRIFT).filter(([i, rule]) => i >= 600 && i < 1000 && rule === 'drift');
      assert.ok(found.length > 0, `seed ${seed}: the rise not found`);
      assert.ok(found[0]![0] < 900, `seed ${seed}: found only at reading ${found[0]![0]}`);
      assert.deepEqual(anomalies(v, PUMP).filter(([i]) => i >= 600 && i < 1000), [], `seed ${seed}: the range rule alone finds the rise`);
    }
  });

  it('a fall is found too, and once the level holds the drift fades: nothing anomalous 30 minutes after it', () => {
    const v = rising(3, 4800, 600, -20, 400);
    const a = anomalies(v, DRIFT);
    assert.ok(a.some(([i, rule]) => i >= 600 && i < 1000 && rule === 'drift'), JSON.stringify(a.slice(0, 5)));
    assert.deepEqual(a.filter(([i]) => i >= 1000 + 1800), []);
  });

  it('plain noise: no more anomalies than without the rule over 3 hours (8 seeds)', () => {
    let with_ = 0;
    let without = 0;
    for (let seed = 11; seed <= 18; seed++) {
      const v = rising(seed, 3 * 3600, 0, 0, 1);
      with_ += anomalies(v, DRIFT).length;
      without += anomalies(v, PUMP).length;
    }
    assert.equal(with_, without);
  });

  it('restored from a snapshot in the middle of a rise, it judges as one that ran on; a snapshot from before the rule starts it from nothing', () => {
    const v = rising(5, 1800, 600, 20, 400);
    const whole = anomalies(v, DRIFT);
    const first = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS, ...DRIFT });
    for (let i = 0; i < 750; i++) first.update(T0 + i * 1000, v[i]!);
    const snap = structuredClone(first.snapshot());
    assert.equal((snap.drift as number[]).length, 2);
    const second = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS, ...DRIFT });
    second.restore(snap);
    const rest: Array<[number, string]> = [];
    v.slice(750).forEach((x, k) => {
      const o = second.update(T0 + (750 + k) * 1000, x);
      if (o.anomalous) rest.push([750 + k, o.rule]);
    });
    assert.deepEqual(rest, whole.filter(([i]) => i >= 750));
    const old = { ...snap };
    delete old.drift;
    const third = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS, ...DRIFT });
    third.restore(old);
    assert.throws(() => third.restore({ ...snap, drift: [1, -1] }), /drift/);
  });
});
