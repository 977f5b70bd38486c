import { checkKind, newJudgement, scoreOf, snapNum, type Detector, type Judgement } from '../types.js';

export interface FlatlineParams {
  /** Values within this distance of the run's first value count as "the same". */
  tolerance: number;
  /** Anomalous once the value has been stuck this many readings... */
  readings: number;
  /** ...and for at least this long (ms; 0: readings alone decide). */
  duration: number;
}

/** Flatline: a stuck sensor that keeps repeating (nearly) the same value. */
export class FlatlineDetector implements Detector {
  readonly kind = 'flatline';
  private readonly out: Judgement = newJudgement();
  private anchor = NaN;
  private runStart = 0;
  private run = 0;

  constructor(private readonly p: FlatlineParams) {
    this.out.limit = p.readings;
  }

  update(ts: number, x: number): Judgement {
    const o = this.out;
    const p = this.p;
    if (this.run > 0 && Math.abs(x - this.anchor) <= p.tolerance) {
      this.run++;
    } else {
      this.anchor = x;
      this.runStart = ts;
      this.run = 1;
    }
    const stuck = this.run - 1; // repeats after the first value
    const longEnough = ts - this.runStart >= p.duration;
    o.baseline = this.anchor;
    o.deviation = stuck;
    o.anomalous = stuck >= p.readings && longEnough;
    o.score = o.anomalous ? Math.max(0.5, scoreOf(stuck, p.readings)) : Math.min(0.49, scoreOf(stuck, p.readings));
    o.rule = 'flatline';
    return o;
  }

  /** The clock was set back from `from` to `to`: the run's start moves to the new clock. */
  rebased(from: number, to: number): void {
    this.runStart += to - from;
  }

  snapshot(): Record<string, unknown> {
    return { kind: this.kind, anchor: Number.isNaN(this.anchor) ? null : this.anchor, run_start: this.runStart, run: this.run };
  }

  restore(s: Record<string, unknown>): void {
    checkKind(s, this.kind);
    this.anchor = snapNum(s, 'anchor', this.kind);
    this.runStart = snapNum(s, 'run_start', this.kind);
    this.run = snapNum(s, 'run', this.kind);
  }
}
