import { Reference } from '../cusum/detector.js';
import { checkKind, newJudgement, scoreOf, snapNum, type Detector, type Direction, type Judgement } from '../types.js';

export interface PageHinkleyParams {
  /** Magnitude of change tolerated, in standard deviations (δ). */
  delta: number;
  /** Alarm when the cumulative deviation from its extreme exceeds this, in standard deviations (λ). */
  threshold: number;
  /** Readings that set the scale (standard deviation) before judging. */
  warmup: number;
  /** Fading factor of the running mean (0: cumulative mean since the last alarm). */
  alpha: number;
  direction: Direction;
  min_std: number;
  /** Restart (new mean, new sums) after an alarm. */
  rebaseline: boolean;
}

/** Page-Hinkley test for a change in the mean, two-sided, on standardised readings. */
export class PageHinkleyDetector implements Detector {
  readonly kind = 'page_hinkley';
  private readonly out: Judgement = newJudgement();
  private readonly ref: Reference;
  /** Running mean since the last restart and its count. */
  private mean = 0;
  private count = 0;
  private mUp = 0;
  private minUp = 0;
  private mDown = 0;
  private maxDown = 0;

  constructor(private readonly p: PageHinkleyParams) {
    this.ref = new Reference(p.warmup, 0);
    this.out.limit = p.threshold;
  }

  update(_ts: number, x: number): Judgement {
    const o = this.out;
    const p = this.p;
    if (!this.ref.ready) {
      this.ref.learn(x);
      this.learnMean(x);
      o.baseline = this.mean;
      o.score = 0;
      o.anomalous = false;
      o.rule = 'warmup';
      o.deviation = 0;
      return o;
    }
    const sd = Math.max(this.ref.std(), p.min_std, 1e-15 + 1e-12 * Math.abs(this.ref.mean));
    this.learnMean(x);
    const z = (x - this.mean) / sd;
    this.mUp += z - p.delta;
    if (this.mUp < this.minUp) this.minUp = this.mUp;
    this.mDown += z + p.delta;
    if (this.mDown > this.maxDown) this.maxDown = this.mDown;
    const up = p.direction === 'down' ? 0 : this.mUp - this.minUp;
    const down = p.direction === 'up' ? 0 : this.maxDown - this.mDown;
    const s = up > down ? up : down;
    o.baseline = this.mean;
    o.deviation = s;
    o.score = scoreOf(s, p.threshold);
    o.anomalous = s >= p.threshold;
    o.rule = up > down ? 'page_hinkley_up' : 'page_hinkley_down';
    if (o.anomalous && p.rebaseline) {
      this.mean = x;
      this.count = 1;
      this.mUp = this.minUp = this.mDown = this.maxDown = 0;
    }
    return o;
  }

  private learnMean(x: number): void {
    this.count++;
    const a = Math.max(this.p.alpha, 1 / this.count);
    this.mean += a * (x - this.mean);
  }

  snapshot(): Record<string, unknown> {
    const r = this.ref;
    return {
      kind: this.kind, n: r.n, ref_mean: r.mean, m2: r.m2,
      mean: this.mean, count: this.count, m_up: this.mUp, min_up: this.minUp, m_down: this.mDown, max_down: this.maxDown,
    };
  }

  restore(s: Record<string, unknown>): void {
    checkKind(s, this.kind);
    const k = this.kind;
    this.ref.n = snapNum(s, 'n', k);
    this.ref.mean = snapNum(s, 'ref_mean', k);
    this.ref.m2 = snapNum(s, 'm2', k);
    this.mean = snapNum(s, 'mean', k);
    this.count = snapNum(s, 'count', k);
    this.mUp = snapNum(s, 'm_up', k);
    this.minUp = snapNum(s, 'min_up', k);
    this.mDown = snapNum(s, 'm_down', k);
    this.maxDown = snapNum(s, 'max_down', k);
  }
}
