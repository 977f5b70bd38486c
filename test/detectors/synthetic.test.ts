/**
 * Every detector on synthetic series with a known injected change (step, ramp, spike, stuck
 * value, gap): it fires within the stated delay, and it stays quiet on clean noise.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { noise, run, series, STEP_MS, T0 } from './helpers.js';

const N = 3000;
const AT = 2000; // where the change is injected
const clean = (seed: number) => {
  const g = noise(seed);
  return series(N, () => 10 + g());
};
const withStep = (seed: number, size: number) => {
  const g = noise(seed);
  return series(N, (i) => 10 + g() + (i >= AT ? size : 0));
};
const withRamp = (seed: number, slope: number) => {
  const g = noise(seed);
  return series(N, (i) => 10 + g() + (i >= AT ? slope * (i - AT) : 0));
};
const withSpike = (seed: number, size: number) => {
  const g = noise(seed);
  return series(N, (i) => 10 + g() + (i === AT ? size : 0));
};
const withStuck = (seed: number) => {
  const g = noise(seed);
  let stuck = 0;
  return series(N, (i) => {
    const v = 10 + g();
    if (i === AT) stuck = v;
    return i >= AT ? stuck : v;
  });
};

/** First raised alert at or after the change, as a delay in readings. */
function delay(raised: number[]): number {
  const i = raised.find((r) => r >= AT);
  return i === undefined ? Infinity : i - AT;
}

interface Case {
  step: Record<string, unknown>;
  /** Injected change and the most readings it may take to fire. */
  changes: Array<{ name: string; make: (seed: number) => ReturnType<typeof clean>; within: number }>;
}

const cases: Case[] = [
  { step: { detector: 'threshold', above: 14, below: 6 }, changes: [{ name: 'step +6σ', make: (s) => withStep(s, 6), within: 0 }, { name: 'spike +10σ', make: (s) => withSpike(s, 10), within: 0 }] },
  { step: { detector: 'ewma' }, changes: [{ name: 'step +6σ', make: (s) => withStep(s, 6), within: 2 }, { name: 'spike +8σ', make: (s) => withSpike(s, 8), within: 0 }] },
  { step: { detector: 'robust_z' }, changes: [{ name: 'step +8σ', make: (s) => withStep(s, 8), within: 0 }, { name: 'spike +8σ', make: (s) => withSpike(s, 8), within: 0 }] },
  { step: { detector: 'hampel' }, changes: [{ name: 'spike +8σ', make: (s) => withSpike(s, 8), within: 0 }] },
  { step: { detector: 'cusum' }, changes: [{ name: 'step +1σ', make: (s) => withStep(s, 1), within: 40 }, { name: 'ramp 0.02σ/reading', make: (s) => withRamp(s, 0.02), within: 150 }] },
  { step: { detector: 'page_hinkley' }, changes: [{ name: 'step +1.5σ', make: (s) => withStep(s, 1.5), within: 60 }, { name: 'ramp 0.02σ/reading', make: (s) => withRamp(s, 0.02), within: 200 }] },
  { step: { detector: 'spike' }, changes: [{ name: 'spike +12σ', make: (s) => withSpike(s, 12), within: 0 }, { name: 'dip −12σ', make: (s) => withSpike(s, -12), within: 0 }] },
  { step: { detector: 'flatline', readings: 10 }, changes: [{ name: 'stuck value', make: (s) => withStuck(s), within: 10 }] },
  { step: { detector: 'default' }, changes: [
    { name: 'step +8σ', make: (s) => withStep(s, 8), within: 0 },
    { name: 'spike +12σ', make: (s) => withSpike(s, 12), within: 0 },
    { name: 'ramp 0.05σ/reading (slow drifts are the CUSUM detector\'s job, see docs)', make: (s) => withRamp(s, 0.05), within: 400 },
    { name: 'stuck value', make: (s) => withStuck(s), within: 10 },
  ] },
];

for (const c of cases) {
  describe(`${String(c.step.detector)} detector`, () => {
    it('stays quiet on clean Gaussian noise (3 seeds × 3,000 readings)', () => {
      for (const seed of [1, 2, 3]) assert.deepEqual(run(c.step, clean(seed)).raised, [], `seed ${seed}`);
    });
    for (const ch of c.changes) {
      it(`fires on a ${ch.name} within ${ch.within} readings, with no alert before it`, () => {
        for (const seed of [1, 2, 3]) {
          const r = run(c.step, ch.make(seed));
          assert.deepEqual(r.raised.filter((i) => i < AT), [], `seed ${seed}: alert before the change`);
          assert.ok(delay(r.raised) <= ch.within, `seed ${seed}: delay ${delay(r.raised)} > ${ch.within}`);
        }
      });
    }
  });
}

describe('dropout detector', () => {
  const g = noise(7);
  const regular = { ts: Array.from({ length: 500 }, (_, i) => T0 + i * STEP_MS), values: Array.from({ length: 500 }, () => g()) };
  it('stays quiet on regular readings, with jitter under the limit', () => {
    const jitter = { ...regular, ts: regular.ts.map((t, i) => t + (i % 2 === 0 ? 300 : 0)) };
    assert.deepEqual(run({ detector: 'dropout' }, jitter).raised, []);
  });
  it('fires on the first reading after a gap of 5 intervals (learnt interval)', () => {
    const gap = { ...regular, ts: regular.ts.map((t, i) => (i >= 300 ? t + 4 * STEP_MS : t)) };
    assert.deepEqual(run({ detector: 'dropout' }, gap).raised, [300]);
  });
  it('uses a configured interval', () => {
    const gap = { ...regular, ts: regular.ts.map((t, i) => (i >= 5 ? t + 10 * STEP_MS : t)) };
    assert.deepEqual(run({ detector: 'dropout', interval: '1s', missing: 3 }, gap).raised, [5]);
  });
});

describe('threshold detector', () => {
  it('needs the value outside for min_duration and clears only past the hysteresis', () => {
    const values = [0, 0, 11, 11, 11, 11, 9.5, 9.5, 8, 0];
    const s = { ts: values.map((_, i) => T0 + i * STEP_MS), values };
    const r = run({ detector: 'threshold', above: 10, hysteresis: 1.5, min_duration: '2s' }, s);
    assert.deepEqual(r.anomalous, [4, 5, 6, 7]); // 2 s after the first reading above; 9.5 is inside the hysteresis band
    assert.deepEqual(r.raised, [4]);
  });
});
