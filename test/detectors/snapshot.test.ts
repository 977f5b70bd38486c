/** Serialise and restore mid-stream gives the same outputs as an uninterrupted run, for every detector. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileDetect } from '../../src/compile.js';
import { DETECTOR_KINDS } from '../helpers/schemas.js';
import { detectStepSchema } from '../helpers/schemas.js';
import { noise, run, series, T0 } from './helpers.js';

const params: Record<string, Record<string, unknown>> = {
  threshold: { above: 13, below: 7, hysteresis: 0.5, min_duration: '2s' },
  dropout: {},
  level_shift: { baseline: '10m', per: '1s', h: 10 },
  ceiling: { block: '2m', half_life: '1h', warmup: 3 },
};

function eventful(seed: number) {
  const g = noise(seed);
  const s = series(4000, (i) => 10 + g() + (i >= 1500 ? 5 : 0) + (i === 2500 ? 15 : 0) + (i >= 3000 && i < 3200 ? 0.02 * (i - 3000) : 0));
  // A stuck stretch and a gap, so flatline and dropout have something to do.
  for (let i = 3400; i < 3440; i++) s.values[i] = s.values[3400]!;
  for (let i = 3600; i < s.ts.length; i++) s.ts[i] = s.ts[i]! + 10_000;
  return s;
}

describe('snapshot / restore mid-stream', () => {
  for (const kind of DETECTOR_KINDS) {
    it(`${kind}: a round trip through a checkpoint's encoding (structured clone) at several points gives identical outputs`, () => {
      const step = { detector: kind, alert: { cooldown: '5s', repeat_every: '30s' }, ...(params[kind] ?? {}) };
      const s = eventful(11);
      const whole = run(step, s);
      assert.ok(whole.outputs.some((o) => o.includes('"raised"')), 'the series should raise at least one alert');
      for (const cut of [1, 50, 1499, 1501, 2500, 3420, 3600]) {
        const first = run({ ...step }, { ts: s.ts.slice(0, cut), values: s.values.slice(0, cut) });
        const compiled = compileDetect(detectStepSchema.parse(step));
        const snap = structuredClone(compiled.snapshot(first.state));
        const restored = compiled.restore('dev/metric', snap);
        const rest = run(step, s, cut, restored);
        assert.deepEqual([...first.outputs, ...rest.outputs], whole.outputs, `cut at ${cut}`);
      }
    });
  }

  it('refuses a snapshot of another detector kind with a clear error', () => {
    const ewma = compileDetect(detectStepSchema.parse({ detector: 'ewma' }));
    const cusum = compileDetect(detectStepSchema.parse({ detector: 'cusum' }));
    const st = ewma.createKeyState('a/b');
    ewma.update(st, T0, 1);
    assert.throws(() => cusum.restore('a/b', ewma.snapshot(st)), /cannot restore a "ewma" detector snapshot into a "cusum" detector/);
    assert.throws(() => ewma.restore('a/b', { detector: { kind: 'ewma', n: 'x' }, alert: {} }), /field "n" must be a number/);
    assert.throws(() => ewma.restore('a/b', 42), /saved state must be/);
  });
});
