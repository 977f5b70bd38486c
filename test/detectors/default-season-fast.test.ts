/**
 * The default detector's season rule on series faster than 16 readings a slot of a day (one reading
 * per ~32 s): until 2026-12-07 no seasonal model was used there at all, so a 1 s or 10 s sensor's
 * daily cycle was never learnt, and a shift that is plain for the time of day went unseen unless
 * its first step was a spike. With `season_fast` each reading learns interval / time_ref of what a
 * 5-minute reading does; the joint rule stays with the slower series.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DefaultDetector, DEFAULT_DETECTOR_PARAMS, type DefaultParams } from '../../src/detectors/default/detector.js';
import { noise } from './helpers.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);
const SHIFT_AT = 7 * DAY + 10 * HOUR;

/** 20 ± 2 a day, noise 0.1, a reading every `step` ms for 8 days; `shift` added for two hours from day 7, 10:00. */
function series(step: number, seed: number, shift: number) {
  const g = noise(seed);
  const ts: number[] = [];
  const values: number[] = [];
  for (let t = 0; t < 8 * DAY; t += step) {
    ts.push(T0 + t);
    values.push(20 + 2 * Math.sin((2 * Math.PI * t) / DAY) + 0.1 * g() + (t >= SHIFT_AT && t < SHIFT_AT + 2 * HOUR ? shift : 0));
  }
  return { ts, values };
}

/** Times (ms from T0) of the readings judged anomalous after day 2, with their rules. */
function judge(s: { ts: number[]; values: number[] }, over: Partial<DefaultParams>, from = 0) {
  const d = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS, ...over });
  let state: unknown;
  const out: Array<[number, string]> = [];
  for (let i = 0; i < s.ts.length; i++) {
    if (i === from && from > 0) {
      state = structuredClone(d.snapshot());
      d.restore(state as Record<string, unknown>);
    }
    const o = d.update(s.ts[i]!, s.values[i]!);
    if (o.anomalous && s.ts[i]! - T0 > 2 * DAY) out.push([s.ts[i]! - T0, o.rule ?? '']);
  }
  return out;
}

const inShift = (t: number) => t >= SHIFT_AT && t < SHIFT_AT + 2 * HOUR;

describe('default detector, the season rule on fast series (season_fast)', () => {
  it('a 10 s series: a two-hour shift of 3 noise widths is found by its time of day (3 seeds); without it, never', () => {
    for (let seed = 1; seed <= 3; seed++) {
      const s = series(10_000, seed, 0.3);
      const now = judge(s, {});
      const before = judge(s, { season_fast: false });
      assert.ok(now.some(([t, rule]) => inShift(t) && rule.startsWith('season')), `seed ${seed}: ${JSON.stringify(now.slice(0, 5))}`);
      assert.ok(!before.some(([t]) => inShift(t)), `seed ${seed}: found before? ${JSON.stringify(before.slice(0, 5))}`);
      // Before the shift: as quiet as without it.
      const quiet = (j: Array<[number, string]>) => j.filter(([t]) => t < SHIFT_AT).length;
      assert.ok(quiet(now) <= quiet(before) + 2, `seed ${seed}: ${JSON.stringify(now.filter(([t]) => t < SHIFT_AT))}`);
    }
  });

  it('the joint rule stays with series of 16 readings a slot or fewer: on a fast one a reading\'s two half-convinced views come from noise alone', () => {
    const s = series(10_000, 4, 0);
    const joint = judge(s, {}).filter(([, rule]) => rule.startsWith('joint'));
    assert.deepEqual(joint, []);
  });

  it('a minute series is judged as before (its daily model was already in use)', () => {
    const s = series(60_000, 1, 0.6);
    assert.deepEqual(judge(s, {}), judge(s, { season_fast: false }));
  });

  it('a checkpoint mid-stream (the flat level it judges against included) goes on as an uninterrupted run; one saved before the flat level restores', () => {
    const s = series(10_000, 2, 0.3);
    const whole = judge(s, {});
    assert.deepEqual(judge(s, {}, 6 * 8640), whole);
    // Every score after a checkpoint, not only the alarms.
    const scores = (cut: number) => {
      const d = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS });
      const out: number[] = [];
      for (let i = 0; i < s.ts.length; i++) {
        if (i === cut) d.restore(structuredClone(d.snapshot()) as Record<string, unknown>);
        const o = d.update(s.ts[i]!, s.values[i]!);
        if (i >= 6 * 8640 && i < 6 * 8640 + 2000) out.push(o.score);
      }
      return out;
    };
    assert.deepEqual(scores(6 * 8640), scores(-1));
    // A snapshot of the form before 2026-12-07 (packed, ending with the offset): the flat level is learnt afresh.
    const d = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS });
    for (let i = 0; i < 6 * 8640; i++) d.update(s.ts[i]!, s.values[i]!);
    const snap = structuredClone(d.snapshot()) as { seasonal: Float64Array };
    snap.seasonal = snap.seasonal.subarray(0, snap.seasonal.length - 3).slice();
    const old = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS });
    old.restore(snap);
    let found = false;
    for (let i = 6 * 8640; i < s.ts.length; i++) if (old.update(s.ts[i]!, s.values[i]!).anomalous && inShift(s.ts[i]! - T0)) found = true;
    assert.ok(found, 'the shift is still found: the flat level relearnt within the day');
  });
});
