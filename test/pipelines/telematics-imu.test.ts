/**
 * pipelines/telematics.yaml on simulated vans with a raw 50 Hz IMU in random mountings: every
 * harsh event is found by an alert of its own type inside its window, and no harsh alert of a
 * type is raised outside that type's windows (the rebound after each harsh brake included).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runFleet } from '../../bench/telematics-fleet.js';

test('telematics on simulated 50 Hz IMU vans (seed 11, 3 vans, 40 min): harsh events by type, no false ones', () => {
  // found: an alert of the event's type that starts in its window or up to 1 s after it
  const r = runFleet({ seed: 11, devices: 3, rateHz: 50, durationMs: 40 * 60_000, imu: true }, 0, 1000);
  assert.equal(r.faults.length, 9);
  assert.deepEqual(r.missed.map((f) => `${f.device} ${f.fault}`), []);
  assert.deepEqual(r.wrong.map((a) => `${a.stream} ${new Date(a.start).toISOString()} ${a.reason}`), []);
});

test('the same vans with an accelerometer alone (speed and gyro withheld): forward from their stops and starts at lights, the harsh events by type, no false ones', () => {
  const r = runFleet({ seed: 11, devices: 3, rateHz: 50, durationMs: 40 * 60_000, imu: true }, 0, 1000, ['speed_kmh', 'gyro_x', 'gyro_y', 'gyro_z']);
  assert.equal(r.faults.length, 9);
  assert.deepEqual(r.missed.map((f) => `${f.device} ${f.fault}`), []);
  assert.deepEqual(r.wrong.map((a) => `${a.stream} ${new Date(a.start).toISOString()} ${a.reason}`), []);
  // judged on the accelerometer from a few minutes in (120,000 samples a van in 40 minutes)
  assert.ok(r.counters.uncalibrated! < 3 * 120_000 / 4, `uncalibrated ${r.counters.uncalibrated}`);
});
