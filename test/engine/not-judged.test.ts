import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deserialize, serialize } from 'node:v8';
import type { Emission } from '../../src/core/records.js';
import { MAX_JUDGED } from '../../src/engine/pipeline.js';
import { testPipeline } from '../helpers/pipeline.js';

const T0 = Date.UTC(2026, 0, 1);
const F32_MAX = 3.4028234663852886e38;
const alerts = (out: Emission[]) => out.flatMap((e) => (e.kind === 'alert' ? [`${e.alert.stream} ${e.alert.detector} ${e.alert.state} ${e.alert.start} ${e.alert.end ?? ""}`] : []));

/** Two sensors a second for 40 minutes; `a` has a real fault (+5) at minute 30. */
function run(garbage: Array<[number, number]>) {
  const t = testPipeline({ steps: [{ detect: { detector: 'default' } }, { detect: { name: 'slow', detector: 'cusum' } }] });
  const bad = new Map(garbage);
  for (let i = 0; i < 2400; i++) {
    for (const s of ['a/t', 'b/t']) t.p.push({ stream: s, ts: T0 + i * 1000, value: 20 + ((i * 7919) % 13) * 0.05 + (s === 'a/t' && i >= 1800 && i < 1830 ? 5 : 0) });
    const g = bad.get(i);
    if (g !== undefined) t.p.push({ stream: 'a/t', ts: T0 + i * 1000 + 500, value: g });
  }
  return t;
}

test('a value beyond ±MAX_JUDGED (float32 fault code, garbage bytes) is counted as not_judged and leaves every detector as if it never came', () => {
  const clean = run([]);
  const dirty = run([[600, F32_MAX], [601, -F32_MAX], [900, 1.7e308], [901, 2e38]]);
  assert.ok(alerts(clean.out).some((a) => a.startsWith('a/t default raised')), 'the real fault is found');
  // two detect steps × four values; the readings themselves are accepted (forwarded, windowed)
  assert.equal(dirty.p.stats().dropped.not_judged, 8);
  assert.equal(dirty.p.stats().accepted, clean.p.stats().accepted + 4);
  const sample = dirty.p.drops.samplesFor('not_judged').at(-1)!;
  assert.match(sample.detail ?? '', /detect step "slow", stream a\/t: value is 2e\+38, beyond ±1e\+38/);
  // before the bound: NaN scores, other alerts than the clean run's, a state no checkpoint restores
  assert.deepEqual(alerts(dirty.out), alerts(clean.out));
  const restored = run([]);
  assert.deepEqual(restored.p.restore(deserialize(serialize(dirty.p.snapshot()))), [], 'the checkpoint restores');
  // a value at the bound is judged (and found: it is far outside the range)
  const edge = run([[600, MAX_JUDGED]]);
  assert.equal(edge.p.stats().dropped.not_judged ?? 0, 0);
  assert.ok(alerts(edge.out).length > alerts(clean.out).length);
});

test('a window aggregate that overflowed (a sum of huge readings) is counted as not_judged, not skipped silently', () => {
  const t = testPipeline({ steps: [{ window: { type: 'tumbling', size: '10s', aggregates: ['sum'] } }, { detect: { detector: 'threshold', field: 'sum', above: 1 } }] });
  for (let i = 0; i < 30; i++) t.push({ ts: T0 + i * 1000, value: i >= 10 && i < 20 ? 1e308 : 0.01 });
  t.p.flush();
  assert.equal(t.p.stats().dropped.not_judged, 1);
  assert.match(t.p.drops.samplesFor('not_judged')[0]!.detail ?? '', /sum is Infinity \(an aggregate that overflowed\?\)/);
});
