/**
 * Each shipped domain pipeline on a simulated run: every injected fault is caught (an alert
 * raised within its ground-truth window), a fault-free run raises nothing, and a probe-off
 * artefact raises no deterioration alert.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadPipelineFile } from '../../src/config/load.js';
import type { AlertRecord, Emission } from '../../src/core/records.js';
import { compilePipeline } from '../../src/compile.js';
import { type Pipeline } from '../../src/engine/pipeline.js';
import { Simulation, type Domain, type FaultEvent } from '../../firmware-sim/index.js';

const ROOT = join(import.meta.dirname, '../..');
const START = Date.UTC(2024, 0, 1);
const FILES: Record<Domain, string> = { maintenance: 'predictive-maintenance.yaml', vitals: 'vitals.yaml', telematics: 'telematics.yaml' };

function run(domain: Domain, opts: { seed: number; faults: boolean; hours: number; devices?: number }) {
  const spec = loadPipelineFile(join(ROOT, 'pipelines', FILES[domain]));
  const alerts: AlertRecord[] = [];
  const p: Pipeline = compilePipeline(spec, (e) => {
    if (e.kind === 'alert' && e.alert.state === 'raised') alerts.push(e.alert);
  });
  const sim = new Simulation({ domains: [domain], devices: opts.devices ?? 1, rateHz: 1, seed: opts.seed, start: START, durationMs: opts.hours * 3_600_000, faults: opts.faults });
  sim.run(0, sim.ticks, (s) => {
    const metrics = s.device.metrics;
    for (let i = 0; i < metrics.length; i++) {
      const v = s.values[i]!;
      if (!Number.isNaN(v)) p.push({ stream: `${s.device.id}/${metrics[i]}`, ts: s.t, value: v });
    }
  });
  p.flush();
  return { alerts, faults: sim.faults(), stats: p.stats() };
}

/** Alerts raised in [fault start, fault end + tail] for the fault's device. */
function caught(f: FaultEvent, alerts: AlertRecord[]): AlertRecord[] {
  const tail = Math.max(60_000, 0.1 * (f.end - f.start));
  return alerts.filter((a) => a.stream.startsWith(`${f.device}/`) && a.start >= f.start && a.start <= f.end + tail);
}

for (const domain of ['maintenance', 'vitals', 'telematics'] as const) {
  test(`${domain}: every injected fault raises an alert in its window`, () => {
    const { alerts, faults } = run(domain, { seed: 11, faults: true, hours: 6 });
    const real = faults.filter((f) => f.kind === 'fault');
    assert.ok(real.length >= 3, 'the run has faults');
    const missed = real.filter((f) => caught(f, alerts).length === 0).map((f) => `${f.device} ${f.fault}`);
    assert.deepEqual(missed, []);
  });

  test(`${domain}: a fault-free run raises no alert`, () => {
    const { alerts, stats } = run(domain, { seed: 12, faults: false, hours: 3, devices: 2 });
    assert.ok(stats.accepted > 10_000);
    assert.deepEqual(alerts.map((a) => `${a.detector} ${a.stream} ${new Date(a.start).toISOString()} ${a.reason}`), []);
  });
}

test('vitals: a probe-off artefact is counted as a sensor fault and raises no alert', () => {
  const { alerts, faults, stats } = run('vitals', { seed: 11, faults: true, hours: 6, devices: 2 });
  const probeOff = faults.filter((f) => f.fault === 'probe_off');
  assert.equal(probeOff.length, 2);
  for (const f of probeOff) assert.deepEqual(caught(f, alerts), [], `${f.device}: no alert during its probe-off`);
  assert.ok((stats.dropped.sensor_fault ?? 0) >= 15 * 2, 'SpO2 0 readings counted as sensor_fault');
});

/**
 * Every emission (features, alerts) of a run restarted five times (a minute in, and a second before the end) from its state equals that of the
 * uninterrupted run: what a gateway restarted or reloaded mid-run sends upstream.
 */
function emissionsWithRestarts(domain: Domain, restartAtHours: number[]) {
  const spec = loadPipelineFile(join(ROOT, 'pipelines', FILES[domain]));
  const out: string[] = [];
  const sink = (e: Emission) => out.push(JSON.stringify(e));
  let p: Pipeline = compilePipeline(spec, sink);
  const sim = new Simulation({ domains: [domain], devices: 2, rateHz: 1, seed: 11, start: START, durationMs: 6 * 3_600_000, faults: true });
  const cuts = [...restartAtHours.map((h) => Math.round((h * 3_600_000 * sim.ticks) / (6 * 3_600_000))), sim.ticks];
  let from = 0;
  for (const to of cuts) {
    if (from > 0) {
      const snap = structuredClone(p.snapshot());
      p = compilePipeline(spec, sink);
      assert.deepEqual(p.restore(snap), [], `${domain}: every part restores`);
      assert.deepEqual(p.snapshot(), snap, `${domain}: the restored pipeline holds all that was saved`);
    }
    sim.run(from, to, (s) => {
      const metrics = s.device.metrics;
      for (let i = 0; i < metrics.length; i++) {
        const v = s.values[i]!;
        if (!Number.isNaN(v)) p.push({ stream: `${s.device.id}/${metrics[i]}`, ts: s.t, value: v });
      }
    });
    from = to;
  }
  p.flush();
  return out;
}

for (const domain of ['maintenance', 'vitals', 'telematics'] as const) {
  test(`${domain}: a gateway restarted five times from its saved state sends what an uninterrupted one sends`, () => {
    const whole = emissionsWithRestarts(domain, []);
    assert.ok(whole.some((e) => e.includes('"kind":"alert"')), 'the run raises alerts');
    const restarted = emissionsWithRestarts(domain, [0.0137, 1.5, 2.71, 4, 5.999]);
    assert.equal(restarted.length, whole.length);
    assert.deepEqual(restarted, whole);
  });
}
