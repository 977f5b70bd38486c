/**
 * Generated driving signals for the telematics tests, made independently of the simulator
 * (firmware-sim): a scripted drive in the vehicle frame (x forward, y left, z up), turned into what
 * a phone in a rotated mount measures: specific force (+1 g up at rest) and yaw rate in its own
 * axes, with road vibration, engine vibration and sensor noise.
 */
import type { Reading } from '../../src/core/reading.js';

export const G = 9.80665;

/** One stretch of the drive: longitudinal and lateral acceleration (m/s², vehicle frame) for `s` seconds. */
export interface Stretch {
  s: number;
  lon?: number;
  lat?: number;
  /** A pothole at the start of the stretch: 60 ms, 8 m/s² up and 4 m/s² backwards. */
  pothole?: boolean;
}

export interface DriveOptions {
  hz?: number;
  /** Mount rotation: yaw, pitch, roll in degrees (sensor = R · vehicle). */
  mount?: [number, number, number];
  gyro?: boolean;
  /**
   * The gyro on its own clock, as a phone's sensor events come: its readings stamped `offset` ms
   * after the accelerometer's (negative: before), one for every `every` accelerometer samples;
   * the readings are then in time order. Default: with each accelerometer sample, same time.
   */
  gyroClock?: { offset: number; every: number };
  /**
   * Emit speed (km/h) once a second: `true` as a receiver's Doppler speed (0.2 km/h of noise),
   * `'stale'` as a phone's fused speed, which every fourth second repeats the value before and
   * catches up at the next.
   */
  speed?: boolean | 'stale';
  /** The speed shown is the vehicle's of this many seconds before (a phone's location speed is filtered: an iPhone's came ~2 s behind the car's accelerometer). */
  speedLag?: number;
  /**
   * Emit the GPS course (degrees true) with the speed, while moving: `true` as a receiver's
   * Doppler course (0.1 m/s of velocity noise), `'steps'` as a phone's, which holds a value for a
   * second and then catches up.
   */
  course?: boolean | 'steps';
  /** Heading at the start, degrees true (default 0: north). */
  heading0?: number;
  /** Emit the IMU at all (false: a speed-only device). */
  imu?: boolean;
  accelUnit?: 'm/s2' | 'g';
  /**
   * `world`: the IMU in a world frame (x east, y north, z up), as a logger writes it after rotating
   * each reading by the phone's attitude (`mount` is then not used): the vehicle's forward turns in
   * it with the heading.
   */
  frame?: 'world';
  /** A constant error of the gyro's rate about its z axis (rad/s). */
  gyroBias?: number;
  /**
   * The device turned in its mount by hand: from `at` (s from the start) over `s` seconds, the
   * mounting's angles move evenly to `to` (and stay there until a later move). The gyro reads the
   * turn; the accelerometer the hand's push (up, then braked: 4 m/s² at most, a lift of about 25 cm in half a second) and tremor.
   */
  moves?: Array<{ at: number; s: number; to: [number, number, number] }>;
  /** The gyro's axes left-handed: every rate it reads has the opposite sign (a wrongly set-up logger). */
  gyroFlipped?: boolean;
  seed?: number;
  device?: string;
  t0?: number;
}

type M3 = number[][];
/** The rotation yaw (about z) · pitch (about y) · roll (about x), degrees. */
export function rot(yawDeg: number, pitchDeg: number, rollDeg: number): M3 {
  const [y, p, r] = [yawDeg, pitchDeg, rollDeg].map((d) => (d * Math.PI) / 180) as [number, number, number];
  const Rz = [[Math.cos(y), -Math.sin(y), 0], [Math.sin(y), Math.cos(y), 0], [0, 0, 1]];
  const Ry = [[Math.cos(p), 0, Math.sin(p)], [0, 1, 0], [-Math.sin(p), 0, Math.cos(p)]];
  const Rx = [[1, 0, 0], [0, Math.cos(r), -Math.sin(r)], [0, Math.sin(r), Math.cos(r)]];
  const mul = (A: M3, B: M3) => A.map((row) => [0, 1, 2].map((j) => row[0]! * B[0]![j]! + row[1]! * B[1]![j]! + row[2]! * B[2]![j]!));
  return mul(mul(Rz, Ry), Rx);
}
export const apply = (R: M3, v: number[]) => R.map((row) => row[0]! * v[0]! + row[1]! * v[1]! + row[2]! * v[2]!);

/** The mounting's angles at `t` (s): `start`, moved evenly by each of `moves` in turn. */
function mountAt(start: [number, number, number], moves: NonNullable<DriveOptions['moves']>, t: number): number[] {
  let from: number[] = start;
  for (const m of moves) {
    if (t <= m.at) break;
    const f = Math.min(1, (t - m.at) / m.s);
    const now = from.map((x, i) => x + f * (m.to[i]! - x));
    if (f < 1) return now;
    from = m.to;
  }
  return from;
}

/** The rate (rad/s, sensor axes) at which a device with mounting R(t) turns relative to the vehicle: [ω]× = −Ṙ·Rᵀ. */
export function turnRate(R0: M3, R1: M3, dt: number): number[] {
  const M = [0, 1, 2].map((i) => [0, 1, 2].map((j) => [0, 1, 2].reduce((s, k) => s + (R1[i]![k]! - R0[i]![k]!) * R0[j]![k]!, 0) / dt));
  return [-(M[2]![1]! - M[1]![2]!) / 2, -(M[0]![2]! - M[2]![0]!) / 2, -(M[1]![0]! - M[0]![1]!) / 2];
}

/** A small seeded generator (LCG + Box–Muller), independent of the simulator's. */
function gaussian(seed: number): () => number {
  let s = seed >>> 0 || 1;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

/** The readings of a scripted drive, and the start/end (ms) of each stretch. */
export function drive(script: Stretch[], o: DriveOptions = {}): { readings: Reading[]; marks: Array<[number, number]> } {
  const hz = o.hz ?? 50;
  const dev = o.device ?? 'car';
  const t0 = o.t0 ?? Date.UTC(2024, 5, 1, 8);
  const mount0 = o.mount ?? [0, 0, 0];
  let R = rot(...mount0);
  // (with `moves`, R follows the mounting at each sample)
  const n = gaussian(o.seed ?? 7);
  const k = o.accelUnit === 'g' ? 1 / G : 1;
  const readings: Reading[] = [];
  const marks: Array<[number, number]> = [];
  let v = 0;
  let lon = 0;
  let lat = 0;
  let t = 0;
  let sampleNo = 0;
  let nextSpeed = 0;
  let heading = o.heading0 ?? 0;
  let shown = heading;
  let shownSpeed = 0;
  const dt = 1 / hz;
  // the speed of each sample so far, for a speed shown late
  const past: number[] = [];
  for (const st of script) {
    const startT = t;
    marks.push([t0 + Math.round(startT * 1000), t0 + Math.round((startT + st.s) * 1000)]);
    while (t < startT + st.s - 1e-9) {
      // the pedal and the steering take ~0.1 s to build up
      const a = 1 - Math.exp(-dt / 0.1);
      lon += a * ((st.lon ?? 0) - lon);
      lat += a * ((st.lat ?? 0) - lat);
      const lonNow = v <= 0 && lon < 0 ? 0 : lon;
      v = Math.max(0, v + lonNow * dt);
      // a left turn (lat > 0) turns the heading anticlockwise
      if (v > 0.5) heading -= ((lat / v) * dt * 180) / Math.PI;
      const ts = t0 + Math.round(t * 1000);
      past.push(v);
      if (o.imu !== false) {
        const moving = v > 0.5 ? 1 : 0.1;
        const jolt = st.pothole && t - startT < 0.06 ? 1 : 0;
        const engine = 0.3 * Math.sin(2 * Math.PI * 33 * t);
        const f = [lonNow + engine + 0.2 * moving * n() - 4 * jolt, lat + engine + 0.2 * moving * n(), G + moving * 1.0 * n() + engine + 8 * jolt];
        const yaw = v > 1 ? lat / v : 0;
        const wv = [0.002 * n(), 0.002 * n(), yaw + 0.003 * n()];
        // world axes: forward is (sin h, cos h) east/north at heading h, left (−cos h, sin h)
        const hr = (heading * Math.PI) / 180;
        const world = (x: number[]) => [x[0]! * Math.sin(hr) - x[1]! * Math.cos(hr), x[0]! * Math.cos(hr) + x[1]! * Math.sin(hr), x[2]!];
        let hand = [0, 0, 0];
        let turning = [0, 0, 0];
        if (o.moves) {
          R = rot(...(mountAt(mount0, o.moves, t) as [number, number, number]));
          turning = turnRate(R, rot(...(mountAt(mount0, o.moves, t + dt) as [number, number, number])), dt);
          const m = o.moves.find((x) => t >= x.at && t < x.at + x.s);
          if (m) hand = [0.3 * n(), 0.3 * n(), 4 * Math.sin((2 * Math.PI * (t - m.at)) / m.s) + 0.3 * n()];
        }
        const fs = o.frame === 'world' ? world(f) : apply(R, f.map((x, i) => x + hand[i]!));
        const ws = o.frame === 'world' ? world(wv) : apply(R, wv).map((x, i) => (x + turning[i]!) * (o.gyroFlipped ? -1 : 1));
        ws[2]! += o.gyroBias ?? 0;
        ['accel_x', 'accel_y', 'accel_z'].forEach((m, i) => void readings.push({ stream: `${dev}/${m}`, ts, value: (fs[i]! + 0.05 * n()) * k }));
        const gc = o.gyroClock ?? { offset: 0, every: 1 };
        if (o.gyro !== false && sampleNo++ % gc.every === 0) ['gyro_x', 'gyro_y', 'gyro_z'].forEach((m, i) => void readings.push({ stream: `${dev}/${m}`, ts: ts + gc.offset, value: ws[i]! }));
      }
      if (o.speed && t >= nextSpeed - 1e-9) {
        const then = past[Math.max(0, past.length - 1 - Math.round((o.speedLag ?? 0) * hz))]!;
        if (o.speed !== 'stale' || Math.round(nextSpeed) % 4 !== 3) shownSpeed = Math.max(0, then * 3.6 + (then > 0 ? 0.2 * n() : 0));
        readings.push({ stream: `${dev}/speed_kmh`, ts, value: shownSpeed });
        if (o.course && v > 0.5) {
          if (o.course !== 'steps' || Math.round(nextSpeed) % 2 === 0) shown = heading + ((0.1 * n()) / v) * (180 / Math.PI);
          readings.push({ stream: `${dev}/course_deg`, ts, value: (((shown % 360) + 360) % 360) });
        }
        nextSpeed += 1;
      }
      t += dt;
    }
  }
  // stable: readings of one time keep their order
  if (o.gyroClock) readings.sort((a, b) => a.ts - b.ts);
  return { readings, marks };
}

/** The drive the tests use: settle, learn forward from four 90° turns and some speed changes, then the events. */
export function testDrive(): { script: Stretch[]; at: Record<'brake' | 'rebound' | 'harshAccel' | 'corner' | 'pothole', number> } {
  const script: Stretch[] = [
    { s: 12 }, // stopped: gravity settles
    { s: 10, lon: 1.5 }, // to 15 m/s
    { s: 11.8, lat: 2 }, { s: 6 }, { s: 11.8, lat: -2 }, { s: 6 }, { s: 11.8, lat: 2 }, { s: 6 }, { s: 11.8, lat: -2 }, // 4 × 90°
    { s: 5, lon: -1.4 }, { s: 5, lon: 1.4 }, { s: 5, lon: -1.4 }, { s: 5, lon: 1.4 }, { s: 5, lon: -1.4 }, { s: 5, lon: 1.4 }, // speed changes
    { s: 12 },
    { s: 1.5, lon: -5.5 }, // harsh brake (0.56 g)
    { s: 1, lon: 4 }, // the rebound, long and strong enough to beat `sustain` on its own
    { s: 4 },
    { s: 10, lon: 1 },
    { s: 2, lon: 3.8 }, // harsh acceleration (0.39 g)
    { s: 10 },
    { s: 2, lat: 4.8 }, // harsh cornering (0.49 g)
    { s: 8 },
    { s: 2, pothole: true }, // a pothole
    { s: 8 },
    { s: 6, lon: -2.4 }, // a firm but normal stop
    { s: 5 },
  ];
  const idx = (i: number) => i;
  return { script, at: { brake: idx(16), rebound: idx(17), harshAccel: idx(20), corner: idx(22), pothole: idx(24) } };
}

/** Standing for 25 s (gravity is averaged for 30 s before anything is judged), then the test drive's harsh events (a brake and its rebound, a harsh acceleration, a harsh corner), then the turns that teach forward from the gyro. */
export function eventsFirstDrive(): { script: Stretch[]; at: Record<'brake' | 'harshAccel' | 'corner', number> } {
  const script: Stretch[] = [{ s: 25 }, { s: 10, lon: 1.5 }, { s: 5 }, { s: 1.5, lon: -5.5 }, { s: 1, lon: 4 }, { s: 4 }, { s: 10, lon: 1 }, { s: 2, lon: 3.8 }, { s: 10 }, { s: 2, lat: 4.8 }, { s: 8 }];
  script.push({ s: 11.8, lat: 2 }, { s: 6 }, { s: 11.8, lat: -2 }, { s: 6 }, { s: 11.8, lat: 2 }, { s: 6 }, { s: 11.8, lat: -2 }, { s: 10 });
  return { script, at: { brake: 3, harshAccel: 7, corner: 9 } };
}
