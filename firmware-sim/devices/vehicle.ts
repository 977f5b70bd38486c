import { Rng, Wander } from '../rng.js';
import { faultEvents, planFaults, type FaultType } from '../faults.js';
import { nmeaSentences } from '../nmea.js';
import { active, progress, type DeviceModel, type FaultEvent, type FaultPlan, type GpsSource } from '../types.js';
import { faultsInRuns, Schedule, type Duty } from '../duty.js';

/**
 * A delivery van: CAN bus values (speed, engine RPM, coolant), a longitudinal accelerometer and
 * a GPS receiver (NMEA 0183 over serial; as numbers over MQTT/CSV). It drives a loop of
 * waypoints around a depot with urban stretches (≤ 50 km/h, stops at lights, idling) and faster
 * ring-road stretches (≤ 100 km/h). Normal driving stays within ±2.5 m/s² and below 105 km/h.
 *
 * | metric | unit |
 * |---|---|
 * | `speed_kmh` | km/h (CAN) |
 * | `accel_ms2` | m/s², longitudinal (+ forward) |
 * | `rpm` | rev/min |
 * | `coolant_c` | °C |
 * | `lat`, `lon` | degrees (empty without a fix) |
 * | `course_deg` | degrees true (empty without a fix) |
 * | `fix_quality` | 0 none, 1 GPS |
 * | `satellites` | satellites used |
 *
 * Events: `harsh_braking` (≤ −5 m/s²), `harsh_acceleration` (≥ +3.5 m/s²), `overspeed`
 * (above 130 km/h), `engine_overheating` (coolant to 110–120 °C), `gps_loss` (a tunnel: fix 0).
 *
 * With `imu` (a phone or aftermarket box in the cab), the van also reports a raw 3-axis
 * accelerometer (`accel_x/y/z`, m/s², specific force: +9.81 up at rest) and gyro (`gyro_x/y/z`,
 * rad/s, right-handed) at the simulation rate, in a mounting rotated at random per van, with road
 * vibration growing with speed, potholes, engine vibration, road grade, sensor noise and bias, the
 * body's pitch under braking and its rebound after a harsh stop; it turns at junctions and bends
 * (lateral ≤ 2.6 m/s²); the CAN/GPS metrics then come once a second. One more event:
 * `harsh_cornering` (lateral 4.4–6 m/s² for 2–4 s).
 *
 * With `phone` the van is tracked by a phone app instead (no CAN bus, no accelerometer): once a
 * second the phone's location — `speed_kmh`, `lat`, `lon`, `course_deg` — as Core Location gives it
 * on a real drive: its speed holds the last value about one report in six while the speed changes
 * and catches up at the next (a fused location), and is −1 without a fix; the course is −1
 * below 1 m/s or without a fix (unknown). Faults: harsh braking and acceleration, overspeed, GPS
 * loss (no coolant: no overheating).
 *
 * With a duty cycle it also parks: when its schedule says stop it brakes to a standstill and
 * switches the engine off (rpm 0, speed 0; the coolant cools towards 15 °C, τ 20 min); the tracker
 * goes on reporting, its position too. At the next start it drives off. Its faults happen while
 * it drives.
 */
export const VEHICLE_METRICS = ['speed_kmh', 'accel_ms2', 'rpm', 'coolant_c', 'lat', 'lon', 'course_deg', 'fix_quality', 'satellites'] as const;
const DECIMALS = [1, 2, 0, 1, 6, 6, 1, 0, 0];
export const IMU_METRICS = ['accel_x', 'accel_y', 'accel_z', 'gyro_x', 'gyro_y', 'gyro_z'] as const;
const IMU_DECIMALS = [3, 3, 3, 4, 4, 4];
const PHONE_METRICS = ['speed_kmh', 'lat', 'lon', 'course_deg'] as const;
const PHONE_DECIMALS = [4, 6, 6, 1];
/** What a van reports with: its CAN bus and GPS receiver; those and a raw IMU; or a phone tracker app alone. */
export type VanSensors = 'can' | 'imu' | 'phone';
const G = 9.80665;
/** Faults start at least this long after the engine starts. */
const FAULT_MARGIN = 2 * 60_000;

export const VEHICLE_FAULTS: readonly FaultType[] = [
  { fault: 'harsh_braking', kind: 'fault', minMs: 2000, maxMs: 3500, metrics: ['accel_ms2', 'speed_kmh'] },
  { fault: 'harsh_acceleration', kind: 'fault', minMs: 2500, maxMs: 4000, metrics: ['accel_ms2', 'speed_kmh'] },
  { fault: 'overspeed', kind: 'fault', minMs: 45_000, maxMs: 120_000, metrics: ['speed_kmh'] },
  { fault: 'engine_overheating', kind: 'fault', minMs: 5 * 60_000, maxMs: 15 * 60_000, metrics: ['coolant_c'] },
  { fault: 'gps_loss', kind: 'fault', minMs: 20_000, maxMs: 90_000, metrics: ['lat', 'lon', 'course_deg', 'fix_quality', 'satellites'] },
];
/** A phone tracker shows the faults its location shows. */
const PHONE_FAULTS: readonly FaultType[] = VEHICLE_FAULTS.filter((f) => f.fault !== 'engine_overheating').map((f) => ({
  ...f,
  metrics: f.metrics.filter((m) => (PHONE_METRICS as readonly string[]).includes(m)),
}));
const HARSH_CORNERING: FaultType = { fault: 'harsh_cornering', kind: 'fault', minMs: 2000, maxMs: 4000, metrics: ['accel_x', 'accel_y', 'accel_z', 'gyro_x', 'gyro_y', 'gyro_z'] };

const M_PER_DEG_LAT = 111_320;
/** Engine rpm per km/h in each gear (1–6). */
const GEAR_RATIOS = [0, 110, 62, 43, 33, 27, 22] as const;
/** One value per IMU axis (x, y, z). */
type Axis = [number, number, number];
const AXES = [0, 1, 2] as const;

interface Waypoint {
  lat: number;
  lon: number;
  /** Cumulative distance (m) from waypoint 0. */
  s: number;
  /** Speed limit of the leg that starts here (km/h). */
  limit: number;
}

export class Vehicle implements DeviceModel, GpsSource {
  readonly domain = 'telematics' as const;
  readonly metrics: readonly string[];
  readonly decimals: readonly number[];
  readonly faults: FaultEvent[];
  private readonly plans: Partial<Record<string, FaultPlan>> = {};
  private readonly rng: Rng;
  private readonly route: Waypoint[] = [];
  private readonly length: number;
  private lastT = NaN;
  private s = 0; // distance along the loop (m)
  private v = 0; // m/s
  private a = 0; // m/s²
  private coolant = 90;
  private stopUntil = -Infinity;
  private nextStop = 0;
  private readonly cruise: number; // driver's preference, fraction of the limit
  private readonly coolW: Wander;
  private readonly altW: Wander;
  private lat = 0;
  private lon = 0;
  /** Course over ground (degrees true); NaN until the first sample. */
  private course = NaN;
  private fix = true;
  private readonly imu: Imu | undefined;
  private readonly phone: Phone | undefined;
  private readonly schedule: Schedule | undefined;

  constructor(readonly id: string, seed: number, start: number, end: number, withFaults: boolean, sensors: VanSensors = 'can', duty?: Duty) {
    const r = (this.rng = new Rng(seed));
    const imu = sensors === 'imu';
    this.metrics = imu ? [...VEHICLE_METRICS, ...IMU_METRICS] : sensors === 'phone' ? PHONE_METRICS : VEHICLE_METRICS;
    this.decimals = imu ? [...DECIMALS, ...IMU_DECIMALS] : sensors === 'phone' ? PHONE_DECIMALS : DECIMALS;
    // a loop of 16 waypoints, 3-6 km from a depot near Reading (UK), jittered per vehicle
    const lat0 = 51.45 + r.uniform(-0.05, 0.05);
    const lon0 = -0.97 + r.uniform(-0.08, 0.08);
    const cos0 = Math.cos((lat0 * Math.PI) / 180);
    let s = 0;
    for (let i = 0; i < 16; i++) {
      const ang = (2 * Math.PI * i) / 16;
      const rad = r.uniform(3000, 6000);
      const lat = lat0 + (rad * Math.cos(ang)) / M_PER_DEG_LAT;
      const lon = lon0 + (rad * Math.sin(ang)) / (M_PER_DEG_LAT * cos0);
      const prev = this.route.at(-1);
      if (prev) s += dist(prev, { lat, lon });
      this.route.push({ lat, lon, s, limit: i % 4 < 2 ? 50 : 100 });
    }
    const [first] = this.route;
    const last = this.route.at(-1);
    this.length = first && last ? s + dist(last, first) : s;
    this.s = r.uniform(0, this.length);
    this.cruise = r.uniform(0.88, 1.0);
    this.coolW = new Wander(r, 300, 1.2);
    this.altW = new Wander(r, 120, 3);
    this.nextStop = start + r.uniform(30_000, 120_000);
    const types = imu ? [...VEHICLE_FAULTS, HARSH_CORNERING] : VEHICLE_FAULTS;
    if (duty) this.schedule = new Schedule(duty, new Rng(seed ^ 0xd07));
    let plans = withFaults ? planFaults(new Rng(seed ^ 0x5eed), types, start, end) : [];
    if (this.schedule) plans = faultsInRuns(plans, this.schedule.runsBetween(start, end), FAULT_MARGIN);
    // a phone sees what its location shows: the same drive as with the van's own sensors, less its engine's faults
    if (sensors === 'phone') plans = plans.filter((p) => PHONE_FAULTS.some((f) => f.fault === p.fault));
    for (const p of plans) this.plans[p.fault] = p;
    this.faults = faultEvents(id, 'telematics', sensors === 'phone' ? PHONE_FAULTS : types, plans);
    if (imu) this.imu = new Imu(new Rng(seed ^ 0x1a11), start);
    if (sensors === 'phone') this.phone = new Phone(new Rng(seed ^ 0x9407e));
  }

  private leg(): { i: number; f: number } {
    // per sample: i stays in [0, route.length), so the route reads below are safe
    const s = this.s;
    let i = this.route.length - 1;
    while (i > 0 && this.route[i]!.s > s) i--;
    const a = this.route[i]!;
    const bS = i + 1 < this.route.length ? this.route[i + 1]!.s : this.length;
    return { i, f: (s - a.s) / Math.max(1, bS - a.s) };
  }

  sample(t: number, values: Float64Array): void {
    const out = this.phone ? this.phone.scratch : values;
    const dt = Number.isNaN(this.lastT) ? 0.001 : Math.max(1e-3, (t - this.lastT) / 1000);
    this.lastT = t;
    const r = this.rng;
    const P = this.plans;
    const { i, f } = this.leg(); // i indexes the route (the `route[i]!` below)
    const limit = this.route[i]!.limit;

    // what the driver wants
    let target = (limit / 3.6) * this.cruise;
    if (limit <= 50) {
      if (t >= this.nextStop) {
        this.stopUntil = t + r.uniform(10_000, 40_000);
        this.nextStop = this.stopUntil + r.uniform(40_000, 180_000);
      }
      if (t < this.stopUntil) target = 0;
    }
    const near = (p: FaultPlan | undefined, before: number) => p !== undefined && t >= p.start - before && t < p.start;
    if (near(P.harsh_braking, 40_000)) target = Math.max(target, 70 / 3.6);
    if (near(P.harsh_acceleration, 25_000)) target = 8 / 3.6;
    if (near(P.harsh_cornering, 30_000) || (P.harsh_cornering && active(P.harsh_cornering, t))) target = Math.max(target, 55 / 3.6);
    if (P.overspeed && active(P.overspeed, t)) target = (135 + 15 * P.overspeed.severity) / 3.6;
    const parking = this.schedule !== undefined && !this.schedule.runs(t);
    if (parking) target = 0;

    let a = Math.max(-2.2, Math.min(1.8, 0.4 * (target - this.v)));
    if (P.harsh_braking && active(P.harsh_braking, t)) a = -(5.2 + 2 * P.harsh_braking.severity);
    if (P.harsh_acceleration && active(P.harsh_acceleration, t)) a = 3.6 + 1.4 * P.harsh_acceleration.severity;
    // smooth jerk (a driver does not step the pedal), except in the harsh events
    const braking = P.harsh_braking !== undefined && active(P.harsh_braking, t);
    const harsh = braking || (P.harsh_acceleration && active(P.harsh_acceleration, t));
    // brake pressure and throttle build up in ~0.15 s in a harsh event (instant at 1 Hz), a driver's pedal in ~0.8 s
    this.a = this.a + (a - this.a) * Math.min(1, dt / (harsh ? 0.15 : 0.8));
    this.v = Math.max(0, this.v + this.a * dt);
    if (this.v === 0 && this.a < 0) this.a = 0;
    this.s = (this.s + this.v * dt) % this.length;

    // position on the leg
    const A = this.route[i]!;
    const B = this.route[(i + 1) % this.route.length]!;
    this.lat = A.lat + (B.lat - A.lat) * f;
    this.lon = A.lon + (B.lon - A.lon) * f;
    this.course = this.turnToward(bearing(A, B), dt);
    this.fix = !(P.gps_loss && active(P.gps_loss, t));

    // engine; parked: once it has (all but) stopped, the driver switches off
    const engineOff = parking && this.v < 0.3;
    if (engineOff) this.v = this.a = 0;
    const kmh = this.v * 3.6;
    const gear = kmh < 15 ? 1 : kmh < 30 ? 2 : kmh < 50 ? 3 : kmh < 70 ? 4 : kmh < 90 ? 5 : 6;
    const ratio = GEAR_RATIOS[gear];
    this.altW.step(dt);
    const rpm = engineOff ? 0 : Math.max(760, kmh * ratio * (1 + 0.08 * Math.max(0, this.a) / 2)) + r.normal(0, 12);
    let coolTarget = engineOff ? 15 : 89 + 4 * Math.min(1, rpm / 4000) + this.coolW.step(dt);
    if (P.engine_overheating && t >= P.engine_overheating.start) {
      const k = t < P.engine_overheating.end ? progress(P.engine_overheating, t) : Math.exp(-(t - P.engine_overheating.end) / 60_000);
      coolTarget += (20 + 10 * P.engine_overheating.severity) * k;
    }
    this.coolant += (coolTarget - this.coolant) * (1 - Math.exp(-dt / (engineOff ? 1200 : 30)));

    const slow = this.imu ? this.imu.slowTick(t) : true;
    if (this.imu) this.imu.sample(t, dt, this.v, this.a, braking, rpm, P.harsh_cornering, out, VEHICLE_METRICS.length);
    out[0] = Math.max(0, kmh + (kmh > 0 ? r.normal(0, 0.2) : 0));
    out[1] = this.a + r.normal(0, 0.12);
    out[2] = rpm;
    out[3] = this.coolant + r.normal(0, 0.1);
    if (this.fix) {
      out[4] = this.lat + r.normal(0, 2e-5);
      out[5] = this.lon + r.normal(0, 3e-5);
      out[6] = this.course;
      out[7] = 1;
      out[8] = 9 + Math.round(2 * Math.sin(t / 600_000));
    } else {
      out[4] = out[5] = out[6] = NaN;
      out[7] = 0;
      out[8] = 0;
    }
    if (!slow) for (let m = 0; m < VEHICLE_METRICS.length; m++) out[m] = NaN;
    if (this.phone) this.phone.report(t, this.v, this.a, this.fix, out, values);
  }

  /**
   * The course turns toward the leg's bearing as a van rounds a corner (lateral acceleration at
   * most 2.6 m/s², as the IMU's turns), not in one sample at a waypoint: a GPS course that jumped
   * 20–40° in a second at 100 km/h would be a 10 m/s² turn.
   */
  private turnToward(want: number, dt: number): number {
    if (Number.isNaN(this.course)) return want;
    const turn = ((((want - this.course) % 360) + 540) % 360) - 180;
    const step = ((Math.min(0.5, 2.6 / Math.max(this.v, 1)) * 180) / Math.PI) * dt;
    return (this.course + Math.max(-step, Math.min(step, turn)) + 360) % 360;
  }

  /** GGA, RMC and VTG for the last sample (call after `sample(t)`). */
  nmea(t: number): string[] {
    return nmeaSentences({
      t,
      fix: this.fix,
      lat: this.lat,
      lon: this.lon,
      altitudeM: 60 + this.altW.x,
      speedKmh: this.v * 3.6,
      courseDeg: this.course,
      satellites: 9 + Math.round(2 * Math.sin(t / 600_000)),
      hdop: 0.9,
    });
  }
}

/**
 * The van's inertial sensor: a phone or box in the cab, mounted at a random rotation. Vehicle frame
 * x forward, y left, z up; it measures specific force (+g up at rest) and angular rate in its own
 * axes (sensor = M · vehicle). Its own random stream, so the CAN/GPS values are the same with or
 * without it.
 */
class Imu {
  private readonly m: [Axis, Axis, Axis];
  private readonly bias: Axis;
  private readonly gbias: Axis;
  private readonly grade: Wander;
  private nextTurn: number;
  private turnStart = 0;
  private turnEnd = 0;
  private turnRate = 0;
  private brakeWas = false;
  private brakeA = 0;
  private brakeEnd = -Infinity;
  private potholeEnd = -Infinity;
  private jolt = 0;
  private second = -1;

  constructor(private readonly r: Rng, start: number) {
    const yaw = r.uniform(0, 2 * Math.PI);
    const pitch = r.uniform(-1.4, 1.4);
    const roll = r.uniform(-Math.PI, Math.PI);
    const [cy, sy, cp, sp, cr, sr] = [Math.cos(yaw), Math.sin(yaw), Math.cos(pitch), Math.sin(pitch), Math.cos(roll), Math.sin(roll)];
    // Rz(yaw) · Ry(pitch) · Rx(roll)
    this.m = [
      [cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
      [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
      [-sp, cp * sr, cp * cr],
    ];
    this.bias = [r.uniform(-0.15, 0.15), r.uniform(-0.15, 0.15), r.uniform(-0.15, 0.15)];
    this.gbias = [r.uniform(-0.01, 0.01), r.uniform(-0.01, 0.01), r.uniform(-0.01, 0.01)];
    this.grade = new Wander(r, 60, 0.03);
    this.nextTurn = start + r.uniform(10_000, 40_000);
  }

  /** CAN and GPS values go once a second (on the first tick of each second). */
  slowTick(t: number): boolean {
    const s = Math.floor(t / 1000);
    if (s === this.second) return false;
    this.second = s;
    return true;
  }

  sample(t: number, dt: number, v: number, a: number, braking: boolean, rpm: number, corner: FaultPlan | undefined, out: Float64Array, at: number): void {
    const r = this.r;
    // turns: junctions and bends at ≤ 2.6 m/s², a trapezoid of yaw rate; harsh cornering in its fault window
    let yaw = 0;
    if (corner && active(corner, t)) {
      yaw = (4.4 + 1.6 * corner.severity) / Math.max(v, 5) * trapezoid(t, corner.start, corner.end);
    } else {
      if (t >= this.turnEnd && t >= this.nextTurn && v > 3) {
        const peak = r.uniform(1.0, 2.6);
        this.turnRate = (r.next() < 0.5 ? -1 : 1) * peak / v;
        const angle = r.uniform(Math.PI / 6, Math.PI / 2);
        this.turnStart = t;
        this.turnEnd = t + Math.min(30_000, (1000 * angle) / (0.8 * Math.abs(this.turnRate)));
        this.nextTurn = this.turnEnd + r.uniform(15_000, 90_000);
      }
      if (t < this.turnEnd) {
        yaw = this.turnRate * trapezoid(t, this.turnStart, this.turnEnd);
        if (v * Math.abs(yaw) > 2.8) yaw *= 2.8 / (v * Math.abs(yaw)); // the driver eases off if the van sped up in the turn
      }
    }
    const lat = v * yaw;
    // the body rocks back after a harsh stop: a damped pitch oscillation seen as a forward pulse
    if (braking && !this.brakeWas) this.brakeA = 0;
    if (braking) this.brakeA = Math.min(this.brakeA, a);
    if (this.brakeWas && !braking) this.brakeEnd = t;
    this.brakeWas = braking;
    const tb = (t - this.brakeEnd) / 1000;
    const rebound = tb >= 0 && tb < 2 ? -0.5 * this.brakeA * Math.exp(-tb / 0.3) * Math.cos(2 * Math.PI * 0.9 * tb) : 0;
    // potholes (about one every 2 minutes when moving): 60 ms, mostly vertical
    if (v > 3 && t > this.potholeEnd && r.next() < dt / 120) {
      this.potholeEnd = t + 60;
      this.jolt = r.uniform(6, 10);
    }
    const hole = t < this.potholeEnd ? this.jolt : 0;
    const lon = a + rebound;
    const pitch = -0.008 * lon + this.grade.step(dt); // nose dives under braking, plus the road's grade
    // the road shakes a rolling body (a standing one shows the engine and the sensor's noise only:
    // on the real drive in docs/domains.md its spread was a seventh of rolling)
    const road = 0.3 * Math.min(1, v / 2) + 0.04 * v;
    const engine = 0.15 * Math.sin((2 * Math.PI * 2 * rpm * t) / 60_000);
    const fx = lon - G * Math.sin(pitch) + 0.15 * road * r.gauss() + engine - 0.5 * hole;
    const fy = lat + 0.15 * road * r.gauss() + engine;
    const fz = G * Math.cos(pitch) + road * r.gauss() + engine + hole;
    const wx = 0.004 * r.gauss();
    const wy = 0.004 * r.gauss();
    const wz = yaw + 0.004 * r.gauss();
    const m = this.m;
    for (const i of AXES) {
      const [mx, my, mz] = m[i];
      out[at + i] = mx * fx + my * fy + mz * fz + this.bias[i] + 0.04 * r.gauss();
      out[at + 3 + i] = mx * wx + my * wy + mz * wz + this.gbias[i];
    }
  }
}

/** 0 → 1 over the first 15 % of [a, b), 1, then → 0 over the last 15 %. */
function trapezoid(t: number, a: number, b: number): number {
  const u = (t - a) / Math.max(1, b - a);
  return Math.max(0, Math.min(1, u / 0.15, (1 - u) / 0.15));
}

function dist(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const cos = Math.cos(((a.lat + b.lat) / 2) * (Math.PI / 180));
  const dy = (b.lat - a.lat) * M_PER_DEG_LAT;
  const dx = (b.lon - a.lon) * M_PER_DEG_LAT * cos;
  return Math.hypot(dx, dy);
}

function bearing(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const cos = Math.cos(((a.lat + b.lat) / 2) * (Math.PI / 180));
  const deg = (Math.atan2((b.lon - a.lon) * cos, b.lat - a.lat) * 180) / Math.PI;
  return (deg + 360) % 360;
}

/**
 * A phone tracker app's location, once a second: its speed is a fused estimate that, while the
 * speed changes (at 1 m/s or more), about one report in six holds the last value and catches up at the next (as the
 * iPhone of the real drive in docs/domains.md did); unknown values are −1, as Core Location
 * reports them.
 */
class Phone {
  /** The van's full sample, from which the phone reports. */
  readonly scratch = new Float64Array(VEHICLE_METRICS.length);
  private second = NaN;
  private lastKmh = NaN;

  constructor(private readonly rng: Rng) {}

  report(t: number, v: number, a: number, fix: boolean, full: Float64Array, out: Float64Array): void {
    const s = Math.floor(t / 1000);
    if (s === this.second) {
      out.fill(NaN);
      return;
    }
    this.second = s;
    const held = Math.abs(a) >= 0.3 && this.lastKmh >= 3.6 && this.rng.uniform(0, 1) < 1 / 6;
    const kmh = held ? this.lastKmh : Math.max(0, v * 3.6 + (v > 0 ? this.rng.normal(0, 0.8) : 0));
    this.lastKmh = fix ? kmh : NaN;
    out[0] = fix ? kmh : -1;
    out[1] = full[4]!;
    out[2] = full[5]!;
    out[3] = fix && v >= 1 ? full[6]! : -1;
  }
}
