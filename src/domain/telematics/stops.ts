/**
 * Forward from stops and starts: the evidence of an accelerometer without gyro or speed. Pure
 * maths, no I/O, no clock: time comes from the samples.
 *
 * - **Standing or rolling.** A standing vehicle's body rests on its suspension: the accelerometer
 *   shows the engine's vibration, tens of hertz, and little else. Rolling, the road moves the body
 *   at a few hertz. So the spread of the specific force, low-passed to keep the body's motion
 *   (`LOWPASS_MS`) and summed over the axes, per second (a block), tells one from the other: a
 *   block is standing under `REST_SHARE` of the rolling level, the 80th percentile of the rolling
 *   blocks (tracked in log, from rolling blocks only and four times slower down than up: a long
 *   red light, or a stand not yet told from rolling, must not pull it down to its own;
 *   `WARM_BLOCKS` first).
 * - **Which way is forward.** A vehicle moves off forwards and comes to a stop braking. The
 *   horizontal acceleration integrated over the last seconds (`INTEGRAL_TAU_MS`: about the speed
 *   gained or lost) points forwards `CONFIRM_BLOCKS` after a start, and backwards when a stop
 *   begins. Either counts only once the vehicle has stood, or rolled, `CONFIRM_BLOCKS` in a row
 *   on both sides, and only at `MIN_EVIDENCE` m/s or more (slow rolling misread as standing
 *   gains or loses little; a bias of the gravity estimate adds to stops what it takes from
 *   starts). Nothing before the level is known (`WARM_BLOCKS`) counts on either side: a stand
 *   under way by then is no stop.
 * - Forward is their sum, once there are `MIN_COUNT` and they agree (the sum's length at least
 *   `MIN_AGREEMENT` of their lengths' sum): a car reversed out of a parking space is outvoted.
 *
 * On a real drive (bench/telematics-drive.ts --no-speed --no-gyro: an iPhone at 10 Hz in a car,
 * six minutes, three stops) every stop and start is 8–22° from the forward the car's speed shows,
 * their sum 9.5° (with `REST_SHARE` from 0.15 to 0.5: 6–10°); forward is known after 258 s. On
 * the simulator's vans (an idling engine that shakes a standing van a third as much as the road
 * a rolling one) it is known 3–5 minutes in.
 */
import { dot, savedNumber, savedVec, type Vec3 } from './vec.js';

const BLOCK_MS = 1000;
const LOWPASS_MS = 100;
const REST_SHARE = 0.3;
/** Steps of the rolling level's estimate, in log units a block: it settles at the 80th percentile (up × 20 % = down × 80 %). */
const LEVEL_UP = 0.05;
const LEVEL_DOWN = 0.0125;
const WARM_BLOCKS = 30;
const CONFIRM_BLOCKS = 3;
const INTEGRAL_TAU_MS = 3000;
const MIN_EVIDENCE = 0.5;
const MIN_COUNT = 3;
const MIN_AGREEMENT = 0.7;

export class StopEvidence {
  /** The specific force, low-passed (NaN before the first sample). */
  private body: Vec3 = [NaN, NaN, NaN];
  /** The current block: its start, samples, and per axis Σx and Σx². */
  private blockTs = NaN;
  private n = 0;
  private s1: Vec3 = [0, 0, 0];
  private s2: Vec3 = [0, 0, 0];
  /** The rolling level (log spread), and how many blocks it has seen (up to WARM_BLOCKS). */
  private level = NaN;
  private blocks = 0;
  /** Blocks in a row standing, rolling. */
  private standing = 0;
  private rolling = 0;
  /** ∫ h e^(−(t−s)/τ) ds (m/s, sensor axes). */
  private integral: Vec3 = [0, 0, 0];
  /** A stop's evidence, counted once it has stood CONFIRM_BLOCKS. */
  private pending: Vec3 | undefined;
  /** Σ evidence, Σ |evidence|, how many. */
  sum: Vec3 = [0, 0, 0];
  private length = 0;
  private count = 0;

  /** One accelerometer sample `a` (m/s²), the horizontal acceleration `h`, `up`; `dt` ms since the last. */
  update(ts: number, dt: number, a: Vec3, h: Vec3, up: Vec3): void {
    const b = this.body;
    if (Number.isNaN(b[0])) this.body = [a[0], a[1], a[2]];
    else {
      const k = 1 - Math.exp(-dt / LOWPASS_MS);
      for (let i = 0; i < 3; i++) b[i]! += k * (a[i]! - b[i]!);
    }
    const decay = Math.exp(-dt / INTEGRAL_TAU_MS);
    for (let i = 0; i < 3; i++) this.integral[i] = this.integral[i]! * decay + (h[i]! * dt) / 1000;
    if (Number.isNaN(this.blockTs)) this.blockTs = ts;
    if (ts - this.blockTs >= BLOCK_MS) {
      this.block(up);
      this.blockTs = ts;
      this.n = 0;
      this.s1 = [0, 0, 0];
      this.s2 = [0, 0, 0];
    }
    this.n++;
    for (let i = 0; i < 3; i++) {
      this.s1[i]! += this.body[i]!;
      this.s2[i]! += this.body[i]! * this.body[i]!;
    }
  }

  private block(up: Vec3): void {
    if (this.n < 2) return;
    let spread = 0;
    for (let i = 0; i < 3; i++) {
      const mean = this.s1[i]! / this.n;
      spread += Math.sqrt(Math.max(0, this.s2[i]! / this.n - mean * mean));
    }
    const x = Math.log(Math.max(spread, 1e-9));
    if (Number.isNaN(this.level)) this.level = x;
    const warm = this.blocks >= WARM_BLOCKS;
    const stands = warm && x < this.level + Math.log(REST_SHARE);
    // the level of rolling: a long stand must not pull it down to its own
    if (!stands) this.level += x > this.level ? LEVEL_UP : -LEVEL_DOWN;
    this.blocks = Math.min(this.blocks + 1, WARM_BLOCKS);
    // Before, no block is told standing, so none counts as rolling either: a stand under way as
    // the level comes to be known is no stop (its integral holds seconds of standing, not the braking).
    if (!warm) return;
    if (stands) {
      if (this.rolling >= CONFIRM_BLOCKS) this.pending = [-this.integral[0], -this.integral[1], -this.integral[2]];
      this.standing++;
      this.rolling = 0;
      if (this.standing === CONFIRM_BLOCKS && this.pending) this.add(this.pending, up);
    } else {
      this.pending = undefined;
      this.rolling++;
      if (this.rolling === CONFIRM_BLOCKS && this.standing >= CONFIRM_BLOCKS) this.add([...this.integral], up);
      if (this.rolling >= CONFIRM_BLOCKS) this.standing = 0;
    }
  }

  private add(e: Vec3, up: Vec3): void {
    this.pending = undefined;
    const d = dot(e, up);
    const hz: Vec3 = [e[0] - d * up[0], e[1] - d * up[1], e[2] - d * up[2]];
    const len = Math.sqrt(dot(hz, hz));
    if (len < MIN_EVIDENCE) return;
    for (let i = 0; i < 3; i++) this.sum[i]! += hz[i]!;
    this.length += len;
    this.count++;
  }

  /** Enough stops and starts that agree. */
  enough(): boolean {
    return this.count >= MIN_COUNT && Math.sqrt(dot(this.sum, this.sum)) >= MIN_AGREEMENT * this.length;
  }

  /** All of it, for a restart that resumes exactly. */
  save(): Record<string, unknown> {
    return { body: [...this.body], blockTs: this.blockTs, n: this.n, s1: [...this.s1], s2: [...this.s2], level: this.level, blocks: this.blocks, standing: this.standing, rolling: this.rolling, integral: [...this.integral], pending: this.pending ? [...this.pending] : null, sum: [...this.sum], length: this.length, count: this.count };
  }

  /** What `save` gave; throws on anything else. */
  load(s: Record<string, unknown>): void {
    const num = (x: unknown, what: string) => savedNumber(x, `stops.${what}`, NaN);
    const vec = (x: unknown, what: string) => savedVec(x, `stops.${what}`);
    this.body = vec(s.body, 'body');
    this.blockTs = num(s.blockTs, 'blockTs');
    this.n = num(s.n, 'n');
    this.s1 = vec(s.s1, 's1');
    this.s2 = vec(s.s2, 's2');
    this.level = num(s.level, 'level');
    this.blocks = num(s.blocks, 'blocks');
    this.standing = num(s.standing, 'standing');
    this.rolling = num(s.rolling, 'rolling');
    this.integral = vec(s.integral, 'integral');
    this.pending = s.pending === null ? undefined : vec(s.pending, 'pending');
    this.sum = vec(s.sum, 'sum');
    this.length = num(s.length, 'length');
    this.count = num(s.count, 'count');
  }
}
