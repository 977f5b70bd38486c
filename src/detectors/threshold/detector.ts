import { checkKind, newJudgement, snapBool, snapNum, type Detector, type Judgement } from '../types.js';

export interface ThresholdParams {
  /** Anomalous above this value. */
  above?: number;
  /** Anomalous below this value. */
  below?: number;
  /** Once anomalous, the value must come back inside by this margin to clear (no flapping). */
  hysteresis: number;
  /** The value must stay outside the limits this long (ms) before the decision turns anomalous. */
  min_duration: number;
}

/**
 * Static limits with hysteresis and a minimum duration. Score: 1 while anomalous, otherwise how
 * close the value is to a limit (0.5 would be on it), so it never flaps around a single limit.
 */
export class ThresholdDetector implements Detector {
  readonly kind = 'threshold';
  private readonly out: Judgement = newJudgement();
  private readonly above: number;
  private readonly below: number;
  private active = false;
  /** Event time the value first went outside (NaN when inside). */
  private since = NaN;

  constructor(private readonly p: ThresholdParams) {
    this.above = p.above ?? Infinity;
    this.below = p.below ?? -Infinity;
    this.out.baseline = NaN; // static limits: no expected value
  }

  update(ts: number, x: number): Judgement {
    const o = this.out;
    const over = x - this.above;
    const under = this.below - x;
    const excess = over > under ? over : under; // > 0 when outside, <= 0 inside
    // The reason reads "below 86 (limit 90)": the value against the limit it crossed (or is nearest).
    o.deviation = x;
    o.limit = over > under ? this.above : this.below;
    if (this.active) {
      if (excess <= -this.p.hysteresis) {
        this.active = false;
        this.since = NaN;
      }
    } else if (excess > 0) {
      if (Number.isNaN(this.since)) this.since = ts;
      if (ts - this.since >= this.p.min_duration) this.active = true;
    } else {
      this.since = NaN;
    }
    o.anomalous = this.active;
    o.rule = this.active ? (over > under ? 'above' : 'below') : excess > 0 ? 'outside_pending' : 'inside';
    o.score = this.active ? 1 : excess > 0 ? 0.49 : 0;
    return o;
  }

  /** Its machine stopped: time outside the limits counts afresh from the next reading (and with `ended` the decision too). */
  stop(ended: boolean): void {
    if (ended) this.active = false;
    this.since = NaN;
  }

  /** The clock was set back from `from` to `to`: a crossing still counting towards `min_duration` moves to the new clock. */
  rebased(from: number, to: number): void {
    this.since += to - from;
  }

  snapshot(): Record<string, unknown> {
    return { kind: this.kind, active: this.active, since: Number.isNaN(this.since) ? null : this.since };
  }

  restore(s: Record<string, unknown>): void {
    checkKind(s, this.kind);
    this.active = snapBool(s, 'active', this.kind);
    this.since = snapNum(s, 'since', this.kind);
  }
}
