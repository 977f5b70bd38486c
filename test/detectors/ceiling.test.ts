/**
 * The `ceiling` detector: above the highest level a stream usually reaches (its hourly highs). A
 * bearing that warms from cold at every start never passes it; one that runs hotter than usual
 * does, within the run.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CeilingDetector, type CeilingParams } from '../../src/detectors/ceiling/detector.js';
import { detectStepSchema } from '../helpers/schemas.js';
import { noise, T0 } from './helpers.js';

const MIN = 60_000;
const H = 60 * MIN;
const P: CeilingParams = { block: H, half_life: 7 * 24 * H, threshold: 4, min_std: 1, min_rise: 12, warmup: 3 };

/**
 * A pump running `run` minutes of every hour for `days`, one reading every 10 s while it runs:
 * its bearing warms from 25 °C towards `steady` (time constant 10 min) and cools while it stands
 * (1 h), plus noise. `hotter(t)` adds to the steady temperature (a fault).
 */
function cycling(days: number, run: number, steady: number, hotter: (t: number) => number = () => 0, seed = 3) {
  const g = noise(seed);
  const out: Array<{ ts: number; value: number }> = [];
  let temp = 25;
  for (let t = T0; t < T0 + days * 24 * H; t += 10_000) {
    const on = (t - T0) % H < run * MIN;
    const target = on ? steady + hotter(t) : 25;
    temp += (target - temp) * (1 - Math.exp(-10_000 / (on ? 10 * MIN : H)));
    if (on) out.push({ ts: t, value: temp + 0.05 * g() });
  }
  return out;
}

function judge(d: CeilingDetector, readings: Array<{ ts: number; value: number }>) {
  const anomalous: number[] = [];
  for (const r of readings) if (d.update(r.ts, r.value).anomalous) anomalous.push(r.ts);
  return anomalous;
}

describe('ceiling detector', () => {
  it('a pump warming from cold at every start, 40 minutes an hour for 10 days: never anomalous, judged from its fourth hour on', () => {
    const d = new CeilingDetector(P);
    const readings = cycling(10, 40, 60);
    assert.deepEqual(judge(d, readings), []);
    const o = d.update(T0 + 10 * 24 * H, 60);
    assert.equal(o.rule, 'ceiling');
    // the usual high is a run's high (about 58 °C at 40 minutes); the limit is min_rise over it
    assert.ok(o.baseline > 55 && o.baseline < 60, `usual high ${o.baseline}`);
    assert.equal(o.limit, 12);
  });

  it('the same pump running 20 °C hotter from day 5: anomalous in the first run of it, 10–25 minutes after its start; and before day 5 nothing', () => {
    const from = T0 + 5 * 24 * H;
    const d = new CeilingDetector(P);
    const anomalous = judge(d, cycling(6, 40, 60, (t) => (t >= from ? 20 : 0)));
    assert.ok(anomalous.length > 0);
    assert.ok(anomalous[0]! >= from + 10 * MIN && anomalous[0]! < from + 25 * MIN, `first at ${(anomalous[0]! - from) / MIN} min`);
  });

  it('a block far under the usual high (the machine standing, seen by a rule before a `running` step) is not learnt: two days at ambient, then the first run is not anomalous', () => {
    const d = new CeilingDetector(P);
    const readings = cycling(2, 40, 60);
    judge(d, readings);
    const last = readings.at(-1)!.ts;
    const stand = (Math.floor(last / H) + 1) * H; // the next block on
    d.update(stand, 22);
    const before = d.update(stand + H, 22).baseline; // the last run's block is learnt by now
    for (let t = stand + H; t < stand + 48 * H; t += 10_000) d.update(t, 22);
    const after = d.update(stand + 48 * H, 22).baseline;
    assert.equal(after, before, 'two days at 22 °C left the usual high where it was');
    const restart = cycling(1, 40, 60).map((r) => ({ ts: r.ts + (stand + 49 * H - T0), value: r.value }));
    assert.deepEqual(judge(d, restart), []);
  });

  it('a machine first seen standing (its first blocks at ambient) learns its running high when it starts, during the warm-up: no alarm at the start', () => {
    const d = new CeilingDetector(P);
    for (let t = T0; t < T0 + 2 * H; t += 10_000) d.update(t, 20);
    const start = T0 + 2 * H;
    const runs = cycling(3, 40, 60).map((r) => ({ ts: r.ts + (start - T0), value: r.value }));
    assert.deepEqual(judge(d, runs), []);
    // ...and it knows the running high, not an average with the standing hours (which would make it deaf for weeks)
    const o = d.update(runs.at(-1)!.ts, 58);
    assert.ok(o.baseline > 55 && o.limit === 12, `usual high ${o.baseline}, limit ${o.limit}`);
  });

  it('a lasting rise is learnt, clipped: each hour moves the usual high by at most one block\'s weight of the limit', () => {
    const d = new CeilingDetector({ ...P, half_life: 24 * H });
    for (let t = T0; t < T0 + 24 * H; t += 10_000) d.update(t, 60);
    const weight = 1 - 2 ** (-1 / 24);
    let last = d.update(T0 + 24 * H, 60).baseline;
    for (let h = 25; h < 30; h++) {
      for (let t = T0 + (h - 1) * H; t < T0 + h * H; t += 10_000) d.update(t, 100);
      const now = d.update(T0 + h * H, 100);
      assert.ok(now.anomalous);
      assert.ok(now.baseline > last && now.baseline - last <= weight * now.limit + 1e-9, `hour ${h}: ${last} → ${now.baseline}`);
      last = now.baseline;
    }
  });

  it('config: block and half_life are durations; a half_life shorter than a block is refused', () => {
    const step = detectStepSchema.parse({ detector: 'ceiling', block: '30m', half_life: '2d', min_rise: 10 }) as unknown as Record<string, unknown>;
    assert.equal(step.block, 30 * MIN);
    assert.equal(step.half_life, 48 * H);
    assert.throws(() => detectStepSchema.parse({ detector: 'ceiling', block: '1h', half_life: '10m' }), /half_life must be at least one block/);
  });
});
