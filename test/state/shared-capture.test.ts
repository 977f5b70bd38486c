/**
 * A periodic checkpoint is captured at one instant and encoded later, a slice at a time: what it
 * captured must not change while the pipeline goes on. Pipeline snapshots are new containers;
 * detectors share their live typed arrays with the capture (snapshotView) and copy them before a
 * change while it is open. Checked for every window kind, every detector, the join and the domain
 * pipelines.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { deserialize, serialize } from 'node:v8';
import { Simulation, type Domain } from '../../firmware-sim/index.js';
import { loadPipelineFile } from '../../src/config/load.js';
import { pipelineSchema } from '../../src/config/pipeline.js';
import type { Reading } from '../../src/core/reading.js';
import { compilePipeline } from '../../src/compile.js';
import type { Pipeline } from '../../src/engine/pipeline.js';
import { SharedCapture } from '../../src/core/shared-capture.js';
import { CheckpointRows } from '../../src/state/store.js';
import { DETECTOR_KINDS } from '../helpers/schemas.js';

const ROOT = join(import.meta.dirname, '../..');
const T0 = Date.UTC(2024, 0, 1);
const FILES: Record<Domain, string> = { maintenance: 'predictive-maintenance.yaml', vitals: 'vitals.yaml', telematics: 'telematics.yaml' };
const params: Record<string, Record<string, unknown>> = {
  threshold: { above: 13, below: 7, hysteresis: 0.5, min_duration: '2s' },
  level_shift: { baseline: '10m', per: '1s', h: 10 },
};

function build(steps: unknown[]): Pipeline {
  return compilePipeline(pipelineSchema().parse({ name: 't', input: { streams: ['**'] }, steps }), () => {});
}

/** 3 devices × 2 metrics, a little out of order, with a spike now and then and a gap (sessions). */
function readings(n: number): Reading[] {
  const rs: Reading[] = [];
  let seed = 5;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < n; i++) {
    for (const dev of ['pump-1', 'pump-2', 'pump-3']) {
      for (const m of ['vibration_rms', 'vibration_peak']) {
        rs.push({ stream: `${dev}/${m}`, ts: T0 + i * 700 + (i > n / 2 ? 5000 : 0) - Math.floor(rnd() * 900), value: 10 + rnd() + (i % 157 === 156 ? 30 : 0) });
      }
    }
  }
  return rs;
}

function simulated(domain: Domain): Reading[] {
  const rs: Reading[] = [];
  const sim = new Simulation({ domains: [domain], devices: 2, rateHz: 1, seed: 3, start: T0, durationMs: 40 * 60_000, faults: true });
  sim.run(0, sim.ticks, (s) => {
    s.device.metrics.forEach((m, i) => {
      const v = s.values[i]!;
      if (!Number.isNaN(v)) rs.push({ stream: `${s.device.id}/${m}`, ts: s.t, value: v });
    });
  });
  return rs;
}

/** Capture mid-run, go on, and check the capture's encoding did not move. */
function assertCaptureHolds(p: Pipeline, input: Reading[]): void {
  const half = Math.floor(input.length / 2);
  for (const r of input.slice(0, half)) p.push(r);
  const shared = new SharedCapture();
  const captured = [p.snapshot(shared)];
  const before = serialize(captured);
  for (const r of input.slice(half)) p.push(r);
  p.flush();
  assert.ok(serialize(captured).equals(before), 'the captured state changed after the capture');
  shared.close();
  // And it is what a fresh pipeline restores from.
  assert.deepEqual(deserialize(before)[0].pipeline, p.name);
}

describe('a capture stays as it was captured while the pipeline goes on', () => {
  it('detector default with a block per reading (its shape memory changes every reading)', () => {
    const p = build([{ detect: { detector: 'default', shape_block: '1s', alert: { cooldown: '5s' } } }, { output: 'agg' }]);
    assertCaptureHolds(p, readings(1500));
  });
  for (const kind of DETECTOR_KINDS) {
    it(`detector ${kind}, with a tumbling window after it`, () => {
      const p = build([{ detect: { detector: kind, alert: { cooldown: '5s' }, ...(params[kind] ?? {}) } }, { window: { type: 'tumbling', size: '5s', aggregates: ['mean', 'p95', 'first', 'last', 'stddev'] } }, { output: 'agg' }]);
      assertCaptureHolds(p, readings(1500));
    });
  }

  it('hopping, sliding, session and count windows, and a join', () => {
    assertCaptureHolds(build([{ window: { type: 'hopping', size: '10s', hop: '2s', lateness: '1s', aggregates: ['mean', 'max', 'p50'] } }, { output: 'agg' }]), readings(800));
    assertCaptureHolds(build([{ window: { type: 'sliding', size: '6s', resolution: '1s', aggregates: ['mean', 'count'] } }, { output: 'agg' }]), readings(800));
    assertCaptureHolds(build([{ window: { type: 'session', gap: '2s', lateness: '500ms', aggregates: ['mean', 'count', 'p99'] } }, { output: 'agg' }]), readings(800));
    assertCaptureHolds(build([{ window: { type: 'count', size: 9, slide: 3, aggregates: ['mean', 'min', 'last'] } }, { output: 'agg' }]), readings(800));
    assertCaptureHolds(
      build([
        { window: { type: 'tumbling', size: '10s', aggregates: ['rms', 'max'] } },
        { join: { metric: 'vibration', fields: { rms: 'vibration_rms.rms', peak: 'vibration_peak.max' }, ratios: { crest: ['peak', 'rms'] } } },
        { output: 'features' },
      ]),
      readings(800),
    );
  });

  for (const domain of ['maintenance', 'vitals', 'telematics'] as const) {
    it(`the ${domain} pipeline (simulated, with faults)`, () => {
      assertCaptureHolds(compilePipeline(loadPipelineFile(join(ROOT, 'pipelines', FILES[domain])), () => {}), simulated(domain));
    });
  }
});

describe('checkpoint rows encoded a slice at a time', () => {
  it('are the rows encoded at once, whatever the slice size', () => {
    const p = build([{ detect: { detector: 'default' } }, { window: { type: 'tumbling', size: '1s', aggregates: ['count', 'p95'] } }, { output: 'agg' }]);
    const many: Reading[] = [];
    for (let i = 0; i < 300; i++) for (let k = 0; k < 40; k++) many.push({ stream: `d${k}/m`, ts: T0 + i * 100, value: Math.sin(i / 7 + k) });
    for (const r of many) p.push(r);
    const snaps = [p.snapshot()];
    const all = new CheckpointRows(snaps).take();
    assert.ok(all.some((r) => r.chunk > 0), 'a per-key part is cut into chunks');
    for (const budget of [1, 10_000, 100_000]) {
      const rows = new CheckpointRows(snaps);
      const sliced = [];
      while (!rows.done) sliced.push(...rows.take(budget));
      assert.deepEqual(sliced, all);
      assert.equal(rows.bytes, all.reduce((n, r) => n + r.data.length, 0));
    }
  });
});
