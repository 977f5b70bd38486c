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
 *   starts).
 * - **Judged again as the level moves.** The last `RING` blocks are kept and judged at every
 *   block with the level as it now stands (from `WARM_BLOCKS` on), each stop or start counted
 *   once. A drive that begins standing teaches the level only once it rolls: its first start is
 *   then still in view, and a stand under way as the level comes to be known counts from its own
 *   start (the braking before it), not from that moment. The blocks start with the first sample
 *   (gravity is right from it when the recording begins standing), not after gravity's time
 *   constant.
 * - Forward is their sum, once there are `MIN_COUNT` and they agree (the sum's length at least
 *   `MIN_AGREEMENT` of their lengths' sum): a car reversed out of a parking space is outvoted.
 *
 * On a real drive (bench/telematics-drive.ts --no-speed --no-gyro: an iPhone at 10 Hz in a car,
 * six minutes, three stops) forward is known after 85 s, 1.7° from the car's own at the end (152 s
 * with three needed; 258 s and 7.1° when only the newest block was judged, after gravity's 30 s).
 * Two are enough since harsh manoeuvres before forward are judged once it is known: a drive with
 * no stop between its first start and its destination learns it there. On the simulator's vans (an
 * idling engine that shakes a standing van a third as much as the road a rolling one) it is known
 * 1–2.5 minutes in.
 */
import { dot, savedNumber, savedNumbers, savedVec, type Vec3 } from './vec.js';

const BLOCK_MS = 1000;
/**
 * Samples a block needs for its spread to mean anything: the body's motion is at a few hertz, and
 * from two samples a rolling second reads as standing one time in four (at 2 Hz a drive without a
 * stop "learnt" forward 90° off from such stands). An accelerometer under 5 Hz learns no stops.
 */
const MIN_BLOCK_SAMPLES = 5;
const LOWPASS_MS = 100;
const REST_SHARE = 0.3;
/** Steps of the rolling level's estimate, in log units a block: it settles at the 80th percentile (up × 20 % = down × 80 %). */
const LEVEL_UP = 0.05;
const LEVEL_DOWN = 0.0125;
const WARM_BLOCKS = 30;
const CONFIRM_BLOCKS = 3;
const INTEGRAL_TAU_MS = 3000;
const MIN_EVIDENCE = 0.5;
const MIN_COUNT = 2;
const MIN_AGREEMENT = 0.7;
/**
 * The last blocks kept (their spread, and the integral at their end), judged again at every block
 * with the rolling level as it now stands: a drive that begins standing teaches the level only
 * once it rolls, and its first start is then still in view.
 */
const RING = 40;
const START = 1;
const STOP = 2;

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
  /** ∫ h e^(−(t−s)/τ) ds (m/s, sensor axes). */
  private integral: Vec3 = [0, 0, 0];
  /** The last RING blocks (block `i` in slot i % RING): log spread, the integral at its end, and what was counted at it (START, STOP or 0); how many blocks so far. */
  private xs = new Float64Array(RING);
  private ints = new Float64Array(RING * 3);
  private counted = new Uint8Array(RING);
  private seen = 0;
  /** Σ evidence, Σ |evidence|, how many. */
  sum: Vec3 = [0, 0, 0];
  private length = 0;
  private count = 0;

  /** The clock was set back: the current block starts again at the next sample; the blocks before and the evidence stay. */
  rebase(): void {
    this.blockTs = NaN;
    this.n = 0;
    this.s1 = [0, 0, 0];
    this.s2 = [0, 0, 0];
  }

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
    if (this.n < MIN_BLOCK_SAMPLES) return;
    let spread = 0;
    for (let i = 0; i < 3; i++) {
      const mean = this.s1[i]! / this.n;
      spread += Math.sqrt(Math.max(0, this.s2[i]! / this.n - mean * mean));
    }
    const x = Math.log(Math.max(spread, 1e-9));
    if (Number.isNaN(this.level)) this.level = x;
    const warm = this.blocks >= WARM_BLOCKS;
    // the level of rolling: a long stand must not pull it down to its own
    if (!(warm && this.stands(x))) this.level += x > this.level ? LEVEL_UP : -LEVEL_DOWN;
    this.blocks = Math.min(this.blocks + 1, WARM_BLOCKS);
    const slot = this.seen % RING;
    this.xs[slot] = x;
    this.ints.set(this.integral, slot * 3);
    this.counted[slot] = 0;
    this.seen++;
    if (warm) this.judgeRing(up);
  }

  private stands(x: number): boolean {
    return x < this.level + Math.log(REST_SHARE);
  }

  /**
   * Every block in view judged with the level as it now stands: a start is CONFIRM_BLOCKS rolling
   * after as many standing (its evidence the integral at the last of them), a stop the other way
   * round (the integral as the stand began, negated); each is counted once.
   */
  private judgeRing(up: Vec3): void {
    const c = CONFIRM_BLOCKS;
    const first = Math.max(0, this.seen - RING);
    for (let k = first + 2 * c - 1; k < this.seen; k++) {
      if (this.counted[k % RING]) continue;
      const last = this.stands(this.xs[k % RING]!);
      let run = true;
      for (let j = 1; j < 2 * c && run; j++) run = this.stands(this.xs[(k - j) % RING]!) === (j < c ? last : !last);
      if (!run) continue;
      // the same stop or start, seen again a block or two on as the level moved
      const kind = last ? STOP : START;
      let again = false;
      for (let j = Math.max(first, k - 2 * c + 1); j < Math.min(this.seen, k + 2 * c) && !again; j++) again = this.counted[j % RING] === kind;
      if (again) continue;
      const at = (last ? k - c + 1 : k) % RING;
      const sign = last ? -1 : 1;
      // one too small to count (a stand's spread wavering about the line) leaves room for the real one
      if (this.add([sign * this.ints[at * 3]!, sign * this.ints[at * 3 + 1]!, sign * this.ints[at * 3 + 2]!], up)) this.counted[k % RING] = kind;
    }
  }

  /** Counts the evidence `e` (its horizontal part) if it is large enough; says whether it did. */
  private add(e: Vec3, up: Vec3): boolean {
    const d = dot(e, up);
    const hz: Vec3 = [e[0] - d * up[0], e[1] - d * up[1], e[2] - d * up[2]];
    const len = Math.sqrt(dot(hz, hz));
    if (len < MIN_EVIDENCE) return false;
    for (let i = 0; i < 3; i++) this.sum[i]! += hz[i]!;
    this.length += len;
    this.count++;
    return true;
  }

  /** Enough stops and starts that agree. */
  enough(): boolean {
    return this.count >= MIN_COUNT && Math.sqrt(dot(this.sum, this.sum)) >= MIN_AGREEMENT * this.length;
  }

  /** All of it, for a restart that resumes exactly. */
  save(): Record<string, unknown> {
    return { body: [...this.body], blockTs: this.blockTs, n: this.n, s1: [...this.s1], s2: [...this.s2], level: this.level, blocks: this.blocks, integral: [...this.integral], xs: [...this.xs], ints: [...this.ints], counted: [...this.counted], seen: this.seen, sum: [...this.sum], length: this.length, count: this.count };
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
    this.integral = vec(s.integral, 'integral');
    if (s.xs === undefined) {
      // saved before 2026-12-06 (blocks counted in a row, no ring): the blocks from now on are in view
      this.xs.fill(0);
      this.ints.fill(0);
      this.counted.fill(0);
      this.seen = 0;
    } else {
      this.xs = Float64Array.from(savedNumbers(s.xs, RING, 'stops.xs'));
      this.ints = Float64Array.from(savedNumbers(s.ints, RING * 3, 'stops.ints'));
      this.counted = Uint8Array.from(savedNumbers(s.counted, RING, 'stops.counted'));
      this.seen = num(s.seen, 'seen');
    }
    this.sum = vec(s.sum, 'sum');
    this.length = num(s.length, 'length');
    this.count = num(s.count, 'count');
  }
}
