import { checkKind, newJudgement, scoreOf, snapNum, snapNums, type Detector, type Judgement } from '../types.js';

export interface CeilingParams {
  /** Length of a block (ms): each block's highest reading is what the detector learns. */
  block: number;
  /** Memory of the block highs (ms): a block weighs 1 − 2^(−block / half_life). */
  half_life: number;
  /** The limit in standard deviations of the block highs... */
  threshold: number;
  /** ...with this floor on the standard deviation (value units; 0: a tiny relative floor)... */
  min_std: number;
  /** ...and this floor on the limit itself (value units): anomalous only this far above the usual high... */
  min_rise: number;
  /** ...and only at this multiple of it or more (0: no such floor): a current 1.25× its usual high, at any motor size. */
  min_ratio: number;
  /** Blocks learnt before judging. */
  warmup: number;
  /**
   * Blocks in a row whose highs are well over the usual high (more than half the limit) before
   * their level is the new usual high (a load the machine now runs at), learnt at once; 0: never,
   * a block over the limit is learnt clipped.
   */
  accept_blocks: number;
}

/**
 * Judges each reading against the highest level the stream usually reaches: the exponentially
 * weighted mean and deviation of its block highs (one an hour by default). A machine that warms
 * from cold, idles or stands never passes its usual high, so no settling time is needed after a
 * start; a bearing or winding that runs hotter than it ever usually does passes it within minutes,
 * however short the run. After the warm-up a block whose high is far under the usual (the limit
 * below it: a standing machine, a warm-up from cold) is no evidence about the usual high and is
 * not learnt; one far over it is learnt clipped to the limit, as the `ewma` detector's clip does,
 * until `accept_blocks` blocks in a row have been well over it (more than half the limit): then
 * their level is the usual high. A
 * machine first seen at night at a low load meets its day load as an anomaly once, not every day
 * for weeks (clipped learning alone moved the usual high 0.05 °C an hour towards a day's 15 °C
 * more). O(1) state.
 */
export class CeilingDetector implements Detector {
  readonly kind = 'ceiling';
  private readonly out: Judgement = newJudgement();
  private readonly weight: number;
  private n = 0;
  private mean = 0;
  private variance = 0;
  /** The current block's index (floor(ts / block)) and its highest reading so far. */
  private blockIdx = NaN;
  private blockHigh = -Infinity;
  /** The blocks in a row well over the usual high: how many, and the sum and sum of squares of their highs. */
  private overN = 0;
  private overSum = 0;
  private overSq = 0;

  constructor(private readonly p: CeilingParams) {
    this.weight = 1 - 2 ** (-p.block / p.half_life);
  }

  update(ts: number, x: number): Judgement {
    const p = this.p;
    const idx = Math.floor(ts / p.block);
    if (idx !== this.blockIdx) {
      if (idx < this.blockIdx) {
        // A reading from an earlier block (a clock stepped back): judged, not learnt.
        return this.judge(x);
      }
      this.learn();
      this.blockIdx = idx;
      this.blockHigh = -Infinity;
    }
    if (x > this.blockHigh) this.blockHigh = x;
    return this.judge(x);
  }

  private limit(): number {
    const sd = Math.max(Math.sqrt(this.variance), this.p.min_std, 1e-15 + 1e-12 * Math.abs(this.mean));
    return Math.max(this.p.threshold * sd, this.p.min_rise, this.p.min_ratio > 0 ? (this.p.min_ratio - 1) * Math.abs(this.mean) : 0);
  }

  private judge(x: number): Judgement {
    const o = this.out;
    if (this.n < this.p.warmup) {
      o.baseline = this.n > 0 ? this.mean : NaN;
      o.deviation = 0;
      o.limit = 0;
      o.score = 0;
      o.anomalous = false;
      o.rule = 'warmup';
      return o;
    }
    const lim = this.limit();
    const d = x - this.mean;
    o.baseline = this.mean;
    o.deviation = d;
    o.limit = lim;
    o.score = scoreOf(d, lim);
    o.anomalous = d >= lim;
    o.rule = 'ceiling';
    return o;
  }

  /** Learn the block that just ended from its high. */
  private learn(): void {
    let high = this.blockHigh;
    if (!(high > -Infinity)) return;
    const p = this.p;
    if (this.n < p.warmup) {
      // The warm-up averages the first blocks; one min_rise over them starts it afresh (the
      // first blocks were a machine standing or warming from cold).
      if (this.n === 0 || (p.min_rise > 0 && high > this.mean + p.min_rise)) {
        this.mean = high;
        this.variance = 0;
        this.n = 1;
        return;
      }
    } else {
      const lim = this.limit();
      if (high < this.mean - lim) return; // standing, or warming from cold: not the usual high
      if (high > this.mean + lim / 2) {
        if (this.acceptOver(high)) return;
        if (high > this.mean + lim) high = this.mean + lim; // an anomaly, learnt clipped
      } else this.overN = 0;
    }
    const a = this.n < p.warmup ? Math.max(this.weight, 1 / (this.n + 1)) : this.weight;
    const diff = high - this.mean;
    const incr = a * diff;
    this.mean += incr;
    this.variance = (1 - a) * (this.variance + diff * incr);
    this.n++;
  }

  /** One more block well over the usual high; at `accept_blocks` in a row their mean and spread become the usual high's. */
  private acceptOver(high: number): boolean {
    if (this.p.accept_blocks === 0) return false;
    if (this.overN === 0) this.overSum = this.overSq = 0;
    this.overN++;
    this.overSum += high;
    this.overSq += high * high;
    if (this.overN < this.p.accept_blocks) return false;
    this.mean = this.overSum / this.overN;
    this.variance = Math.max(0, this.overSq / this.overN - this.mean * this.mean);
    this.overN = 0;
    return true;
  }

  snapshot(): Record<string, unknown> {
    return {
      kind: this.kind,
      n: this.n,
      mean: this.mean,
      variance: this.variance,
      blockIdx: Number.isNaN(this.blockIdx) ? null : this.blockIdx,
      blockHigh: this.blockHigh > -Infinity ? this.blockHigh : null,
      ...(this.overN > 0 ? { over: [this.overN, this.overSum, this.overSq] } : {}),
    };
  }

  restore(s: Record<string, unknown>): void {
    checkKind(s, this.kind);
    this.n = snapNum(s, 'n', this.kind);
    this.mean = snapNum(s, 'mean', this.kind);
    this.variance = snapNum(s, 'variance', this.kind);
    this.blockIdx = snapNum(s, 'blockIdx', this.kind);
    const high = snapNum(s, 'blockHigh', this.kind);
    this.blockHigh = Number.isNaN(high) ? -Infinity : high;
    // Saved before `accept_after` (2026-12-05): no blocks over the limit counted yet.
    const over = 'over' in s ? snapNums(s, 'over', this.kind, 3) : [0, 0, 0];
    this.overN = over[0]!;
    this.overSum = over[1]!;
    this.overSq = over[2]!;
  }
}
