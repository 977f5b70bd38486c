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
 * Then the phone as a 1 Hz tracker that sends only its GPS speed and course: the lateral
 * acceleration the step takes from the course (speed × turn rate over `course_span`) against the
 * car's lateral g over the same seconds, and the harsh events raised, at `course_span` 3 s (the
 * default) and 1 s, and with `speed_interval` 2 s (a phone's GPS speed differenced over 1 s makes
 * harsh brakes and accelerations the car's sensor does not show).
 *
 *   npx tsx bench/telematics-drive.ts --data /path/to/smartphone_driving_dataset [--no-speed] [--no-gyro] [--sensor-time] [--mean MS]
 *
 * --no-speed withholds the phone's GPS speed, --no-gyro its gyro: with neither, forward comes
 * from the drive's stops and starts (src/domain/telematics/stops.ts).
 *
 * --sensor-time stamps the accelerometer and the gyro each with its own sensor time (as a phone's
 * sensor events come; this iPhone's logger reads both at once, yet one gyro value in 24 is the
 * previous one, 0.1 s older) instead of the row's logging time.
 *
 * --world turns every accelerometer and gyro reading into the phone's attitude reference frame (its
 * logged quaternion: z vertical, x fixed but arbitrary), as loggers that write Earth axes do, and
 * runs the step with `frame: world` (the heading followed from the gyro).
 *
 * --mean MS feeds the accelerometer and gyro averaged over each MS (1000: a logger's per-second means).
 *
 * --lift T,T,... turns the phone by hand at each time T (s from the start), into the real readings:
 * 40° about its y axis (its z axis at every second T) over 0.5 s, held 1 s, and back over 0.5 s;
 * the gyro reads the turn, the accelerometer a hand's push of 4 m/s² along the phone's x axis
 * (this phone's vertical). Real road, engine and body motion with a turn by hand in it: no harsh
 * event should come of it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadPipelineFile } from '../src/config/load.js';
import { compilePipeline } from '../src/compile.js';
import type { AlertRecord } from '../src/core/records.js';
import { WorldHeading } from '../src/domain/telematics/heading.js';
import { G, Mount } from '../src/domain/telematics/imu.js';
import { apply, rot, turnRate } from '../test/domain/telematics-signals.js';
import { dot, type Vec3 } from '../src/domain/telematics/vec.js';
import type { TelematicsStepSpec } from '../src/domain/telematics/schema.js';
import { TelematicsOperator, mountParamsOf } from '../src/domain/telematics/step.js';

const { values } = parseArgs({ options: { data: { type: 'string', default: process.env.EDGEWISE_DRIVE ?? '/tmp/drive' }, 'no-speed': { type: 'boolean', default: false }, 'sensor-time': { type: 'boolean', default: false }, 'no-gyro': { type: 'boolean', default: false }, world: { type: 'boolean', default: false }, mean: { type: 'string', default: '0' }, lift: { type: 'string', default: '' } } });
/** A device-frame vector in the attitude's reference frame: q v q* (q: the logged attitude quaternion, x y z w). */
function toReference(q: number[], v: Vec3): Vec3 {
  const [x, y, z, w] = q as [number, number, number, number];
  const tx = 2 * (y * v[2] - z * v[1]);
  const ty = 2 * (z * v[0] - x * v[2]);
  const tz = 2 * (x * v[1] - y * v[0]);
  return [v[0] + w * tx + (y * tz - z * ty), v[1] + w * ty + (z * tx - x * tz), v[2] + w * tz + (x * ty - y * tx)];
}
const useGyro = !values['no-gyro'];
// --no-speed: the phone's GPS speed withheld, forward then comes from turns (the gyro)
const useSpeed = !values['no-speed'];
/** Rows by column name (these files quote nothing). */
function rows(file: string): Array<Record<string, string>> {
  const [head, ...lines] = readFileSync(join(values.data!, file), 'utf8').split('\n').filter((l) => l.trim() !== '');
  const cols = head!.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
}
const wall = (s: string) => Date.parse(`${s.replace(' ', 'T')}Z`);

const phone = rows('dataset1_phone.csv').map((r) => {
  const q = ['X', 'Y', 'Z', 'W'].map((k) => Number(r[`motionQuaternion${k}(R)`]));
  const frame = (v: Vec3) => (values.world ? toReference(q, v) : v);
  return {
  ts: wall(r['loggingTime(txt)']!),
  a: frame([Number(r['accelerometerAccelerationX(G)']), Number(r['accelerometerAccelerationY(G)']), Number(r['accelerometerAccelerationZ(G)'])]),
  w: frame([Number(r['gyroRotationX(rad/s)']), Number(r['gyroRotationY(rad/s)']), Number(r['gyroRotationZ(rad/s)'])]),
  aTs: Number(r['accelerometerTimestamp_sinceReboot(s)']) * 1000,
  wTs: Number(r['gyroTimestamp_sinceReboot(s)']) * 1000,
  fixTs: Number(r['locationTimestamp_since1970(s)']),
  speed: Number(r['locationSpeed(m/s)']),
  course: Number(r['locationCourse(°)']),
  };
});
// --mean MS: the accelerometer and gyro averaged over each MS (stamped at its end), as a logger
// that decimates writes them; the speed as it is (the span's last row)
if (Number(values.mean) > 0) {
  const ms = Number(values.mean);
  const spans = new Map<number, typeof phone>();
  for (const r of phone) {
    const t = Math.floor(r.ts / ms) * ms + ms;
    const list = spans.get(t) ?? [];
    list.push(r);
    spans.set(t, list);
  }
  const avg = (list: typeof phone, k: 'a' | 'w'): Vec3 => [0, 1, 2].map((i) => list.reduce((s, r) => s + r[k][i]!, 0) / list.length) as Vec3;
  phone.splice(0, phone.length, ...[...spans].map(([t, list]) => ({ ...list.at(-1)!, ts: t, a: avg(list, 'a'), w: avg(list, 'w') })));
}
// --lift: the phone turned by hand at these times (s from the start), back after 1 s
const lifts = values.lift ? values.lift.split(',').map(Number) : [];
if (lifts.length) {
  const t0 = phone[0]!.ts;
  /** The turn's angles (degrees: about z, y, x) at t (s), and the hand's push (m/s²). */
  const turnAt = (t: number): { angles: [number, number, number]; push: number } => {
    for (const [i, at] of lifts.entries()) {
      const u = t - at;
      if (u < 0 || u >= 2) continue;
      const f = u < 0.5 ? u / 0.5 : u < 1.5 ? 1 : (2 - u) / 0.5;
      const push = u < 0.5 || u >= 1.5 ? 4 * Math.sin((2 * Math.PI * (u % 1.5)) / 0.5) : 0;
      return { angles: i % 2 === 0 ? [0, 40 * f, 0] : [40 * f, 0, 0], push };
    }
    return { angles: [0, 0, 0], push: 0 };
  };
  for (const r of phone) {
    const t = (r.ts - t0) / 1000;
    const { angles, push } = turnAt(t);
    const S = rot(...angles);
    const rel = turnRate(S, rot(...turnAt(t + 0.01).angles), 0.01);
    r.a = apply(S, [r.a[0] + push / G, r.a[1], r.a[2]]) as Vec3;
    r.w = apply(S, r.w).map((x, i) => x + rel[i]!) as Vec3;
  }
}
const car = rows('dataset1_car.csv').map((r) => ({ ts: wall(r.Time!), lon: Number(r['Acceleration Gs']), lat: Number(r['Lateral Gs']), mph: Number(r['Speed (MPH)']) }));

const spec = loadPipelineFile(join(import.meta.dirname, '../pipelines/telematics.yaml'));
const step = (spec.steps[0] as { telematics: TelematicsStepSpec }).telematics;
step.accel_unit = 'g';
step.speed_unit = 'm/s';
if (values.world) step.frame = 'world';

/** A phone sample as the step sees it (m/s², rad/s): with --world, turned back by the heading it follows from the gyro (none before a rate is known). */
function sampleOf(heading: WorldHeading | undefined, r: (typeof phone)[number]): { a: Vec3; w: Vec3 } | undefined {
  const a: Vec3 = [r.a[0] * G, r.a[1] * G, r.a[2] * G];
  if (!heading) return { a, w: r.w };
  if (!heading.advance(r.ts, r.w[2], r.ts)) return undefined;
  return { a: heading.toVehicle(a), w: heading.toVehicle(r.w) };
}

// 1. The pipeline as shipped (units set for this phone) on the phone alone; the car's longitudinal
//    channel as a second vehicle through the same rules.
const alerts: AlertRecord[] = [];
const p = compilePipeline(spec, (e) => {
  if (e.kind === 'alert' && e.alert.state === 'raised') alerts.push(e.alert);
});
const readings: Array<{ stream: string; ts: number; value: number }> = [];
let lastFix = NaN;
// sensor time → wall time, by the first row
const sensorToWall = phone[0]!.ts - phone[0]!.aTs;
for (const r of phone) {
  const [aTs, wTs] = values['sensor-time'] ? [Math.round(r.aTs + sensorToWall), Math.round(r.wTs + sensorToWall)] : [r.ts, r.ts];
  ['x', 'y', 'z'].forEach((ax, i) => {
    readings.push({ stream: `phone/accel_${ax}`, ts: aTs, value: r.a[i]! });
    if (useGyro) readings.push({ stream: `phone/gyro_${ax}`, ts: wTs, value: r.w[i]! });
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
const mountHeading = values.world ? new WorldHeading() : undefined;
let prevFix: { ts: number; v: number } | undefined;
let learnt: { ts: number; source: string } | undefined;
const pairs: Array<{ lon: [number, number]; lat: [number, number] }> = [];
let ci = 0;
for (const r of phone) {
  const s = sampleOf(mountHeading, r);
  if (!s) continue;
  const h = mount.update(r.ts, s.a, useGyro ? s.w : undefined);
  if (useSpeed && r.fixTs !== prevFix?.ts && r.speed >= 0) {
    const dt = (r.fixTs - (prevFix?.ts ?? NaN)) * 1000;
    if (prevFix && dt >= step.speed_interval && dt <= step.max_gap) mount.speedInterval(((r.speed - prevFix.v) * 1000) / dt, dt, r.ts);
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
// the car's own forward in the phone's axes, as the reference: Σ h × the car's longitudinal g
// over the drive (h as the step sees it, gravity known)
const ref = new Mount(mountParamsOf(step));
const refHeading = values.world ? new WorldHeading() : undefined;
const carFwd: Vec3 = [0, 0, 0];
let cj = 0;
for (const r of phone) {
  const s = sampleOf(refHeading, r);
  if (!s) continue;
  const h = ref.update(r.ts, s.a, undefined);
  while (cj + 1 < car.length && car[cj + 1]!.ts <= r.ts) cj++;
  if (!ref.ready(r.ts) || Math.abs(car[cj]!.ts - r.ts) > 200) continue;
  for (let i = 0; i < 3; i++) carFwd[i]! += h[i]! * car[cj]!.lon;
}
const degFromCar = (f: Vec3) => ((Math.acos(Math.max(-1, Math.min(1, dot(f, carFwd) / Math.sqrt(dot(carFwd, carFwd))))) * 180) / Math.PI).toFixed(1);
// the step itself, as the pipeline runs it (its stale-speed handling included): forward at the end
const op = new TelematicsOperator(step);
const quiet = { pipeline: 'drive', reading() {}, result() {}, emit() {}, drop() {} };
for (const r of readings) if (r.stream.startsWith('phone/')) op.reading(r, quiet as never);
const stepStatus = op.status().find((v) => v.vehicle === 'phone');
const stepFwd = stepStatus?.forwardAxis;
const mine = mount.axes();
const apart = mine ? `; at the end the step's forward is ${stepFwd ? `${degFromCar(stepFwd)}°` : 'unknown'} from the car's own (the direction of h that goes with its longitudinal g; this replay's, below: ${degFromCar(mine.forward)}°)` : '';
const lag = stepStatus?.speedLag === undefined ? '' : ` (the speed paired with the acceleration ${stepStatus.speedLag / 1000} s before it)`;
console.log(`forward learnt at ${learnt ? `${at(learnt.ts)} from ${learnt.source}` : 'never'}${apart}${lag}; ${pairs.length} samples compared after that`);
console.log(`longitudinal (phone as the pipeline sees it vs the car): ${compare(pairs.map((x) => x.lon))}`);
console.log(`lateral: ${compare(pairs.map((x) => x.lat))}`);
const hardest = pairs.reduce((m, x) => (x.lon[1] < m.lon[1] ? x : m), pairs[0]!);
console.log(`strongest braking: the car ${hardest.lon[1].toFixed(2)} g, the phone at that moment ${hardest.lon[0].toFixed(2)} g; the phone's strongest ${Math.min(...pairs.map((x) => x.lon[0])).toFixed(2)} g`);
for (const d of ['phone', 'car']) {
  const mine = alerts.filter((a) => a.stream.startsWith(`${d}/`));
  console.log(`harsh events from the ${d}: ${mine.map((a) => `${a.detector} at ${at(a.start)} (peak ${(a.value / G).toFixed(2)} g)`).join(', ') || 'none'}`);
}
console.log(`readings the pipeline dropped: ${JSON.stringify(dropped)}; the step's counters: ${JSON.stringify(p.stats().operators)}`);

// 3. The phone as a 1 Hz tracker: GPS speed and course only, stamped with the fix's time (the car's
//    clock is local time, UTC−5). Lateral acceleration from the course against the car's.
const fixes: Array<{ ts: number; speed: number; course: number }> = [];
for (const r of phone) {
  const ts = Math.round(r.fixTs * 1000) - 5 * 3_600_000; // whole ms, as a tracker stamps them
  if (ts !== fixes.at(-1)?.ts && r.speed >= 0 && r.course >= 0) fixes.push({ ts, speed: r.speed, course: r.course });
}
/** The car's strongest longitudinal (or lateral, for cornering) g in the second before an alert from the tracker. */
const carPeak = (a: AlertRecord) => {
  const seg = car.filter((c) => c.ts > a.start - 1000 && c.ts <= a.start).map((c) => (a.detector === 'harsh_cornering' ? Math.abs(c.lat) : a.detector === 'harsh_braking' ? -c.lon : c.lon));
  return seg.length ? Math.max(...seg).toFixed(2) : '?';
};
for (const [spanS, speedS] of [[3, 1], [1, 1], [3, 2]] as const) {
  const tspec = loadPipelineFile(join(import.meta.dirname, '../pipelines/telematics.yaml'));
  const ts = (tspec.steps[0] as { telematics: TelematicsStepSpec }).telematics;
  ts.speed_unit = 'm/s';
  ts.course_span = spanS * 1000;
  ts.speed_interval = speedS * 1000;
  const raised: AlertRecord[] = [];
  const tp = compilePipeline(tspec, (e) => {
    if (e.kind === 'alert' && e.alert.state === 'raised' && e.alert.detector.startsWith('harsh')) raised.push(e.alert);
  });
  for (const f of fixes) {
    tp.push({ stream: 'tracker/speed_kmh', ts: f.ts, value: f.speed });
    tp.push({ stream: 'tracker/course_deg', ts: f.ts, value: f.course });
  }
  tp.flush();
  // the same estimate, second by second, against the car's mean lateral g over the span
  const lat: Array<[number, number]> = [];
  for (let i = spanS; i < fixes.length; i++) {
    const win = fixes.slice(i - spanS, i + 1);
    if (win.some((f) => f.speed < ts.course_min_speed) || win.at(-1)!.ts - win[0]!.ts > (spanS + 0.5) * 1000) continue;
    let turn = 0;
    for (let j = 1; j < win.length; j++) turn += ((((win[j]!.course - win[j - 1]!.course) % 360) + 540) % 360) - 180;
    const v = win.reduce((s, f) => s + f.speed, 0) / win.length;
    const seg = car.filter((c) => c.ts >= win[0]!.ts && c.ts < win.at(-1)!.ts);
    if (seg.length === 0) continue;
    // the car's lateral g is + to the right of travel here: the course's turn (clockwise +) matches it
    lat.push([(v * ((turn * Math.PI) / 180) * 1000) / (win.at(-1)!.ts - win[0]!.ts) / G, seg.reduce((s, c) => s + c.lat, 0) / seg.length]);
  }
  const worst = Math.max(...lat.map(([a]) => Math.abs(a)));
  console.log(`1 Hz tracker (speed + course), course_span ${spanS} s, speed_interval ${speedS} s: ${lat.length} spans at ≥ ${ts.course_min_speed} m/s, lateral from the course vs the car: ${compare(lat)}; strongest from the course ${worst.toFixed(2)} g, from the car ${Math.max(...lat.map(([, b]) => Math.abs(b))).toFixed(2)} g; harsh events: ${raised.map((a) => `${a.detector} at ${at(a.start)} (peak ${(a.value / G).toFixed(2)} g; the car's strongest in the second before: ${carPeak(a)} g)`).join(', ') || 'none'}`);
}
