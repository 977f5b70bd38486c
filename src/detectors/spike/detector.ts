import { checkKind, directed, newJudgement, scoreOf, snapNum, type Detector, type Direction, type Judgement } from '../types.js';

export interface SpikeParams {
  /**
   * Fixed limit on the rate of change, in value units per second. When unset, the limit is
   * adaptive: `threshold` times the typical step size learnt from the stream.
   */
  max_rate?: number;
  /** Adaptive mode: anomalous when a step is this many times the typical step. */
  threshold: number;
  /** Weight of each new step in the typical step size (EWMA of |Δ|). */
  alpha: number;
  /** Steps to learn from before judging (adaptive mode). */
  warmup: number;
  /** `up`: spikes only; `down`: dips only; `both`. */
  direction: Direction;
  /** Floor on the typical step, in value units (0: a tiny relative floor). */
  min_step: number;
}

/** Spike / dip: the step from the previous reading, as a rate or relative to the typical step. */
export class SpikeDetector implements Detector {
  readonly kind = 'spike';
  private readonly out: Judgement = newJudgement();
  private n = 0;
  private prev = 0;
  private prevTs = 0;
  /** EWMA of |Δ| (typical step). */
  private typical = 0;

  constructor(private readonly p: SpikeParams) {
    this.out.limit = p.max_rate ?? p.threshold;
  }

  update(ts: number, x: number): Judgement {
    const o = this.out;
    const p = this.p;
    o.baseline = this.n > 0 ? this.prev : NaN;
    if (this.n === 0) {
      this.n = 1;
      this.prev = x;
      this.prevTs = ts;
      o.score = 0;
      o.anomalous = false;
      o.rule = 'warmup';
      o.deviation = 0;
      return o;
    }
    const step = x - this.prev;
    let d: number;
    let limit: number;
    if (p.max_rate !== undefined) {
      const dt = Number.isNaN(this.prevTs) ? Infinity : Math.max(ts - this.prevTs, 1) / 1000;
      d = directed(step / dt, p.direction);
      o.deviation = step / dt;
      limit = p.max_rate;
      o.rule = 'rate';
    } else {
      // The relative floor (values near 1e9 that never move) on the smaller of the two values: on
      // the way back from a glitch (1e30 → 10) it is the series', not the glitch's — else the
      // typical step learnt there was ~1e18 and hid every real spike for days.
      const typ = Math.max(this.typical, p.min_step, 1e-15 + 1e-12 * Math.min(Math.abs(this.prev), Math.abs(x)));
      const r = step / typ;
      o.deviation = r;
      d = this.n > p.warmup ? directed(r, p.direction) : 0;
      limit = p.threshold;
      o.rule = this.n > p.warmup ? (step >= 0 ? 'spike' : 'dip') : 'warmup';
      // Learn the typical step; a huge step counts as at most `threshold` typical steps.
      const a = this.n <= p.warmup ? Math.max(p.alpha, 1 / this.n) : p.alpha;
      const abs = Math.min(Math.abs(step), this.n > p.warmup ? p.threshold * typ : Infinity);
      this.typical += a * (abs - this.typical);
    }
    o.score = scoreOf(d, limit);
    o.anomalous = d >= limit;
    this.n++;
    this.prev = x;
    this.prevTs = ts;
    return o;
  }

  /** The clock was set back: how long passed since the last reading is not known, so the next step is no rate (`max_rate`). */
  rebased(): void {
    this.prevTs = NaN;
  }

  snapshot(): Record<string, unknown> {
    return { kind: this.kind, n: this.n, prev: this.prev, prev_ts: Number.isNaN(this.prevTs) ? null : this.prevTs, typical: this.typical };
  }

  restore(s: Record<string, unknown>): void {
    checkKind(s, this.kind);
    this.n = snapNum(s, 'n', this.kind);
    this.prev = snapNum(s, 'prev', this.kind);
    this.prevTs = snapNum(s, 'prev_ts', this.kind);
    this.typical = snapNum(s, 'typical', this.kind);
  }
}
