/**
 * One absurd reading must not blind a detector to the next real fault. A sensor's garbage (a
 * loose wire's −127, a value decoded from the wrong bytes, float32's largest as a fault code)
 * comes once; the fault 25 minutes later (+6, twenty noise widths, for 20 s) must be found as it
 * is without the glitch, and nothing raised in between. Until 2026-12-07 the `spike` detector
 * learnt a typical step of ~1e18 on the way back from a 1e30 and missed every spike for days.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileDetect } from '../../src/compile.js';
import { MAX_JUDGED } from '../../src/engine/pipeline.js';
import { DETECTOR_KINDS, detectStepSchema } from '../helpers/schemas.js';
import { T0 } from './helpers.js';

const params: Record<string, Record<string, unknown>> = {
  threshold: { above: 13, below: 7 },
  level_shift: { baseline: '10m', per: '1s', h: 10 },
  ceiling: { block: '2m', half_life: '1h', warmup: 3 },
};

function run(kind: string, glitch: number | undefined): { found: number; between: number } {
  const step = compileDetect(detectStepSchema.parse({ detector: kind, ...(params[kind] ?? {}) }));
  const st = step.createKeyState('pump/v');
  let a = 7;
  const u = () => (a = (a * 48271) % 2147483647) / 2147483647;
  let found = -1;
  let between = 0;
  for (let i = 0; i < 3000; i++) {
    const v = i === 1000 && glitch !== undefined ? glitch : i >= 2500 && i < 2520 ? 16 : 10 + u();
    const o = step.update(st, T0 + i * 1000, v);
    if (i >= 2500 && i < 2520 && o.anomalous && found < 0) found = i - 2500;
    if (i > 1010 && i < 2500 && o.alert?.state === 'raised') between++;
  }
  return { found, between };
}

for (const kind of DETECTOR_KINDS) {
  test(`${kind}: one glitch (−127, 1e30, ±MAX_JUDGED) does not blind it to a real fault 25 minutes later`, () => {
    const clean = run(kind, undefined);
    for (const glitch of [-127, 1e30, MAX_JUDGED, -MAX_JUDGED]) {
      const r = run(kind, glitch);
      assert.equal(r.found >= 0, clean.found >= 0, `${kind} after ${glitch}: the fault ${clean.found >= 0 ? 'found' : 'not found'} as without the glitch`);
      assert.equal(r.between, clean.between, `${kind} after ${glitch}: alerts between the glitch and the fault`);
    }
  });
}
