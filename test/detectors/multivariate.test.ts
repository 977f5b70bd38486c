import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pipelineSchema } from '../../src/config/pipeline.js';
import type { AlertRecord, Emission } from '../../src/core/records.js';
import { compilePipeline } from '../../src/compile.js';
import type { Pipeline } from '../../src/engine/pipeline.js';
import { MewmaModel } from '../../src/detectors/multivariate/mewma.js';
import { multivariateStepSchema } from '../helpers/schemas.js';
import { noise, T0 } from './helpers.js';

/** A pipeline with these steps; alerts and every emission collected. */
function build(steps: unknown[]) {
  const spec = pipelineSchema().parse({ name: 't', input: { streams: ['**'] }, steps });
  const out: Emission[] = [];
  const p = compilePipeline(spec, (e) => out.push(e));
  const alerts = (state?: AlertRecord['state']) => out.flatMap((e) => (e.kind === 'alert' && (!state || e.alert.state === state) ? [e.alert] : []));
  return { p, out, alerts };
}

/** Push rows of sensor values (one reading per sensor, 1 s apart) to device `pump`; returns the row index of each raise. */
function feed(p: Pipeline, alerts: () => AlertRecord[], rows: number, row: (i: number) => Record<string, number>, from = 0): number[] {
  const raisedAt: number[] = [];
  for (let i = from; i < from + rows; i++) {
    const before = alerts().length;
    for (const [m, v] of Object.entries(row(i))) p.push({ stream: `pump/${m}`, ts: T0 + i * 1000, value: v });
    if (alerts().length > before) raisedAt.push(i);
  }
  return raisedAt;
}

/** Two sensors that follow one common signal (a slow cycle), a = 10 + s, b = 20 + 2s, plus noise. */
function coupled(seed: number, broken: (i: number) => boolean) {
  const n1 = noise(seed);
  const n2 = noise(seed + 100);
  return (i: number) => {
    const s = 3 * Math.sin((2 * Math.PI * i) / 100);
    return { a: 10 + s + 0.3 * n1(), b: 20 + (broken(i) ? -2 : 2) * s + 0.6 * n2() };
  };
}

const STEP = { baseline: 200, calibration: 200 };

test('multivariate: two correlated sensors whose relation breaks while each stays in its own range alert (5 seeds)', () => {
  for (let seed = 1; seed <= 5; seed++) {
    const { p, alerts } = build([{ multivariate: STEP }]);
    const row = coupled(seed, (i) => i >= 1500 && i < 1800);
    const raised = feed(p, () => alerts('raised'), 3000, row);
    // each sensor stays inside the range it showed before (the signal's range is the same; noise may add a little)
    const range = (from: number, to: number, k: 'a' | 'b'): [min: number, max: number] => {
      const v = Array.from({ length: to - from }, (_, i) => row(from + i)[k]);
      return [Math.min(...v), Math.max(...v)];
    };
    for (const k of ['a', 'b'] as const) {
      const [lo, hi] = range(0, 1500, k);
      const [blo, bhi] = range(1500, 1800, k);
      assert.ok(blo > lo - 0.5 && bhi < hi + 0.5, `seed ${seed} ${k}: [${blo}, ${bhi}] inside [${lo}, ${hi}]`);
    }
    assert.equal(raised.length, 1, `seed ${seed}: one alert for the episode, raised at ${raised}`);
    assert.ok(raised[0]! >= 1500 && raised[0]! < 1530, `seed ${seed}: raised within 30 rows of the break, at ${raised[0]}`);
    assert.equal(alerts('cleared').length, 1, `seed ${seed}: cleared after the relation is back`);
    assert.match(alerts('raised')[0]!.reason ?? '', /mewma \(2 sensors, most off: b /);
  }
});

test('multivariate: normal correlated movement, and a slow state that wanders as in calibration, raise nothing (5 seeds × 5,000 rows)', () => {
  for (let seed = 1; seed <= 5; seed++) {
    const { p, alerts } = build([{ multivariate: STEP }]);
    const pair = coupled(seed, () => false);
    const n3 = noise(seed + 200);
    let temp = 70;
    const raised = feed(p, () => alerts('raised'), 5000, (i) => {
      temp = 70 + 0.98 * (temp - 70) + 0.02 * n3(); // wandering with a time constant (50 rows) well inside the calibration, as a controlled temperature
      return { ...pair(i), temp };
    });
    assert.deepEqual(raised, [], `seed ${seed}`);
  }
});

test('multivariate: a small persistent shift of one sensor (1.5 σ, below any single-reading limit) adds up and alerts once', () => {
  for (let seed = 1; seed <= 5; seed++) {
    const { p, alerts } = build([{ multivariate: STEP }]);
    const nz = [noise(seed), noise(seed + 10), noise(seed + 20)];
    const raised = feed(p, () => alerts('raised'), 2000, (i) => ({ flow: 32 + 0.4 * nz[0]!() - (i >= 1000 && i < 1400 ? 0.6 : 0), current: 1 + 0.3 * nz[1]!(), pressure: 0.1 + 0.25 * nz[2]!() }));
    assert.equal(raised.length, 1, `seed ${seed}: ${raised}`);
    assert.ok(raised[0]! >= 1000 && raised[0]! < 1060, `seed ${seed}: at ${raised[0]}`);
  }
});

test('multivariate: nothing is judged during baseline and calibration; the model learns one row per timestamp', () => {
  const m = new MewmaModel(2, { baseline: 20, calibration: 10, lambda: 0.1, agree: 2, threshold: 3.5, ridge: 0.05 });
  const nz = noise(3);
  for (let i = 0; i < 30; i++) {
    assert.equal(m.phase, i < 20 ? 'baseline' : 'calibration');
    assert.equal(m.update([nz() + 100, 1e6 + nz()]).anomalous, false); // even a wild row
  }
  assert.equal(m.phase, 'judging');
  assert.equal(m.update([100, 1e6]).rule, 'mewma');
});

test('multivariate: rows are assembled per device and time; a missing sensor keeps its last value; late readings and extra devices are counted; readings pass on', () => {
  const { p, out, alerts } = build([{ multivariate: { ...STEP, max_devices: 1 } }, { output: 'raw' }]);
  const nz = noise(9);
  for (let i = 0; i < 600; i++) {
    const ts = T0 + i * 1000;
    p.push({ stream: 'pump/a', ts, value: 10 + nz() });
    if (i < 450 || i % 7 !== 0) p.push({ stream: 'pump/b', ts, value: 500 + nz() }); // b is missing now and then once judging
  }
  p.push({ stream: 'pump/a', ts: T0, value: 10 }); // late
  p.push({ stream: 'other/a', ts: T0, value: 1 }); // beyond max_devices
  p.flush(false);
  assert.deepEqual(p.stats().dropped, { multivariate_late: 1, multivariate_device_limit: 1 });
  assert.equal(out.filter((e) => e.kind === 'reading' && e.output === 'raw').length, 600 + 579 + 2, 'every reading passed on');
  assert.deepEqual(alerts(), [], 'a row missing b is judged with b\'s last value');
});

test('multivariate: `metrics` picks and orders the judged sensors; others are not judged', () => {
  const { p, alerts } = build([{ multivariate: { ...STEP, metrics: ['a', 'b'] } }]);
  const pair = coupled(4, () => false);
  const nz = noise(5);
  feed(p, () => alerts('raised'), 2000, (i) => ({ ...pair(i), wild: i > 1000 ? 1000 * nz() : nz() }));
  assert.deepEqual(alerts(), [], 'the wild sensor is not among the judged metrics');
});

test('multivariate: snapshot/restore mid-stream (mid-row too) gives the same alerts as an uninterrupted run', () => {
  const gen = coupled(6, (i) => i >= 900 && i < 1100);
  const rows = Array.from({ length: 1500 }, (_, i) => gen(i));
  const row = (i: number) => rows[i]!;
  const whole = build([{ multivariate: STEP }]);
  feed(whole.p, () => whole.alerts(), 1500, row);
  whole.p.flush(false);
  for (const cut of [150, 300, 450, 1000]) {
    const first = build([{ multivariate: STEP }]);
    feed(first.p, () => first.alerts(), cut, row);
    first.p.push({ stream: 'pump/a', ts: T0 + cut * 1000, value: row(cut).a }); // half a row
    const snap = JSON.parse(JSON.stringify(first.p.snapshot()));
    const second = build([{ multivariate: STEP }]);
    second.p.restore(snap);
    second.p.push({ stream: 'pump/b', ts: T0 + cut * 1000, value: row(cut).b });
    feed(second.p, () => second.alerts(), 1500 - cut - 1, row, cut + 1);
    second.p.flush(false);
    assert.deepEqual([...first.alerts(), ...second.alerts()], whole.alerts(), `cut at ${cut}`);
  }
  assert.equal(whole.alerts('raised').length, 1);
});

test('multivariate: state is bounded (same snapshot size after 2,000 and 100,000 rows, 8 sensors)', () => {
  const sizes: number[] = [];
  for (const rows of [2000, 100_000]) {
    const { p, alerts } = build([{ multivariate: STEP }]);
    const nz = noise(7);
    feed(p, () => alerts(), rows, () => Object.fromEntries(Array.from({ length: 8 }, (_, k) => [`s${k}`, 100 * k + nz()])));
    sizes.push(JSON.stringify(p.snapshot()).replace(/-?\d+(\.\d+)?(e[-+]?\d+)?/g, '0').length);
  }
  assert.equal(sizes[0], sizes[1]);
});

test('multivariate: the schema refuses a repeated metric and an unknown field, naming them', () => {
  assert.throws(() => multivariateStepSchema.parse({ metrics: ['a', 'a'] }), /metrics must not repeat/);
  assert.throws(() => multivariateStepSchema.parse({ treshold: 3 }), /treshold/);
});

test('multivariate: `adapt` follows a slow drift of the operating point that a frozen baseline alarms on', () => {
  const drift = (seed: number) => {
    const n1 = noise(seed);
    const n2 = noise(seed + 50);
    return (i: number) => ({ a: 10 + 0.002 * i + 0.3 * n1(), b: 5 + 0.3 * n2() }); // a drifts 20 σ over 3,000 rows
  };
  for (let seed = 1; seed <= 3; seed++) {
    const frozen = build([{ multivariate: STEP }]);
    assert.ok(feed(frozen.p, () => frozen.alerts('raised'), 3000, drift(seed)).length >= 1, `seed ${seed}: frozen baseline alarms`);
    const following = build([{ multivariate: { ...STEP, adapt: 0.01 } }]);
    assert.deepEqual(feed(following.p, () => following.alerts('raised'), 3000, drift(seed)), [], `seed ${seed}: adapt follows`);
  }
});
