/** The `ewma` detector with its memory and warm-up in time (`half_life`, `warmup_time`). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileDetect } from '../../src/compile.js';
import { EwmaDetector, type EwmaParams } from '../../src/detectors/ewma/detector.js';
import { detectStepSchema } from '../helpers/schemas.js';
import { noise, run, T0 } from './helpers.js';

const BASE: EwmaParams = { alpha: 0.02, half_life: 0, threshold: 4, warmup: 5, warmup_time: 0, direction: 'both', min_std: 0, clip: true, settle: 0, relearn_after: 0 };

/** `n` readings every `every` ms: 20 + noise, +5 from reading `stepAt` on. */
function stepped(n: number, every: number, stepAt: number, seed = 4) {
  const g = noise(seed);
  return { ts: Array.from({ length: n }, (_, i) => T0 + i * every), values: Array.from({ length: n }, (_, i) => 20 + g() + (i >= stepAt ? 5 : 0)) };
}

describe('ewma: memory in time', () => {
  it('at a steady interval, half_life h is alpha = 1 − 2^(−interval / h): the same judgements', () => {
    const s = stepped(3000, 10_000, 2000);
    const byTime = new EwmaDetector({ ...BASE, half_life: 3_600_000 });
    const byReading = new EwmaDetector({ ...BASE, alpha: 1 - 2 ** (-10_000 / 3_600_000) });
    let anomalous = 0;
    for (let i = 0; i < s.ts.length; i++) {
      const a = { ...byTime.update(s.ts[i]!, s.values[i]!) };
      const b = byReading.update(s.ts[i]!, s.values[i]!);
      assert.ok(Math.abs(a.deviation - b.deviation) < 1e-9 && a.anomalous === b.anomalous, `reading ${i}: ${a.deviation} vs ${b.deviation}`);
      if (a.anomalous) anomalous++;
    }
    assert.ok(anomalous > 0, 'the step is judged anomalous');
  });

  it('a step stays anomalous about as long whether readings come every 10 s or every 10 min; with alpha per reading, 60 times longer at the slow rate', (t) => {
    // 20 ± 1 alternating (the same spread at any rate), +8 from 24 h: minutes from the step to the first normal reading
    const minutesAnomalous = (every: number, spec: Partial<EwmaParams>) => {
      const n = Math.round((48 * 3_600_000) / every);
      const d = new EwmaDetector({ ...BASE, ...spec });
      for (let i = 0; i < n; i++) {
        const o = d.update(T0 + i * every, 20 + (i % 2 ? 1 : -1) + (i >= n / 2 ? 8 : 0));
        if (i >= n / 2 && !o.anomalous) return ((i - n / 2) * every) / 60_000;
      }
      return Infinity;
    };
    const fast = minutesAnomalous(10_000, { half_life: 3_600_000 });
    const slow = minutesAnomalous(600_000, { half_life: 3_600_000 });
    const perReadingFast = minutesAnomalous(10_000, { alpha: 0.002 });
    const perReadingSlow = minutesAnomalous(600_000, { alpha: 0.002 });
    t.diagnostic(`minutes anomalous, half_life 1h: ${fast} (every 10 s), ${slow} (every 10 min); alpha 0.002: ${perReadingFast}, ${perReadingSlow}`);
    // the same within two readings of the slow rate (the clip and the variance learn in steps of
    // one reading: 6 vs 20 min here), where a weight per reading differs 60-fold (6 vs 380 min)
    assert.ok(fast > 0 && Math.abs(slow - fast) <= 20, `half_life: every 10 min ${slow} min vs every 10 s ${fast}`);
    assert.ok(perReadingSlow > 20 * perReadingFast, `alpha per reading: ${perReadingFast} vs ${perReadingSlow} min`);
  });

  it('after a gap of more than 7 half-lives it starts afresh, warm-up included (a pump restarted the next day)', () => {
    const d = new EwmaDetector({ ...BASE, half_life: 600_000, min_std: 0.5 });
    let ts = T0;
    for (let i = 0; i < 100; i++, ts += 10_000) d.update(ts, 40);
    assert.equal(d.update(ts + 60 * 60_000, 70).anomalous, true, 'an hour later (6 half-lives): judged against what came before');
    const e = new EwmaDetector({ ...BASE, half_life: 600_000, min_std: 0.5 });
    ts = T0;
    for (let i = 0; i < 100; i++, ts += 10_000) e.update(ts, 40);
    ts += 24 * 3_600_000;
    const after = e.update(ts, 70);
    assert.equal(after.rule, 'warmup', 'a day later: learning again');
    assert.equal(after.baseline, 70);
  });

  it('warmup_time: nothing is judged until that long after the first reading, however many readings came', () => {
    const d = new EwmaDetector({ ...BASE, warmup: 3, warmup_time: 1_800_000 });
    const rules: string[] = [];
    const anomalous: boolean[] = [];
    for (let m = 0; m <= 40; m += 5) {
      const o = d.update(T0 + m * 60_000, m === 20 ? 26 : m === 40 ? 100 : 20 + (m % 10 ? 1 : -1));
      rules.push(o.rule);
      anomalous.push(o.anomalous);
    }
    assert.deepEqual(rules, ['warmup', 'warmup', 'warmup', 'warmup', 'warmup', 'warmup', 'ewma_z', 'ewma_z', 'ewma_z']);
    assert.deepEqual(anomalous, [false, false, false, false, false, false, false, false, true]);
  });

  it('`alpha` and `half_life` together are refused with a message saying which to keep', () => {
    assert.throws(() => detectStepSchema.parse({ detector: 'ewma', alpha: 0.1, half_life: '1h' }), /set `alpha` \(per reading\) or `half_life` \(in time\), not both/);
    assert.doesNotThrow(() => detectStepSchema.parse({ detector: 'ewma', half_life: '1h', warmup_time: '30m' }));
  });

  it('restored mid-warm-up and mid-run, it goes on as if never stopped; state saved before times were kept still restores', () => {
    const step = { detector: 'ewma', half_life: '20m', warmup: 3, warmup_time: '30m' };
    const s = stepped(2000, 10_000, 1500);
    const whole = run(step, s);
    assert.ok(whole.raised.length > 0);
    const compiled = compileDetect(detectStepSchema.parse(step));
    for (const cut of [2, 100, 1600]) {
      const first = run(step, { ts: s.ts.slice(0, cut), values: s.values.slice(0, cut) });
      const snap = structuredClone(compiled.snapshot(first.state));
      const rest = run(step, s, cut, compiled.restore('dev/metric', snap));
      assert.deepEqual([...first.outputs, ...rest.outputs], whole.outputs, `cut at ${cut}`);
    }
    // saved before times were kept (no t0, lastTs): restores, and judges the next reading
    const older = structuredClone(compiled.snapshot(run(step, { ts: s.ts.slice(0, 1600), values: s.values.slice(0, 1600) }).state)) as { detector: Record<string, unknown> };
    delete older.detector.t0;
    delete older.detector.lastTs;
    const st = compiled.restore('dev/metric', older);
    assert.equal(compiled.update(st, s.ts[1600]!, 60).anomalous, true);
  });
});

describe('ewma: settle after a pause (behind a `running` step)', () => {
  it('readings within `settle` of the resume are neither judged nor learnt; after it the baseline is the one from before the stop', () => {
    const d = new EwmaDetector({ ...BASE, half_life: 3_600_000, settle: 3_600_000, min_std: 1 });
    for (let i = 0; i < 360; i++) d.update(T0 + i * 10_000, 60 + (i % 2));
    const before = d.update(T0 + 360 * 10_000, 60).baseline;
    const resumed = T0 + 8 * 3_600_000; // the machine stood 7 h and started again
    d.resume(resumed);
    for (let t = resumed; t < resumed + 3_600_000; t += 10_000) {
      const o = d.update(t, 25 + (t - resumed) / 100_000); // warming from cold
      assert.equal(o.rule, 'settling');
      assert.equal(o.anomalous, false);
    }
    const o = d.update(resumed + 3_600_000, 75);
    assert.equal(o.rule, 'ewma_z');
    assert.ok(Math.abs(o.baseline - before) < 0.01, `baseline ${o.baseline}, before the stop ${before}`);
    assert.equal(o.anomalous, true, '15 over the baseline with σ ≥ 1');
    // without settle the warm-up is learnt: the baseline has moved far down
    const plain = new EwmaDetector({ ...BASE, half_life: 3_600_000, min_std: 1 });
    for (let i = 0; i < 360; i++) plain.update(T0 + i * 10_000, 60 + (i % 2));
    plain.resume(resumed);
    for (let t = resumed; t < resumed + 3_600_000; t += 10_000) plain.update(t, 25 + (t - resumed) / 100_000);
    const moved = plain.update(resumed + 3_600_000, 75);
    assert.ok(moved.baseline < before - 2, `without settle: baseline ${moved.baseline}`);
  });
});

describe('ewma: relearn_after (behind a `running` step)', () => {
  it('a stand at least relearn_after long starts the baseline afresh, warm-up included: a pump that starts at a higher load than it stopped at is not an anomaly; after a shorter stand the old baseline judges', () => {
    const make = () => new EwmaDetector({ ...BASE, half_life: 600_000, threshold: 6, warmup: 3, warmup_time: 600_000, direction: 'up', min_std: 0.1, relearn_after: 600_000 });
    const judged = (standMs: number) => {
      const d = make();
      let t = T0;
      for (; t < T0 + 3_600_000; t += 10_000) d.update(t, 10 + 0.05 * Math.sin(t / 10_000)); // 10 A at the night's load
      const start = t + standMs;
      d.resume(start);
      const out = [];
      for (t = start; t < start + 1_800_000; t += 10_000) out.push({ ...d.update(t, 14 + 0.05 * Math.sin(t / 10_000)) }); // 14 A at the day's
      return out;
    };
    const afterLong = judged(20 * 60_000);
    assert.ok(afterLong.every((o) => !o.anomalous), 'after 20 min standing: learnt afresh');
    assert.equal(afterLong[0]!.rule, 'warmup');
    const afterShort = judged(5 * 60_000);
    assert.equal(afterShort[0]!.anomalous, true, 'after 5 min standing the baseline from before judges the 40 % more');
    // without it (the default, 0) the baseline carries over any stand
    const keep = new EwmaDetector({ ...BASE, half_life: 600_000, threshold: 6, warmup: 3, direction: 'up', min_std: 0.1 });
    for (let t = T0; t < T0 + 3_600_000; t += 10_000) keep.update(t, 10);
    keep.resume(T0 + 5 * 3_600_000);
    assert.equal(keep.update(T0 + 5 * 3_600_000, 14).anomalous, true);
  });
});

describe('ewma settle and the alert', () => {
  it('an alert active at the stop is neither cleared nor counted by the settle\'s readings: it clears once the stream is judged normal again', () => {
    const st = compileDetect(detectStepSchema.parse({ detector: 'ewma', half_life: '1h', settle: '1h', threshold: 4, min_std: 1, warmup: 3, direction: 'up', alert: { clear_after: '2m' } }));
    const key = st.createKeyState('pump-1/bearing_temp_c');
    const states: string[] = [];
    const feed = (ts: number, v: number) => {
      const o = st.update(key, ts, v);
      if (o.alert) states.push(`${o.alert.state}@${(ts - T0) / 60_000}m`);
      return o;
    };
    let t = T0;
    for (; t < T0 + 3_600_000; t += 10_000) feed(t, 60 + ((t / 10_000) % 2));
    for (; t < T0 + 3_900_000; t += 10_000) feed(t, 75); // overheating: raised
    assert.deepEqual(states, ['raised@60m']);
    const resumed = T0 + 10 * 3_600_000; // stopped 9 h, started again (the running step's resume)
    st.resume!(key, resumed);
    for (t = resumed; t < resumed + 3_600_000; t += 10_000) assert.equal(feed(t, 25 + (t - resumed) / 100_000).alertActive, true);
    assert.deepEqual(states, ['raised@60m'], 'not cleared by the warm-up, which nobody judged');
    for (; t < resumed + 3_900_000; t += 10_000) feed(t, 60);
    assert.deepEqual(states, ['raised@60m', 'cleared@662m']);
  });
});
