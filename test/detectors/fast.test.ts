/**
 * The default detector on fast, long series: 1 Hz for 3 simulated days (259,200 readings). Its
 * memories scale with the observed interval (time_ref), so stationary noise stays quiet for days
 * instead of re-alarming as old extremes are forgotten, and a step is still caught at once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileDetect } from '../../src/compile.js';
import { detectStepSchema } from '../helpers/schemas.js';
import { noise, T0 } from './helpers.js';

const N = 3 * 86_400; // 3 days at 1 s
const AT = Math.floor(2.5 * 86_400); // the step, 2.5 days in

function raised(f: (i: number) => number, step: Record<string, unknown> = { detector: 'default' }): number[] {
  const st = compileDetect(detectStepSchema.parse(step));
  const key = st.createKeyState('dev/metric');
  const out: number[] = [];
  for (let i = 0; i < N; i++) if (st.update(key, T0 + i * 1000, f(i)).alert?.state === 'raised') out.push(i);
  return out;
}

describe('default detector at 1 Hz over 3 days', () => {
  for (const seed of [1, 2, 3]) {
    it(`stationary noise (seed ${seed}) raises at most 1 alert; a +8σ step 2.5 days in is caught on its first reading`, () => {
      const g = noise(seed);
      const xs = Float64Array.from({ length: N }, () => 20 + g());
      const quiet = raised((i) => xs[i]!);
      assert.ok(quiet.length <= 1, `clean noise raised ${quiet.length} alerts at readings ${quiet.slice(0, 10).join(', ')}`);
      const withStep = raised((i) => xs[i]! + (i >= AT ? 8 : 0));
      const first = withStep.find((i) => i >= AT);
      assert.equal(first, AT, `step not caught on its first reading (first alert after it: ${first})`);
    });
  }

  it('a quantised series (integer counts, like satellites in view) raises no alert; a jump of 5 levels is caught at once', () => {
    const g = noise(7);
    const xs = Float64Array.from({ length: N }, () => Math.round(8 + 0.8 * g()));
    const quiet = raised((i) => xs[i]!);
    assert.ok(quiet.length <= 1, `integer series raised ${quiet.length} alerts at readings ${quiet.slice(0, 10).join(', ')}`);
    const lo = xs.subarray(0, AT).reduce((m, x) => (x < m ? x : m), Infinity);
    const withDrop = raised((i) => (i >= AT ? lo - 5 : xs[i]!));
    assert.equal(withDrop.find((i) => i >= AT), AT);
  });

  it('the same series at 5-minute steps keeps the per-reading memories (time_ref): NAB-rate behaviour unchanged', () => {
    // At or above time_ref the detector is exactly the per-reading one: time_ref 1 ms gives identical outputs.
    const g = noise(5);
    const xs = Float64Array.from({ length: 5000 }, (_, i) => 20 + g() + (i >= 4000 ? 6 : 0));
    const a = compileDetect(detectStepSchema.parse({ detector: 'default' }));
    const b = compileDetect(detectStepSchema.parse({ detector: 'default', time_ref: 1 }));
    const ka = a.createKeyState('k');
    const kb = b.createKeyState('k');
    for (let i = 0; i < xs.length; i++) {
      const ra = a.update(ka, T0 + i * 300_000, xs[i]!);
      const sa = [ra.score, ra.alertActive];
      const rb = b.update(kb, T0 + i * 300_000, xs[i]!);
      assert.deepEqual(sa, [rb.score, rb.alertActive], `reading ${i}`);
    }
  });
});
