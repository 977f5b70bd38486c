import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_DETECTOR_PARAMS, DefaultDetector } from '../../src/detectors/default/detector.js';
import { noise, T0 } from './helpers.js';

const MINUTE = 60_000;
/** The default detector with only its spike rule, so that nothing else can raise. */
const spikeOnly = () => new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS, rules: ['spike'] });

/** Readings (index) the detector judged anomalous, and by which rule. */
function judged(d: DefaultDetector, values: number[], from = 0): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  values.forEach((x, i) => {
    const j = d.update(T0 + (from + i) * MINUTE, x);
    if (j.anomalous) out.push([from + i, j.rule]);
  });
  return out;
}

describe('default detector: the spike rule', () => {
  it('raises a spike and a dip after the warm-up, and stays quiet on the noise around them', () => {
    const z = noise(11);
    const values = Array.from({ length: 1500 }, (_, i) => 50 + z() + (i === 600 ? 30 : 0) + (i === 1200 ? -30 : 0));
    // Before: the record was learnt from the second reading, when the typical step is still ~0,
    // so it started at 10^6 typical steps and more and the rule never fired.
    // A one-reading spike that comes back is a glitch (glitch_readings): the way back (601, 1201) is
    // measured from the level before it, so it is no step.
    assert.deepEqual(judged(spikeOnly(), values), [
      [600, 'spike'],
      [1200, 'dip'],
    ]);
    // Every reading learnt in full, the way back is a step as large: on a series this slow
    // (spike_learn_below) the anomalous step did not raise the record, so it is part of the event
    // too. Learning every step, the record the spike set hides it.
    const full = { ...DEFAULT_DETECTOR_PARAMS, rules: ['spike' as const], glitch_readings: 0 };
    assert.deepEqual(judged(new DefaultDetector(full), values), [
      [600, 'spike'],
      [601, 'dip'],
      [1200, 'dip'],
      [1201, 'spike'],
    ]);
    assert.deepEqual(judged(new DefaultDetector({ ...full, spike_learn_below: Number.POSITIVE_INFINITY }), values), [
      [600, 'spike'],
      [1200, 'dip'],
    ]);
  });

  it('on a quantised series the next level or two is not a spike (range_quanta quanta), ten levels are', () => {
    const z = noise(5);
    // Counts that mostly stay, sometimes move by one: a typical step of ~0.1, a quantum of 1.
    let level = 20;
    const values = Array.from({ length: 1000 }, (_, i) => {
      if (i === 500) level += 2;
      else if (i === 800) level += 10;
      else if (z() > 1.6) level += z() > 0 ? 1 : -1;
      return level;
    });
    const found = judged(spikeOnly(), values);
    assert.ok(!found.some(([i]) => i === 500), `two levels at 500 are not a spike: ${JSON.stringify(found)}`);
    assert.ok(found.some(([i, rule]) => i === 800 && rule === 'spike'), `ten levels at 800 are: ${JSON.stringify(found)}`);
  });

  it('the resolution is what most steps are, not the smallest one seen: values filled in between two levels do not make the next level a spike', () => {
    const z = noise(7);
    // A chlorine reading in steps of 0.01 that mostly stays (a typical step of ~0.001), with a gap
    // filled in by straight lines twice (steps of 0.002: an interpolation, not the sensor's resolution).
    let level = 0.17;
    const values: number[] = [];
    for (let i = 0; i < 3000; i++) {
      if (i === 300 || i === 900) {
        for (let k = 1; k <= 5; k++) values.push(level + (0.01 * k) / 5);
        level += 0.01;
        i += 5;
      }
      if (i === 2500) level += 0.02;
      else if (i === 2800) level += 0.1;
      else if (z() > 1.6) level += z() > 0 ? 0.01 : -0.01;
      values.push(Math.round(level * 100) / 100);
    }
    const found = judged(spikeOnly(), values);
    // With the smallest step seen as the resolution (0.002), two levels were 2.5 "quanta" and more.
    assert.ok(!found.some(([i]) => i >= 2400 && i < 2700), `two levels at 2500 are not a spike: ${JSON.stringify(found)}`);
    assert.ok(found.some(([i, rule]) => i >= 2700 && rule === 'spike'), `ten levels at 2800 are: ${JSON.stringify(found)}`);

    // In the warm-up the resolution is the smallest step, from which the quantile moves on: a
    // sensor whose first step is its power-up (0 → 20 °C) and whose fault comes soon after the
    // warm-up (a pump's fault two minutes into a run) is judged against its steps of 0.1, not 20.
    let t = 20;
    const start = [0, ...Array.from({ length: 199 }, (_, i) => {
      if (i === 130) t += 1.5;
      else if (z() > 1.6) t += z() > 0 ? 0.1 : -0.1;
      return Math.round(t * 10) / 10;
    })];
    const early = judged(spikeOnly(), start);
    assert.ok(early.some(([i, rule]) => i === 131 && rule === 'spike'), `fifteen levels at 131 are a spike: ${JSON.stringify(early)}`);

    // A sensor that holds one value through the warm-up (a machine off) and moves only after it
    // gets its resolution from its first step on (saved as the fourth number of `time`).
    let u = 5;
    const late = Array.from({ length: 1000 }, (_, i) => {
      if (i > 150 && z() > 1.6) u += z() > 0 ? 0.1 : -0.1;
      return Math.round(u * 10) / 10;
    });
    const d = spikeOnly();
    judged(d, late);
    const quantum = (d.snapshot().time as Array<number | null>)[3];
    assert.ok(quantum !== null && quantum! > 0.08 && quantum! < 0.12, `resolution ${quantum}, expected about 0.1`);
  });

  it('a sensor that reads one value through the warm-up (a machine off when the gateway started) sees spikes once it moves', () => {
    // Steps of 0.1 on 6 % of readings once it runs; +10 levels for one reading at four times.
    const make = (flat: number) => {
      const z = noise(13);
      let u = 20;
      const spikes = [400, 1000, 2000, 4000].map((k) => flat + k);
      const values = Array.from({ length: flat + 5000 }, (_, i) => {
        if (i >= flat && z() > 1.55) u += z() > 0 ? 0.1 : -0.1;
        return Math.round((spikes.includes(i) ? u + 1 : u) * 10) / 10;
      });
      return { values, spikes };
    };
    const spikesFound = (found: Array<[number, string]>, spikes: number[]) => spikes.filter((k) => found.some(([i, rule]) => i === k && rule === 'spike')).length;
    const moving = make(0);
    assert.equal(spikesFound(judged(spikeOnly(), moving.values), moving.spikes), 4);
    // Learnt while the typical step was still ~0, its first moves set a spike record of hundreds: 1 of 4 before.
    const off = make(150);
    const found = judged(spikeOnly(), off.values);
    assert.equal(spikesFound(found, off.spikes), 4, JSON.stringify(found));
    // Saved while it was still learning its steps (100 readings after its first move), restored: the same.
    const d = spikeOnly();
    judged(d, off.values.slice(0, 300));
    const snap = structuredClone(d.snapshot());
    assert.equal((snap.time as number[]).length, 5);
    const restored = spikeOnly();
    restored.restore(snap);
    assert.deepEqual(judged(restored, off.values.slice(300), 300), found.filter(([i]) => i >= 300));
    // A snapshot from before (four numbers in `time`) restores as a stream that moved from its start.
    (snap.time as number[]).pop();
    assert.doesNotThrow(() => spikeOnly().restore(snap));
  });

  it('an older snapshot (its record learnt from the second reading) restores with the record started again', () => {
    const z = noise(3);
    const before = Array.from({ length: 300 }, () => 50 + z());
    const d = spikeOnly();
    judged(d, before);
    const snap = structuredClone(d.snapshot());
    // As the committed version wrote it: no spike_record marker, and a record of 10^9 typical steps.
    delete snap.spike_record;
    (snap.state as number[])[7] = 1e9;
    const restored = spikeOnly();
    restored.restore(snap);
    const after = Array.from({ length: 300 }, (_, i) => 50 + z() + (i === 200 ? 30 : 0));
    assert.deepEqual(
      judged(restored, after, 300).filter(([, rule]) => rule === 'spike'),
      [[500, 'spike']],
    );
  });
});
