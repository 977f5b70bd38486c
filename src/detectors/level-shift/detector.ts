import { checkKind, directed, newJudgement, scoreOf, snapBool, snapNum, type Detector, type Direction, type Judgement } from '../types.js';

export interface LevelShiftParams {
  /** Early life (ms from the first reading) whose level is the baseline; frozen afterwards. */
  baseline: number;
  /** ...and at least this many readings. */
  min_baseline: number;
  /** Judge log(value) (ratios: "3× the early level") instead of the value. */
  log: boolean;
  /** Slack k, in baseline standard deviations. */
  k: number;
  /**
   * With `log`: a level this many times the baseline (or 1/ratio of it, downwards) always counts
   * as a shift: the slack is at most half of it, ln(ratio) / 2 in log units, however noisy the
   * early level was (0: the slack is k alone).
   */
  ratio: number;
  /** Limit h on the cumulative excess, in standard deviations × reference intervals. */
  h: number;
  /** Reference interval (ms): a reading adds its excess × min(1, interval since the previous / `per`). */
  per: number;
  /** Standardised deviations are clipped to ±max_z, so one wild reading adds at most (max_z − k). */
  max_z: number;
  /** Floor on the baseline standard deviation (in log units when `log`: 0.05 ≈ 5 %). */
  min_std: number;
  direction: Direction;
}

/**
 * A slow rise (or fall) of level against the stream's own early-life baseline: CUSUM on the
 * standardised (log) level, S ← max(0, S + w·(min(z, max_z) − k)), anomalous while S ≥ h; with
 * `log` and `ratio`, k ≤ ln(ratio) / (2·sd), so a level `ratio` times the baseline adds up
 * however noisy the baseline was.
 *
 * Why not a z-score with persistence: a trend whose z crosses the limit on readings that are not
 * in a row (noise around a rising level) never satisfies "N readings in a row", while the CUSUM
 * adds up the excess of every reading and forgives only k per normal reading. The baseline is
 * frozen after early life (mean and standard deviation of the log level), so the trend is never
 * learnt as normal, however slowly it comes.
 *
 * Interval scaling: each reading adds its excess weighted by w = min(1, Δt / per), so the time to
 * alarm for a given shift is the same whether readings come every 10 s or every 10 min (slower
 * than `per`, every reading counts once). The baseline span is a duration for the same reason.
 */
export class LevelShiftDetector implements Detector {
  readonly kind = 'level_shift';
  private readonly out: Judgement = newJudgement();
  private t0 = NaN;
  private lastTs = NaN;
  private n = 0;
  private mean = 0;
  private m2 = 0;
  private ready = false;
  /** The CUSUM statistic of the level shift (saved as `s`). */
  private cusum = 0;

  constructor(private readonly p: LevelShiftParams) {
    this.out.limit = p.h;
  }

  update(ts: number, value: number): Judgement {
    const o = this.out;
    const p = this.p;
    if (p.log && !(value > 0)) {
      // the baseline as known now (the judgement object is reused: not the last reading's)
      o.baseline = this.n > 0 ? Math.exp(this.mean) : NaN;
      o.score = 0;
      o.anomalous = false;
      o.deviation = 0;
      o.rule = 'not_positive';
      return o;
    }
    const x = p.log ? Math.log(value) : value;
    const dt = Number.isNaN(this.lastTs) ? p.per : Math.max(0, ts - this.lastTs);
    this.lastTs = ts;
    if (Number.isNaN(this.t0)) this.t0 = ts;
    if (!this.ready) {
      this.n++;
      const d = x - this.mean;
      this.mean += d / this.n;
      this.m2 += d * (x - this.mean);
      this.ready = ts - this.t0 >= p.baseline && this.n >= p.min_baseline;
      o.baseline = p.log ? Math.exp(this.mean) : this.mean;
      o.score = 0;
      o.anomalous = false;
      o.deviation = 0;
      o.rule = 'warmup';
      return o;
    }
    const sd = Math.max(p.min_std, this.n > 1 ? Math.sqrt(this.m2 / (this.n - 1)) : 0, 1e-12);
    const z = Math.max(-p.max_z, Math.min(p.max_z, directed((x - this.mean) / sd, p.direction)));
    const w = Math.min(1, dt / p.per);
    // On a noisy early level (log sd 0.3: snapshots of a test rig) k·sd is 2.5× the level, so a
    // doubling would never add: the slack is then half the ratio that always counts.
    const k = p.log && p.ratio > 1 ? Math.min(p.k, Math.log(p.ratio) / (2 * sd)) : p.k;
    // capped at 2h so that after a repair the alarm clears within a bounded time
    this.cusum = Math.min(2 * p.h, Math.max(0, this.cusum + w * (z - k)));
    o.baseline = p.log ? Math.exp(this.mean) : this.mean;
    o.deviation = this.cusum;
    o.score = scoreOf(this.cusum, p.h);
    o.anomalous = this.cusum >= p.h;
    o.rule = o.anomalous ? 'level_shift' : 'level';
    return o;
  }

  /** The clock was set back from `from` to `to`: early life's start and the last reading move to the new clock. */
  rebased(from: number, to: number): void {
    this.t0 += to - from;
    this.lastTs += to - from;
  }

  /** Paused until `ts` (its machine stood): early life counts running time; the next reading's interval counts from `ts`. */
  resume(ts: number): void {
    if (!(ts > this.lastTs)) return;
    if (!this.ready) this.t0 += ts - this.lastTs;
    this.lastTs = ts;
  }

  snapshot(): Record<string, unknown> {
    const nan = (v: number) => (Number.isNaN(v) ? null : v);
    return { kind: this.kind, t0: nan(this.t0), lastTs: nan(this.lastTs), n: this.n, mean: this.mean, m2: this.m2, ready: this.ready, s: this.cusum };
  }

  restore(snap: Record<string, unknown>): void {
    checkKind(snap, this.kind);
    this.t0 = snapNum(snap, 't0', this.kind);
    this.lastTs = snapNum(snap, 'lastTs', this.kind);
    this.n = snapNum(snap, 'n', this.kind);
    this.mean = snapNum(snap, 'mean', this.kind);
    this.m2 = snapNum(snap, 'm2', this.kind);
    this.ready = snapBool(snap, 'ready', this.kind);
    this.cusum = snapNum(snap, 's', this.kind);
  }
}
