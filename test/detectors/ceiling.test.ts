/**
 * The `ceiling` detector: above the highest level a stream usually reaches (its hourly highs). A
 * bearing that warms from cold at every start never passes it; one that runs hotter than usual
 * does, within the run.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CeilingDetector, MAX_STATES, type CeilingParams } from '../../src/detectors/ceiling/detector.js';
import { compileDetect } from '../../src/compile.js';
import { detectStepSchema } from '../helpers/schemas.js';
import { noise, T0 } from './helpers.js';

const MIN = 60_000;
const H = 60 * MIN;
const P: CeilingParams = { block: H, half_life: 7 * 24 * H, threshold: 4, min_std: 1, min_rise: 12, warmup: 3, min_ratio: 0, accept_blocks: 0, band: 0, lag: 0 };

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

  /** A machine running day and night: `night` °C from 22:00 to 06:00, `day` °C from 06:00, for `days` from midnight (T0), one reading every 10 s. */
  function dayAndNight(days: number, night: number, day: number, seed = 4) {
    const g = noise(seed);
    const out: Array<{ ts: number; value: number }> = [];
    for (let t = T0; t < T0 + days * 24 * H; t += 10_000) {
      const h = ((t - T0) / H) % 24;
      out.push({ ts: t, value: (h >= 6 && h < 22 ? day : night) + 0.3 * g() });
    }
    return out;
  }
  const hoursOf = (ts: number[]) => [...new Set(ts.map((t) => Math.floor((t - T0) / H)))];

  it('accept_blocks: a machine first seen at night meets its day load (15 °C hotter) as an anomaly for its first 3 hours, then as its usual high: the next days raise nothing', () => {
    const readings = dayAndNight(5, 40, 55);
    const accepting = hoursOf(judge(new CeilingDetector({ ...P, accept_blocks: 3 }), readings));
    assert.deepEqual(accepting, [6, 7, 8]);
    // without it (the only behaviour until 2026-12-05) the day load is an anomaly all the first day
    // and into the second: the usual high learns a day's highs clipped, 0.06 °C an hour, until the
    // spread of what it learnt makes the limit wide (on the simulator's pumps, whose nights pull
    // it back, every day)
    const clipped = hoursOf(judge(new CeilingDetector(P), readings));
    assert.ok(clipped.length >= 20 && clipped.some((h) => h >= 30), clipped.join(' '));
  });

  it('accept_blocks: a day level under the limit but over half of it (10 °C hotter, the limit 12) is taken as the usual high after 3 hours too, so a fault on a later day is judged against the day level', () => {
    const d = new CeilingDetector({ ...P, accept_blocks: 3 });
    assert.deepEqual(judge(d, dayAndNight(2, 40, 50)), []);
    const o = d.update(T0 + 2 * 24 * H + 14 * H, 63);
    assert.ok(o.baseline > 49 && o.baseline < 51, `usual high ${o.baseline}`);
    assert.ok(o.anomalous, 'a bearing 13 °C over the day level');
  });

  it('accept_blocks: an overheating shorter than 3 blocks is not taken as usual: the same 30 minutes two days later is found again', () => {
    const spell = (t: number, day: number) => t >= T0 + (day * 24 + 14) * H && t < T0 + (day * 24 + 14.5) * H;
    const readings = dayAndNight(5, 50, 50).map((r) => ({ ts: r.ts, value: spell(r.ts, 2) || spell(r.ts, 4) ? r.value + 20 : r.value }));
    assert.deepEqual(hoursOf(judge(new CeilingDetector({ ...P, accept_blocks: 3 }), readings)), [2 * 24 + 14, 4 * 24 + 14]);
  });

  it('accept_blocks: restored from a snapshot taken in the middle of the 3 hours, it judges as one that ran on', () => {
    const readings = dayAndNight(2, 40, 55);
    const whole = judge(new CeilingDetector({ ...P, accept_blocks: 3 }), readings);
    const first = new CeilingDetector({ ...P, accept_blocks: 3 });
    const cut = T0 + 7.5 * H;
    const before = judge(first, readings.filter((r) => r.ts < cut));
    const snap = JSON.parse(JSON.stringify(first.snapshot()));
    assert.equal(snap.over[0], 1, 'one block over the limit counted');
    const second = new CeilingDetector({ ...P, accept_blocks: 3 });
    second.restore(snap);
    assert.deepEqual([...before, ...judge(second, readings.filter((r) => r.ts >= cut))], whole);
  });

  it('min_ratio: the limit is at least that multiple of the usual high, whatever the scale (a motor of 12 A or of 120 A)', () => {
    for (const amps of [12, 120]) {
      const d = new CeilingDetector({ ...P, min_std: 0, min_rise: 0, min_ratio: 1.25, warmup: 3 });
      for (let t = T0; t < T0 + 5 * H; t += 10_000) d.update(t, amps);
      assert.equal(d.update(T0 + 5 * H, amps * 1.2).anomalous, false, `${amps} A × 1.2`);
      assert.equal(d.update(T0 + 5 * H + 10_000, amps * 1.3).anomalous, true, `${amps} A × 1.3`);
    }
  });

  it('config: accept_after is a duration turned into blocks (3h of 1h blocks: 3), 0 turns it off; min_ratio must be above 1', () => {
    const step = detectStepSchema.parse({ detector: 'ceiling' }) as unknown as Record<string, unknown>;
    assert.equal(step.accept_after, 3 * H);
    assert.equal(step.min_ratio, 0);
    assert.throws(() => detectStepSchema.parse({ detector: 'ceiling', min_ratio: 0.9 }), /min_ratio must be above 1/);
  });

  it('config: `by` names the field of the operating state (band 0.35 and lag 30m by default); a detector without operating states refuses it', () => {
    const step = detectStepSchema.parse({ detector: 'ceiling', by: 'load' }) as unknown as Record<string, unknown>;
    assert.equal(step.by, 'load');
    assert.equal(step.band, 0.35);
    assert.equal(step.lag, 30 * MIN);
    assert.equal(compileDetect(detectStepSchema.parse({ detector: 'ceiling', by: 'load' })).by, 'load');
    assert.throws(() => detectStepSchema.parse({ detector: 'threshold', above: 1, by: 'load' }), /by/);
  });

  it('config: block and half_life are durations; a half_life shorter than a block is refused', () => {
    const step = detectStepSchema.parse({ detector: 'ceiling', block: '30m', half_life: '2d', min_rise: 10 }) as unknown as Record<string, unknown>;
    assert.equal(step.block, 30 * MIN);
    assert.equal(step.half_life, 48 * H);
    assert.throws(() => detectStepSchema.parse({ detector: 'ceiling', block: '1h', half_life: '10m' }), /half_life must be at least one block/);
  });
});

/**
 * A pump that runs all day under a daily load: 45 % at night, 95 % from 06:00 to 22:00 (30-minute
 * ramps), one reading every 10 s with its motor current (the operating state, 10 A at full load)
 * and its bearing temperature (20 °C + 25 °C × load, time constant 10 min). `hotter(t)` adds to
 * the temperature (a fault); `from` is the first reading's time.
 */
function dailyLoad(days: number, hotter: (t: number) => number = () => 0, from = T0, seed = 5) {
  const g = noise(seed);
  const out: Array<{ ts: number; value: number; load: number }> = [];
  let temp = NaN;
  for (let t = from; t < from + days * 24 * H; t += 10_000) {
    const h = ((t - T0) % (24 * H)) / H;
    const shift = h < 5.5 || h >= 22.5 ? 0 : h < 6 ? (h - 5.5) * 2 : h < 22 ? 1 : 1 - (h - 22) * 2;
    const load = 0.45 + 0.5 * shift;
    const target = 20 + 25 * load + hotter(t);
    temp = Number.isNaN(temp) ? target : temp + (target - temp) * (1 - Math.exp(-10_000 / (10 * MIN)));
    out.push({ ts: t, value: temp + 0.05 * g(), load: 10 * (0.35 + 0.65 * load) * (1 + 0.01 * g()) });
  }
  return out;
}

const BY: CeilingParams = { ...P, warmup: 2, accept_blocks: 3, band: 0.35, lag: 30 * MIN };

function judgeBy(d: CeilingDetector, readings: Array<{ ts: number; value: number; load?: number }>) {
  const anomalous: number[] = [];
  for (const r of readings) if (d.update(r.ts, r.value, r.load).anomalous) anomalous.push(r.ts);
  return anomalous;
}

describe('ceiling detector by operating state (`by`: a usual high per load)', () => {
  it('a pump first seen at night meets its day load (12.5 °C hotter): learnt, not an anomaly, on the first morning or ever; without `by` an anomaly on the first morning', () => {
    assert.deepEqual(judgeBy(new CeilingDetector(BY), dailyLoad(4)), []);
    const one = judge(new CeilingDetector({ ...BY, band: 0 }), dailyLoad(4));
    assert.ok(one.length > 0 && one[0]! >= T0 + 5.5 * H && one[0]! < T0 + 9 * H, `without by: first at ${(one[0]! - T0) / H} h`);
  });

  it('a bearing 14 °C hotter at night (under the day level + 12 °C) is found within the half hour against the night\'s usual high; one usual high for both loads never finds it', () => {
    const from = T0 + 3 * 24 * H + 2 * H;
    const hot = (t: number) => (t >= from && t < from + H ? 14 : 0);
    const by = judgeBy(new CeilingDetector(BY), dailyLoad(4, hot));
    assert.ok(by.length > 0 && by[0]! >= from && by[0]! < from + 30 * MIN, `first at ${(by[0]! - from) / MIN} min`);
    assert.ok(by.every((t) => t >= from && t < from + H + 30 * MIN));
    assert.deepEqual(judge(new CeilingDetector({ ...BY, band: 0 }), dailyLoad(4, hot)).filter((t) => t >= from && t < from + H), []);
  });

  it('the state left is a reference for `lag`: the bearing still hot from the day (time constant 10 min) is no anomaly when the load drops at 22:00; with no lag it is', () => {
    assert.deepEqual(judgeBy(new CeilingDetector(BY), dailyLoad(3)), []);
    // a bearing cooling over 25 minutes: under a lag of 0 the night's usual high judges it at once
    const slowCool = dailyLoad(3).map((r) => ({ ...r, value: r.value + (((r.ts - T0) % (24 * H)) / H >= 22 && ((r.ts - T0) % (24 * H)) / H < 22.5 ? 10 : 0) }));
    assert.deepEqual(judgeBy(new CeilingDetector(BY), slowCool), []);
    assert.ok(judgeBy(new CeilingDetector({ ...BY, lag: 0 }), slowCool).length > 0);
  });

  it('a pump first seen by day: its first night\'s usual high is the night\'s, not the day\'s heat still in the bearing at 22:00 (not learnt for `lag`): 14 °C hotter that night is found', () => {
    const from = T0 + 24 * H + 2 * H;
    const found = judgeBy(new CeilingDetector(BY), dailyLoad(1.5, (t) => (t >= from && t < from + H ? 14 : 0), T0 + 12 * H));
    assert.ok(found.length > 0 && found[0]! >= from && found[0]! < from + 30 * MIN, `first at ${found.length ? (found[0]! - from) / MIN : 'never'}`);
  });

  it('a load never seen is judged against the usual high of the nearest higher load learnt: under the night\'s load, 15 °C over the night\'s level is found; over the day\'s, 15 °C over the day\'s is learnt, not judged', () => {
    const learnt = () => {
      const d = new CeilingDetector(BY);
      judgeBy(d, dailyLoad(2));
      return d;
    };
    const t1 = T0 + 2 * 24 * H + 12 * H;
    const at = (value: number, load: number) => Array.from({ length: 60 }, (_, i) => ({ ts: t1 + i * 10_000, value, load }));
    // the night: 6.4 A, about 31 °C; the day: 9.7 A, about 44 °C
    assert.ok(judgeBy(learnt(), at(31.5 + 15, 4)).length > 0, 'a lower load: judged against the night');
    assert.deepEqual(judgeBy(learnt(), at(44 + 15, 14)), []);
    assert.deepEqual(judgeBy(learnt(), at(31.5 + 8, 4)), []);
  });

  it('readings without the operating state (a pump without a current sensor), or always at one load, are one state, judged as without `by` from the first reading', () => {
    const readings = cycling(6, 40, 60, (t) => (t >= T0 + 5 * 24 * H ? 20 : 0));
    assert.deepEqual(judgeBy(new CeilingDetector(BY), readings), judge(new CeilingDetector({ ...BY, band: 0 }), readings));
    assert.deepEqual(judgeBy(new CeilingDetector(BY), readings.map((r) => ({ ...r, load: 10 }))), judge(new CeilingDetector({ ...BY, band: 0 }), readings));
    // runs of 20 minutes, shorter than the lag: the first is learnt too, so it is judged from the same hour
    const rules = (d: CeilingDetector, rs: Array<{ ts: number; value: number }>, load?: number) => rs.map((r) => d.update(r.ts, r.value, load).rule);
    const short = cycling(1, 20, 60);
    assert.deepEqual(rules(new CeilingDetector(BY), short, 10), rules(new CeilingDetector({ ...BY, band: 0 }), short));
    assert.ok(rules(new CeilingDetector(BY), short, 10).includes('ceiling'));
    assert.ok(judge(new CeilingDetector({ ...BY, band: 0 }), readings).length > 0);
  });

  it('at most MAX_STATES states: a load wandering over 30 levels keeps the last ones seen', () => {
    const d = new CeilingDetector(BY);
    for (let i = 0; i < 30 * 360; i++) d.update(T0 + i * 10_000, 50, 2 ** Math.floor(i / 360));
    const states = (d.snapshot() as { states: unknown[] }).states;
    assert.equal(states.length, MAX_STATES);
  });

  it('restored from a snapshot at any hour of the three days, it judges as one that ran on; a snapshot from before `by` is the first state\'s', () => {
    const readings = dailyLoad(3, (t) => (t >= T0 + 2 * 24 * H + 3 * H && t < T0 + 2 * 24 * H + 4 * H ? 15 : 0));
    const ran = new CeilingDetector(BY);
    const expected = readings.map((r) => ran.update(r.ts, r.value, r.load).score);
    let d = new CeilingDetector(BY);
    const got: number[] = [];
    readings.forEach((r, i) => {
      if (i % 1_000 === 999) {
        const snap = JSON.parse(JSON.stringify(d.snapshot())) as Record<string, unknown>;
        d = new CeilingDetector(BY);
        d.restore(snap);
      }
      got.push(d.update(r.ts, r.value, r.load).score);
    });
    assert.deepEqual(got, expected);
    assert.ok(expected.some((s) => s >= 0.5), 'the overheating is found');
    // a step that had no `by`: its usual high is the first state's
    const old = new CeilingDetector({ ...BY, band: 0 });
    judge(old, cycling(3, 60, 50));
    const moved = new CeilingDetector(BY);
    moved.restore(JSON.parse(JSON.stringify(old.snapshot())));
    const o = moved.update(T0 + 3 * 24 * H, 75, 10);
    assert.equal(o.rule, 'ceiling');
    assert.ok(o.anomalous && Math.abs(o.baseline - old.update(T0 + 3 * 24 * H, 75).baseline) < 1e-9);
  });
});
