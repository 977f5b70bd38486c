/**
 * Units are the sender's: a detector with no threshold in units of its own judges a series the
 * same whether it arrives in picofarads or farads, near 0 or near 10⁹. Until 2026-12-04 most
 * detectors floored their scale at 10⁻⁹ absolute, so a series in picofarads or nanoamps (values
 * around 10⁻¹²) was judged against a scale a thousand times its own and nothing was ever
 * anomalous: silent.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileDetect } from '../../src/compile.js';
import { detectStepSchema, DETECTOR_KINDS } from '../helpers/schemas.js';
import { noise, T0 } from './helpers.js';

const DAY = 288;
/** Limits in the sender's units by design. */
const ABSOLUTE = new Set(['threshold', 'iso10816']);

/** 14 days at 5 minutes: a daily cycle with noise, a spike on day 5, a dip for 6 hours on day 10, a stuck value on day 12. */
function series(scale: number, shift: number): { ts: number[]; values: number[] } {
  const g = noise(7);
  const ts: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < 14 * DAY; i++) {
    let v = 50 + 20 * Math.sin((2 * Math.PI * (i % DAY)) / DAY) + g();
    if (i === 5 * DAY) v += 30;
    if (i >= 10 * DAY + 96 && i < 10 * DAY + 168) v -= 12;
    if (i >= 12 * DAY && i < 12 * DAY + 40) v = 61.5;
    ts.push(T0 + i * 300_000);
    values.push(v * scale + shift);
  }
  return { ts, values };
}

function anomalous(kind: string, s: { ts: number[]; values: number[] }): number[] {
  const step = compileDetect(detectStepSchema.parse({ detector: kind }));
  const st = step.createKeyState('dev/x');
  const out: number[] = [];
  s.values.forEach((v, i) => {
    if (step.update(st, s.ts[i]!, v).anomalous) out.push(i);
  });
  return out;
}

describe('units are the sender\'s', () => {
  for (const kind of DETECTOR_KINDS.filter((k) => !ABSOLUTE.has(k))) {
    it(`${kind}: the same readings anomalous at ×10⁻¹², ×10⁻⁹, ×10⁶ and shifted to 10⁹`, () => {
      const base = anomalous(kind, series(1, 0));
      for (const [scale, shift] of [[1e-12, 0], [1e-9, 0], [1e6, 0], [1, 1e9]] as const) {
        assert.deepEqual(anomalous(kind, series(scale, shift)), base, `×${scale} + ${shift}`);
      }
    });
  }

  it('the series gives most detectors something to find (the property is not met by silence)', () => {
    const finding = DETECTOR_KINDS.filter((k) => !ABSOLUTE.has(k) && anomalous(k, series(1, 0)).length > 0);
    assert.ok(finding.length >= 7, `only ${finding.join(', ')}`);
  });
});
