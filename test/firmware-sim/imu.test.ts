/** The van's raw IMU (`imu: true`): physics of what a rotated accelerometer and gyro measure. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IMU_METRICS, Simulation, VEHICLE_METRICS } from '../../firmware-sim/index.js';

const START = Date.UTC(2024, 0, 1);

function collect(seed: number, minutes: number) {
  const sim = new Simulation({ domains: ['telematics'], devices: 1, rateHz: 50, seed, start: START, durationMs: minutes * 60_000, imu: true });
  const dev = sim.devices[0]!;
  const col = (m: string) => dev.metrics.indexOf(m);
  const rows: Array<{ t: number; v: Float64Array }> = [];
  sim.run(0, sim.ticks, (s) => rows.push({ t: s.t, v: s.values.slice() }));
  return { sim, dev, col, rows };
}

test('IMU vans: accelerometer and gyro at the simulation rate, CAN/GPS once a second, harsh cornering among the faults', () => {
  const { sim, dev, col, rows } = collect(4, 20);
  assert.deepEqual(dev.metrics, [...VEHICLE_METRICS, ...IMU_METRICS]);
  assert.equal(rows.length, 20 * 60 * 50);
  const speedRows = rows.filter((r) => !Number.isNaN(r.v[col('speed_kmh')]!));
  assert.equal(speedRows.length, 20 * 60);
  assert.ok(rows.every((r) => IMU_METRICS.every((m) => Number.isFinite(r.v[col(m)]!))));
  assert.deepEqual(sim.faults().map((f) => f.fault).sort(), ['engine_overheating', 'gps_loss', 'harsh_acceleration', 'harsh_braking', 'harsh_cornering', 'overspeed']);
  // without imu: the 9 metrics and the 5 faults as before
  const plain = new Simulation({ domains: ['telematics'], devices: 1, rateHz: 1, seed: 4, start: START, durationMs: 20 * 60_000 });
  assert.deepEqual(plain.devices[0]!.metrics, VEHICLE_METRICS);
  assert.equal(plain.faults().length, 5);
});

test('IMU vans: gravity is 1 g in a rotated mount, harsh cornering shows as yaw rate × speed', () => {
  const { sim, col, rows } = collect(4, 20);
  const acc = (r: { v: Float64Array }) => [r.v[col('accel_x')]!, r.v[col('accel_y')]!, r.v[col('accel_z')]!];
  // the mean specific force over the run is gravity: 9.81 m/s², not along the sensor's z axis (a rotated mount)
  const mean = [0, 1, 2].map((i) => rows.reduce((s, r) => s + acc(r)[i]!, 0) / rows.length);
  const g = Math.hypot(...mean);
  assert.ok(Math.abs(g - 9.81) < 0.3, `|g| = ${g}`);
  assert.ok(Math.abs(mean[2]!) < 9.5, `mount is rotated: z reads ${mean[2]}`);
  // the yaw rate (gyro along gravity) times the speed reaches the cornering fault's 4.4 m/s² inside its window only
  const up = mean.map((x) => x / g);
  const corner = sim.faults().find((f) => f.fault === 'harsh_cornering')!;
  let speed = 0;
  let peakIn = 0;
  let peakOut = 0;
  for (const r of rows) {
    const s = r.v[col('speed_kmh')]!;
    if (!Number.isNaN(s)) speed = s / 3.6;
    const yaw = r.v[col('gyro_x')]! * up[0]! + r.v[col('gyro_y')]! * up[1]! + r.v[col('gyro_z')]! * up[2]!;
    const lat = Math.abs(yaw * speed);
    if (r.t >= corner.start && r.t < corner.end) peakIn = Math.max(peakIn, lat);
    else peakOut = Math.max(peakOut, lat);
  }
  assert.ok(peakIn > 4.3, `lateral in the cornering fault ${peakIn}`);
  assert.ok(peakOut < 3.3, `lateral elsewhere ${peakOut}`);
});
