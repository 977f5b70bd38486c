import { Rng, Wander } from '../rng.js';
import { faultEvents, planFaults, type FaultType } from '../faults.js';
import { nmeaSentences } from '../nmea.js';
import { active, progress, type DeviceModel, type FaultEvent, type FaultPlan, type GpsSource } from '../types.js';

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
 */
export const VEHICLE_METRICS = ['speed_kmh', 'accel_ms2', 'rpm', 'coolant_c', 'lat', 'lon', 'course_deg', 'fix_quality', 'satellites'] as const;
const DECIMALS = [1, 2, 0, 1, 6, 6, 1, 0, 0];

export const VEHICLE_FAULTS: readonly FaultType[] = [
  { fault: 'harsh_braking', kind: 'fault', minMs: 2000, maxMs: 3500, metrics: ['accel_ms2', 'speed_kmh'] },
  { fault: 'harsh_acceleration', kind: 'fault', minMs: 2500, maxMs: 4000, metrics: ['accel_ms2', 'speed_kmh'] },
  { fault: 'overspeed', kind: 'fault', minMs: 45_000, maxMs: 120_000, metrics: ['speed_kmh'] },
  { fault: 'engine_overheating', kind: 'fault', minMs: 5 * 60_000, maxMs: 15 * 60_000, metrics: ['coolant_c'] },
  { fault: 'gps_loss', kind: 'fault', minMs: 20_000, maxMs: 90_000, metrics: ['lat', 'lon', 'course_deg', 'fix_quality', 'satellites'] },
];

const M_PER_DEG_LAT = 111_320;

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
  readonly metrics = VEHICLE_METRICS;
  readonly decimals = DECIMALS;
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
  private course = 0;
  private fix = true;

  constructor(readonly id: string, seed: number, start: number, end: number, withFaults: boolean) {
    const r = (this.rng = new Rng(seed));
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
      if (i > 0) s += dist(this.route[i - 1]!, { lat, lon });
      this.route.push({ lat, lon, s, limit: i % 4 < 2 ? 50 : 100 });
    }
    this.length = s + dist(this.route[15]!, this.route[0]!);
    this.s = r.uniform(0, this.length);
    this.cruise = r.uniform(0.88, 1.0);
    this.coolW = new Wander(r, 300, 1.2);
    this.altW = new Wander(r, 120, 3);
    this.nextStop = start + r.uniform(30_000, 120_000);
    const plans = withFaults ? planFaults(new Rng(seed ^ 0x5eed), VEHICLE_FAULTS, start, end) : [];
    for (const p of plans) this.plans[p.fault] = p;
    this.faults = faultEvents(id, 'telematics', VEHICLE_FAULTS, plans);
  }

  private leg(): { i: number; f: number } {
    const s = this.s;
    let i = this.route.length - 1;
    while (i > 0 && this.route[i]!.s > s) i--;
    const a = this.route[i]!;
    const bS = i + 1 < this.route.length ? this.route[i + 1]!.s : this.length;
    return { i, f: (s - a.s) / Math.max(1, bS - a.s) };
  }

  sample(t: number, out: Float64Array): void {
    const dt = Number.isNaN(this.lastT) ? 0.001 : Math.max(1e-3, (t - this.lastT) / 1000);
    this.lastT = t;
    const r = this.rng;
    const P = this.plans;
    const { i, f } = this.leg();
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
    if (P.overspeed && active(P.overspeed, t)) target = (135 + 15 * P.overspeed.severity) / 3.6;

    let a = Math.max(-2.2, Math.min(1.8, 0.4 * (target - this.v)));
    if (P.harsh_braking && active(P.harsh_braking, t)) a = -(5.2 + 2 * P.harsh_braking.severity);
    if (P.harsh_acceleration && active(P.harsh_acceleration, t)) a = 3.6 + 1.4 * P.harsh_acceleration.severity;
    // smooth jerk (a driver does not step the pedal), except in the harsh events
    const harsh = (P.harsh_braking && active(P.harsh_braking, t)) || (P.harsh_acceleration && active(P.harsh_acceleration, t));
    this.a = harsh ? a : this.a + (a - this.a) * Math.min(1, dt / 0.8);
    this.v = Math.max(0, this.v + this.a * dt);
    if (this.v === 0 && this.a < 0) this.a = 0;
    this.s = (this.s + this.v * dt) % this.length;

    // position on the leg
    const A = this.route[i]!;
    const B = this.route[(i + 1) % this.route.length]!;
    this.lat = A.lat + (B.lat - A.lat) * f;
    this.lon = A.lon + (B.lon - A.lon) * f;
    this.course = bearing(A, B);
    this.fix = !(P.gps_loss && active(P.gps_loss, t));

    // engine
    const kmh = this.v * 3.6;
    const gear = kmh < 15 ? 1 : kmh < 30 ? 2 : kmh < 50 ? 3 : kmh < 70 ? 4 : kmh < 90 ? 5 : 6;
    const ratio = [0, 110, 62, 43, 33, 27, 22][gear]!;
    this.altW.step(dt);
    const rpm = Math.max(760, kmh * ratio * (1 + 0.08 * Math.max(0, this.a) / 2)) + r.normal(0, 12);
    let coolTarget = 89 + 4 * Math.min(1, rpm / 4000) + this.coolW.step(dt);
    if (P.engine_overheating && t >= P.engine_overheating.start) {
      const k = t < P.engine_overheating.end ? progress(P.engine_overheating, t) : Math.exp(-(t - P.engine_overheating.end) / 60_000);
      coolTarget += (20 + 10 * P.engine_overheating.severity) * k;
    }
    this.coolant += (coolTarget - this.coolant) * (1 - Math.exp(-dt / 30));

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
