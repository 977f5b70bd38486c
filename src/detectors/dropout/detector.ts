import { checkKind, newJudgement, scoreOf, snapNum, type Detector, type Judgement } from '../types.js';

export interface DropoutParams {
  /** Expected interval between readings (ms). When unset, it is learnt from the stream. */
  interval?: number;
  /** Anomalous when the gap before a reading is longer than this many expected intervals. */
  missing: number;
  /** Intervals to learn from before judging (learnt mode). */
  warmup: number;
  /** Weight of each new interval in the learnt expected interval. */
  alpha: number;
}

/**
 * Dropout: no reading for N expected intervals; `deviation` is the gap in intervals. In a replay a
 * gap is judged on the first reading after it; live, the engine also asks on the gateway's ticks
 * (`overdue`), so a stream that stops for good is reported while it is silent.
 */
export class DropoutDetector implements Detector {
  readonly kind = 'dropout';
  private readonly out: Judgement = newJudgement();
  private n = 0;
  private prevTs = 0;
  private expected = 0;

  constructor(private readonly p: DropoutParams) {
    this.out.limit = p.missing;
    if (p.interval !== undefined) this.expected = p.interval;
  }

  update(ts: number, _x: number): Judgement {
    const o = this.out;
    const p = this.p;
    if (this.n === 0) {
      this.n = 1;
      this.prevTs = ts;
      o.score = 0;
      o.anomalous = false;
      o.rule = 'warmup';
      o.baseline = p.interval ?? NaN;
      o.deviation = 0;
      return o;
    }
    const dt = ts - this.prevTs;
    this.judgeGap(dt);
    if (p.interval === undefined && dt > 0) {
      // Learn the interval; a gap counts as at most `missing` intervals so it cannot become normal.
      const a = this.n <= p.warmup ? 1 / this.n : p.alpha;
      const v = this.n <= p.warmup ? dt : Math.min(dt, p.missing * this.expected);
      this.expected = this.n === 1 ? dt : this.expected + a * (v - this.expected);
    }
    this.n++;
    this.prevTs = ts;
    return o;
  }

  overdue(ts: number): Judgement {
    if (this.n === 0) {
      this.out.anomalous = false;
      this.out.score = 0;
      return this.out;
    }
    return this.judgeGap(ts - this.prevTs);
  }

  /** A gap of `dt` since the last reading, in expected intervals. */
  private judgeGap(dt: number): Judgement {
    const o = this.out;
    const p = this.p;
    const ready = p.interval !== undefined || this.n > p.warmup;
    const ratio = this.expected > 0 ? dt / this.expected : 0;
    o.baseline = this.expected;
    o.deviation = ratio;
    o.anomalous = ready && ratio >= p.missing;
    o.score = ready ? scoreOf(ratio > 1 ? ratio - 1 : 0, p.missing - 1) : 0;
    if (o.anomalous && o.score < 0.5) o.score = 0.5;
    o.rule = ready ? 'dropout' : 'warmup';
    return o;
  }

  resume(ts: number): void {
    if (this.n > 0 && ts > this.prevTs) this.prevTs = ts;
  }

  snapshot(): Record<string, unknown> {
    return { kind: this.kind, n: this.n, prev_ts: this.prevTs, expected: this.expected };
  }

  restore(s: Record<string, unknown>): void {
    checkKind(s, this.kind);
    this.n = snapNum(s, 'n', this.kind);
    this.prevTs = snapNum(s, 'prev_ts', this.kind);
    this.expected = snapNum(s, 'expected', this.kind);
  }
}
