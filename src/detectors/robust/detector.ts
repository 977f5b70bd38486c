import { RollingOrder } from './rolling.js';
import { checkKind, directed, newJudgement, scoreOf, snapNums, type Detector, type Direction, type Judgement } from '../types.js';

export interface RobustParams {
  /** Readings in the rolling window (bounded state). */
  window: number;
  /** Anomalous when |x − median| / (1.4826·MAD) exceeds this. */
  threshold: number;
  /** Readings before judging (at least 3). */
  warmup: number;
  direction: Direction;
  /** Floor on the scaled MAD, in value units (0: a tiny relative floor). */
  min_mad: number;
  /** Hampel variant: outliers enter the window clipped to median ± threshold·scale. */
  replace_outliers: boolean;
}

/** Robust z-score over a bounded window: median and MAD (the Hampel identifier). */
export class RobustZDetector implements Detector {
  readonly kind: string;
  private readonly out: Judgement = newJudgement();
  private readonly win: RollingOrder;

  constructor(private readonly p: RobustParams, kind = 'robust_z') {
    this.kind = kind;
    this.win = new RollingOrder(p.window);
    this.out.limit = p.threshold;
  }

  update(_ts: number, x: number): Judgement {
    const o = this.out;
    const p = this.p;
    const w = this.win;
    if (w.size < Math.max(3, p.warmup)) {
      w.push(x);
      o.score = 0;
      o.anomalous = false;
      o.rule = 'warmup';
      o.baseline = w.median();
      o.deviation = 0;
      return o;
    }
    const med = w.median();
    const scale = Math.max(1.4826 * w.mad(med), p.min_mad, 1e-15 + 1e-12 * Math.abs(med));
    const z = (x - med) / scale;
    const d = directed(z, p.direction);
    o.baseline = med;
    o.deviation = z;
    o.score = scoreOf(d, p.threshold);
    o.anomalous = d >= p.threshold;
    o.rule = p.replace_outliers ? 'hampel' : 'robust_z';
    // Hampel: an outlier is learnt clipped to median ± threshold·scale, so a lone outlier cannot
    // widen the window's spread while a lasting shift is still learnt (the median moves).
    if (p.replace_outliers && Math.abs(z) >= p.threshold) w.push(z > 0 ? med + p.threshold * scale : med - p.threshold * scale);
    else w.push(x);
    return o;
  }

  snapshot(): Record<string, unknown> {
    return { kind: this.kind, window: this.win.toArray() };
  }

  restore(s: Record<string, unknown>): void {
    checkKind(s, this.kind);
    this.win.load(snapNums(s, 'window', this.kind));
  }
}
