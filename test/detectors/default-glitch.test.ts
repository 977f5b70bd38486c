/**
 * The default detector and a one-reading glitch (`glitch_readings`, `glitch_size`): a temperature sensor's 85 °C at
 * power-on, −127 from a loose wire, a garbage 10⁶. The glitch is reported; when the series comes
 * back within 10 readings the records and the range forget it (a later glitch in recent memory
 * widens the range by up to half its width). A sensor stuck on its error value for up to an hour
 * (`glitch_stuck`) and back is forgotten the same way.
 * Before, it widened the range and set the season and spike records for weeks, and a real fault
 * days later went unseen.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DefaultDetector, DEFAULT_DETECTOR_PARAMS, type DefaultParams } from '../../src/detectors/default/detector.js';
import { noise, T0 } from './helpers.js';

const MIN = 60_000;
const DAY = 86_400_000;

interface Outcome {
  /** The glitch reading judged anomalous. */
  glitch: boolean;
  /** The first reading of the fault judged anomalous (minutes after its start), or null. */
  foundAfter: number | null;
  /** Readings judged anomalous outside the glitch and the fault. */
  others: number;
}

/**
 * A temperature every `stepMs`: 20 + a daily wave of ±2 + noise 0.3; `glitch` (a value) at day 4;
 * `fault(minutes since its start)` added from day 6 for `faultMs`.
 */
function outcome(stepMs: number, glitch: number | null, fault: (min: number) => number, faultMs: number, seed: number, over: Partial<DefaultParams> = {}, glitchMs = stepMs): Outcome {
  const d = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS, ...over });
  const g = noise(seed);
  const res: Outcome = { glitch: false, foundAfter: null, others: 0 };
  for (let t = 0; t < 7 * DAY; t += stepMs) {
    let v = 20 + 2 * Math.sin((2 * Math.PI * t) / DAY) + 0.3 * g();
    const inFault = t >= 6 * DAY && t < 6 * DAY + faultMs;
    if (inFault) v += fault((t - 6 * DAY) / MIN);
    const isGlitch = glitch !== null && t >= 4 * DAY && t < 4 * DAY + glitchMs;
    if (isGlitch) v = glitch;
    const o = d.update(T0 + t, v);
    if (isGlitch) res.glitch ||= o.anomalous;
    else if (inFault) res.foundAfter ??= o.anomalous ? (t - 6 * DAY) / MIN : null;
    else if (o.anomalous) res.others++;
  }
  return res;
}

const shift4 = () => 4;

describe('default detector, a glitch', () => {
  for (const value of [85, -127, 1e6]) {
    it(`1-minute temperature: a glitch to ${value} is reported, and a +4 shift two days later is found at once (with every reading learnt: late or never)`, () => {
      for (let seed = 1; seed <= 3; seed++) {
        const now = outcome(MIN, value, shift4, 2 * 3_600_000, seed);
        assert.equal(now.glitch, true, `seed ${seed}: the glitch is anomalous`);
        assert.ok(now.foundAfter !== null && now.foundAfter <= 1, `seed ${seed}: shift found after ${now.foundAfter} min`);
        const clean = outcome(MIN, null, shift4, 2 * 3_600_000, seed);
        assert.ok(now.others <= clean.others, `seed ${seed}: ${now.others} other anomalous readings vs ${clean.others} without the glitch`);
        const before = outcome(MIN, value, shift4, 2 * 3_600_000, seed, { glitch_readings: 0 });
        assert.ok(before.foundAfter === null || before.foundAfter >= 10, `seed ${seed}: with every reading learnt the glitch hides the shift (found after ${before.foundAfter} min)`);
      }
    });
  }

  it('1 s readings (no seasonal model that fast): a +4 shift a day after a glitch to 85 is found at once — the first glitch is forgotten whole, so the range does not keep part of it', () => {
    const HOUR = 3_600_000;
    for (let seed = 1; seed <= 2; seed++) {
      for (const over of [{}, { glitch_readings: 0 }]) {
        const d = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS, ...over });
        const g = noise(seed);
        let found: number | null = null;
        for (let t = 0; t < 40 * HOUR; t += 1000) {
          let v = 20 + 2 * Math.sin((2 * Math.PI * t) / DAY) + 0.3 * g();
          if (t === 12 * HOUR) v = 85;
          const inShift = t >= 36 * HOUR && t < 36.5 * HOUR;
          if (inShift) v += 4;
          const o = d.update(T0 + t, v);
          if (inShift && o.anomalous) found ??= (t - 36 * HOUR) / 1000;
        }
        if (Object.keys(over).length === 0) assert.equal(found, 0, `seed ${seed}: found after ${found} s`);
        else assert.ok(found === null || found >= 10, `seed ${seed}: with every reading learnt the shift is inside the range the glitch widened (found after ${found} s)`);
      }
    }
  });

  it('5-minute series: a spike of +8 two days after a glitch to 85 is found (it was not)', () => {
    const spike = (min: number) => (min < 5 ? 8 : 0);
    for (let seed = 1; seed <= 3; seed++) {
      assert.equal(outcome(5 * MIN, 85, spike, 5 * MIN, seed).foundAfter, 0, `seed ${seed}`);
      assert.equal(outcome(5 * MIN, 85, spike, 5 * MIN, seed, { glitch_readings: 0 }).foundAfter, null, `seed ${seed}: every reading learnt`);
    }
  });

  it('a change that lasts is learnt as before: a step to a new level alarms at its start, not for the hours it stays', () => {
    for (let seed = 1; seed <= 3; seed++) {
      // From day 6 the series sits 10 higher for the rest of the run (a day).
      const now = outcome(MIN, null, () => 10, DAY, seed);
      const learnt = outcome(MIN, null, () => 10, DAY, seed, { glitch_readings: 0 });
      assert.equal(now.foundAfter, 0, `seed ${seed}`);
      const d = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS });
      const g = noise(seed);
      let anomalous = 0;
      for (let t = 0; t < 7 * DAY; t += MIN) {
        const o = d.update(T0 + t, 20 + 2 * Math.sin((2 * Math.PI * t) / DAY) + 0.3 * g() + (t >= 6 * DAY ? 10 : 0));
        if (t >= 6 * DAY + 10 * MIN && o.anomalous) anomalous++;
      }
      assert.ok(anomalous <= 10, `seed ${seed}: ${anomalous} anomalous readings in the day after the step's first 10 minutes`);
      assert.equal(learnt.foundAfter, 0);
    }
  });

  it('away for glitch_readings (10) or fewer and back: forgotten, so the next such reading is news again; away longer: learnt', () => {
    /** Whether a single +40 at reading 2500 is anomalous after an excursion of +40 for `len` readings at 2000. */
    const repeatFound = (len: number) => {
      const d = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS });
      const g = noise(4);
      let found = false;
      for (let i = 0; i < 3000; i++) {
        const o = d.update(T0 + i * MIN, 20 + 0.3 * g() + ((i >= 2000 && i < 2000 + len) || i === 2500 ? 40 : 0));
        if (i === 2500) found = o.anomalous;
      }
      return found;
    };
    assert.equal(repeatFound(1), true, 'one reading away');
    assert.equal(repeatFound(10), true, 'ten readings away');
    assert.equal(repeatFound(11), false, 'eleven readings away: a change the range keeps');
    assert.equal(repeatFound(100), false, 'a hundred readings away');
  });
});

describe('default detector, a sensor stuck on its error value', () => {
  const shift = (by: number) => () => by;
  it('−127 for 15, 30 or 60 minutes (a loose wire) and back: a shift of −4 or +4 two days later at the same time of day is found at once (with the stuck readings counted like others: late or never)', () => {
    for (const minutes of [15, 30, 60]) {
      for (const by of [-4, 4]) {
        for (let seed = 1; seed <= 2; seed++) {
          const at = `${minutes} min stuck, shift ${by}, seed ${seed}`;
          const now = outcome(MIN, -127, shift(by), 2 * 3_600_000, seed, {}, minutes * MIN);
          assert.equal(now.glitch, true, `${at}: the error value is anomalous`);
          assert.equal(now.foundAfter, 0, `${at}: found after ${now.foundAfter} min`);
          const clean = outcome(MIN, null, shift(by), 2 * 3_600_000, seed);
          assert.ok(now.others <= clean.others, `${at}: ${now.others} other anomalous readings vs ${clean.others} without the error`);
          const counted = outcome(MIN, -127, shift(by), 2 * 3_600_000, seed, { glitch_stuck: 0 }, minutes * MIN);
          assert.ok(counted.foundAfter === null || counted.foundAfter >= 10, `${at}: with every stuck reading counted the error hides the shift (found after ${counted.foundAfter} min)`);
        }
      }
    }
  });

  it('85 for 30 minutes (a sensor that lost power) and back: a +4 shift two days later is found at once', () => {
    for (let seed = 1; seed <= 3; seed++) {
      assert.equal(outcome(MIN, 85, shift(4), 2 * 3_600_000, seed, {}, 30 * MIN).foundAfter, 0, `seed ${seed}`);
    }
  });

  /** The range's low a few hours after −127 held for `len` readings from reading 2000 (1-minute readings). */
  const lowAfter = (len: number, over: Partial<DefaultParams> = {}, wander = false, plateaus = false, again = false) => {
    const d = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS, ...over });
    const g = noise(6);
    // `again`: the wire comes loose a second time a day later, for as long.
    for (let i = 0; i < (again ? 3740 : 2300); i++) {
      const stuck = (i >= 2000 && i < 2000 + len) || (again && i >= 3440 && i < 3440 + len);
      // `plateaus`: a series that holds each value for 100 readings by nature (a GPS course on a
      // straight road, a set point): a value held is no sign of a stuck sensor there.
      const normal = plateaus ? 20 + (Math.floor(i / 100) % 2) : 20 + 0.3 * g();
      // `wander`: the error value is not one value but moves (not stuck: it counts like any reading).
      d.update(T0 + i * MIN, stuck ? -127 + (wander ? (i % 2) * 0.5 : 0) : normal);
    }
    return (d.snapshot() as { state: number[] }).state[5]!;
  };

  it('held up to glitch_stuck (1 h) and back: forgotten, the range too; held longer, not one value, or on a series that holds its values as long: learnt as a change', () => {
    assert.ok(lowAfter(30) > 15, `30 minutes: low ${lowAfter(30)}`);
    assert.ok(lowAfter(60) > 15, `an hour: low ${lowAfter(60)}`);
    assert.ok(lowAfter(30, {}, false, false, true) > 15, 'loose twice, a day apart: the first stuck run is not the stream\'s own flat run, so the second is forgotten too');
    assert.ok(lowAfter(80) < -100, `80 minutes, longer than glitch_stuck: low ${lowAfter(80)}`);
    assert.ok(lowAfter(180, { glitch_stuck: 4 * 3_600_000 }) > 15, '3 hours with glitch_stuck 4h');
    assert.ok(lowAfter(30, { glitch_stuck: 0 }) < -100, '30 minutes with glitch_stuck 0');
    assert.ok(lowAfter(30, {}, true) < -100, '30 minutes of a value that moves');
    assert.ok(lowAfter(30, {}, false, true) < -100, '30 minutes on a series whose own values are held longer');
  });
});

describe('default detector, the same glitch again and again', () => {
  it('1 s series: a +40 every 500 readings is taken into the range step by step (the first few reported, not all 38)', () => {
    const d = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS });
    const g = noise(3);
    let reported = 0;
    let repeats = 0;
    for (let i = 0; i < 20_000; i++) {
      const rep = i >= 1000 && i % 500 === 0;
      const o = d.update(T0 + i * 1000, 20 + 0.3 * g() + (rep ? 40 : 0));
      if (rep) {
        repeats++;
        if (o.anomalous) reported++;
      }
    }
    assert.equal(repeats, 38);
    assert.ok(reported >= 3 && reported <= 10, `${reported} of 38 repeats anomalous`);
  });
});

describe('default detector, a glitch across a restart', () => {
  it('the glitches it forgot are remembered across a restart: a second glitch after it widens the range as it would have', () => {
    const g = noise(5);
    const values = Array.from({ length: 3000 }, (_, i) => 20 + 0.3 * g() + (i === 2000 || i === 2300 ? 85 : 0));
    const through = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS });
    for (const [i, v] of values.entries()) through.update(T0 + i * MIN, v);
    let d = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS });
    for (const [i, v] of values.entries()) {
      d.update(T0 + i * MIN, v);
      if (i === 2100) {
        const snap = structuredClone(d.snapshot());
        d = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS });
        d.restore(snap);
      }
    }
    const state = (x: DefaultDetector) => (x.snapshot() as { state: number[] }).state;
    assert.deepEqual(state(d), state(through));
  });

  it('a checkpoint taken while a sensor is stuck on its error value keeps the time it began: the restored detector forgets it too; a snapshot of before (11 numbers) is read', () => {
    const g = noise(10);
    const values = Array.from({ length: 4000 }, (_, i) => (i >= 2000 && i < 2040 ? -127 : 20 + 0.3 * g() + (i >= 3000 ? -4 : 0)));
    const through = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS });
    const a = values.map((v, i) => through.update(T0 + i * MIN, v).anomalous);
    for (const old of [false, true]) {
      let d = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS });
      const b = values.map((v, i) => {
        const anomalous = d.update(T0 + i * MIN, v).anomalous;
        if (i === 2020) {
          const snap = structuredClone(d.snapshot()) as { glitch?: number[] };
          assert.equal(snap.glitch?.length, 12, 'the pending glitch and the time it began are in the snapshot');
          if (old) snap.glitch = snap.glitch!.slice(0, 11);
          d = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS });
          d.restore(snap);
        }
        return anomalous;
      });
      assert.deepEqual(b, a, old ? 'from an 11-number snapshot' : 'from a 12-number snapshot');
    }
    assert.equal(a[3000], true, 'the shift after the error value is found');
  });

  it('a checkpoint taken between the glitch and the next reading keeps it pending: the restored detector forgets it too', () => {
    const g = noise(9);
    const values = Array.from({ length: 4000 }, (_, i) => 20 + 0.3 * g() + (i === 2000 ? 85 : i >= 3000 ? 4 : 0));
    const through = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS });
    const a = values.map((v, i) => through.update(T0 + i * MIN, v).anomalous);
    let d = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS });
    const b = values.map((v, i) => {
      const anomalous = d.update(T0 + i * MIN, v).anomalous;
      if (i === 2000) {
        const snap = structuredClone(d.snapshot());
        assert.ok(Array.isArray(snap.glitch), 'the pending glitch is in the snapshot');
        d = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS });
        d.restore(snap);
      }
      return anomalous;
    });
    assert.deepEqual(b, a);
    assert.equal(a[3000], true, 'the shift after the glitch is found');
  });
});
