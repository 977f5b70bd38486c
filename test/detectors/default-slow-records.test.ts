import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_DETECTOR_PARAMS, DefaultDetector, type DefaultParams } from '../../src/detectors/default/detector.js';
import { noise, T0 } from './helpers.js';

const HOUR = 3_600_000;
// The record learns every step here (spike_learn_below): what is tested is how it fades.
const spikeOnly = (over: Partial<DefaultParams> = {}) => new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS, rules: ['spike'], spike_learn_below: Number.POSITIVE_INFINITY, ...over });

/** Readings (index) the detector judged anomalous, at `step` ms apart. */
function judged(d: DefaultDetector, values: number[], step: number): number[] {
  const out: number[] = [];
  values.forEach((x, i) => {
    if (d.update(T0 + i * step, x).anomalous) out.push(i);
  });
  return out;
}

describe('default detector: slow_records (records per time on series slower than time_ref)', () => {
  // Noise, a burst of +30 at reading 200, a smaller burst of +20 forty days of hourly readings later.
  const z = noise(7);
  const values = Array.from({ length: 1300 }, (_, i) => 50 + z() + (i === 200 ? 30 : 0) + (i === 1160 ? 20 : 0));

  it('per_time: on an hourly series the first burst\'s record fades in weeks, so the smaller burst 40 days later is raised', () => {
    assert.deepEqual(judged(spikeOnly({ slow_records: 'per_time' }), values, HOUR), [200, 1160]);
  });

  it('per_reading (the default): the record fades per reading, so 960 hourly readings later it still holds the smaller burst', () => {
    assert.deepEqual(judged(spikeOnly(), values, HOUR), [200]);
  });

  it('at time_ref or faster the two are the same', () => {
    for (const step of [300_000, 60_000, 1000]) {
      assert.deepEqual(judged(spikeOnly({ slow_records: 'per_time' }), values, step), judged(spikeOnly(), values, step), `step ${step} ms`);
    }
  });

  it('a snapshot restores to the same judgements (the rate is relearnt from the next readings)', () => {
    const a = spikeOnly({ slow_records: 'per_time' });
    const head = values.slice(0, 600);
    judged(a, head, HOUR);
    const b = spikeOnly({ slow_records: 'per_time' });
    b.restore(structuredClone(a.snapshot()));
    const rest = (d: DefaultDetector) => values.slice(600).flatMap((x, i) => (d.update(T0 + (600 + i) * HOUR, x).anomalous ? [600 + i] : []));
    assert.deepEqual(rest(b), rest(a));
  });
});
