import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deserialize, serialize } from 'node:v8';
import fc from 'fast-check';
import { pipelineSchema } from '../../src/config/pipeline.js';
import type { Reading } from '../../src/core/reading.js';
import type { Emission } from '../../src/core/records.js';
import { compilePipeline } from '../../src/compile.js';

const T0 = Date.UTC(2024, 0, 1);

function build(steps: unknown[], streams = ['**']) {
  const spec = pipelineSchema().parse({ name: 't', input: { streams }, steps });
  const out: Emission[] = [];
  const p = compilePipeline(spec, (e) => out.push(e));
  return { p, out };
}

/** Readings of 3 devices × 2 metrics, slightly out of order, with bursts and gaps (for sessions). */
function readings(n: number): Reading[] {
  const rs: Reading[] = [];
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < n; i++) {
    const gap = i % 97 < 80 ? 0 : 4000;
    for (const dev of ['pump-1', 'pump-2', 'pump-3']) {
      for (const m of ['vibration_rms', 'vibration_peak']) {
        const spike = i % 151 === 150 ? 40 : 0;
        rs.push({ stream: `${dev}/${m}`, ts: T0 + i * 700 + gap * Math.floor(i / 97) - Math.floor(rnd() * 900), value: 1 + rnd() + spike });
      }
    }
  }
  return rs;
}

/**
 * The emissions of an uninterrupted run equal those of a run cut at `cut` readings, whose state
 * went through a checkpoint (v8 serialise → deserialise, as in the outbox database) into a fresh
 * pipeline that then took the rest.
 */
function assertSurvivesRestart(steps: unknown[], cuts: number[], n = 400, streams = ['**']) {
  const input = readings(n);
  const whole = build(steps, streams);
  for (const r of input) whole.p.push(r);
  whole.p.advanceTo(T0 + 10_000_000);
  whole.p.flush();
  assert.ok(whole.out.length >= 6, 'the scenario emits something');
  let cur = build(steps);
  const out: Emission[] = [];
  let from = 0;
  for (const cut of [...cuts, input.length]) {
    for (let i = from; i < cut; i++) cur.p.push(input[i]!);
    from = cut;
    if (cut === input.length) break;
    out.push(...cur.out);
    const snap = deserialize(serialize(cur.p.snapshot()));
    cur = build(steps, streams);
    assert.deepEqual(cur.p.restore(snap), [], 'every part restores');
    assert.deepEqual(cur.p.snapshot(), snap, 'the restored pipeline holds all that was saved');
  }
  cur.p.advanceTo(T0 + 10_000_000);
  cur.p.flush();
  out.push(...cur.out);
  assert.deepEqual(out, whole.out);
}

const detect = { detect: { detector: 'ewma', field: 'mean', output: 'alerts', alert: { cooldown: '5s' } } };

test('checkpoint: tumbling windows with quantiles and a detector resume exactly', () => {
  assertSurvivesRestart([{ window: { type: 'tumbling', size: '5s', lateness: '1s', aggregates: ['mean', 'p95', 'first', 'last', 'stddev'] } }, detect, { output: 'agg' }], [101, 555, 1200]);
});

test('checkpoint: hopping and sliding windows resume exactly', () => {
  assertSurvivesRestart([{ window: { type: 'hopping', size: '10s', hop: '2s', lateness: '1s', aggregates: ['mean', 'max', 'p50'] } }, { output: 'agg' }], [333, 900]);
  assertSurvivesRestart([{ window: { type: 'sliding', size: '6s', resolution: '1s', aggregates: ['mean', 'count'] } }, { output: 'agg' }], [250, 1111]);
});

test('checkpoint: session and count windows resume exactly', () => {
  assertSurvivesRestart([{ window: { type: 'session', gap: '2s', lateness: '500ms', aggregates: ['mean', 'count', 'p99'] } }, detect, { output: 'agg' }], [480, 1300]);
  assertSurvivesRestart([{ window: { type: 'count', size: 9, slide: 3, aggregates: ['mean', 'min', 'last'] } }, { output: 'agg' }], [17, 701]);
});

test('checkpoint: a join with pending devices resumes exactly', () => {
  assertSurvivesRestart(
    [
      { window: { type: 'tumbling', size: '10s', aggregates: ['rms', 'max'] } },
      { join: { metric: 'vibration', fields: { rms: 'vibration_rms.rms', peak: 'vibration_peak.max' }, ratios: { crest: ['peak', 'rms'] } } },
      { output: 'features' },
    ],
    [601, 1203],
  );
});

test('checkpoint: detectors on a join\'s output, a stream the input does not name, resume exactly', () => {
  // As in pipelines/predictive-maintenance.yaml: the input names the sensor's streams, the detectors
  // judge `<device>/vibration`, which only the join makes. Until 2026-12-04 their state was not
  // restored (the input's patterns decided which streams' state came back): after every restart
  // the level rule learnt its early-life baseline again from a level that had already risen.
  assertSurvivesRestart(
    [
      { window: { type: 'tumbling', size: '10s', aggregates: ['rms', 'max'] } },
      { join: { metric: 'vibration', fields: { rms: 'vibration_rms.rms', peak: 'vibration_peak.max' }, ratios: { crest: ['peak', 'rms'] } } },
      { detect: { detector: 'ewma', field: 'crest', warmup: 5, threshold: 3, alert: { clear_readings: 2 } }, streams: ['*/vibration'] },
      { detect: { name: 'level', detector: 'level_shift', field: 'rms', baseline: '1m', min_baseline: 3, per: '10s', h: 2 }, streams: ['*/vibration'] },
      { output: 'features' },
    ],
    [601, 1203],
    1800,
    ['*/vibration_rms', '*/vibration_peak'],
  );
});

test('checkpoint: a damaged part costs only its own operator its state', () => {
  const steps = [{ window: { type: 'tumbling', size: '5s', aggregates: ['mean'] } }, detect, { output: 'agg' }];
  const a = build(steps);
  for (const r of readings(100)) a.p.push(r);
  const snap = structuredClone(a.p.snapshot());
  assert.deepEqual(Object.keys(snap.parts).sort(), ['detect:ewma', 'keys', 'window']);
  snap.parts.window!.data = [['pump-1/vibration_rms', { wm: 'nonsense' }]];
  snap.parts['detect:ewma']!.version = 99;
  snap.parts['operator:gone'] = { version: 1, data: {} };
  const b = build(steps);
  const failed = b.p.restore(snap);
  assert.deepEqual(failed.map((f) => f.part).sort(), ['detect:ewma', 'operator:gone', 'window']);
  assert.match(failed.find((f) => f.part === 'detect:ewma')!.error, /format version 99; this build reads version 1/);
  assert.match(failed.find((f) => f.part === 'window')!.error, /stream pump-1\/vibration_rms/);
  // The key registry (with each key's time) came back; windows and detectors start fresh.
  assert.equal(b.p.stats().keys, 6);
  assert.equal(b.p.stats().openWindows, 0);
});

test('checkpoint (property): any window kind, cut anywhere any number of times, gives the uninterrupted emissions', () => {
  const windows = [
    { type: 'tumbling', size: '3s', lateness: '1s', aggregates: ['mean', 'p95', 'last'] },
    { type: 'hopping', size: '4s', hop: '1s', lateness: '500ms', aggregates: ['max', 'p50'] },
    { type: 'sliding', size: '3s', resolution: '1s', aggregates: ['count', 'stddev'] },
    { type: 'session', gap: '1500ms', lateness: '300ms', aggregates: ['sum', 'first'] },
    { type: 'count', size: 6, slide: 2, aggregates: ['mean', 'rms'] },
  ];
  fc.assert(
    fc.property(fc.constantFrom(...windows), fc.uniqueArray(fc.integer({ min: 1, max: 359 }), { maxLength: 4 }), fc.boolean(), (window, cuts, withDetector) => {
      // The detector judges an aggregate the window computes (validate refuses any other field).
      const steps = [{ window }, ...(withDetector ? [{ detect: { ...detect.detect, field: window.aggregates[0]! } }] : []), { output: 'agg' }];
      assertSurvivesRestart(steps, cuts.sort((a, b) => a - b), 60);
    }),
    { numRuns: 40 },
  );
});
