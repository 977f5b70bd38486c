import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pipelineSchema } from '../../src/config/pipeline.js';
import type { Emission, WindowResult } from '../../src/core/records.js';
import { compilePipeline } from '../../src/compile.js';

const T0 = Date.UTC(2024, 0, 1);

function build(steps: unknown[]) {
  const spec = pipelineSchema().parse({ name: 't', input: { streams: ['**'] }, steps });
  const out: Emission[] = [];
  const p = compilePipeline(spec, (e) => out.push(e));
  const results = (output: string): WindowResult[] => out.flatMap((e) => (e.kind === 'aggregate' && e.output === output ? [e.result] : []));
  return { p, out, results };
}

test('join: one result per device and window with fields and a ratio (crest factor)', () => {
  const { p, results } = build([
    { window: { type: 'tumbling', size: '10s', aggregates: ['rms', 'max'] } },
    { join: { metric: 'vibration', fields: { rms: 'vibration_rms.rms', peak: 'vibration_peak.max' }, ratios: { crest: ['peak', 'rms'] } } },
    { output: 'features' },
  ]);
  for (let s = 0; s < 25; s++) {
    for (const dev of ['pump-1', 'pump-2']) {
      p.push({ stream: `${dev}/vibration_rms`, ts: T0 + s * 1000, value: 0.1 });
      p.push({ stream: `${dev}/vibration_peak`, ts: T0 + s * 1000, value: dev === 'pump-1' ? 0.3 : 0.5 });
    }
  }
  p.flush();
  const joined = results('features').filter((r) => r.stream.endsWith('/vibration'));
  assert.equal(joined.length, 6); // 3 windows × 2 pumps
  const first = joined.find((r) => r.stream === 'pump-1/vibration')!;
  assert.equal(first.start, T0);
  assert.equal(first.end, T0 + 10_000);
  assert.equal(first.count, 20);
  assert.ok(Math.abs(first.values.crest! - 3) < 1e-9);
  assert.ok(Math.abs(joined.find((r) => r.stream === 'pump-2/vibration')!.values.crest! - 5) < 1e-9);
  assert.ok(joined.every((r) => !r.partial));
  // the per-metric results went on too (pass: true)
  assert.equal(results('features').filter((r) => r.stream.endsWith('/vibration_rms')).length, 6);
});

test('join: windows still open at the end of input are joined in time order, none dropped as late', () => {
  // one snapshot every 10 s, 0.4 s into each window (as the PHM 2012 rig's): with 1 s of lateness
  // the last two windows of every metric are open when the input ends
  const { p, results } = build([
    { window: { type: 'tumbling', size: '10s', lateness: '1s', aggregates: ['rms', 'max'] } },
    { join: { metric: 'vibration', fields: { rms: 'vibration_rms.rms', peak: 'vibration_peak.max' } } },
    { output: 'features' },
  ]);
  for (let i = 0; i < 6; i++) {
    p.push({ stream: 'brg/vibration_rms', ts: T0 + i * 10_000 + 400, value: 0.1 });
    p.push({ stream: 'brg/vibration_peak', ts: T0 + i * 10_000 + 400, value: 0.3 });
  }
  p.flush();
  const joined = results('features').filter((r) => r.stream === 'brg/vibration');
  assert.deepEqual(joined.map((r) => [(r.start - T0) / 1000, r.partial === true]), [[0, false], [10, false], [20, false], [30, false], [40, false], [50, false]]);
  assert.deepEqual(p.stats().dropped, {});
});

test('join: a device missing a metric in a window gives a partial result without the ratio', () => {
  const { p, results } = build([
    { window: { type: 'tumbling', size: '10s', aggregates: ['rms', 'max'] } },
    { join: { metric: 'vibration', fields: { rms: 'vibration_rms.rms', peak: 'vibration_peak.max' }, ratios: { crest: ['peak', 'rms'] }, pass: false } },
    { output: 'features' },
  ]);
  for (let s = 0; s < 25; s++) {
    p.push({ stream: 'pump-1/vibration_rms', ts: T0 + s * 1000, value: 0.1 });
    if (s >= 10) p.push({ stream: 'pump-1/vibration_peak', ts: T0 + s * 1000, value: 0.3 });
  }
  p.flush();
  const rs = results('features');
  assert.ok(rs.every((r) => r.stream === 'pump-1/vibration'), 'pass: false sends only joined results on');
  assert.equal(rs[0]!.partial, true);
  assert.equal(rs[0]!.values.crest, undefined);
  assert.ok(rs.slice(1).every((r) => !r.partial && r.values.crest !== undefined));
});

test('join: schema refuses a ratio of an unknown field', () => {
  const r = pipelineSchema().safeParse({ name: 't', input: { streams: ['**'] }, steps: [{ join: { metric: 'v', fields: { rms: 'a.rms' }, ratios: { crest: ['peak', 'rms'] } } }] });
  assert.equal(r.success, false);
  assert.match(JSON.stringify(r.error!.issues), /\\"peak\\" is not one of fields/);
});

test('streams: a step applies only to matching streams; others skip it', () => {
  const { p, out } = build([
    { detect: { detector: 'threshold', above: 10 }, streams: ['*/temp'] },
    { output: 'raw' },
  ]);
  p.push({ stream: 'a/temp', ts: T0, value: 20 });
  p.push({ stream: 'a/pressure', ts: T0, value: 20 });
  const alerts = out.flatMap((e) => (e.kind === 'alert' ? [e.alert.stream] : []));
  assert.deepEqual(alerts, ['a/temp']);
  assert.equal(out.filter((e) => e.kind === 'reading').length, 2, 'both readings go on');
});

test('streams: refused on a window step', () => {
  const r = pipelineSchema().safeParse({ name: 't', input: { streams: ['**'] }, steps: [{ window: { type: 'tumbling', size: '1s', aggregates: ['mean'] }, streams: ['*/x'] }] });
  assert.equal(r.success, false);
  assert.match(JSON.stringify(r.error!.issues), /cannot select a window step/);
});
