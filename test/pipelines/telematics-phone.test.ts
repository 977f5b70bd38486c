/**
 * pipelines/telematics.yaml on simulated vans tracked by a phone app alone (`sim --phone`): speed
 * and course once a second, the speed holding stale values mid-change and −1 without a fix. Every
 * harsh brake and acceleration is found by an alert of its type, nothing is raised outside those
 * events, each van's speed is found stale, and the unknown values are counted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runFleet } from '../../bench/telematics-fleet.js';

test('telematics on simulated phone trackers (seed 12, 4 vans, 40 min): stale speeds found, harsh events by type, no false ones', () => {
  const r = runFleet({ seed: 12, devices: 4, rateHz: 1, durationMs: 40 * 60_000, phone: true });
  assert.equal(r.faults.length, 8);
  assert.deepEqual(r.missed.map((f) => `${f.device} ${f.fault}`), []);
  assert.deepEqual(r.wrong.map((a) => `${a.stream} ${new Date(a.start).toISOString()} ${a.reason}`), []);
  assert.equal(r.counters.stale_speed, 4);
  // a tunnel (gps_loss) and every stop give unknown speeds or courses, kept from the other rules
  assert.ok(r.counters.invalid! > 100, `${r.counters.invalid} invalid`);
  assert.equal(r.filtered, r.counters.invalid);
});
