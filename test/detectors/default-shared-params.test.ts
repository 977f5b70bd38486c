/**
 * The default detector's parameters are one object per step, shared by every key's detector, and
 * so are its parts' (season, daily steps, shape, sequence): each key used to carry its own copies,
 * 1.1 KB of its 15 KB (bench/detectors.bench.ts). Sharing must not couple the keys' states.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileDetect } from '../../src/compile.js';
import { detectStepSchema } from '../helpers/schemas.js';

interface Parts {
  detector: { p: unknown; season: { p: unknown }; seq: { p: unknown }; shape: { p: unknown } | null; daily: { p: unknown } | null };
}

describe('default detector, parameters shared by the keys of a step', () => {
  const step = compileDetect(detectStepSchema.parse({ detector: 'default' }));

  it('two keys hold the same params object and the same parts params', () => {
    const a = step.createKeyState('dev-a/m') as Parts;
    const b = step.createKeyState('dev-b/m') as Parts;
    assert.equal(a.detector.p, b.detector.p);
    assert.equal(a.detector.season.p, b.detector.season.p);
    assert.equal(a.detector.seq.p, b.detector.seq.p);
    assert.equal(a.detector.shape?.p, b.detector.shape?.p);
    assert.equal(a.detector.daily?.p, b.detector.daily?.p);
  });

  it('a step of other settings has its own (the settings are not mixed up)', () => {
    const other = compileDetect(detectStepSchema.parse({ detector: 'default', season_alpha: 0.5 }));
    const a = step.createKeyState('dev-a/m') as Parts;
    const b = other.createKeyState('dev-a/m') as Parts;
    assert.notEqual(a.detector.season.p, b.detector.season.p);
    assert.equal((b.detector.season.p as { alpha: number }).alpha, 0.5);
    assert.equal((a.detector.season.p as { alpha: number }).alpha, 0.2);
  });

  it("the keys' judgements stay their own: a key fed a level shift does not move the other", () => {
    const a = step.createKeyState('dev-a/m');
    const b = step.createKeyState('dev-b/m');
    const alone = step.createKeyState('dev-c/m');
    const seen: string[] = [];
    for (let i = 0; i < 2_000; i++) {
      const ts = i * 60_000;
      const base = 10 + Math.sin(i / 50);
      step.update(a, ts, i >= 1_500 ? base + 50 : base);
      const j = step.update(b, ts, base);
      const k = step.update(alone, ts, base);
      if (j.anomalous !== k.anomalous || j.score !== k.score) seen.push(`${i}`);
    }
    assert.deepEqual(seen, []);
  });
});

describe('ewma, ceiling, robust_z and hampel: parameters shared by the keys of a step', () => {
  // Each key used to spread its own copy: ~570 bytes a key for ewma (1,193 → 625 bytes with its
  // alert tracker) and ceiling, ~460 for robust_z and hampel (bench/detectors.bench.ts).
  for (const spec of [{ detector: 'ewma', half_life: '10m' }, { detector: 'ceiling', accept_after: '2h' }, { detector: 'robust_z' }, { detector: 'hampel' }]) {
    it(`${spec.detector}: two keys hold the same params object, made as its step says`, () => {
      const step = compileDetect(detectStepSchema.parse(spec));
      const a = step.createKeyState('dev-a/m') as { detector: { p: Record<string, unknown> } };
      const b = step.createKeyState('dev-b/m') as { detector: { p: Record<string, unknown> } };
      assert.equal(a.detector.p, b.detector.p);
      if (spec.detector === 'ceiling') assert.equal(a.detector.p.accept_blocks, 2);
      if (spec.detector === 'hampel') assert.equal(a.detector.p.replace_outliers, true);
    });
  }
});

