import { checkKind, newJudgement, scoreOf, snapNum, type Detector, type Direction, type Judgement } from '../types.js';

/** Learns a reference mean and standard deviation: plain average during warm-up, then slow EWMA. */
export class Reference {
  n = 0;
  mean = 0;
  m2 = 0;
  constructor(readonly warmup: number, readonly alpha: number) {}
  get ready(): boolean {
    return this.n >= this.warmup;
  }
  std(): number {
    const v = this.n >= this.warmup ? this.m2 : this.n > 1 ? this.m2 : 0;
    return Math.sqrt(v);
  }
  /** Learn x (Welford-style with weight max(alpha, 1/(n+1))). */
  learn(x: number): void {
    const a = Math.max(this.alpha, 1 / (this.n + 1));
    const diff = x - this.mean;
    const incr = a * diff;
    this.mean += incr;
    this.m2 = (1 - a) * (this.m2 + diff * incr);
    this.n++;
  }
  reset(): void {
    this.n = 0;
    this.mean = 0;
    this.m2 = 0;
  }
}

export interface CusumParams {
  /** Slack k, in standard deviations: drifts smaller than this are ignored. */
  k: number;
  /** Decision limit h, in standard deviations of accumulated excess. */
  h: number;
  /** Readings that set the reference mean and standard deviation. */
  warmup: number;
  /** After warm-up, the reference keeps learning with this weight while no change is under way (0: frozen). */
  alpha: number;
  direction: Direction;
  /** Floor on the reference standard deviation, in value units (0: a tiny relative floor). */
  min_std: number;
  /** After an alarm, forget the reference and learn the new level (a change-point detector). */
  rebaseline: boolean;
}

/** Two-sided tabular CUSUM on standardised readings, for level shifts and slow drifts. */
export class CusumDetector implements Detector {
  readonly kind = 'cusum';
  private readonly out: Judgement = newJudgement();
  private readonly ref: Reference;
  private up = 0;
  private down = 0;

  constructor(private readonly p: CusumParams) {
    this.ref = new Reference(p.warmup, p.alpha);
    this.out.limit = p.h;
  }

  update(_ts: number, x: number): Judgement {
    const o = this.out;
    const p = this.p;
    const ref = this.ref;
    o.baseline = ref.n > 0 ? ref.mean : NaN;
    if (!ref.ready) {
      ref.learn(x);
      o.score = 0;
      o.anomalous = false;
      o.rule = 'warmup';
      o.deviation = 0;
      return o;
    }
    const sd = Math.max(ref.std(), p.min_std, 1e-15 + 1e-12 * Math.abs(ref.mean));
    const z = (x - ref.mean) / sd;
    if (p.direction !== 'down') this.up = Math.max(0, this.up + z - p.k);
    if (p.direction !== 'up') this.down = Math.max(0, this.down - z - p.k);
    const s = this.up > this.down ? this.up : this.down;
    o.deviation = s;
    o.score = scoreOf(s, p.h);
    o.anomalous = s >= p.h;
    o.rule = this.up > this.down ? 'cusum_up' : 'cusum_down';
    if (o.anomalous) {
      if (p.rebaseline) {
        ref.reset();
        this.up = 0;
        this.down = 0;
      }
    } else if (p.alpha > 0 && s < p.h / 2) {
      ref.learn(x);
    }
    return o;
  }

  snapshot(): Record<string, unknown> {
    const r = this.ref;
    return { kind: this.kind, n: r.n, mean: r.mean, m2: r.m2, up: this.up, down: this.down };
  }

  restore(s: Record<string, unknown>): void {
    checkKind(s, this.kind);
    this.ref.n = snapNum(s, 'n', this.kind);
    this.ref.mean = snapNum(s, 'mean', this.kind);
    this.ref.m2 = snapNum(s, 'm2', this.kind);
    this.up = snapNum(s, 'up', this.kind);
    this.down = snapNum(s, 'down', this.kind);
  }
}
