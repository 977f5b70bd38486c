/**
 * pipelines/telematics.yaml on a real drive, checked against the car's own sensor: a dash-mounted
 * iPhone X (accelerometer and gyro at 10 Hz, GPS speed at 1 Hz, its mounting unknown to the
 * pipeline) and the same car's CAN bus (a BMW M235i: speed, longitudinal and lateral g), six
 * minutes of city driving in Austin, synchronised (github.com/cloudpose/smartphone_driving_dataset,
 * `dataset1_phone.csv` and `dataset1_car.csv`; no licence stated, so not in this repository).
 *
 * Prints: when the pipeline learnt forward and from what; the phone's longitudinal and lateral
 * acceleration as the pipeline sees it against the car's (correlation, error); the harsh events the
 * pipeline raises from the phone, and those the same rules raise from the car's longitudinal channel.
 *
 *   npx tsx bench/telematics-drive.ts --data /path/to/smartphone_driving_dataset [--no-speed]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadPipelineFile } from '../src/config/load.js';
import { compilePipeline } from '../src/compile.js';
import type { AlertRecord } from '../src/core/records.js';
import { G, Mount, dot, type Vec3 } from '../src/domain/telematics/imu.js';
import type { TelematicsStepSpec } from '../src/domain/telematics/schema.js';
import { mountParamsOf } from '../src/domain/telematics/step.js';

const { values } = parseArgs({ options: { data: { type: 'string', default: process.env.EDGEWISE_DRIVE ?? '/tmp/drive' }, 'no-speed': { type: 'boolean', default: false } } });
// --no-speed: the phone's GPS speed withheld, forward then comes from turns (the gyro)
const useSpeed = !values['no-speed'];
/** Rows by column name (these files quote nothing). */
function rows(file: string): Array<Record<string, string>> {
  const [head, ...lines] = readFileSync(join(values.data!, file), 'utf8').split('\n').filter((l) => l.trim() !== '');
  const cols = head!.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
}
const wall = (s: string) => Date.parse(`${s.replace(' ', 'T')}Z`);

const phone = rows('dataset1_phone.csv').map((r) => ({
  ts: wall(r['loggingTime(txt)']!),
  a: [Number(r['accelerometerAccelerationX(G)']), Number(r['accelerometerAccelerationY(G)']), Number(r['accelerometerAccelerationZ(G)'])] as Vec3,
  w: [Number(r['gyroRotationX(rad/s)']), Number(r['gyroRotationY(rad/s)']), Number(r['gyroRotationZ(rad/s)'])] as Vec3,
  fixTs: Number(r['locationTimestamp_since1970(s)']),
  speed: Number(r['locationSpeed(m/s)']),
}));
const car = rows('dataset1_car.csv').map((r) => ({ ts: wall(r.Time!), lon: Number(r['Acceleration Gs']), lat: Number(r['Lateral Gs']), mph: Number(r['Speed (MPH)']) }));

const spec = loadPipelineFile(join(import.meta.dirname, '../pipelines/telematics.yaml'));
const step = (spec.steps[0] as { telematics: TelematicsStepSpec }).telematics;
step.accel_unit = 'g';
step.speed_unit = 'm/s';

// 1. The pipeline as shipped (units set for this phone) on the phone alone; the car's longitudinal
//    channel as a second vehicle through the same rules.
const alerts: AlertRecord[] = [];
const p = compilePipeline(spec, (e) => {
  if (e.kind === 'alert' && e.alert.state === 'raised') alerts.push(e.alert);
});
const readings: Array<{ stream: string; ts: number; value: number }> = [];
let lastFix = NaN;
for (const r of phone) {
  ['x', 'y', 'z'].forEach((ax, i) => {
    readings.push({ stream: `phone/accel_${ax}`, ts: r.ts, value: r.a[i]! });
    readings.push({ stream: `phone/gyro_${ax}`, ts: r.ts, value: r.w[i]! });
  });
  // the GPS speed repeats between fixes (1 Hz): one reading per fix
  if (useSpeed && r.fixTs !== lastFix && r.speed >= 0) readings.push({ stream: 'phone/speed_kmh', ts: r.ts, value: r.speed });
  lastFix = r.fixTs;
}
for (const c of car) readings.push({ stream: 'car/accel_ms2', ts: c.ts, value: c.lon * G });
readings.sort((x, y) => x.ts - y.ts);
for (const r of readings) p.push(r);
p.flush();
const dropped = p.stats().dropped;

// 2. The mounting estimate the step makes (same parameters), sample by sample, against the car.
const mount = new Mount(mountParamsOf(step));
let prevFix: { ts: number; v: number } | undefined;
let learnt: { ts: number; source: string } | undefined;
const pairs: Array<{ lon: [number, number]; lat: [number, number] }> = [];
let ci = 0;
for (const r of phone) {
  const h = mount.update(r.ts, [r.a[0] * G, r.a[1] * G, r.a[2] * G], r.w);
  if (useSpeed && r.fixTs !== prevFix?.ts && r.speed >= 0) {
    const dt = (r.fixTs - (prevFix?.ts ?? NaN)) * 1000;
    if (prevFix && dt >= step.speed_interval && dt <= step.max_gap) mount.speedInterval(((r.speed - prevFix.v) * 1000) / dt, dt);
    prevFix = { ts: r.fixTs, v: r.speed };
  }
  const axes = mount.ready(r.ts) ? mount.axes() : undefined;
  if (!axes) continue;
  learnt ??= { ts: r.ts, source: axes.source };
  while (ci + 1 < car.length && car[ci + 1]!.ts <= r.ts) ci++;
  const c = car[ci]!;
  if (Math.abs(c.ts - r.ts) > 200) continue;
  pairs.push({ lon: [dot(h, axes.forward) / G, c.lon], lat: [dot(h, axes.left) / G, c.lat] });
}

function compare(xs: Array<[number, number]>) {
  const n = xs.length;
  const mean = (f: (p: [number, number]) => number) => xs.reduce((s, p) => s + f(p), 0) / n;
  const ma = mean((p) => p[0]);
  const mb = mean((p) => p[1]);
  const cov = mean((p) => (p[0] - ma) * (p[1] - mb));
  const sa = Math.sqrt(mean((p) => (p[0] - ma) ** 2));
  const sb = Math.sqrt(mean((p) => (p[1] - mb) ** 2));
  const rmse = Math.sqrt(mean((p) => (p[0] - p[1]) ** 2));
  return `r ${(cov / (sa * sb)).toFixed(2)}, RMS error ${rmse.toFixed(3)} g (the car's own spread ${sb.toFixed(3)} g)`;
}

const t0 = phone[0]!.ts;
const at = (ts: number) => `${((ts - t0) / 1000).toFixed(1)} s`;
console.log(`drive: ${phone.length} phone samples (${at(phone.at(-1)!.ts)}), ${car.length} car samples; car longitudinal ${Math.min(...car.map((c) => c.lon))} to ${Math.max(...car.map((c) => c.lon))} g, lateral ${Math.min(...car.map((c) => c.lat))} to ${Math.max(...car.map((c) => c.lat))} g`);
console.log(`forward learnt at ${learnt ? `${at(learnt.ts)} from ${learnt.source}` : 'never'}; ${pairs.length} samples compared after that`);
console.log(`longitudinal (phone as the pipeline sees it vs the car): ${compare(pairs.map((x) => x.lon))}`);
console.log(`lateral: ${compare(pairs.map((x) => x.lat))}`);
const hardest = pairs.reduce((m, x) => (x.lon[1] < m.lon[1] ? x : m), pairs[0]!);
console.log(`strongest braking: the car ${hardest.lon[1].toFixed(2)} g, the phone at that moment ${hardest.lon[0].toFixed(2)} g; the phone's strongest ${Math.min(...pairs.map((x) => x.lon[0])).toFixed(2)} g`);
for (const d of ['phone', 'car']) {
  const mine = alerts.filter((a) => a.stream.startsWith(`${d}/`));
  console.log(`harsh events from the ${d}: ${mine.map((a) => `${a.detector} at ${at(a.start)} (peak ${(a.value / G).toFixed(2)} g)`).join(', ') || 'none'}`);
}
console.log(`readings the pipeline dropped: ${JSON.stringify(dropped)}`);
