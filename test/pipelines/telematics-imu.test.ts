/**
 * pipelines/telematics.yaml on simulated vans with a raw 50 Hz IMU in random mountings: every
 * harsh event is found by an alert of its own type inside its window, and no harsh alert of a
 * type is raised outside that type's windows (the rebound after each harsh brake included).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadPipelineFile } from '../../src/config/load.js';
import type { AlertRecord } from '../../src/core/records.js';
import { compilePipeline } from '../../src/compile.js';
import { Simulation } from '../../firmware-sim/index.js';

const ROOT = join(import.meta.dirname, '../..');
const HARSH = ['harsh_braking', 'harsh_acceleration', 'harsh_cornering'];

test('telematics on simulated 50 Hz IMU vans (seed 11, 3 vans, 40 min): harsh events by type, no false ones', () => {
  const spec = loadPipelineFile(join(ROOT, 'pipelines/telematics.yaml'));
  const alerts: AlertRecord[] = [];
  const p = compilePipeline(spec, (e) => {
    if (e.kind === 'alert' && e.alert.state === 'raised') alerts.push(e.alert);
  });
  const sim = new Simulation({ domains: ['telematics'], devices: 3, rateHz: 50, seed: 11, start: Date.UTC(2024, 0, 1), durationMs: 40 * 60_000, imu: true });
  sim.run(0, sim.ticks, (s) => {
    const m = s.device.metrics;
    for (let i = 0; i < m.length; i++) {
      const v = s.values[i]!;
      if (!Number.isNaN(v)) p.push({ stream: `${s.device.id}/${m[i]}`, ts: s.t, value: v });
    }
  });
  p.flush();
  const faults = sim.faults().filter((f) => HARSH.includes(f.fault));
  assert.equal(faults.length, 9);
  const inWindow = (a: AlertRecord) => faults.some((f) => f.fault === a.detector && a.stream.startsWith(`${f.device}/`) && a.start >= f.start && a.start <= f.end + 1000);
  const missed = faults.filter((f) => !alerts.some((a) => a.detector === f.fault && a.stream.startsWith(`${f.device}/`) && a.start >= f.start && a.start <= f.end + 1000));
  assert.deepEqual(missed.map((f) => `${f.device} ${f.fault}`), []);
  const falseHarsh = alerts.filter((a) => HARSH.includes(a.detector) && !inWindow(a));
  assert.deepEqual(falseHarsh.map((a) => `${a.stream} ${new Date(a.start).toISOString()} ${a.reason}`), []);
});
