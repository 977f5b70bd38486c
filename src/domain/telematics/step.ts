/**
 * The `telematics` pipeline step: harsh braking, harsh acceleration and harsh cornering per vehicle
 * (the device part of `<vehicle>/<metric>`), judged by physics on whichever source the vehicle has,
 * best first:
 *
 * 1. **Raw IMU** (3-axis accelerometer, optional gyro, 10–100 Hz, any mounting): gravity removed,
 *    horizontal acceleration low-passed, forward learnt from speed changes or turns (src/domain/imu.ts).
 * 2. **An aligned longitudinal channel** (`accel_ms2`, + forward), e.g. from a CAN bus.
 * 3. **Speed alone** (a 1 Hz GPS/CAN device): acceleration = Δspeed / Δt over ≥ `speed_interval`;
 *    with a GPS course too, lateral acceleration = speed × Δcourse / Δt (cornering).
 *
 * An event is a sustained acceleration: beyond its limit all through `sustain` (a speed-derived or
 * 1 Hz value stands for its whole interval); once raised it ends below `release` × the limit. An acceleration that
 * starts within `rebound` after a harsh brake ends is the vehicle rocking back, not a harsh
 * acceleration. Alerts (on `output`) carry their type as the detector: `harsh_braking`,
 * `harsh_acceleration`, `harsh_cornering` (stream `<vehicle>/<type>`), raised when the event is
 * confirmed, cleared when it ends; value and score from its peak.
 *
 * Every reading is passed on unchanged, so later steps (overspeed, GPS, ...) still see them.
 * Pure: time comes from the readings.
 */
import { deviceOf, metricOf, type Reading } from '../../core/reading.js';
import type { AlertRecord } from '../../core/records.js';
import { onOldClock } from '../../core/time.js';
import type { EngineOperator, OperatorContext } from '../../engine/pipeline.js';
import { BlindLog } from './blind-log.js';
import { WorldHeading } from './heading.js';
import { G, Mount, type ForwardSource, type MountParams } from './imu.js';
import { dot, reject, savedNumber, unit, type Vec3 } from './vec.js';
import type { TelematicsStepSpec } from './schema.js';

export type { TelematicsStepSpec } from './schema.js';

export type HarshType = 'harsh_braking' | 'harsh_acceleration' | 'harsh_cornering';
const HARSH_TYPES: readonly HarshType[] = ['harsh_braking', 'harsh_acceleration', 'harsh_cornering'];
export type AccelSource = 'imu' | 'longitudinal' | 'speed';
const RANK: Record<AccelSource, number> = { speed: 0, longitudinal: 1, imu: 2 };
const SNAPSHOT_VERSION = 1;
/**
 * An interval of speed or course counts from this share of `speed_interval`: a feed stamped on
 * arrival (no device time) jitters by tens of ms, and at exactly 1 s half of a 1 Hz feed's
 * intervals (990 ms) were skipped, the acceleration then taken over 2 s and its peak read low.
 */
const INTERVAL_SLACK = 0.9;
/**
 * A speed source that holds stale values: a speed repeated exactly (at `STALE_MOVING` m/s or more,
 * once or more in a row) in the middle of a change — the reports before and after the repeats move
 * the same way, by `STALE_STEP` m/s or more together — is no measurement but an old value that the
 * next report catches up on (a phone's fused location: 23 such holds in a 6-minute drive; the
 * car's CAN speed none: a good source repeats at a steady speed, or where a change starts or ends).
 * Values on a 0.1 grid of their unit are never held against a source: OBD-II reports whole km/h,
 * and a gear change can leave one unchanged for a second in the middle of an acceleration.
 * Reading to reading a stale source makes harsh events of normal driving, so from the first such
 * hold on (the catch-up that shows it included) its repeats are left out and its acceleration is
 * taken over two intervals (see judgeStale).
 */
const STALE_STEP = 1.5;
const STALE_MOVING = 1;

/** The mounting estimate's parameters from the step's config. */
export function mountParamsOf(spec: TelematicsStepSpec): MountParams {
  return { gravityTauMs: spec.gravity_tau, smoothMs: spec.smooth, freeze: spec.freeze_g * G, minTurnDeg: spec.min_turn, minYawRate: 0.06, minSpeedChange: spec.min_speed_change, remountDeg: spec.remount_deg, remountHoldMs: spec.remount_hold, gyroHandling: spec.frame === 'device' };
}

/** Channel of a metric: 0–2 accelerometer axes, 3–5 gyro axes. */
const ACCEL_MASK = 0b000111;
const GYRO_MASK = 0b111000;
/**
 * A sample is judged with the newest gyro reading up to this far (ms) from it. Phones time each
 * sensor on its own (Android's and iOS's sensor events, and loggers that write one file per
 * sensor): gyro and accelerometer rarely share a timestamp, and may run at different rates. The
 * yaw rate only weighs the turn evidence, which lasts seconds, so a reading a few samples old is
 * as good as a simultaneous one.
 */
const GYRO_HOLD = 250;
/** An IMU reading this far (ms) behind its vehicle's current sample, which never completed, shows that sample stamped ahead. */
const AHEAD_MS = 500;

function newEvents(): Record<HarshType, Event> {
  const ev = (): Event => ({ since: NaN, active: false, id: '', start: 0, peak: 0, rebound: false });
  return { harsh_braking: ev(), harsh_acceleration: ev(), harsh_cornering: ev() };
}

interface Event {
  /** Start of the current excursion beyond the limit (ms), NaN when within. */
  since: number;
  active: boolean;
  id: string;
  start: number;
  peak: number;
  /** The excursion began within the rebound time after a brake: never raised. */
  rebound: boolean;
}

interface Vehicle {
  id: string;
  /** Best source seen so far; lesser sources are not judged once a better one is there. */
  source: AccelSource;
  mount: Mount;
  /** The accelerometer sample being assembled (its axes share a time): time, axes in slots 0–2, and which have come (bit 64: judged). */
  sampleTs: number;
  sample: Float64Array;
  mask: number;
  /** The gyro reading being assembled, on its own clock: time, axes in slots 3–5 of `sample`, which have come. */
  gyroTs: number;
  gyroMask: number;
  /** The newest complete gyro reading (sender's unit) and its time. */
  rate: Vec3;
  rateTs: number;
  speedTs: number;
  speed: number;
  /** A stale speed's fresh values (time, m/s) over the last two intervals, oldest first. */
  fresh: Array<[number, number]>;
  /** Speeds repeated in a row so far while moving (a hold, if the speed goes on changing the same way after it). */
  holdRun: number;
  /** The last change of speed (m/s, signed) before them; 0 after a stop, NaN after a gap. */
  moveBefore: number;
  /** The speed was seen to hold a stale value (see STALE_STEP). */
  stale: boolean;
  /** GPS courses taken over the last `course_span`, oldest first: time, heading unwrapped (degrees, so a turn is a difference), speed (m/s). */
  courses: Array<[number, number, number]>;
  longTs: number;
  events: Record<HarshType, Event>;
  brakeEnd: number;
  /** Harsh manoeuvres of unknown kind while forward is unknown, to be judged once it is known. */
  blind: BlindLog;
  /** While those are being judged: the time forward became known (else NaN), for the alerts' reason. */
  lateAt: number;
  /** `frame: world`: the heading followed from the gyro, to turn the readings back by. */
  heading: WorldHeading | undefined;
}

export interface TelematicsStatus {
  vehicle: string;
  source: AccelSource;
  /** Where the forward axis came from (IMU only). */
  forward: ForwardSource;
  /** Forward axis in sensor axes (IMU only). */
  forwardAxis?: Vec3;
  turnDeg: number;
  speedChange: number;
  /** How late the speed comes against the accelerometer (ms), as chosen for learning forward (IMU with speed only). */
  speedLag?: number;
  /** Harsh manoeuvres kept while forward is unknown, waiting to be judged once it is known (IMU only). */
  waiting?: number;
  active: HarshType[];
}

export class TelematicsOperator implements EngineOperator {
  readonly name: string;
  private readonly spec: TelematicsStepSpec;
  private readonly vehicles = new Map<string, Vehicle>();
  private readonly channel = new Map<string, number>();
  private readonly mountParams: MountParams;
  private readonly limit: Record<HarshType, number>;
  private readonly lowestLimit: number;
  private readonly accelScale: number;
  private readonly gyroScale: number;
  private readonly speedScale: number;
  /**
   * `events` raised; `rebounds` never raised (an acceleration right after a brake); IMU samples
   * `uncalibrated` (no forward known yet: not judged); speed readings after a gap longer than
   * `max_gap` (`gaps`: no acceleration across it, so a tracker that reports less often than
   * that is never judged); `remounts` (the device moved in its mount: forward learnt again) and
   * IMU samples `unsettled` (while it sat moved, before that: not judged); vehicles whose speed
   * holds stale values (`stale_speed`: judged over two intervals from then on); speed and course
   * readings out of range (`invalid`: negative, or a course over 360°; a phone reports −1 for a
   * speed or course it does not know), left out as if not sent; IMU samples not judged because
   * the accelerometer's average is not gravity (`gravity_off`: linear acceleration, or the wrong
   * `accel_unit`); `unjudged`: harsh manoeuvres of unknown kind while forward was unknown (the
   * horizontal acceleration beyond the lowest of the three limits all through `sustain`: a brake,
   * a start or a corner that could not be told apart then), of which `judged_late` were judged
   * once forward became known (their events raised then, each saying so); the rest never were
   * (the device moved in its mount, the log's bound, or forward never became known);
   * `no_heading`: with `frame: world`, IMU samples with no gyro rate to follow the heading by (not
   * judged); `gyro_flipped`: vehicles whose gyro reads its rates with the opposite sign (left-handed
   * axes: its turns pointed forward the opposite way to speed or stops), turned round from then on.
   */
  readonly counts = { events: 0, rebounds: 0, uncalibrated: 0, gaps: 0, remounts: 0, unsettled: 0, stale_speed: 0, invalid: 0, gravity_off: 0, unjudged: 0, judged_late: 0, no_heading: 0, gyro_flipped: 0 };

  constructor(spec: TelematicsStepSpec) {
    this.spec = spec;
    this.name = spec.name;
    for (const [i, m] of spec.accel.entries()) this.channel.set(m, i);
    for (const [i, m] of spec.gyro.entries()) this.channel.set(m, 3 + i);
    this.accelScale = spec.accel_unit === 'g' ? G : 1;
    this.gyroScale = spec.gyro_unit === 'deg/s' ? Math.PI / 180 : 1;
    this.speedScale = spec.speed_unit === 'km/h' ? 1 / 3.6 : spec.speed_unit === 'mph' ? 0.44704 : 1;
    this.limit = { harsh_braking: spec.braking_g * G, harsh_acceleration: spec.acceleration_g * G, harsh_cornering: spec.cornering_g * G };
    this.lowestLimit = Math.min(...Object.values(this.limit));
    this.mountParams = mountParamsOf(spec);
  }

  reading(r: Reading, ctx: OperatorContext): void {
    ctx.reading(r);
    const metric = metricOf(r.stream);
    const ch = this.channel.get(metric);
    const isSpeed = metric === this.spec.speed;
    const isLong = metric === this.spec.longitudinal;
    const isCourse = metric === this.spec.course;
    if (ch === undefined && !isSpeed && !isLong && !isCourse) return;
    if ((isSpeed && !(r.value >= 0)) || (isCourse && !(r.value >= 0 && r.value <= 360))) {
      this.counts.invalid++;
      return;
    }
    const v = this.vehicle(deviceOf(r.stream), r, ctx);
    if (!v) return;
    if (ch !== undefined) this.imuReading(v, ch, r, ctx);
    else if (isSpeed) this.speedReading(v, r, ctx);
    else if (isCourse) this.courseReading(v, r, ctx);
    else this.longReading(v, r, ctx);
  }

  flush(_partial: boolean, ctx: OperatorContext): void {
    for (const v of this.vehicles.values()) {
      for (const t of HARSH_TYPES) this.end(v, t, v.events[t], v.sampleTs, ctx);
    }
  }

  /**
   * A stream's clock was set back from `from` to `to`: if the vehicle's time is on the old clock
   * (nearer `from`: the first of its streams to come back on the new one), events still open end
   * there, and its times start again on the new clock with what it learnt of its mounting kept.
   * Until 2026-12-07 every IMU reading was `telematics_late` until real time caught up with the
   * old clock: a logger set two hours ahead and corrected judged nothing for two hours.
   */
  rebased(stream: string, from: number, to: number, ctx: OperatorContext): void {
    const v = this.vehicles.get(deviceOf(stream));
    if (!v) return;
    // (the samples judged: one axis stamped ahead alone, never completed, is no clock)
    const newest = Math.max(...[v.mount.lastTs, v.rateTs, v.speedTs, v.longTs].filter((t) => !Number.isNaN(t)));
    if (!onOldClock(newest, from, to)) return;
    for (const t of HARSH_TYPES) this.end(v, t, v.events[t], v.sampleTs, ctx);
    v.blind.abandon();
    v.mount.rebase();
    Object.assign(v, { sampleTs: -Infinity, mask: 0, gyroTs: -Infinity, gyroMask: 0, rateTs: NaN, speedTs: NaN, speed: NaN, fresh: [], holdRun: 0, moveBefore: NaN, courses: [], longTs: NaN, brakeEnd: -Infinity, lateAt: NaN });
  }

  /** The vehicle sent nothing for input.forget_after: an event still open ends, and the vehicle (its learnt mounting too) is forgotten. */
  forget(device: string, _ts: number, _reason: string, ctx: OperatorContext): void {
    const v = this.vehicles.get(device);
    if (!v) return;
    for (const t of HARSH_TYPES) this.end(v, t, v.events[t], v.sampleTs, ctx);
    this.vehicles.delete(device);
  }

  private vehicle(id: string, r: Reading, ctx: OperatorContext): Vehicle | undefined {
    let v = this.vehicles.get(id);
    if (v) return v;
    if (this.vehicles.size >= this.spec.max_devices) {
      ctx.drop('too_many_vehicles', r, `${r.stream}: ${this.name} already tracks max_devices=${this.spec.max_devices} vehicles; not judged`, r.ts);
      return undefined;
    }
    v = this.newVehicle(id);
    this.vehicles.set(id, v);
    return v;
  }

  private newVehicle(id: string): Vehicle {
    // moved in its mount: what was kept to judge late is in the old axes
    const remounted = () => {
      this.counts.remounts++;
      v.blind.clear();
    };
    const v: Vehicle = {
      id, source: 'speed', mount: new Mount(this.mountParams, remounted, () => this.counts.gyro_flipped++), sampleTs: -Infinity, sample: new Float64Array(6), mask: 0, gyroTs: -Infinity, gyroMask: 0, rate: [0, 0, 0], rateTs: NaN,
      speedTs: NaN, speed: NaN, fresh: [], holdRun: 0, moveBefore: NaN, stale: false, courses: [], longTs: NaN, events: newEvents(), brakeEnd: -Infinity,
      blind: new BlindLog(this.lowestLimit, this.spec.release, this.spec.sustain), lateAt: NaN, heading: this.spec.frame === 'world' ? new WorldHeading() : undefined,
    };
    return v;
  }

  private promote(v: Vehicle, s: AccelSource): boolean {
    if (RANK[s] < RANK[v.source]) return false;
    v.source = s;
    return true;
  }

  // --- raw IMU: assemble the axes of one accelerometer sample (same timestamp) and judge it; the gyro's axes likewise, on the gyro's own clock ---
  private imuReading(v: Vehicle, ch: number, r: Reading, ctx: OperatorContext): void {
    const gyro = ch >= 3;
    let current = gyro ? v.gyroTs : v.sampleTs;
    if (r.ts < current) {
      // The current sample far ahead of this reading, never completed, after the last one judged:
      // one axis stamped ahead (a garbled timestamp). Until 2026-12-07 it became the vehicle's IMU
      // time, and every reading after it was late: one reading a day ahead, and nothing judged for a day.
      const done = gyro ? v.rateTs : v.mount.lastTs;
      const incomplete = gyro ? v.gyroMask !== GYRO_MASK : (v.mask & 64) === 0;
      if (!(incomplete && current - r.ts > AHEAD_MS && !(r.ts <= done))) {
        ctx.drop('telematics_late', r, `${r.stream}: IMU reading at ${new Date(r.ts).toISOString()} is older than ${v.id}'s current ${gyro ? 'gyro reading' : 'sample'} (${new Date(current).toISOString()})`, r.ts);
        return;
      }
      ctx.drop('telematics_ahead', { vehicle: v.id, ts: current, gyro }, `${v.id}: its ${gyro ? 'gyro reading' : 'accelerometer sample'} at ${new Date(current).toISOString()} never completed and ${r.stream} comes ${((current - r.ts) / 1000).toFixed(1)} s before it: stamped ahead (a garbled timestamp?), dropped; the IMU goes on from ${new Date(r.ts).toISOString()}`, current);
      if (gyro) [v.gyroTs, v.gyroMask] = [-Infinity, 0];
      else [v.sampleTs, v.mask] = [-Infinity, 0];
      current = -Infinity;
    }
    if (r.ts === current && ((gyro ? v.gyroMask : v.mask) & (1 << ch)) !== 0) {
      ctx.drop('telematics_duplicate', r, `${r.stream}: a second reading at ${new Date(r.ts).toISOString()} for ${v.id}'s ${gyro ? 'gyro reading' : 'sample'} of that time; the first is kept (each sample needs its own timestamp: are the timestamps coarser than the sample rate?)`, r.ts);
      return;
    }
    v.sample[ch] = r.value;
    if (gyro) {
      if (r.ts > v.gyroTs) {
        v.gyroTs = r.ts;
        v.gyroMask = 0;
      }
      v.gyroMask |= 1 << ch;
      if (v.gyroMask === GYRO_MASK) {
        v.rate = [v.sample[3]!, v.sample[4]!, v.sample[5]!];
        v.rateTs = r.ts;
      }
      return;
    }
    if (r.ts > v.sampleTs) {
      v.sampleTs = r.ts;
      v.mask = 0;
    }
    v.mask |= 1 << ch;
    if ((v.mask & ACCEL_MASK) === ACCEL_MASK) this.processSample(v, ctx);
  }

  private processSample(v: Vehicle, ctx: OperatorContext): void {
    if (v.mask & 64) return; // already judged
    v.mask |= 64;
    this.promote(v, 'imu');
    const s = v.sample; // the `!` below read known slots of a Float64Array(6)
    const k = this.accelScale;
    let a: Vec3 = [s[0]! * k, s[1]! * k, s[2]! * k];
    const ts = v.sampleTs;
    const q = this.gyroScale;
    // the time since the sample before (0 at the first), which the sample stands for (a reading
    // every second, as loggers that average write them, is a second of acceleration); on a slow
    // IMU, a few hertz, the gyro reading of the sample before is as good as one stamped with it
    const interval = v.mount.interval(ts);
    const hold = Math.max(GYRO_HOLD, 1.5 * interval);
    let w: Vec3 | undefined = Math.abs(ts - v.rateTs) <= hold ? [v.rate[0] * q, v.rate[1] * q, v.rate[2] * q] : undefined;
    if (v.heading) {
      // a world frame: turned back by the heading, into axes that turn with the vehicle
      if (!v.heading.advance(ts, v.rate[2] * q, v.rateTs)) {
        this.counts.no_heading++;
        return;
      }
      a = v.heading.toVehicle(a);
      if (w) w = v.heading.toVehicle(w);
    }
    const h = v.mount.update(ts, a, w);
    if (!v.mount.ready(ts)) {
      // gravity is still being averaged (a trip's first `gravity_tau`): a harsh start is kept like
      // any excursion before forward is known, and judged against gravity as known then; not while
      // the device is being put in its mount (tilted from the gravity learnt so far), which no
      // vehicle's acceleration does
      if (!v.mount.gravityOk() || !v.mount.settled()) v.blind.abandon();
      else if (v.blind.add(ts, h, v.mount.g, interval)) this.counts.unjudged++;
      return;
    }
    if (!v.mount.gravityOk()) {
      this.counts.gravity_off++;
      return;
    }
    if (!v.mount.settled()) {
      this.counts.unsettled++;
      return;
    }
    const axes = v.mount.axes();
    if (!axes) {
      this.counts.uncalibrated++;
      if (v.blind.add(ts, h, v.mount.g, interval)) this.counts.unjudged++;
      return;
    }
    if (v.blind.size > 0) this.judgeLate(v, ts, axes, ctx);
    const lon = dot(h, axes.forward);
    const lat = dot(h, axes.left);
    this.judge(v, ts, interval, lon, lat, ctx);
  }

  // --- speed: forward for the IMU, and the acceleration of a speed-only device ---
  private speedReading(v: Vehicle, r: Reading, ctx: OperatorContext): void {
    const speed = r.value * this.speedScale;
    if (Number.isNaN(v.speedTs) || r.ts - v.speedTs > this.spec.max_gap || r.ts < v.speedTs) {
      if (r.ts - v.speedTs > this.spec.max_gap) this.counts.gaps++;
      v.speedTs = r.ts;
      v.speed = speed;
      v.holdRun = 0;
      v.moveBefore = NaN;
      v.fresh.length = 0;
      return;
    }
    const dt = r.ts - v.speedTs;
    if (dt < INTERVAL_SLACK * this.spec.speed_interval) return;
    const dvdt = ((speed - v.speed) * 1000) / dt;
    this.checkStale(v, speed - v.speed);
    v.speedTs = r.ts;
    v.speed = speed;
    if (v.source === 'imu') v.mount.speedInterval(dvdt, dt, r.ts);
    else if (!this.promote(v, 'speed')) return;
    else if (!v.stale) this.judge(v, r.ts, dt, dvdt, NaN, ctx);
    else this.judgeStale(v, r.ts, speed, ctx);
  }

  /**
   * A speed that holds stale values: a value repeated while moving is no measurement and is left
   * out; the acceleration is taken from the newest fresh value at least two intervals back, at
   * every fresh value.
   */
  private judgeStale(v: Vehicle, ts: number, speed: number, ctx: OperatorContext): void {
    const f = v.fresh;
    const last = f.at(-1);
    if (last && speed === last[1] && speed >= STALE_MOVING) return;
    f.push([ts, speed]);
    const min = 2 * INTERVAL_SLACK * this.spec.speed_interval;
    while (f.length > 2 && ts - f[1]![0] >= min) f.shift();
    const [baseTs, base] = f[0]!;
    const span = ts - baseTs;
    if (span < min || span > this.spec.max_gap) return;
    this.judge(v, ts, span, ((speed - base) * 1000) / span, NaN, ctx);
  }

  /** `step`: the change of speed into the reading being taken. Did a run of repeated speeds just end in the middle of a change? */
  private checkStale(v: Vehicle, step: number): void {
    if (v.stale) return;
    if (step === 0) {
      // in the sender's unit: a value on a 0.1 grid (OBD-II's whole km/h) repeats where a gear
      // change flattens an acceleration for a second; a finer one repeats only when stale
      const tenths = (v.speed / this.speedScale) * 10;
      const fine = Math.abs(tenths - Math.round(tenths)) > 1e-6;
      if (v.speed >= STALE_MOVING && fine) v.holdRun++;
      else {
        v.holdRun = 0;
        v.moveBefore = 0; // stopped, or a coarse source: no change to be in the middle of
      }
      return;
    }
    const inChange = v.moveBefore * step > 0 && Math.abs(v.moveBefore) + Math.abs(step) >= STALE_STEP;
    if (v.holdRun > 0 && inChange) {
      v.stale = true;
      this.counts.stale_speed++;
    }
    v.holdRun = 0;
    v.moveBefore = step;
  }

  // --- GPS course: the lateral acceleration of a vehicle without an IMU ---
  private courseReading(v: Vehicle, r: Reading, ctx: OperatorContext): void {
    if (v.source === 'imu') return; // the IMU measures lateral acceleration itself
    const speed = Math.abs(r.ts - v.speedTs) <= this.spec.max_gap ? v.speed : NaN;
    const c = v.courses;
    const last = c.at(-1);
    if (!last || r.ts < last[0] || r.ts - last[0] > this.spec.max_gap) {
      c.length = 0;
      c.push([r.ts, r.value, speed]);
      return;
    }
    if (r.ts - last[0] < INTERVAL_SLACK * this.spec.speed_interval) return;
    c.push([r.ts, last[1] + ((((r.value - last[1]) % 360) + 540) % 360) - 180, speed]);
    // keep the newest course at least `course_span` old as the base, and those after it
    const spanMin = INTERVAL_SLACK * this.spec.course_span;
    while (c.length > 2 && r.ts - c[1]![0] >= spanMin) c.shift();
    const base = c[0]!;
    const span = r.ts - base[0];
    if (span < spanMin) return;
    // every course of the span taken fast enough to mean a direction (at walking pace it wanders)
    let sum = 0;
    let moving = true;
    for (const [, , s] of c) {
      sum += s;
      if (!(s >= this.spec.course_min_speed)) moving = false;
    }
    const turnRad = ((c.at(-1)![1] - base[1]) * Math.PI) / 180;
    const lat = moving ? ((sum / c.length) * turnRad * 1000) / span : 0;
    this.track(v, 'harsh_cornering', r.ts, span, Math.abs(lat), ctx);
  }

  // --- an aligned longitudinal channel ---
  private longReading(v: Vehicle, r: Reading, ctx: OperatorContext): void {
    const prev = v.longTs;
    v.longTs = r.ts;
    if (!this.promote(v, 'longitudinal')) return;
    const dt = Number.isNaN(prev) || r.ts <= prev || r.ts - prev > this.spec.max_gap ? 0 : r.ts - prev;
    this.judge(v, r.ts, dt, r.value, NaN, ctx);
  }

  /**
   * Forward has just become known (at `now`): judge what the blind log kept, in order, with the
   * same rules. An excursion that ended is judged on its own and ends; the one still going on
   * continues as the live one (its events stay open). Each alert's reason says it was judged late.
   */
  private judgeLate(v: Vehicle, now: number, axes: { forward: Vec3; left: Vec3 }, ctx: OperatorContext): void {
    const live = v.events;
    v.lateAt = now;
    const g = v.mount.g;
    const up = unit(g) ?? [0, 0, 1];
    for (const x of v.blind.take()) {
      const ended = !Number.isNaN(x.end);
      v.events = ended ? newEvents() : live;
      // gravity as known now, not as it was (a drive that began braking tilted it then)
      const dg: Vec3 = [x.g[0] - g[0], x.g[1] - g[1], x.g[2] - g[2]];
      for (let i = 0; i < x.ts.length; i++) {
        const h = reject([x.h[3 * i]! + dg[0], x.h[3 * i + 1]! + dg[1], x.h[3 * i + 2]! + dg[2]], up);
        this.judge(v, x.ts[i]!, i === 0 ? x.before : x.ts[i]! - x.ts[i - 1]!, dot(h, axes.forward), dot(h, axes.left), ctx);
      }
      if (ended) for (const t of HARSH_TYPES) this.end(v, t, v.events[t], x.end, ctx);
      if (x.counted) this.counts.judged_late++;
    }
    v.events = live;
    v.lateAt = NaN;
  }

  /** Judge one value of longitudinal (+ forward) and lateral (+ left; NaN if unknown) acceleration that stands for the last `span` ms. */
  private judge(v: Vehicle, ts: number, span: number, lon: number, lat: number, ctx: OperatorContext): void {
    this.track(v, 'harsh_braking', ts, span, -lon, ctx);
    this.track(v, 'harsh_acceleration', ts, span, lon, ctx);
    if (!Number.isNaN(lat)) this.track(v, 'harsh_cornering', ts, span, Math.abs(lat), ctx);
  }

  private track(v: Vehicle, type: HarshType, ts: number, span: number, x: number, ctx: OperatorContext): void {
    const e = v.events[type];
    const limit = this.limit[type];
    if (Number.isNaN(e.since)) {
      if (!(x >= limit)) return;
      e.since = ts - span;
      e.peak = x;
      e.rebound = type === 'harsh_acceleration' && e.since - v.brakeEnd <= this.spec.rebound;
    }
    // beyond the limit all the way through `sustain`; once raised, it lasts until below release × limit
    if (x < (e.active ? this.spec.release * limit : limit)) {
      this.end(v, type, e, ts, ctx);
      return;
    }
    if (x > e.peak) e.peak = x;
    if (e.active || ts - e.since < this.spec.sustain) return;
    if (e.rebound) {
      this.counts.rebounds++;
      e.rebound = false;
      e.since = Infinity; // this excursion is spent: never raised
      return;
    }
    e.active = true;
    e.start = ts;
    e.id = `${this.name}:${v.id}:${type}:${ts}`;
    this.counts.events++;
    this.emit(ctx, v, type, e, 'raised', ts);
  }

  private end(v: Vehicle, type: HarshType, e: Event, ts: number, ctx: OperatorContext): void {
    if (Number.isNaN(e.since)) return;
    if (e.active) this.emit(ctx, v, type, e, 'cleared', ts);
    if (type === 'harsh_braking') v.brakeEnd = ts;
    e.since = NaN;
    e.active = false;
  }

  private emit(ctx: OperatorContext, v: Vehicle, type: HarshType, e: Event, state: 'raised' | 'cleared', ts: number): void {
    const limit = this.limit[type];
    const what = type === 'harsh_braking' ? 'deceleration' : type === 'harsh_cornering' ? 'lateral acceleration' : 'acceleration';
    const late = Number.isNaN(v.lateAt) ? '' : `; judged late, at ${new Date(v.lateAt).toISOString()}, when forward became known`;
    const via = v.source === 'imu' ? `IMU, forward from ${v.mount.axes()?.source ?? 'none'}${late}` : type === 'harsh_cornering' ? 'from GPS course and speed' : v.source === 'speed' ? `from speed${v.stale ? ' over two intervals: it holds stale values' : ''}` : 'longitudinal channel';
    const alert: AlertRecord = {
      id: e.id, state, stream: `${v.id}/${type}`, detector: type, severity: 'warning', score: e.peak / (e.peak + limit), start: e.start,
      ...(state === 'cleared' ? { end: ts } : {}), ...(Number.isNaN(v.lateAt) ? {} : { judged: v.lateAt }), value: Math.round(e.peak * 100) / 100, baseline: 0,
      reason: `${what} ${(e.peak / G).toFixed(2)} g (${e.peak.toFixed(1)} m/s²) sustained ≥ ${this.spec.sustain} ms, limit ${(limit / G).toFixed(2)} g (${via})`,
    };
    ctx.emit({ kind: 'alert', pipeline: ctx.pipeline, output: this.spec.output, alert });
  }

  counters(): Readonly<Record<string, number>> {
    return this.counts;
  }

  /** Vehicles tracked; of those on an IMU, how many have no forward yet; the harsh manoeuvres waiting for it. */
  gauges(): Record<string, number> {
    let unknown = 0;
    let waiting = 0;
    for (const v of this.vehicles.values()) {
      if (v.source !== 'imu') continue;
      if (!v.mount.axes()) unknown++;
      waiting += v.blind.size;
    }
    return { vehicles: this.vehicles.size, forward_unknown: unknown, waiting };
  }

  /** Per vehicle: its source, how forward was found, open events (for status views and tests). */
  status(): TelematicsStatus[] {
    return [...this.vehicles.values()].map((v) => {
      const axes = v.source === 'imu' ? v.mount.axes() : undefined;
      return {
        vehicle: v.id, source: v.source, forward: axes?.source ?? 'none', ...(axes ? { forwardAxis: axes.forward } : {}),
        turnDeg: v.mount.turnDeg, speedChange: v.mount.speedChange, ...(axes?.source === 'speed' ? { speedLag: v.mount.speedLag() } : {}), ...(v.source === 'imu' ? { waiting: v.blind.size } : {}), active: HARSH_TYPES.filter((t) => v.events[t].active),
      };
    });
  }

  /**
   * What is learnt per vehicle (gravity and forward evidence), versioned, and the moment it was
   * at (`now`: filters, the sample being assembled, open events), so a restart resumes exactly: an
   * event raised before it is cleared after it, once (consumers never see a raise without its clear).
   */
  snapshot(): unknown {
    return {
      version: SNAPSHOT_VERSION,
      vehicles: [...this.vehicles.values()].map((v) => {
        const m = v.mount;
        const events: Record<string, Event> = {};
        for (const t of HARSH_TYPES) if (!Number.isNaN(v.events[t].since)) events[t] = { ...v.events[t] };
        const now = { mount: m.save(), sampleTs: v.sampleTs, sample: [...v.sample], mask: v.mask, gyroTs: v.gyroTs, gyroMask: v.gyroMask, rate: [...v.rate], rateTs: v.rateTs, speedTs: v.speedTs, speed: v.speed, fresh: v.fresh.map((e) => [...e]), holdRun: v.holdRun, moveBefore: v.moveBefore, stale: v.stale, courses: v.courses.map((e) => [...e]), longTs: v.longTs, events, brakeEnd: v.brakeEnd, blind: v.blind.save(), ...(v.heading ? { heading: v.heading.save() } : {}) };
        return { id: v.id, source: v.source, g: [...m.g], left: [...m.left], turnDeg: m.turnDeg, fwd: [...m.fwd], speedChange: m.speedChange, now };
      }),
    };
  }

  /**
   * The moment a vehicle was saved at (state saved before 2026-12-04 has none: its mounting alone
   * comes back): the mount's filters, the sample being assembled, the last speed, open events.
   */
  private restoreNow(v: Vehicle, now: Record<string, unknown>): void {
    if (typeof now.mount !== 'object' || now.mount === null) throw new Error(`mount must be an object, found ${JSON.stringify(now.mount)}`);
    v.mount.load(now.mount as Record<string, unknown>);
    v.sampleTs = savedNumber(now.sampleTs, 'sampleTs', -Infinity);
    if (!Array.isArray(now.sample) || now.sample.length !== 6) throw new Error(`sample must be 6 numbers, found ${JSON.stringify(now.sample)}`);
    v.sample = Float64Array.from(now.sample, (x) => savedNumber(x, 'sample', NaN));
    v.mask = savedNumber(now.mask, 'mask', 0);
    if (now.gyroTs === undefined) {
      // saved before 2026-12-06: the gyro's axes were part of the sample, at its time
      v.gyroTs = v.sampleTs;
      v.gyroMask = v.mask & GYRO_MASK;
      v.mask &= ~GYRO_MASK;
      if (v.gyroMask === GYRO_MASK) [v.rate, v.rateTs] = [[v.sample[3]!, v.sample[4]!, v.sample[5]!], v.sampleTs];
    } else {
      v.gyroTs = savedNumber(now.gyroTs, 'gyroTs', -Infinity);
      v.gyroMask = savedNumber(now.gyroMask, 'gyroMask', 0) & GYRO_MASK;
      if (!Array.isArray(now.rate) || now.rate.length !== 3) throw new Error(`rate must be 3 numbers, found ${JSON.stringify(now.rate)}`);
      v.rate = now.rate.map((x) => savedNumber(x, 'rate', 0)) as Vec3;
      v.rateTs = savedNumber(now.rateTs, 'rateTs', NaN);
    }
    v.speedTs = savedNumber(now.speedTs, 'speedTs', NaN);
    v.speed = savedNumber(now.speed, 'speed', NaN);
    // saved before 2026-12-06: no stale holds seen
    const fresh = now.fresh ?? [];
    if (!Array.isArray(fresh)) throw new Error(`fresh must be a list, found ${JSON.stringify(fresh)}`);
    v.fresh = fresh.map((e: unknown) => {
      if (!Array.isArray(e) || e.length !== 2) throw new Error(`fresh: each must be [time, speed], found ${JSON.stringify(e)}`);
      return [savedNumber(e[0], 'fresh time', NaN), savedNumber(e[1], 'fresh speed', NaN)];
    });
    v.holdRun = savedNumber(now.holdRun ?? 0, 'holdRun', 0);
    v.moveBefore = savedNumber(now.moveBefore ?? null, 'moveBefore', NaN);
    v.stale = now.stale === true;
    v.longTs = savedNumber(now.longTs, 'longTs', NaN);
    // saved before 2026-12-05: no courses
    const courses = now.courses ?? [];
    if (!Array.isArray(courses)) throw new Error(`courses must be a list, found ${JSON.stringify(courses)}`);
    v.courses = courses.map((e: unknown) => {
      if (!Array.isArray(e) || e.length !== 3) throw new Error(`courses: each must be [time, heading, speed], found ${JSON.stringify(e)}`);
      return [savedNumber(e[0], 'courses time', NaN), savedNumber(e[1], 'courses heading', NaN), savedNumber(e[2], 'courses speed', NaN)];
    });
    v.brakeEnd = savedNumber(now.brakeEnd, 'brakeEnd', -Infinity);
    // saved before 2026-12-06: no manoeuvre under way while forward was unknown
    // saved before 2026-12-06: the count's start and state only (blindSince, blindCounted), no samples
    const blind = now.blind ?? { since: now.blindSince ?? null, counted: now.blindCounted === true };
    if (typeof blind !== 'object' || blind === null) throw new Error(`blind must be an object, found ${JSON.stringify(blind)}`);
    v.blind.load(blind as Record<string, unknown>);
    if (v.heading && typeof now.heading === 'object' && now.heading !== null) v.heading.load(now.heading as Record<string, unknown>);
    const saved = (now.events ?? {}) as Record<string, Partial<Event> | undefined>;
    for (const t of HARSH_TYPES) {
      const e = saved[t];
      if (!e) continue;
      // an excursion spent as a rebound has since = Infinity (null after JSON)
      v.events[t] = { since: savedNumber(e.since, `events.${t}.since`, Infinity), active: e.active === true, id: typeof e.id === 'string' ? e.id : '', start: savedNumber(e.start, `events.${t}.start`, 0), peak: savedNumber(e.peak, `events.${t}.peak`, 0), rebound: e.rebound === true };
    }
  }

  restore(snap: unknown): void {
    const s = snap as { version?: unknown; vehicles?: unknown };
    if (s?.version !== SNAPSHOT_VERSION || !Array.isArray(s.vehicles)) {
      throw new Error(`${this.name}: saved state must be { version: ${SNAPSHOT_VERSION}, vehicles: [...] } (found version ${JSON.stringify(s?.version)}); delete the state file to start fresh`);
    }
    const vec = (x: unknown, what: string, id: string): Vec3 => {
      if (Array.isArray(x) && x.length === 3 && x.every((n) => typeof n === 'number' && Number.isFinite(n))) return x as Vec3;
      throw new Error(`${this.name}: saved state of vehicle ${id}: ${what} must be 3 finite numbers, found ${JSON.stringify(x)}`);
    };
    for (const e of s.vehicles as Array<Record<string, unknown>>) {
      const id = e?.id;
      if (typeof id !== 'string' || this.vehicles.size >= this.spec.max_devices) continue;
      const v = this.newVehicle(id);
      v.source = e.source === 'imu' || e.source === 'longitudinal' ? e.source : 'speed';
      const m = v.mount;
      // A vehicle that has sent no accelerometer sample yet (a speed-only device) has no gravity
      // (NaN; null after JSON): it comes back as it was, learning gravity from its first sample.
      const noGravity = Array.isArray(e.g) && e.g.length === 3 && e.g.every((n) => n === null || (typeof n === 'number' && Number.isNaN(n)));
      if (!noGravity) m.g = vec(e.g, 'g', id);
      m.left = vec(e.left, 'left', id);
      m.restoreSpeed(vec(e.fwd, 'fwd', id), Number(e.speedChange) || 0);
      m.turnDeg = Number(e.turnDeg) || 0;
      // gravity is known: judge from the first sample on (t0 one time constant back)
      if (!noGravity) m.restored();
      if (typeof e.now === 'object' && e.now !== null) {
        try {
          this.restoreNow(v, e.now as Record<string, unknown>);
        } catch (err) {
          throw new Error(`${this.name}: saved state of vehicle ${id}: ${(err as Error).message}`);
        }
      }
      this.vehicles.set(id, v);
    }
  }
}

export function compileTelematicsStep(spec: TelematicsStepSpec): TelematicsOperator {
  return new TelematicsOperator(spec);
}
