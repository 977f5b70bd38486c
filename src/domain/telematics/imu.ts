/**
 * Vehicle frame from a 3-axis accelerometer (and gyro, and speed) in an unknown mounting. Pure
 * maths, no I/O, no clock: time comes from the samples.
 *
 * - **Up** is the direction of gravity as the accelerometer sees it: a slow average of the
 *   specific force (it reads +1 g upwards at rest), ten times slower while the vehicle is clearly
 *   accelerating, so a long brake or a long gentle acceleration barely leaks into it.
 * - **Horizontal acceleration** is what is left once gravity is taken away and the vertical part
 *   (road bumps, vibration) is removed.
 * - **Forward** is learnt from the data: with a gyro, the centripetal acceleration in turns points
 *   to the inside of the turn (left for a positive yaw rate about up), so Σ h·ω_up points left and
 *   forward = left × up. A driver brakes into turns and speeds up out of them, which tilts the
 *   left turns' evidence one way and the right turns' the other, so once both kinds have been
 *   seen (`BALANCE_DEG` each) their directions are averaged, not their sums (a drive of mostly
 *   right turns would otherwise tilt forward by its braking); with speed (GPS or CAN),
 *   Σ h·(dv/dt) points forward (speed-evidence.ts: at the delay the speed comes with). The speed
 *   estimate is preferred once it has seen enough speed change (its sign cannot be wrong: a gyro
 *   with a left-handed axis convention would flip the gyro estimate), then agreeing stops and
 *   starts (stops.ts: the vehicle's own longitudinal acceleration, where a turn's evidence is
 *   tilted by the braking into it), then the turns.
 * - **A device moved in its mount** (a phone picked up, turned, put back): the specific force,
 *   averaged over half a second, has lost its vertical part: its component along gravity falls
 *   under cos(`remountDeg`) of gravity. No manoeuvre does that — a vehicle's acceleration is
 *   horizontal and leaves the vertical part at 1 g (a 0.9 g emergency stop too), a hill tilts it
 *   10° at most. From then on nothing is judged (`settled()` false); once it has stayed so for
 *   `remountHoldMs` and the average is at rest (at gravity's magnitude), gravity is taken afresh
 *   from it and forward is learnt again. Watched from the first samples on: a phone put in its
 *   mount a few seconds into a trip would otherwise leave the gravity average leaning toward how
 *   it was held. A device turned about the vertical only (a phone lying
 *   flat that slid round) leaves gravity alone; with speed, the recent evidence of forward (the
 *   last ~2 × `minSpeedChange` of speed change) then points elsewhere than the evidence before it:
 *   more than 60° away, it replaces it. (Without speed such a turn is not noticed.)
 * - **With a gyro, a device turned by hand** is seen by its rotation about a horizontal axis, which
 *   a vehicle barely makes (its body pitches and rolls a few degrees): from a rate of
 *   `HANDLE_RATE` on, gravity is turned with the device (a vector fixed in the world turns by −ω×
 *   in the device's axes), so a tilt under `remountDeg`, or one masked by a turn's lateral
 *   acceleration, no longer leans it; once it has turned `HANDLE_DEG` it is being handled, and
 *   nothing is judged until it has been still for `HANDLE_SETTLE_MS`; turned `remountDeg` or more
 *   by then, forward is learnt again. A turn that stays under `HANDLE_DEG` (the body's pitch over a
 *   bump, a mount's wobble) leaves gravity as it was before it. The accelerometer's watch above
 *   still runs: a gyro whose axes are wrongly set up turns gravity the wrong way, and the
 *   accelerometer then takes it afresh.
 */
import { SpeedEvidence } from './speed-evidence.js';
import { StopEvidence } from './stops.js';
import { addScaled, cross, dot, moveToward, norm, reject, savedNumber, savedVec, unit, type Vec3 } from './vec.js';

export const G = 9.80665;

export interface MountParams {
  /** Time constant of the gravity average (ms). */
  gravityTauMs: number;
  /** Time constant of the low-pass on the horizontal acceleration (ms): road vibration out, manoeuvres in. */
  smoothMs: number;
  /** Horizontal acceleration (m/s², low-passed) above which gravity is updated ten times slower. */
  freeze: number;
  /** Turning (degrees, at a yaw rate ≥ `minYawRate`) before the gyro estimate of forward is used. */
  minTurnDeg: number;
  /** Yaw rate (rad/s) below which a sample is not a turn. */
  minYawRate: number;
  /** Speed change (m/s, summed over intervals with |dv/dt| ≥ 0.3 m/s²) before the speed estimate of forward is used. */
  minSpeedChange: number;
  /** Tilt (degrees) of the half-second average of the specific force from gravity (its component along gravity under cos of it) that means the device moved in its mount. */
  remountDeg: number;
  /** ...held this long (ms). */
  remountHoldMs: number;
  /** Watch the gyro for a device turned by hand (false when the readings are in a world frame: the logger has already turned them by the device's attitude). */
  gyroHandling: boolean;
}

/**
 * Rotation rate (rad/s, 17°/s) about a horizontal axis from which gravity is turned with the
 * device. A dash-mounted iPhone in six minutes of city driving reached 0.55 at most, 0.34 averaged
 * over a quarter second (bench/telematics-drive.ts); a hand turns a phone at 1–3.
 */
const HANDLE_RATE = 0.3;
/** The device has turned this far (degrees) from gravity: handled. That iPhone's mount turned 7.4° at most, over a bump; a car's body rolls 5–7° in the hardest corners. */
const HANDLE_DEG = 12;
const COS_HANDLED = Math.cos((HANDLE_DEG * Math.PI) / 180);
/** A turn ends when the rate has stayed under `HANDLE_RATE` this long (ms)... */
const HANDLE_QUIET_MS = 500;
/** ...and a device that was handled, this long: it is in its place again. */
const HANDLE_SETTLE_MS = 1000;
/** Samples further apart than this (ms) do not follow a turn: a hand's half-second turn needs samples within it (a 5 Hz IMU's, which jitter, do). */
const HANDLE_MAX_DT = 250;

/** A turn of the device about a horizontal axis, as the gyro shows it. */
interface Turn {
  /** Gravity when it began. */
  g0: Vec3;
  /** It has turned `HANDLE_DEG` from g0 at some point: the device is being handled. */
  handled: boolean;
  /** Since when the rate has been under `HANDLE_RATE` (NaN: it is not). */
  quietSince: number;
}

/** Time constant (ms) of the average that shows a device moved in its mount: short enough to stop judging before a sustained event (0.5 s) could be confirmed on the turned axes. */
const REMOUNT_TAU_MS = 500;
/** How far (fraction of gravity) that average's magnitude may be from gravity's: a device at rest in a new orientation, not a vehicle accelerating. */
const REMOUNT_MAGNITUDE = 0.08;
/** Turning (degrees) each way before the left and right turns' evidence of forward are averaged with equal weight. */
const BALANCE_DEG = 45;
/** Recent evidence of forward more than this far (60°) from the evidence before it means the device turned about the vertical. */
const COS_TURNED = Math.cos(Math.PI / 3);

export type ForwardSource = 'speed' | 'gyro' | 'stops' | 'none';

/** Per-vehicle mounting estimate: gravity, the low-passed horizontal acceleration, forward. */
export class Mount {
  /** Gravity as measured (specific force at rest), m/s²; NaN before the first sample. */
  g: Vec3 = [NaN, NaN, NaN];
  /** Time of the first sample (ms). */
  t0 = NaN;
  lastTs = NaN;
  /** Low-passed horizontal acceleration (m/s², sensor axes). */
  h: Vec3 = [0, 0, 0];
  /** Σ h·ω_up·dt: points left. */
  left: Vec3 = [0, 0, 0];
  turnDeg = 0;
  /** The same over right turns (ω_up < 0) only, and their degrees. */
  private rightTurns: Vec3 = [0, 0, 0];
  private rightTurnDeg = 0;
  /** Forward from speed changes, at the delay the speed comes with (speed-evidence.ts). */
  private speed = new SpeedEvidence();
  private restoredG = false;
  /** The specific force averaged over ~0.5 s (NaN before the first sample), and since when it has lost its vertical part (NaN: it has not). */
  private m: Vec3 = [NaN, NaN, NaN];
  private movedSince = NaN;
  /** Forward from stops and starts (neither gyro nor speed). */
  private stops = new StopEvidence();
  /** The device turning about a horizontal axis (gyro), if it is. */
  private turn: Turn | undefined;
  /** −1 once the gyro is found to read every rate with the opposite sign (its axes left-handed against the accelerometer's). */
  private gyroSign = 1;
  /** The second (of time) in which that was last checked. */
  private gyroCheckSec = NaN;

  constructor(
    private readonly p: MountParams,
    /** The device was found moved in its mount (forward is learnt again). */
    private readonly onRemount: () => void = () => {},
    /** The gyro was found to read its rates with the opposite sign (they are turned round from then on). */
    private readonly onGyroFlipped: () => void = () => {},
  ) {}

  /**
   * The vehicle's clock was set back: what was learnt (gravity once averaged, forward's evidence)
   * stays; its times start again at the next sample, judged from it if gravity was known.
   */
  rebase(): void {
    if (Number.isNaN(this.t0)) return;
    if (this.ready(this.lastTs)) this.restoredG = true;
    this.t0 = NaN;
    this.lastTs = NaN;
    this.movedSince = NaN;
    this.turn = undefined;
    this.gyroCheckSec = NaN;
    this.speed.rebase();
    this.stops.rebase();
  }

  /** Gravity and forward evidence were restored from saved state: judge from the first sample on. */
  restored(): void {
    this.restoredG = true;
  }

  /** All of it, for a restart that resumes exactly (NaN and ±Infinity may come back as null after JSON). */
  save(): Record<string, unknown> {
    const turn = this.turn ? { g0: [...this.turn.g0], handled: this.turn.handled, quietSince: this.turn.quietSince } : null;
    return { g: [...this.g], t0: this.t0, lastTs: this.lastTs, h: [...this.h], left: [...this.left], turnDeg: this.turnDeg, restoredG: this.restoredG, m: [...this.m], movedSince: this.movedSince, speed: this.speed.save(), stops: this.stops.save(), rightTurns: [...this.rightTurns], rightTurnDeg: this.rightTurnDeg, turn, gyroSign: this.gyroSign, gyroCheckSec: this.gyroCheckSec };
  }

  /** What `save` gave; throws on anything else (the caller sets the operator's state aside). */
  load(s: Record<string, unknown>): void {
    const num = (x: unknown, what: string) => savedNumber(x, what, NaN);
    this.g = savedVec(s.g, 'g');
    this.t0 = num(s.t0, 't0');
    this.lastTs = num(s.lastTs, 'lastTs');
    this.h = savedVec(s.h, 'h');
    this.left = savedVec(s.left, 'left');
    this.turnDeg = num(s.turnDeg, 'turnDeg');
    this.restoredG = s.restoredG === true;
    // saved before 2026-12-05: no remount watch yet (it starts from the next sample)
    this.m = s.m === undefined ? [NaN, NaN, NaN] : savedVec(s.m, 'm');
    this.movedSince = s.movedSince === undefined ? NaN : num(s.movedSince, 'movedSince');
    this.speed = new SpeedEvidence();
    if (s.speed !== undefined) {
      if (typeof s.speed !== 'object' || s.speed === null) throw new Error(`speed must be an object, found ${JSON.stringify(s.speed)}`);
      this.speed.load(s.speed as Record<string, unknown>);
    } else {
      // saved before 2026-12-06: the speed's evidence at no delay only (and no recent part before 2026-12-05)
      const recent = s.fwdRecent === undefined ? [0, 0, 0] as Vec3 : savedVec(s.fwdRecent, 'fwdRecent');
      this.speed.loadOnTime(savedVec(s.fwd, 'fwd'), num(s.speedChange, 'speedChange'), recent, s.speedRecent === undefined ? 0 : num(s.speedRecent, 'speedRecent'));
    }
    // saved before 2026-12-06: no stops seen yet, and the turns not split by side (the sum goes on
    // alone until new right turns reach BALANCE_DEG)
    this.rightTurns = s.rightTurns === undefined ? [0, 0, 0] : savedVec(s.rightTurns, 'rightTurns');
    this.rightTurnDeg = s.rightTurnDeg === undefined ? 0 : num(s.rightTurnDeg, 'rightTurnDeg');
    // saved before 2026-12-06 (evening): no turn under way, the gyro's sign as it reads
    this.gyroSign = s.gyroSign === -1 ? -1 : 1;
    this.gyroCheckSec = s.gyroCheckSec === undefined ? NaN : num(s.gyroCheckSec, 'gyroCheckSec');
    this.turn = undefined;
    if (s.turn !== undefined && s.turn !== null) {
      if (typeof s.turn !== 'object') throw new Error(`turn must be an object, found ${JSON.stringify(s.turn)}`);
      const t = s.turn as Record<string, unknown>;
      this.turn = { g0: savedVec(t.g0, 'turn.g0'), handled: t.handled === true, quietSince: num(t.quietSince, 'turn.quietSince') };
    }
    this.stops = new StopEvidence();
    if (s.stops !== undefined) {
      if (typeof s.stops !== 'object' || s.stops === null) throw new Error(`stops must be an object, found ${JSON.stringify(s.stops)}`);
      this.stops.load(s.stops as Record<string, unknown>);
    }
  }

  /**
   * The accelerometer's average is gravity, within a factor of two. Not so: it is linear
   * acceleration (gravity already removed, as Android's and Core Motion's "user acceleration"
   * are), or its unit is wrong (m/s² read as g or g as m/s²); no vertical to judge against.
   */
  gravityOk(): boolean {
    const n = norm(this.g);
    return n >= 0.5 * G && n <= 2 * G;
  }

  /** False while the device sits moved in its mount, before gravity is taken afresh, or is being turned by hand: its samples mean nothing about the vehicle. */
  settled(): boolean {
    return Number.isNaN(this.movedSince) && !this.turn?.handled;
  }

  /**
   * Watch for the device moved in its mount: the average's component along gravity under
   * cos(`remountDeg`) of gravity (unsettled from then), for `remountHoldMs` and then at rest
   * (gravity's magnitude). Then gravity is that average and forward is learnt again.
   */
  private watchMount(ts: number, a: Vec3, dt: number): void {
    if (!this.average(a, dt)) return;
    if (!this.tilted()) {
      this.movedSince = NaN;
      return;
    }
    const m = this.m;
    const gn = norm(this.g);
    if (Number.isNaN(this.movedSince)) this.movedSince = ts;
    if (ts - this.movedSince < this.p.remountHoldMs || Math.abs(norm(m) - gn) > REMOUNT_MAGNITUDE * gn) return;
    this.g = [m[0], m[1], m[2]];
    this.turn = undefined;
    this.movedSince = NaN;
    this.remounted();
  }

  /**
   * Follow the device turning about a horizontal axis (gyro `w`, rad/s): gravity turns with it;
   * handled once it has turned `HANDLE_DEG`; when the turn ends, a turn that never got that far
   * gives gravity back as it was, a handled device turned `remountDeg` or more learns forward again.
   */
  private followTurn(ts: number, w: Vec3, dt: number): void {
    // the rate about a horizontal axis, squared: |ω|² − (ω·ĝ)² (no allocation: this runs on every sample)
    const gg = dot(this.g, this.g);
    if (!(gg > 0)) return;
    const along = dot(w, this.g);
    const turning = dot(w, w) - (along * along) / gg >= HANDLE_RATE * HANDLE_RATE;
    if (turning && !this.turn) this.turn = { g0: [this.g[0], this.g[1], this.g[2]], handled: false, quietSince: NaN };
    const t = this.turn;
    if (!t) return;
    const gn = norm(t.g0);
    addScaled(this.g, cross(w, this.g), -dt / 1000);
    const turned = unit(this.g);
    if (turned) this.g = [turned[0] * gn, turned[1] * gn, turned[2] * gn];
    const cosTurned = dot(this.g, t.g0) / (gn * gn);
    if (cosTurned <= COS_HANDLED) t.handled = true;
    if (turning) t.quietSince = NaN;
    else if (Number.isNaN(t.quietSince)) t.quietSince = ts;
    if (Number.isNaN(t.quietSince) || ts - t.quietSince < (t.handled ? HANDLE_SETTLE_MS : HANDLE_QUIET_MS)) return;
    this.turn = undefined;
    if (!t.handled) this.g = t.g0;
    else if (cosTurned <= Math.cos((this.p.remountDeg * Math.PI) / 180)) this.remounted();
  }

  /** The specific force's half-second average follows `a`; false at the first sample (it starts there). */
  private average(a: Vec3, dt: number): boolean {
    if (Number.isNaN(this.m[0])) {
      this.m = [a[0], a[1], a[2]];
      return false;
    }
    moveToward(this.m, a, 1 - Math.exp(-dt / REMOUNT_TAU_MS));
    return true;
  }

  /** The half-second average has lost its vertical part (m · ĝ < cos(`remountDeg`) · |g|): the device is turning in its mount, or was put in another way than gravity was learnt in. */
  tilted(): boolean {
    const gn = norm(this.g);
    return dot(this.m, this.g) < Math.cos((this.p.remountDeg * Math.PI) / 180) * gn * gn;
  }

  /** The device was moved in its mount: its horizontal acceleration starts afresh and forward is learnt again from speed, turns and stops. */
  private remounted(): void {
    this.h = [0, 0, 0];
    this.speed.clear();
    this.relearn();
  }

  /** Forward is learnt again (the device moved in its mount): from the speed's evidence as it now stands, and afresh from turns and stops. */
  private relearn(): void {
    this.left = [0, 0, 0];
    this.turnDeg = 0;
    this.rightTurns = [0, 0, 0];
    this.rightTurnDeg = 0;
    this.stops = new StopEvidence();
    this.onRemount();
  }

  /** Is the recent speed evidence of forward more than 60° from the evidence before it, in the horizontal plane (enough of each)? */
  private turnedFlat(): boolean {
    const up = unit(this.g);
    const enough = this.p.minSpeedChange;
    const sp = this.speed;
    if (!up || sp.recentChange < enough || sp.change - sp.recentChange < enough) return false;
    const f = sp.forward();
    const r = sp.recentForward();
    const before = unit(reject([f[0] - r[0], f[1] - r[1], f[2] - r[2]], up));
    const recent = unit(reject(r, up));
    return before !== undefined && recent !== undefined && dot(before, recent) < COS_TURNED;
  }

  /** The time (ms) a sample at `ts` stands for: since the sample before, at most 1 s (0 at the first). */
  interval(ts: number): number {
    return Math.min(1000, Math.max(0, ts - this.lastTs)) || 0;
  }

  /** Gravity has been averaged for one time constant. */
  ready(ts: number): boolean {
    return ts - this.t0 >= this.p.gravityTauMs;
  }

  /** One accelerometer sample (m/s², sensor axes) and gyro (rad/s) if any. Returns the low-passed horizontal acceleration. */
  update(ts: number, a: Vec3, w: Vec3 | undefined): Vec3 {
    if (Number.isNaN(this.t0)) {
      this.t0 = this.restoredG ? ts - this.p.gravityTauMs : ts;
      this.lastTs = ts;
      if (!this.restoredG) this.g = [a[0], a[1], a[2]];
      this.m = [a[0], a[1], a[2]];
      return this.h;
    }
    const dt = this.interval(ts);
    this.lastTs = ts;
    if (w && this.gyroSign < 0) w = [-w[0], -w[1], -w[2]];
    if (this.gravityOk()) {
      if (this.p.gyroHandling && w && dt <= HANDLE_MAX_DT) this.followTurn(ts, w, dt);
      else if (this.turn) {
        // the gyro fell silent (or too slow to follow) during a turn: where the device ended up is
        // unknown, so gravity is as before the turn and the accelerometer's watch decides
        this.g = this.turn.g0;
        this.turn = undefined;
      }
      this.watchMount(ts, a, dt);
    } else this.average(a, dt);
    const up = unit(this.g);
    if (!up) return this.h;
    const raw = reject([a[0] - this.g[0], a[1] - this.g[1], a[2] - this.g[2]], up);
    const k = 1 - Math.exp(-dt / this.p.smoothMs);
    const h = this.h;
    moveToward(h, raw, k);
    // gravity: a slow average, ten times slower while the vehicle is clearly accelerating (not
    // stopped altogether: a gravity estimate that is off would otherwise hold itself frozen)
    const tau = norm(h) < this.p.freeze || !this.ready(ts) ? this.p.gravityTauMs : 10 * this.p.gravityTauMs;
    const kg = 1 - Math.exp(-dt / tau);
    // (not from a device moved in its mount: what it measures then is no vehicle's gravity)
    if (this.settled()) moveToward(this.g, a, kg);
    // ...nor evidence of forward
    if (!this.settled()) return h;
    this.stops.update(ts, dt, a, h, up);
    if (!this.ready(ts)) return h;
    this.speed.add(ts, h);
    if (w) {
      const yaw = dot(w, up);
      if (Math.abs(yaw) >= this.p.minYawRate) {
        const s = (yaw * dt) / 1000;
        addScaled(this.left, h, s);
        this.turnDeg += (Math.abs(s) * 180) / Math.PI;
        if (s < 0) {
          addScaled(this.rightTurns, h, s);
          this.rightTurnDeg -= (s * 180) / Math.PI;
        }
      }
      const sec = Math.floor(ts / 1000);
      if (sec !== this.gyroCheckSec) {
        this.gyroCheckSec = sec;
        this.checkGyroSign();
      }
    }
    return h;
  }

  /**
   * Once a second: do the turns point forward the opposite way to speed or to stops (more than
   * 120° apart, `minTurnDeg` of turning seen)? Then the gyro reads its rates with the opposite
   * sign (axes left-handed against the accelerometer's, against `gyro`'s description): its rates
   * are turned round from now on, and so is what its turns taught (a left turn was read as a right).
   */
  private checkGyroSign(): void {
    if (this.turnDeg < this.p.minTurnDeg) return;
    const up = unit(this.g);
    if (!up) return;
    // forward as the step takes it, when it does not come from the turns themselves
    const known = this.axes();
    const left = this.turnsLeft(up);
    if (!known || known.source === 'gyro' || !left || dot(left, known.left) > -0.5) return;
    this.gyroSign = -this.gyroSign;
    // rightTurns held the sum over the left turns (read as right), negated: the right turns' is the rest
    const [l, r] = [this.left, this.rightTurns];
    this.rightTurns = [r[0] - l[0], r[1] - l[1], r[2] - l[2]];
    this.left = [-l[0], -l[1], -l[2]];
    this.rightTurnDeg = this.turnDeg - this.rightTurnDeg;
    this.onGyroFlipped();
  }

  /** A speed change: dv/dt (m/s²) over the `dtMs` before `ts`; paired with the horizontal acceleration of that interval, at each delay. */
  speedInterval(dvdt: number, dtMs: number, ts: number): void {
    if (!this.speed.interval(ts, dtMs, dvdt, 2 * this.p.minSpeedChange) || !this.turnedFlat()) return;
    this.speed.keepRecent();
    this.relearn();
  }

  /** Speed change (m/s) seen so far with acceleration to pair it with. */
  get speedChange(): number {
    return this.speed.change;
  }

  /** Σ h̄·dv at the delay the speed comes with: points forward. */
  get fwd(): Vec3 {
    return this.speed.forward();
  }

  /** How late the speed comes (ms), as chosen. */
  speedLag(): number {
    return this.speed.lag();
  }

  /** The speed's evidence from state saved before 2026-12-05 (no `now`): its sum and speed change only. */
  restoreSpeed(fwd: Vec3, change: number): void {
    this.speed.loadOnTime(fwd, change, [0, 0, 0], 0);
  }

  /** Left from the turns: the left and right turns' directions averaged once both have `BALANCE_DEG`, else their sum's. */
  private turnsLeft(up: Vec3): Vec3 | undefined {
    const r = this.rightTurns;
    if (this.rightTurnDeg < BALANCE_DEG || this.turnDeg - this.rightTurnDeg < BALANCE_DEG) return unit(reject(this.left, up));
    const fromRight = unit(reject(r, up));
    const fromLeft = unit(reject([this.left[0] - r[0], this.left[1] - r[1], this.left[2] - r[2]], up));
    if (!fromRight || !fromLeft) return unit(reject(this.left, up));
    return unit([fromRight[0] + fromLeft[0], fromRight[1] + fromLeft[1], fromRight[2] + fromLeft[2]]);
  }

  /** Forward and left unit vectors in sensor axes, and where forward came from; undefined until known. */
  axes(): { forward: Vec3; left: Vec3; source: ForwardSource } | undefined {
    const up = unit(this.g);
    if (!up) return undefined;
    let forward: Vec3 | undefined;
    let source: ForwardSource = 'none';
    if (this.speed.change >= this.p.minSpeedChange) {
      forward = unit(reject(this.speed.forward(), up));
      source = 'speed';
    }
    if (!forward && this.stops.enough()) {
      forward = unit(reject(this.stops.sum, up));
      source = 'stops';
    }
    if (!forward && this.turnDeg >= this.p.minTurnDeg) {
      const left = this.turnsLeft(up);
      if (left) forward = cross(left, up);
      source = 'gyro';
    }
    if (!forward) return undefined;
    return { forward, left: cross(up, forward), source };
  }
}
