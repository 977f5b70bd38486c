import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileDetect } from '../../src/compile.js';
import { LevelShiftDetector } from '../../src/detectors/level-shift/detector.js';
import { MAX_JUDGED } from '../../src/engine/pipeline.js';
import { DETECTOR_KINDS, detectStepSchema } from '../helpers/schemas.js';
import { runs, tried1 } from './runs.js';

/**
 * Every detector against series nobody wrote by hand: values from 1e-300 to MAX_JUDGED in size
 * (1e38, the largest the engine hands a detector: test/engine/not-judged.test.ts; one series may
 * mix them), runs of one value, steps, lone extremes, subnormals and −0; readings at the same
 * millisecond, a millisecond apart, a day apart, and now and then one older than the one before. A detector must never throw, always score in [0, 1], and a checkpoint (structured clone,
 * as the runtime writes it) taken anywhere must restore to the same outputs as the run without it.
 */

const T0 = Date.UTC(2026, 0, 1);
const params: Record<string, Record<string, unknown>> = {
  threshold: { above: 13, below: 7, hysteresis: 0.5, min_duration: '2s' },
  level_shift: { baseline: '10m', per: '1s', h: 10 },
  ceiling: { block: '2m', half_life: '1h', warmup: 3 },
};

const scale = fc.constantFrom(1e-300, 1e-12, 1, 1e6, 1e20, 1e37);
/** One stretch of a series: what it does for `n` readings, at a magnitude. */
const stretch = fc.record({
  n: fc.integer({ min: 1, max: 150 }),
  kind: fc.constantFrom('noise', 'flat', 'ramp', 'extreme', 'tiny', 'integers'),
  level: fc.double({ min: -10, max: 10, noNaN: true }),
  scale,
});
const gap = fc.oneof(
  { weight: 20, arbitrary: fc.constantFrom(1000, 60_000, 300_000) },
  { weight: 3, arbitrary: fc.constantFrom(0, 1, 3_600_000, 86_400_000) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 1e9 }) },
  { weight: 1, arbitrary: fc.integer({ min: -120_000, max: -1 }) },
);

interface Series {
  ts: number[];
  values: number[];
}

const seriesArb = fc.tuple(fc.array(stretch, { minLength: 1, maxLength: 8 }), fc.array(gap, { minLength: 64, maxLength: 64 }), fc.integer({ min: 1, max: 2 ** 31 - 1 })).map(([parts, gaps, seed]): Series => {
  let a = seed;
  const u = () => {
    a = (a * 48271) % 2147483647; // Park–Miller: uniform in (0, 1)
    return a / 2147483647;
  };
  const ts: number[] = [];
  const values: number[] = [];
  let t = T0;
  for (const p of parts) {
    for (let i = 0; i < p.n; i++) {
      const base = p.level * p.scale;
      const v =
        p.kind === 'noise' ? base + (u() - 0.5) * p.scale
        : p.kind === 'flat' ? base
        : p.kind === 'ramp' ? base + (i / p.n) * p.scale
        : p.kind === 'extreme' ? (u() < 0.5 ? 1 : -1) * (u() < 0.5 ? MAX_JUDGED : MAX_JUDGED * u())
        : p.kind === 'tiny' ? (u() < 0.3 ? -0 : (u() - 0.5) * 5e-324 * 8)
        : Math.round(base / p.scale + 3 * (u() - 0.5));
      ts.push(t);
      values.push(Math.max(-MAX_JUDGED, Math.min(MAX_JUDGED, v)));
      t += gaps[ts.length % gaps.length]!;
    }
  }
  return { ts, values };
});

function outputs(kind: string, s: Series, from: number, state?: unknown): { out: string[]; state: unknown } {
  const step = compileDetect(detectStepSchema.parse({ detector: kind, alert: { cooldown: '5s' }, ...(params[kind] ?? {}) }));
  const st = state ?? step.createKeyState('dev/metric');
  const out: string[] = [];
  for (let i = from; i < s.values.length; i++) {
    const o = step.update(st, s.ts[i]!, s.values[i]!);
    assert.ok(typeof o.score === 'number' && o.score >= 0 && o.score <= 1, `${kind}: reading ${i} (${s.values[i]} at ${s.ts[i]! - T0} ms) scored ${o.score}`);
    out.push(JSON.stringify([o.score, o.anomalous, o.alertActive, o.alert?.state ?? null, o.alert?.reason ?? null]));
  }
  return { out, state: st };
}

function check(kind: string, s: Series, at: number): void {
  const whole = outputs(kind, s, 0);
  const cut = Math.floor(at * s.values.length);
  const first = outputs(kind, { ts: s.ts.slice(0, cut), values: s.values.slice(0, cut) }, 0);
  const step = compileDetect(detectStepSchema.parse({ detector: kind, alert: { cooldown: '5s' }, ...(params[kind] ?? {}) }));
  const restored = step.restore('dev/metric', structuredClone(step.snapshot(first.state)));
  const rest = outputs(kind, s, cut, restored);
  assert.deepEqual([...first.out, ...rest.out], whole.out, `${kind}: restored at reading ${cut} of ${s.values.length}`);
}

for (const kind of DETECTOR_KINDS) {
  test(`detectors (fuzz): ${kind} never throws, scores in [0, 1], and restores from a checkpoint anywhere to the same outputs`, () => {
    fc.assert(
      fc.property(seriesArb, fc.double({ min: 0, max: 1, noNaN: true }), (s, at) => {
        tried1();
        check(kind, s, at);
      }),
      { numRuns: Math.min(runs(40), 20_000) },
    );
  });
}

// Cases the property found, kept as plain tests (each fails without its fix).
test('detectors (fuzz, found): level_shift reports a not_positive reading with the baseline as known now, not the reading before it', () => {
  const d = new LevelShiftDetector({ baseline: 60_000, min_baseline: 10, log: true, k: 3, ratio: 2, h: 10, per: 1000, max_z: 10, min_std: 0.05, direction: 'up' });
  for (let i = 0; i < 100; i++) d.update(T0 + i * 1000, 10 + (i % 3));
  const fresh = new LevelShiftDetector({ baseline: 60_000, min_baseline: 10, log: true, k: 3, ratio: 2, h: 10, per: 1000, max_z: 10, min_std: 0.05, direction: 'up' });
  fresh.restore(structuredClone(d.snapshot()));
  const a = d.update(T0 + 100_000, 0);
  const b = fresh.update(T0 + 100_000, 0);
  assert.equal(a.rule, 'not_positive');
  assert.equal(a.baseline, b.baseline, 'a restored detector reports the same baseline');
  assert.ok(Math.abs(a.baseline - Math.exp((Math.log(10) + Math.log(11) + Math.log(12)) / 3)) < 0.1);
});

test('detectors (fuzz, found): iso10816 does not score a negative velocity RMS below 0', () => {
  const step = compileDetect(detectStepSchema.parse({ detector: 'iso10816' }));
  const st = step.createKeyState('pump/v');
  for (const v of [-4.5, -2.8, -1e-300, -0]) {
    const o = step.update(st, T0 + Math.abs(v) * 1000 + 1, v);
    assert.ok(o.score >= 0 && o.score <= 1 && !o.anomalous, `${v} scored ${o.score}`);
  }
});
