import { checkKind, directed, newJudgement, scoreOf, snapNum, type Detector, type Direction, type Judgement } from '../types.js';

export interface EwmaParams {
  /** Smoothing factor of the exponentially weighted mean and variance (0 < alpha < 1). */
  alpha: number;
  /** Anomalous when |z| exceeds this. */
  threshold: number;
  /** Readings to learn from before judging. */
  warmup: number;
  direction: Direction;
  /** Floor on the standard deviation, in value units (0: a tiny relative floor). */
  min_std: number;
  /**
   * Clip the value to baseline ± threshold·σ before learning from it, so one outlier barely
   * moves the baseline while a lasting level shift is still absorbed over ~1/alpha readings.
   */
  clip: boolean;
}

/** Exponentially weighted mean/variance z-score with a warm-up. O(1) state. */
export class EwmaDetector implements Detector {
  readonly kind = 'ewma';
  private readonly out: Judgement = newJudgement();
  private n = 0;
  private mean = 0;
  private variance = 0;

  constructor(private readonly p: EwmaParams) {
    this.out.limit = p.threshold;
  }

  update(_ts: number, x: number): Judgement {
    const o = this.out;
    const p = this.p;
    if (this.n === 0) {
      this.mean = x;
      this.variance = 0;
    }
    const sd = Math.max(Math.sqrt(this.variance), p.min_std, 1e-15 + 1e-12 * Math.abs(this.mean));
    const z = (x - this.mean) / sd;
    o.baseline = this.mean;
    o.deviation = z;
    if (this.n < p.warmup) {
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
    if (p.clip && this.n >= p.warmup) {
      const lim = p.threshold * sd;
      if (v > this.mean + lim) v = this.mean + lim;
      else if (v < this.mean - lim) v = this.mean - lim;
    }
    const a = this.n < p.warmup ? Math.max(p.alpha, 1 / (this.n + 1)) : p.alpha;
    const diff = v - this.mean;
    const incr = a * diff;
    this.mean += incr;
    this.variance = (1 - a) * (this.variance + diff * incr);
    this.n++;
    return o;
  }

  snapshot(): Record<string, unknown> {
    return { kind: this.kind, n: this.n, mean: this.mean, variance: this.variance };
  }

  restore(s: Record<string, unknown>): void {
    checkKind(s, this.kind);
    this.n = snapNum(s, 'n', this.kind);
    this.mean = snapNum(s, 'mean', this.kind);
    this.variance = snapNum(s, 'variance', this.kind);
  }
}
