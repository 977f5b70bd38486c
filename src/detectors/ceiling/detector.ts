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
  /**
   * With the step's `by` (an operating state, e.g. a load): the width of a state, as a ratio (0.35: a
   * load within ±35 % of the state's). Each state has its own usual high. 0: no states (no `by`).
   */
  band: number;
  /** With `by`: for this long after the state changes its readings are not learnt, and the state left is still a reference (a temperature follows its load with a lag). */
  lag: number;
}

/** States kept per stream with `by`; past it the least recently seen is forgotten. */
export const MAX_STATES = 8;

/** One operating state's usual high: the weighted mean and deviation of its block highs. */
class UsualHigh {
  n = 0;
  mean = 0;
  variance = 0;
  /** The current block's index (floor(ts / block)) and its highest reading so far. */
  blockIdx = NaN;
  blockHigh = -Infinity;
  /** The blocks in a row well over the usual high: how many, and the sum and sum of squares of their highs. */
  overN = 0;
  overSum = 0;
  overSq = 0;
  /** With `by`: the state's level (log of the context; NaN: not yet known) and when it was last seen. */
  center = NaN;
  seenTs = -Infinity;

  constructor(private readonly p: CeilingParams, private readonly weight: number) {}

  /** A reading of this state: its block's high (the block that ended is learnt first). */
  add(ts: number, x: number): void {
    const idx = Math.floor(ts / this.p.block);
    if (idx !== this.blockIdx) {
      if (idx < this.blockIdx) return; // a clock stepped back: judged, not learnt
      this.learn();
      this.blockIdx = idx;
      this.blockHigh = -Infinity;
    }
    if (x > this.blockHigh) this.blockHigh = x;
  }

  /** The clock was set back by `-by` ms: the block being learnt and the time it was last seen move to the new clock (whole blocks: the block's high is never learnt twice). */
  rebased(by: number): void {
    this.blockIdx += Math.floor(by / this.p.block);
    this.seenTs += by;
  }

  limit(): number {
    const sd = Math.max(Math.sqrt(this.variance), this.p.min_std, 1e-15 + 1e-12 * Math.abs(this.mean));
    return Math.max(this.p.threshold * sd, this.p.min_rise, this.p.min_ratio > 0 ? (this.p.min_ratio - 1) * Math.abs(this.mean) : 0);
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

  /** [n, mean, variance, blockIdx, blockHigh, overN, overSum, overSq, center, seenTs] (NaN for none). */
  toArray(): number[] {
    return [this.n, this.mean, this.variance, this.blockIdx, this.blockHigh > -Infinity ? this.blockHigh : NaN, this.overN, this.overSum, this.overSq, this.center, this.seenTs > -Infinity ? this.seenTs : NaN];
  }

  fromArray(v: number[]): this {
    [this.n, this.mean, this.variance, this.blockIdx, this.blockHigh, this.overN, this.overSum, this.overSq, this.center, this.seenTs] = v as [number, number, number, number, number, number, number, number, number, number];
    if (Number.isNaN(this.blockHigh)) this.blockHigh = -Infinity;
    if (Number.isNaN(this.seenTs)) this.seenTs = -Infinity;
    return this;
  }
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
 * their level is the usual high.
 *
 * With `by` (an operating state such as the motor's current, the `context` of each reading) each
 * state — a band of ±`band` around its level — has its own usual high, as condition-monitoring
 * systems keep alarm limits per operating state: a bearing is judged against how hot it usually
 * runs *at this load*. A state still in its warm-up (a load never seen) is judged against the
 * nearest learnt state of a higher load, or not at all: a load first met is not an overheating.
 * For `lag` after a change of state its readings are not learnt and the state left is still a
 * reference (the temperature follows its load with a lag). O(1) state per operating state, at
 * most MAX_STATES.
 */
export class CeilingDetector implements Detector {
  readonly kind = 'ceiling';
  private readonly out: Judgement = newJudgement();
  private readonly weight: number;
  private readonly logBand: number;
  /** Without `by`, one state; with it, up to MAX_STATES. */
  private states: UsualHigh[];
  private current: UsualHigh | undefined;
  /** When the current state was entered (with `by`). */
  private enteredTs = -Infinity;

  constructor(private readonly p: CeilingParams) {
    this.weight = 1 - 2 ** (-p.block / p.half_life);
    this.logBand = Math.log1p(p.band);
    this.states = p.band > 0 ? [] : [new UsualHigh(p, this.weight)];
    this.current = this.states[0];
  }

  update(ts: number, x: number, context?: number): Judgement {
    if (this.p.band === 0) {
      const s = this.states[0]!;
      s.add(ts, x);
      return this.judge(x, s.n >= this.p.warmup ? s : undefined);
    }
    const s = context !== undefined && context > 0 && Number.isFinite(context) ? this.stateOf(Math.log(context), ts) : (this.current ?? this.unknownState());
    if (ts - this.enteredTs >= this.p.lag) s.add(ts, x);
    s.seenTs = ts;
    return this.judge(x, this.reference(s, ts));
  }

  /** The state of a context `lc` (its log): the current one while within its band, else the nearest within one, else a new one. */
  private stateOf(lc: number, ts: number): UsualHigh {
    const cur = this.current;
    let s: UsualHigh | undefined;
    if (cur && (Number.isNaN(cur.center) || Math.abs(lc - cur.center) <= this.logBand)) s = cur;
    else {
      let best = this.logBand;
      for (const t of this.states) {
        const d = Math.abs(lc - t.center);
        if (d <= best) {
          best = d;
          s = t;
        }
      }
    }
    if (!s) {
      if (this.states.length >= MAX_STATES) {
        let oldest = this.states[0]!;
        for (const t of this.states) if (t.seenTs < oldest.seenTs) oldest = t;
        this.states = this.states.filter((t) => t !== oldest);
      }
      s = new UsualHigh(this.p, this.weight);
      this.states.push(s);
    }
    if (Number.isNaN(s.center)) s.center = lc;
    if (s !== cur) {
      this.current = s;
      // The first state seen has no load before it to lag behind.
      if (cur) this.enteredTs = ts;
    } else if (ts - this.enteredTs >= this.p.lag) {
      // The level follows the state's steady readings slowly, towards their mean (a state entered
      // on a ramp settles on its load); never during the lag, or a ramp would drag it along.
      s.center += 0.001 * (lc - s.center);
    }
    return s;
  }

  /** Readings without a context before any with one (a machine without the `by` sensor): one state, whose level the first context sets. */
  private unknownState(): UsualHigh {
    const s = new UsualHigh(this.p, this.weight);
    this.states.push(s);
    this.current = s;
    return s;
  }

  /**
   * What a reading of state `s` is judged against: `s`, or a state seen within `lag` that
   * allows more (the temperature of the load just left); while `s` learns, the nearest learnt
   * state of a higher load; undefined: not judged.
   */
  private reference(s: UsualHigh, ts: number): UsualHigh | undefined {
    const w = this.p.warmup;
    let ref: UsualHigh | undefined;
    if (s.n >= w) {
      ref = s;
      let top = s.mean + s.limit();
      for (const t of this.states) {
        if (t === s || t.n < w || ts - t.seenTs > this.p.lag) continue;
        const high = t.mean + t.limit();
        if (high > top) {
          top = high;
          ref = t;
        }
      }
    } else {
      for (const t of this.states) if (t.n >= w && t.center > s.center && (!ref || t.center < ref.center)) ref = t;
    }
    return ref;
  }

  private judge(x: number, ref: UsualHigh | undefined): Judgement {
    const o = this.out;
    if (!ref) {
      const s = this.current;
      o.baseline = s && s.n > 0 ? s.mean : NaN;
      o.deviation = 0;
      o.limit = 0;
      o.score = 0;
      o.anomalous = false;
      o.rule = 'warmup';
      return o;
    }
    const lim = ref.limit();
    const d = x - ref.mean;
    o.baseline = ref.mean;
    o.deviation = d;
    o.limit = lim;
    o.score = scoreOf(d, lim);
    o.anomalous = d >= lim;
    o.rule = 'ceiling';
    return o;
  }

  /** The clock was set back from `from` to `to`: each state's block and times move to the new clock (else its highs were not learnt until real time caught up). */
  rebased(from: number, to: number): void {
    for (const s of this.states) s.rebased(to - from);
    this.enteredTs += to - from;
  }

  snapshot(): Record<string, unknown> {
    if (this.p.band > 0) {
      return {
        kind: this.kind,
        states: this.states.map((s) => s.toArray()),
        current: this.current ? this.states.indexOf(this.current) : -1,
        entered: this.enteredTs > -Infinity ? this.enteredTs : null,
      };
    }
    const s = this.states[0]!;
    return {
      kind: this.kind,
      n: s.n,
      mean: s.mean,
      variance: s.variance,
      blockIdx: Number.isNaN(s.blockIdx) ? null : s.blockIdx,
      blockHigh: s.blockHigh > -Infinity ? s.blockHigh : null,
      ...(s.overN > 0 ? { over: [s.overN, s.overSum, s.overSq] } : {}),
    };
  }

  restore(snap: Record<string, unknown>): void {
    checkKind(snap, this.kind);
    let states: UsualHigh[];
    let current = 0;
    let entered = NaN;
    if ('states' in snap) {
      if (!Array.isArray(snap.states) || snap.states.length > MAX_STATES) throw new Error(`${this.kind} detector snapshot: field "states" must be an array of at most ${MAX_STATES} states`);
      states = snap.states.map((v: unknown, i) => new UsualHigh(this.p, this.weight).fromArray(snapNums({ [`states[${i}]`]: v }, `states[${i}]`, this.kind, 10)));
      current = snapNum(snap, 'current', this.kind);
      entered = snapNum(snap, 'entered', this.kind);
      if (this.p.band === 0) {
        // The step no longer has `by`: the most learnt state's usual high is the stream's.
        states = states.length ? [states.reduce((a, b) => (b.n > a.n ? b : a))] : [new UsualHigh(this.p, this.weight)];
        current = 0;
      }
    } else {
      // One usual high (a step without `by`, or saved before it): with `by`, the first state seen takes it.
      const s = new UsualHigh(this.p, this.weight);
      const over = 'over' in snap ? snapNums(snap, 'over', this.kind, 3) : [0, 0, 0]; // saved before `accept_after` (2026-12-05): none counted
      s.fromArray([snapNum(snap, 'n', this.kind), snapNum(snap, 'mean', this.kind), snapNum(snap, 'variance', this.kind), snapNum(snap, 'blockIdx', this.kind), snapNum(snap, 'blockHigh', this.kind), over[0]!, over[1]!, over[2]!, NaN, NaN]);
      states = [s];
    }
    this.states = states;
    this.current = states[current];
    this.enteredTs = Number.isNaN(entered) ? -Infinity : entered;
  }
}
