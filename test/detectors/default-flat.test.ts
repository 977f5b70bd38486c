/**
 * The default detector's flat rule (a stuck sensor): a run of one value reaching `flat_readings`,
 * on a stream whose runs in recent memory were all shorter by `flat_factor`, is anomalous at the
 * reading that reaches it. Until 2026-12-06 the record learnt the run while it lasted, so the limit
 * (flat_factor × record) ran ahead of it: with `flat_readings` above 11 the rule never fired
 * (pipelines/pump-skab.yaml sets 60: a sensor stuck for minutes went unseen).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DefaultDetector, DEFAULT_DETECTOR_PARAMS, type DefaultParams } from '../../src/detectors/default/detector.js';
import { noise, T0 } from './helpers.js';

/** Readings judged anomalous by the flat rule (indices). */
function flats(values: number[], over: Partial<DefaultParams>): number[] {
  const d = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS, ...over });
  const out: number[] = [];
  values.forEach((v, i) => {
    const o = d.update(T0 + i * 1000, v);
    if (o.anomalous && o.rule === 'flat') out.push(i);
  });
  return out;
}

/** Noise at 1 Hz, stuck at its last value from `at` for `len` readings. */
function stuck(seed: number, n: number, at: number, len: number): number[] {
  const g = noise(seed);
  const v = Array.from({ length: n }, () => 20 + g());
  for (let i = at; i < at + len; i++) v[i] = v[at - 1]!;
  return v;
}

describe('default detector, flat rule', () => {
  for (const flat_readings of [10, 60, 300])
    it(`flat_readings ${flat_readings}: a sensor stuck for 400 readings is anomalous once, at its ${flat_readings}th repeat`, () => {
      for (let seed = 1; seed <= 4; seed++) assert.deepEqual(flats(stuck(seed, 2000, 1000, 400), { flat_readings }), [999 + flat_readings], `seed ${seed}`);
    });

  it('a stream that holds a value for 30 readings now and then is not stuck at 20; at 40, it is', () => {
    // A level that steps every 30 readings (a slow counter, a quantised meter), then holds 200.
    const v = Array.from({ length: 3000 }, (_, i) => (i < 2500 ? Math.floor(i / 30) % 7 : 99));
    assert.deepEqual(flats(v, { flat_readings: 20 }).filter((i) => i < 2500), []);
    assert.deepEqual(flats(v, { flat_readings: 20 }).filter((i) => i >= 2500), [], 'a run of 20 is shorter than 1.1 × 29');
    assert.deepEqual(flats(v, { flat_readings: 40 }).filter((i) => i >= 2500), [2500 + 40]);
  });
});
