/**
 * The default detector on a clock re-based backwards by more than a day — a replayed log whose
 * device rebooted to an old date and which the engine re-based (docs/pipelines.md, clock jumps;
 * detectors keep their state): the seasonal model keeps the series' age (it was unusable until the
 * clock came back to the first reading's time: a year, or 56 years after a reboot to 1970), the
 * daily steps memory keeps fading by day, and the reading interval is measured on the new clock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DefaultDetector, DEFAULT_DETECTOR_PARAMS } from '../../src/detectors/default/detector.js';
import { noise, shiftedWave, T0 } from './helpers.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const STEP = 300_000;
const YEAR = 365 * DAY;
const TO_1970 = T0 - Date.UTC(1970, 0, 1);


describe('default detector, a clock re-based backwards', () => {
  it('the season and its shift test go on: a 6-hour shift 3 days after a step back of a year, two days or to 1970 is found (3 seeds)', () => {
    for (let seed = 1; seed <= 3; seed++) {
      for (const back of [YEAR, 2 * DAY, TO_1970]) {
        const s = shiftedWave(12, seed, 10);
        const ts = s.ts.map((t) => (t - T0 >= 8 * DAY ? t - back : t));
        const d = new DefaultDetector(DEFAULT_DETECTOR_PARAMS);
        // Days of the series (by reading, not by its clock).
        const found = s.values.flatMap((v, i) => {
          const o = d.update(ts[i]!, v);
          return o.anomalous && o.rule === 'season_shift' ? [(i * STEP) / DAY] : [];
        });
        const inShift = (x: number) => x >= 10 + 10 / 24 && x < 10 + 17 / 24;
        assert.ok(found.some(inShift), `seed ${seed}, back ${back / DAY} days: season_shift on days ${found.map((x) => x.toFixed(2)).join(', ')}`);
        assert.ok(found.every(inShift), `seed ${seed}, back ${back / DAY} days: a shift outside the shifted hours`);
      }
    }
  });

  it('the daily steps memory fades on the new clock: a machine idle for 10 days after the step back starts as a spike again', () => {
    const g = noise(7);
    const d = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS, rules: ['spike'] });
    let startSpike = false;
    for (let t = 0; t < 21 * DAY; t += STEP) {
      const day = Math.floor(t / DAY);
      const h = (t % DAY) / HOUR;
      // Runs 07:00–19:00 on days 0–9; idle on days 10–19 (on a clock a year earlier); starts again on day 20.
      const on = (day < 10 || day === 20) && h >= 7 && h < 19;
      const o = d.update(T0 + t - (day >= 10 ? YEAR : 0), (on ? 50 : 10) + 0.5 * g());
      if (day === 20 && h >= 7 && h < 7.25 && o.anomalous && o.rule === 'spike') startSpike = true;
    }
    // 0.85^10 of the remembered start (40) is 7.9: a start of 40 is more than twice that.
    assert.ok(startSpike, "day 20's start should be a spike: the memory of the starts has faded for ten days");
  });

  it('the reading interval follows the new clock (it stayed at the old one until the clock came back)', () => {
    const d = new DefaultDetector(DEFAULT_DETECTOR_PARAMS);
    let t = T0;
    for (let i = 0; i < 2_000; i++, t += 60_000) d.update(t, 10 + Math.sin(i / 30));
    t -= YEAR;
    for (let i = 0; i < 300; i++, t += 10_000) d.update(t, 10 + Math.sin(i / 30));
    const dt = (d.snapshot().time as number[])[1]!;
    assert.ok(Math.abs(dt - 10_000) < 1_000, `interval ${dt} ms, readings 10 s apart`);
  });
});
