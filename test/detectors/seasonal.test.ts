/**
 * The default detector's season rule: a daily cycle (5-minute readings, 14 days) with changes
 * that stay inside the normal daily range, which the range and spike rules cannot see.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deserialize, serialize } from 'node:v8';
import { SharedCapture } from '../../src/core/shared-capture.js';
import { compileDetect } from '../../src/compile.js';
import { detectStepSchema } from '../helpers/schemas.js';
import { noise, run, T0 } from './helpers.js';

const STEP = 300_000; // 5 min
const DAY = 288; // readings a day
const N = 14 * DAY;
const AT = 10 * DAY + 96; // 08:00 on day 10, on the rising half of the cycle
const cycle = (i: number) => 50 + 20 * Math.sin((2 * Math.PI * (i % DAY)) / DAY);

function daily(seed: number, change: (i: number, v: number) => number = (_i, v) => v) {
  const g = noise(seed);
  const ts = Array.from({ length: N }, (_, i) => T0 + i * STEP);
  const values = Array.from({ length: N }, (_, i) => change(i, cycle(i) + g()));
  return { ts, values };
}

const STEP_CFG = { detector: 'default' };
const first = (raised: number[], from: number) => raised.find((i) => i >= from);

/** Seven days with a dip on day 10, run whole and up to day 3, and a fresh step to take the rest from a snapshot. */
function splitRun() {
  const step = { detector: 'default' };
  const s = daily(7, (i, v) => (i >= AT && i < AT + 72 ? v - 8 : v));
  const cut = 3 * DAY;
  return { step, s, cut, whole: run(step, s), head: run(step, { ts: s.ts.slice(0, cut), values: s.values.slice(0, cut) }), compiled: compileDetect(detectStepSchema.parse(step)) };
}

describe('default detector, season rule (daily cycle, 5-minute readings)', () => {
  it('raises nothing on a clean noisy daily cycle once two days are learnt (3 seeds × 14 days)', () => {
    for (const seed of [1, 2, 3]) assert.deepEqual(run(STEP_CFG, daily(seed)).raised.filter((i) => i >= 2 * DAY), [], `seed ${seed}`);
  });

  it('catches a drop of 8σ that stays inside the normal daily range within 3 readings', () => {
    for (const seed of [1, 2, 3]) {
      const r = run(STEP_CFG, daily(seed, (i, v) => (i >= AT && i < AT + 72 ? v - 8 : v)));
      assert.deepEqual(r.raised.filter((i) => i >= 2 * DAY && i < AT), [], `seed ${seed}: alert before the change`);
      const d = first(r.raised, AT)! - AT;
      assert.ok(d <= 3, `seed ${seed}: delay ${d}`);
    }
  });

  it('catches a shift of 3σ inside the normal range within 20 readings (CUSUM on the seasonal residual)', () => {
    for (const seed of [1, 2, 3]) {
      const r = run(STEP_CFG, daily(seed, (i, v) => (i >= AT && i < AT + 144 ? v + 3 : v)));
      assert.deepEqual(r.raised.filter((i) => i >= 2 * DAY && i < AT), [], `seed ${seed}: alert before the change`);
      const d = first(r.raised, AT)! - AT;
      assert.ok(d <= 20, `seed ${seed}: delay ${d}`);
    }
  });

  it('catches a missing daily peak (the value stays at the daily mean) within 24 readings', () => {
    const peak = 10 * DAY + 40; // the peak is centred on reading 72 of the day
    for (const seed of [1, 2, 3]) {
      const r = run(STEP_CFG, daily(seed, (i, v) => (i >= peak && i < peak + 64 ? v - (cycle(i) - 50) : v)));
      assert.deepEqual(r.raised.filter((i) => i >= 2 * DAY && i < peak), [], `seed ${seed}: alert before the change`);
      const d = first(r.raised, peak)! - peak;
      assert.ok(d <= 24, `seed ${seed}: delay ${d}`);
    }
  });

  it('is not used on a series without a cycle, nor before two periods are seen', () => {
    const g = noise(5);
    const flat = { ts: Array.from({ length: N }, (_, i) => T0 + i * STEP), values: Array.from({ length: N }, () => 50 + g()) };
    const outs = run(STEP_CFG, flat).outputs.map((o) => JSON.parse(o) as { alert: { reason: string } | null });
    assert.ok(outs.every((o) => !o.alert || !o.alert.reason.startsWith('season')));
    const r = run(STEP_CFG, daily(1, (i, v) => (i >= DAY + 96 && i < DAY + 168 ? v - 8 : v)));
    assert.equal(r.raised.filter((i) => i >= DAY + 96 && i < DAY + 168).length, 0, 'no seasonal model on day 2');
  });

  it("a checkpoint's capture shares the live rings, copied only before the detector's next change, and restores exactly like a snapshot", () => {
    const { step, s, whole, cut, head, compiled } = splitRun();
    type Captured = { detector: { seasonal: [number[], Float64Array, Float64Array, Float64Array, Float64Array]; sequence: { counts: Uint8Array } } };
    // A closed capture: the detector changes its rings in place (no copy was made at the capture).
    const closed = new SharedCapture();
    const early = compiled.snapshot(head.state, closed) as Captured;
    closed.close();
    const shared = new SharedCapture();
    const captured = compiled.snapshot(head.state, shared) as Captured;
    assert.equal(captured.detector.seasonal[3], early.detector.seasonal[3], 'both captures hold the live ring');
    const encoded = serialize(captured);
    const copy = compiled.snapshot(head.state) as { detector: { seasonal: Float64Array } };
    const before = Array.from(captured.detector.seasonal[3]);
    compiled.update(head.state, s.ts[cut]!, s.values[cut]! + 5);
    assert.deepEqual(Array.from(captured.detector.seasonal[3]), before, 'the open capture keeps its rings as they were');
    assert.ok(serialize(captured).equals(encoded));
    shared.close();
    const later = compiled.snapshot(head.state, closed) as Captured;
    assert.notEqual(later.detector.seasonal[3], captured.detector.seasonal[3], 'the detector went on with copies');
    assert.ok(copy.detector.seasonal instanceof Float64Array, 'a plain snapshot stays one packed copy');
    const rest = run(step, s, cut, compiled.restore('dev/metric', deserialize(encoded)));
    assert.deepEqual([...head.outputs, ...rest.outputs], whole.outputs);
  });

  it('snapshot / restore mid-stream (seasonal rings included) gives identical outputs', () => {
    const step = { detector: 'default' };
    const s = daily(7, (i, v) => (i >= AT && i < AT + 72 ? v - 8 : v));
    const whole = run(step, s);
    assert.ok(whole.raised.length > 0);
    for (const cut of [5, DAY + 17, 3 * DAY, AT + 10]) {
      const head = run(step, { ts: s.ts.slice(0, cut), values: s.values.slice(0, cut) });
      const compiled = compileDetect(detectStepSchema.parse(step));
      const snap = structuredClone(compiled.snapshot(head.state));
      const rest = run(step, s, cut, compiled.restore('dev/metric', snap));
      assert.deepEqual([...head.outputs, ...rest.outputs], whole.outputs, `cut at ${cut}`);
    }
  });

  it('restores a snapshot in the earlier forms (five rings of absolute means, as number arrays with null for NaN; the count table in base64): the same judgements, scores within 10⁻⁶ and baselines to 4 decimals', () => {
    const { step, s, whole, cut, head, compiled } = splitRun();
    const snap = compiled.snapshot(head.state) as { detector: { seasonal: Float64Array | ArrayLike<number | null>[]; sequence: { counts: Uint8Array } } };
    const old = structuredClone(snap);
    // The earlier form: [[t0, last_ts, dt], scales, counts, means, errors] (2 periods, 2 × 168 slots),
    // the means absolute; today's packed form ends with the offset they are relative to, and the
    // flat level of `season_learn: per_time` (3 numbers).
    const packed = snap.detector.seasonal as Float64Array;
    const cuts = [0, 3, 5, 7, 7 + 336, 7 + 672];
    assert.equal(packed.length, cuts.at(-1)! + 4);
    const offset = packed[cuts.at(-1)!]!;
    old.detector.seasonal = cuts.slice(1).map((end, i) => Array.from(packed.subarray(cuts[i], end), (x) => (Number.isNaN(x) ? null : i === 3 ? x + offset : x)));
    (old.detector.sequence as { counts: unknown }).counts = Buffer.from(snap.detector.sequence.counts).toString('base64');
    const parsed = JSON.parse(JSON.stringify(old)) as { detector: Record<string, unknown> };
    // The shape rule came later than those forms: its state goes as it is.
    parsed.detector.shape = structuredClone((snap.detector as Record<string, unknown>).shape);
    const rest = run(step, s, cut, compiled.restore('dev/metric', parsed));
    // Absolute means are made relative again to the first one (not to the series' first value), so
    // their float32 rounding may differ in the last bit.
    const judged = (o: string) => {
      const { score, ...rest } = JSON.parse(o) as { score: number; alert: { baseline?: number } | null };
      if (rest.alert?.baseline !== undefined) rest.alert.baseline = Number(rest.alert.baseline.toFixed(4));
      return { score, rest: JSON.stringify(rest) };
    };
    const got = [...head.outputs, ...rest.outputs].map(judged);
    const want = whole.outputs.map(judged);
    assert.deepEqual(got.map((g) => g.rest), want.map((w) => w.rest));
    for (const [i, g] of got.entries()) assert.ok(Math.abs(g.score - want[i]!.score) <= 1e-6, `reading ${i}: score ${g.score} vs ${want[i]!.score}`);
  });

  it('float32 rings, means relative to the first value; "the same value" within 10⁻¹² of the level, nothing absolute: the same series shifted to 10⁶ or 10⁹, scaled ×100 and shifted to 10⁹, or scaled to 10⁻⁹ or 10⁻¹² (nanoamps, picofarads), has the same readings anomalous (the dip of day 10 among them)', () => {
    const dip = (i: number, v: number) => (i >= AT && i < AT + 72 ? v - 8 : v);
    const base = run(STEP_CFG, daily(7, dip));
    assert.ok(first(base.raised, AT) !== undefined && first(base.raised, AT)! < AT + 72, 'the dip is found');
    for (const [scale, shift] of [[1, 1e6], [1, 1e9], [100, 1e9], [1e-9, 0], [1e-12, 0]] as const) {
      const s = daily(7, dip);
      const moved = run(STEP_CFG, { ts: s.ts, values: s.values.map((v) => scale * v + shift) });
      assert.deepEqual(moved.anomalous, base.anomalous, `×${scale} + ${shift}`);
    }
  });

  it('refuses a snapshot whose seasonal ring does not fit the configuration', () => {
    const a = compileDetect(detectStepSchema.parse({ detector: 'default' }));
    const b = compileDetect(detectStepSchema.parse({ detector: 'default', season_slots: 96 }));
    const st = a.createKeyState('d/m');
    a.update(st, T0, 1);
    assert.throws(() => b.restore('d/m', a.snapshot(st)), /"seasonal" must hold .*periods or slots changed/);
  });
});

describe('default detector, season rule on a fast series (1-minute readings)', () => {
  const MIN = 60_000;
  const MDAY = 1440;
  /** A daily cycle plus AR(1) noise (φ 0.98, σ 1): the residual wanders for tens of minutes, as minute metrics do. */
  function wandering(seed: number) {
    const g = noise(seed);
    let ar = 0;
    const ts: number[] = [];
    const values: number[] = [];
    for (let i = 0; i < 5 * MDAY; i++) {
      ar = 0.98 * ar + Math.sqrt(1 - 0.98 ** 2) * g();
      ts.push(T0 + i * MIN);
      values.push(50 + 20 * Math.sin((2 * Math.PI * (i % MDAY)) / MDAY) + ar);
    }
    return { ts, values };
  }
  // Five days of readings: the shift test counts from the first usable model here (no Phase I), as the comparison is of how it counts.
  const shiftAlerts = (season_cusum: string) =>
    [1, 2, 3, 4, 5, 6].flatMap((seed) => run({ detector: 'default', season_cusum, season_shift_after: 0 }, wandering(seed)).outputs.map((o) => JSON.parse(o)).filter((o) => o.alert?.state === 'raised' && /^season_shift/.test(o.alert.reason)));

  it('per_time (default): the seasonal CUSUM adds a step per 5 minutes of readings, so wandering minute noise raises no shift alert (6 seeds × 5 days)', () => {
    assert.deepEqual(shiftAlerts('per_time'), []);
  });

  it('per_reading: the same series raises shift alerts (each correlated minute counted as new evidence)', () => {
    assert.ok(shiftAlerts('per_reading').length >= 3, 'the wandering series should trip a per-reading CUSUM');
  });
});
