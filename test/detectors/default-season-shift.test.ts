/**
 * The default detector's seasonal shift test (`season_shift`, a CUSUM of the seasonal residual)
 * counts only once the series is `season_shift_after` old (issue 12, 2026-12-04). Found on real
 * data: on the application servers' metrics (bench/tune/data/asd) almost every anomalous reading of
 * the first days was a "shift" of slot means learnt from two or three days. A shift after that
 * Phase I is found as before; the same shift inside it is the documented cost.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asdFiles } from '../../bench/tune/asd-data.js';
import { DefaultDetector, DEFAULT_DETECTOR_PARAMS, type DefaultParams } from '../../src/detectors/default/detector.js';
import { shiftedWave } from './helpers.js';

const DAY = 86_400_000;
const OFF: Partial<DefaultParams> = { season_shift_after: 0 };


/** Days (from the first reading, fractional) of the readings judged anomalous by `rule`. */
function judged(ts: ArrayLike<number>, values: ArrayLike<number>, over: Partial<DefaultParams>, rule: string, upTo = values.length): number[] {
  const d = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS, ...over });
  const out: number[] = [];
  for (let i = 0; i < upTo; i++) {
    const o = d.update(ts[i]!, values[i]!);
    if (o.anomalous && o.rule === rule) out.push((ts[i]! - ts[0]!) / DAY);
  }
  return out;
}

describe('default detector, the seasonal shift test after a Phase I (season_shift_after)', () => {
  it('defaults to 5 days', () => {
    assert.equal(DEFAULT_DETECTOR_PARAMS.season_shift_after, 5 * DAY);
  });

  it('a 6-hour shift of 3 noise widths on day 8 is a season_shift (3 seeds); on day 3 only without the Phase I', () => {
    for (let seed = 1; seed <= 3; seed++) {
      const late = shiftedWave(12, seed, 8);
      const found = judged(late.ts, late.values, {}, 'season_shift');
      assert.ok(found.length > 0 && found.every((d) => d >= 8 + 10 / 24 && d < 8 + 17 / 24), `seed ${seed}: season_shift on days ${found.map((d) => d.toFixed(2)).join(', ')}`);
      const early = shiftedWave(12, seed, 3);
      assert.deepEqual(judged(early.ts, early.values, {}, 'season_shift'), [], `seed ${seed}: inside the Phase I`);
      assert.ok(judged(early.ts, early.values, OFF, 'season_shift').some((d) => d >= 3 + 10 / 24 && d < 3 + 17 / 24), `seed ${seed}: without it`);
    }
  });

  it("on real servers' metrics (ASD, the training month: no labels) the first days' shifts vanish, and later days are not noisier", () => {
    // 208 series of 5-minute metrics: their first 5 days, and the 5 days after.
    const files = asdFiles();
    let before = 0;
    let after = 0;
    let laterOff = 0;
    let laterOn = 0;
    for (const f of files) {
      const v = f.values[0]!;
      const off = judged(f.ts, v, OFF, 'season_shift', 10 * 288);
      const on = judged(f.ts, v, {}, 'season_shift', 10 * 288);
      before += off.filter((d) => d < 5).length;
      after += on.filter((d) => d < 5).length;
      laterOff += off.filter((d) => d >= 5).length;
      laterOn += on.filter((d) => d >= 5).length;
    }
    assert.ok(before >= 5_000, `without the Phase I: ${before} shift readings in the first 5 days`);
    assert.equal(after, 0);
    assert.ok(laterOn <= laterOff * 1.1, `days 5–10: ${laterOn} shift readings, without the Phase I ${laterOff}`);
  });
});
