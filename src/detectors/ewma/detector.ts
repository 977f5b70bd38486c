import { checkKind, directed, newJudgement, scoreOf, snapNum, SETTLING, type Detector, type Direction, type Judgement } from '../types.js';

export interface EwmaParams {
  /** Smoothing factor of the exponentially weighted mean and variance (0 < alpha < 1), per reading. */
  alpha: number;
  /**
   * Memory in time instead (ms, 0: use `alpha`): a reading Δt after the previous one weighs
   * 1 − 2^(−Δt / half_life), so the baseline forgets at the same pace at any sampling interval.
   */
  half_life: number;
  /** Anomalous when |z| exceeds this. */
  threshold: number;
  /** Readings to learn from before judging. */
  warmup: number;
  /** ...and this long (ms) from the first reading. */
  warmup_time: number;
  direction: Direction;
  /** Floor on the standard deviation, in value units (0: a tiny relative floor). */
  min_std: number;
  /**
   * Clip the value to baseline ± threshold·σ before learning from it, so one outlier barely
   * moves the baseline while a lasting level shift is still absorbed over ~1/alpha readings.
   */
  clip: boolean;
  /**
   * Behind a `running` step: after each pause (its machine stood) readings this long (ms) are
   * neither judged nor learnt — a bearing warming from cold is not its baseline (0: none).
   */
  settle: number;
  /**
   * Behind a `running` step: a pause at least this long (ms) starts the baseline afresh, warm-up
   * included — its level before the stand says nothing of the load after it (0: never).
   */
  relearn_after: number;
}

const FORGET_AFTER = 7;

/** Exponentially weighted mean/variance z-score with a warm-up. O(1) state. */
export class EwmaDetector implements Detector {
  readonly kind = 'ewma';
  private readonly out: Judgement = newJudgement();
  private n = 0;
  private mean = 0;
  private variance = 0;
  private t0 = NaN;
  private lastTs = NaN;
  private memoDt = NaN;
  private memoWeight = 0;
  /** Readings before this time (event time, ms) are held back: the settle after a pause. */
  private settledAt = -Infinity;

  constructor(private readonly p: EwmaParams) {
    this.out.limit = p.threshold;
  }

  update(ts: number, x: number): Judgement {
    const o = this.out;
    const p = this.p;
    if (ts < this.settledAt) {
      o.score = 0;
      o.anomalous = false;
      o.deviation = 0;
      o.rule = SETTLING;
      return o;
    }
    // Memory older than FORGET_AFTER half-lives weighs under 1 %: start afresh, warm-up included.
    if (p.half_life > 0 && ts - this.lastTs > FORGET_AFTER * p.half_life) this.n = 0;
    if (this.n === 0) {
      this.mean = x;
      this.variance = 0;
      this.t0 = ts;
      this.lastTs = ts;
    }
    const warming = this.n < p.warmup || ts - this.t0 < p.warmup_time;
    const sd = Math.max(Math.sqrt(this.variance), p.min_std, 1e-15 + 1e-12 * Math.abs(this.mean));
    const z = (x - this.mean) / sd;
    o.baseline = this.mean;
    o.deviation = z;
    if (warming) {
      o.score = 0;
      o.anomalous = false;
      o.rule = 'warmup';
    } else {
      const d = directed(z, p.direction);
      o.score = scoreOf(d, p.threshold);
      o.anomalous = d >= p.threshold;
      o.rule = 'ewma_z';
    }
    // Learn (after judging: the reading is compared with what came before it).
    let v = x;
    if (p.clip && !warming) {
      const lim = p.threshold * sd;
      if (v > this.mean + lim) v = this.mean + lim;
      else if (v < this.mean - lim) v = this.mean - lim;
    }
    const dt = Number.isNaN(this.lastTs) ? 0 : Math.max(0, ts - this.lastTs);
    const weight = p.half_life > 0 ? this.weightAfter(dt) : p.alpha;
    // During warm-up the plain average of what came so far (a first reading's weight is 1).
    const a = warming ? Math.max(weight, 1 / (this.n + 1)) : weight;
    const diff = v - this.mean;
    const incr = a * diff;
    this.mean += incr;
    this.variance = (1 - a) * (this.variance + diff * incr);
    this.n++;
    if (!(ts <= this.lastTs)) this.lastTs = ts;
    return o;
  }

  /** Paused until `ts` (its machine stood): the pause is neither forgetting nor warm-up time, unless it lasted `relearn_after`. */
  resume(ts: number): void {
    if (this.p.settle > 0) this.settledAt = ts + this.p.settle;
    if (this.n === 0 || !(ts > this.lastTs)) return;
    if (this.p.relearn_after > 0 && ts - this.lastTs >= this.p.relearn_after) {
      this.n = 0;
      return;
    }
    this.t0 += ts - this.lastTs;
    this.lastTs = ts;
  }

  /** The clock was set back from `from` to `to`: the warm-up's start, the last reading and a settle move to the new clock. */
  rebased(from: number, to: number): void {
    this.t0 += to - from;
    this.lastTs += to - from;
    this.settledAt += to - from;
  }

  /** 1 − 2^(−dt / half_life), kept for the last dt: readings mostly come at one interval. */
  private weightAfter(dt: number): number {
    if (dt !== this.memoDt) {
      this.memoDt = dt;
      this.memoWeight = 1 - 2 ** (-dt / this.p.half_life);
    }
    return this.memoWeight;
  }

  snapshot(): Record<string, unknown> {
    const nan = (v: number) => (Number.isNaN(v) ? null : v);
    return { kind: this.kind, n: this.n, mean: this.mean, variance: this.variance, t0: nan(this.t0), lastTs: nan(this.lastTs), ...(this.settledAt > -Infinity ? { settledAt: this.settledAt } : {}) };
  }

  restore(s: Record<string, unknown>): void {
    checkKind(s, this.kind);
    this.n = snapNum(s, 'n', this.kind);
    this.mean = snapNum(s, 'mean', this.kind);
    this.variance = snapNum(s, 'variance', this.kind);
    // Saved before times were kept (2026-12-05): `warmup_time` counts as passed (the reading count
    // still holds), and with `half_life` the first reading after it has no interval to weigh it by.
    this.t0 = 't0' in s ? snapNum(s, 't0', this.kind) : NaN;
    this.lastTs = 'lastTs' in s ? snapNum(s, 'lastTs', this.kind) : NaN;
    this.settledAt = 'settledAt' in s ? snapNum(s, 'settledAt', this.kind) : -Infinity;
  }
}
