/**
 * The default detector's spike record and `spike_learn_below` (issue 12): on a slow series (metrics
 * at minutes or hours) a step the spike rule judged anomalous does not raise the record, so a later,
 * smaller anomaly is still found; on a fast series (raw sensor readings) every step is learnt, so a
 * step that recurs by physics alarms once or twice, not at every repeat.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DefaultDetector, DEFAULT_DETECTOR_PARAMS, type DefaultParams } from '../../src/detectors/default/detector.js';
import { noise, T0 } from './helpers.js';

const MIN5 = 300_000;
const LEARN_ALWAYS = { spike_learn_below: 1000 * 86_400_000 };

/** Readings judged anomalous at `at` (by index), with their rules. */
function judge(values: number[], stepMs: number, at: number[], over: Partial<DefaultParams> = {}): Array<string | undefined> {
  const d = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS, ...over });
  const out: Array<string | undefined> = [];
  values.forEach((v, i) => {
    const o = d.update(T0 + i * stepMs, v);
    if (at.includes(i)) out.push(o.anomalous ? o.rule : undefined);
  });
  return out;
}

describe('default detector, spike record', () => {
  it('5-minute series: after a spike of 30 inside the range of a wave, one of 15 a week later is still found (with the record learning every step it is not)', () => {
    // A 10-hour wave of ±20 (no daily season) with noise of 0.3: both spikes are inside the range, the spike rule judges them.
    const BIG = 3 * 288 + 90;
    const SMALL = 10 * 288 + 90;
    for (let seed = 1; seed <= 3; seed++) {
      const g = noise(seed);
      const v = Array.from({ length: 12 * 288 }, (_, i) => 50 + 20 * Math.sin((2 * Math.PI * i) / 120) + 0.3 * g() + (i === BIG ? 30 : i === SMALL ? 15 : 0));
      assert.deepEqual(judge(v, MIN5, [BIG, SMALL]), ['spike', 'spike'], `seed ${seed}: both spikes`);
      assert.deepEqual(judge(v, MIN5, [BIG, SMALL], LEARN_ALWAYS), ['spike', undefined], `seed ${seed}: with every step learnt the first spike hides the second`);
    }
  });

  it('1 s series: a step of 30 noise widths every 10 minutes (a physical event) alarms at most 5 times in 40 repeats; unlearnt it would alarm at every one', () => {
    const every = 600;
    const at = Array.from({ length: 40 }, (_, k) => 2000 + k * every);
    const g = noise(7);
    // An excursion to 70 during the warm-up makes the range wide: the steps are the spike rule's to judge.
    const v = Array.from({ length: 2000 + 40 * every }, (_, i) => 10 + g() + (at.includes(i) ? 30 : i >= 50 && i < 60 ? 60 : 0));
    const learnt = judge(v, 1000, at).filter((r) => r !== undefined).length;
    assert.ok(learnt <= 5, `learnt: ${learnt} of 40 repeats anomalous`);
    const unlearnt = judge(v, 1000, at, { spike_learn_below: 0 }).filter((r) => r !== undefined).length;
    assert.ok(unlearnt >= 35, `never learnt: ${unlearnt} of 40 repeats anomalous`);
  });
});
