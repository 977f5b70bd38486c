import type { SharedCapture } from '../../core/shared-capture.js';
import { DEFAULT_SEASONAL_PARAMS, REBASED, SeasonalBaseline, type SeasonalParams } from './seasonal.js';
import { localClock } from './local-time.js';
import { DailySteps, type DailyStepsParams } from './daily-steps.js';
import { ShapeMemory, type ResonanceParams } from './resonance.js';
import { RangeGrowth } from './drift.js';
import { Likelihood, SequenceMemory, type SequenceParams } from './sequence.js';
import { checkKind, newJudgement, scoreOf, snapNums, type Detector, type Judgement } from '../types.js';

/**
 * The default detector for a numeric series of unknown kind: three rules that generalise across
 * the kinds of change seen in NAB and SKAB, each judged against the stream's own history.
 *
 *   range — the value leaves the range the stream has shown (a remembered [lo, hi] that slowly
 *           forgets towards the baseline) by more than `range_margin` of its width: level shifts,
 *           failures, regime changes, values never seen before (on a quantised series, the
 *           excess must also reach `range_quanta` of its smallest step: the next level is not new);
 *   spike — a step from the previous reading larger than `spike_z` typical steps *and* larger
 *           than any step in recent memory (a slowly decaying record, learnt after the warm-up)
 *           and, on a quantised series, than `range_quanta` quanta: spikes and dips, without
 *           alarming on every spike of a naturally spiky series; on slow series, a step the stream
 *           makes at this time of day and keeps (a machine's daily start) is not one (daily-steps.ts);
 *   drift — (off unless `drift_margin` > 0) the range has grown by more than `drift_margin` of its
 *           earlier width within about `drift_time`: a slow rise or fall that extends the range a
 *           little at each reading, which the range rule learns as it comes (drift.ts);
 *   flat  — the value repeats `flat_readings` times, `flat_factor` × longer than any run of one
 *           value in recent memory: a stuck sensor on a series that used to move (judged at the
 *           reading that reaches it);
 *   season — the value is unusual for the time of day/week (seasonal.ts);
 *   sequence — the recent levels (the value in units of its typical deviation from the baseline)
 *           follow each other in a way the stream has not shown lately: a new pattern inside the
 *           range, judged by an anomaly-likelihood stage against the stream's usual surprise
 *           (sequence.ts);
 *   shape — the shape of the last few hours (a window of block extremes) matches no shape the stream
 *           has shown: adaptive resonance after ARTime (resonance.ts).
 *
 * Memories are per reading at `time_ref` (5 min) or slower and per unit of *time* on faster series
 * (the per-reading forgetting is scaled by the observed interval), so the defaults behave alike at
 * 5-minute and 1-second steps.
 *
 * State: 17 numbers per key plus the seasonal rings (fixed size), O(1) in memory and time.
 */
export interface DefaultParams {
  /** Readings before judging (the range and the typical step are learnt meanwhile). */
  warmup: number;
  /** Range rule: anomalous beyond the remembered range by this fraction of its width. */
  range_margin: number;
  /** Range rule: the excess must also reach this many typical steps (keeps noise quiet). */
  range_steps: number;
  /** Range rule: the excess must also reach this many quanta (the series' resolution, a low quantile of its non-zero steps): quantised series. */
  range_quanta: number;
  /** Range rule: per-reading pull of the remembered range towards the slow baseline (forgetting). */
  range_relax: number;
  /**
   * Drift rule: anomalous when the range has grown by more than this fraction of its width within
   * about `drift_time` — a slow rise or fall that each reading extends only a little, which the range
   * rule learns as it comes (0: off).
   */
  drift_margin: number;
  /** Drift rule: time constant (ms) over which the range's extensions add up (they fade by e per this time). */
  drift_time: number;
  /** Drift rule: the growth must also reach this many typical steps (a drift well above the noise). */
  drift_steps: number;
  /** Weight of each reading in the slow baseline and in the typical step. */
  slow_alpha: number;
  /** Spike rule: minimum step, in typical steps. */
  spike_z: number;
  /** Spike and flat rules: per-reading decay of their records (0.9999 halves in ~6,900 readings). */
  decay: number;
  /**
   * Spike rule: the spike record learns from a step the rule judged anomalous only on series
   * faster than this (ms between readings); on slower ones it keeps its level, so the next anomaly
   * of that size is found again.
   */
  spike_learn_below: number;
  /**
   * Spike rule, on series with readings `spike_learn_below` or more apart: a step at most this
   * multiple of the largest lasting step in the same direction seen near this time of day in
   * recent days is not a spike (see daily-steps.ts). 0: off.
   */
  spike_daily: number;
  /** Factor applied per day to that memory. */
  spike_daily_decay: number;
  /** Readings a step must last (away from the level before it) to be remembered. */
  spike_daily_hold: number;
  /**
   * A glitch: a reading judged anomalous that left the remembered range by at least `glitch_size`
   * of its width and came back (at least half way to the value before it) within this many
   * readings — a temperature sensor's 85 °C at power-on, −127 from a loose wire. It is reported;
   * then the records, the typical step, the baseline and the range forget it (a later glitch in
   * recent memory widens the range by up to half its width). 0: every reading is learnt in full.
   */
  glitch_readings: number;
  /** Glitch: the reading left the remembered range by at least this many times the range's width (an absurd value, not a new extreme). */
  glitch_size: number;
  /**
   * Glitch: readings that repeat the excursion's value exactly (a sensor stuck on its error value:
   * −127 while a wire is loose), in a run longer than `flat_factor` × the stream's own runs of one
   * value in recent memory, do not count towards `glitch_readings` for up to this long (ms) after
   * it began. 0: they count like any other.
   */
  glitch_stuck: number;
  /** Flat rule: minimum run of repeated values. */
  flat_readings: number;
  /** Flat rule: the run must also reach this multiple of the longest run in recent memory. */
  flat_factor: number;
  /** Season rule: candidate periods (ms). */
  periods: number[];
  /** Season rule: slots per period in the ring of per-slot means. */
  season_slots: number;
  /** Season rule: weight of each reading in its slot means (per reading, not per visit: see SeasonalParams.alpha). */
  season_alpha: number;
  /** Season rule: a period's model is used only when its error is below this fraction of the flat-level error. */
  season_ratio: number;
  /** Season rule: anomalous when |value − seasonal prediction| reaches this many error scales. */
  season_z: number;
  /** Season rule: CUSUM slack on the standardised seasonal residual. */
  season_k: number;
  /** Season rule: CUSUM limit on the standardised seasonal residual. */
  season_h: number;
  /** Season rule: the CUSUM (season_shift) counts only once the series is this old (ms): its seasonal means need more days than its single-reading test. */
  season_shift_after: number;
  /** Season rule: the CUSUM adds one step per reading, or per `time_ref` of readings on faster series. */
  season_cusum: 'per_reading' | 'per_time';
  /** Season rule on series faster than 16 readings a slot of a day (one per ~32 s): used, each reading learning its share (true), or none (false; seasonal.ts `fast`). */
  season_fast: boolean;
  /** Sequence rule: levels span baseline ± this many typical deviations (mean |value − baseline|). */
  seq_width: number;
  /** Sequence rule: equal bins over that span (plus one below and one above it). */
  seq_bins: number;
  /** Sequence rule: readings between halvings of the sequence counts (how long a pattern is remembered). */
  seq_age: number;
  /** Sequence rule: readings in the long-run mean and spread of the surprise (likelihood stage). */
  seq_long: number;
  /** Sequence rule: the recent surprise must be this many spreads above its long-run mean... */
  seq_z: number;
  /** Sequence rule: ...and at least this share (most recent levels unpredicted, not one odd reading). */
  seq_share: number;
  /**
   * Calibration: an alert also needs the raw score (the largest rule score) to stand this many
   * spreads above its own long-run mean for this stream (likelihood stage; 0: off).
   */
  cal_z: number;
  /** Calibration: readings in the long-run mean and spread of the raw score. */
  cal_long: number;
  /** Shape rule: time a block of readings covers (ms); the window is 8 blocks. */
  shape_block: number;
  /** Shape rule: levels span the blocks' baseline ± this / 2 typical deviations. */
  shape_span: number;
  /** Shape rule: most shapes (categories) remembered. */
  shape_categories: number;
  /** Shape rule: a new shape is an anomaly when its best match is below this fraction of the lower vigilance. */
  shape_margin: number;
  /** Shape rule: windows (blocks) before new shapes are reported. */
  shape_quiet: number;
  /** Shape rule: block values within this many typical deviations of the baseline are placed on it. */
  shape_snap: number;
  /** Shape rule: a window spanning less than this many typical deviations has its shape pulled towards flat in proportion (0: never). */
  shape_floor: number;
  /** Shape rule: the lower vigilance never falls below this (0: no bound, as ARTime). */
  shape_vigilance_min: number;
  /**
   * Joint rule: when no rule reaches its limit, a seasonal statistic (season or season_shift) and a
   * local one (range, spike or sequence) that both reach this share of their limits are anomalous.
   */
  joint_share: number;
  /** Rules switched on: any of `range`, `spike`, `flat`, `season`, `sequence`, `shape`, `joint`. */
  rules: Array<'range' | 'spike' | 'flat' | 'season' | 'sequence' | 'shape' | 'joint'>;
  /**
   * Reference interval (ms): per-reading memories (`range_relax`, `decay`) are as stated for readings
   * this far apart or further; at faster rates they are scaled by (interval / time_ref), so they last
   * the same *time* (a 1 Hz series remembers its extremes for weeks, not hours).
   */
  time_ref: number;
  /**
   * Records (spike, flat, season) on series slower than `time_ref`: `per_reading` (each reading
   * decays them by `decay`) or `per_time` (by `decay` per `time_ref` of time, so they last the same
   * time as at `time_ref`: an hourly series forgets its largest step in weeks, not a year).
   */
  slow_records: 'per_reading' | 'per_time';
  /**
   * IANA time zone (e.g. Europe/Berlin) whose wall-clock time places a reading in its day and week
   * (the season rule's slots, the lasting daily steps); undefined: UTC. For streams that follow
   * people, whose daily pattern would otherwise move an hour against UTC at each daylight-saving change.
   */
  timezone?: string;
}

export const DEFAULT_DETECTOR_PARAMS: DefaultParams = {
  warmup: 100,
  range_margin: 0.02,
  range_steps: 1,
  range_quanta: 2.5,
  range_relax: 0.0001,
  drift_margin: 0,
  drift_time: 600_000,
  drift_steps: 1,
  slow_alpha: 0.005,
  spike_z: 8,
  decay: 0.9999,
  spike_learn_below: 10_000,
  spike_daily: 2,
  spike_daily_decay: 0.85,
  spike_daily_hold: 6,
  glitch_readings: 10,
  glitch_size: 1,
  glitch_stuck: 3_600_000,
  flat_readings: 10,
  flat_factor: 1.1,
  periods: DEFAULT_SEASONAL_PARAMS.periods,
  season_slots: DEFAULT_SEASONAL_PARAMS.slots,
  season_alpha: DEFAULT_SEASONAL_PARAMS.alpha,
  season_ratio: DEFAULT_SEASONAL_PARAMS.ratio,
  season_z: 6,
  season_k: 1,
  season_h: 10,
  season_shift_after: 5 * 86_400_000,
  season_cusum: 'per_time',
  season_fast: true,
  seq_width: 6,
  seq_bins: 8,
  seq_age: 2000,
  seq_long: 2000,
  seq_z: 3,
  seq_share: 0.5,
  cal_z: 0,
  cal_long: 2000,
  shape_block: 3_000_000,
  shape_span: 12,
  shape_categories: 64,
  shape_margin: 0.9,
  shape_quiet: 208,
  shape_snap: 0.9,
  shape_floor: 3,
  shape_vigilance_min: 0.8,
  joint_share: 0.5,
  rules: ['range', 'spike', 'flat', 'season', 'sequence', 'shape', 'joint'],
  time_ref: 300_000,
  slow_records: 'per_reading',
};

/**
 * The resolution (`quantum`) is tracked as the QUANTUM_SHARE quantile of the non-zero steps, moved
 * by QUANTUM_RATE of itself (a stochastic quantile estimate: down by rate × (1 − share) under it,
 * up by rate × share over it), not as their minimum (the minimum only in the warm-up). The lower
 * quartile: chosen by leaving one corpus out among the minimum and the 5, 10, 25 and 50 % quantiles
 * (docs/backtest.md).
 */
const QUANTUM_SHARE = 0.25;
const QUANTUM_RATE = 0.05;

/** With a seasonal model in use, the range rule needs |seasonal residual| ≥ this many error scales too. */
const GATE = 4;

/** The parts' parameters, derived once per params object and shared by the detectors made from it (with the step's own params shared too, 1.1 KB less a key). */
interface PartParams {
  season: SeasonalParams;
  daily: DailyStepsParams;
  shape: ResonanceParams;
  seq: SequenceParams;
}
const parts = new WeakMap<DefaultParams, PartParams>();

function partsOf(p: DefaultParams): PartParams {
  let q = parts.get(p);
  if (q === undefined) {
    q = {
      season: { ...DEFAULT_SEASONAL_PARAMS, periods: p.periods, slots: p.season_slots, alpha: p.season_alpha, ratio: p.season_ratio, fast: p.season_fast, time_ref: p.time_ref },
      daily: { share: p.spike_daily, decay: p.spike_daily_decay, hold: p.spike_daily_hold },
      shape: { block_time: p.shape_block, span: p.shape_span, categories: p.shape_categories, margin: p.shape_margin, quiet: p.shape_quiet, snap: p.shape_snap, floor: p.shape_floor / p.shape_span, lower_min: p.shape_vigilance_min },
      seq: { bins: p.seq_bins, age: p.seq_age, short_alpha: 0.1, long: p.seq_long },
    };
    parts.set(p, q);
  }
  return q;
}

export class DefaultDetector implements Detector {
  readonly kind = 'default';
  private readonly out: Judgement = newJudgement();
  private readonly useRange: boolean;
  private readonly useSpike: boolean;
  private readonly useFlat: boolean;
  private readonly useSeason: boolean;
  private readonly useSeq: boolean;
  private readonly useJoint: boolean;
  private readonly shape: ShapeMemory | null;
  private readonly daily: DailySteps | null;
  private readonly cusumPerTime: boolean;
  private readonly season: SeasonalBaseline;
  private readonly seq: SequenceMemory;
  /** Likelihood stage on the raw score (calibration). */
  private readonly cal: Likelihood;
  private n = 0;
  private prev = 0;
  private slow = 0;
  private typical = 0;
  private hi = 0;
  private lo = 0;
  /** Drift rule: how far the range's top and bottom moved out lately (null: the rule is off). */
  private readonly growth: RangeGrowth | null;
  private flatRun = 0;
  private spikeRecord = 0;
  private flatRecord = 0;
  /** EWMA of |x − slow|: the error of a flat level, which a seasonal model must beat. */
  private levelDev = 0;
  private cusumUp = 0;
  private cusumDown = 0;
  /** Largest |standardised seasonal residual| in recent memory (decaying like the spike record). */
  private seasonRecord = 0;
  /** Time of the last reading and the typical interval (ms, EWMA; NaN until two readings). */
  private lastTs = NaN;
  /** The series' resolution: a low quantile of its non-zero steps (QUANTUM_SHARE: the lower quartile; on a continuous series a fraction of its typical step); Infinity before the first. */
  private quantum = Infinity;
  /**
   * Reading count at the stream's first move when it came after the warm-up (0 otherwise): the
   * typical step learns fast again from there, and the spike record waits a warm-up's length.
   */
  private moveStart = 0;
  private dt = NaN;
  /** Rate factor min(1, dt / time_ref) in use, with the per-reading decay and relax it gives. */
  private w = 1;
  private decayW: number;
  private relaxW: number;
  /** Decay of the records per reading on series slower than time_ref with `slow_records: per_time` (else decayW). */
  private recDecayW: number;
  private wRec = 1;
  /**
   * The memories as they were before an anomalous reading, kept until the next reading tells
   * whether it was a glitch (null: none pending; allocated at the first anomalous reading).
   * [value before it, slow, typical, hi, lo, spike record, season record, level deviation, growth up, growth down, readings away so far (0: none pending), time it began]
   */
  private before: Float64Array | null = null;
  /** Glitches forgotten lately (decaying like the records per reading since `glitchAt`, the reading count at the last). */
  private glitches = 0;
  private glitchAt = 0;
  /** A checkpoint's capture that holds the live rings and table (copied before they next change). */
  private sharedWith: SharedCapture | null = null;
  /** `timezone`'s wall clock (undefined: UTC): the time of day and week of a reading. */
  private readonly local: ((ts: number) => number) | undefined;

  constructor(private readonly p: DefaultParams = DEFAULT_DETECTOR_PARAMS) {
    this.useRange = p.rules.includes('range');
    this.useSpike = p.rules.includes('spike');
    this.useFlat = p.rules.includes('flat');
    this.useSeason = p.rules.includes('season');
    this.useSeq = p.rules.includes('sequence');
    this.useJoint = p.rules.includes('joint');
    this.cusumPerTime = p.season_cusum === 'per_time';
    const q = partsOf(p);
    this.daily = this.useSpike && p.spike_daily > 0 ? new DailySteps(q.daily) : null;
    this.shape = p.rules.includes('shape') ? new ShapeMemory(q.shape) : null;
    this.growth = p.drift_margin > 0 ? new RangeGrowth(p.drift_time) : null;
    this.seq = new SequenceMemory(q.seq);
    this.cal = new Likelihood(1, p.cal_long);
    this.season = new SeasonalBaseline(q.season);
    this.local = p.timezone === undefined ? undefined : localClock(p.timezone);
    this.decayW = this.relaxW = this.recDecayW = 0;
    this.setRate(1);
  }

  /** Per-reading forms of the memories for the rate factor `w` (recomputed only when `w` moves). */
  private setRate(w: number): void {
    this.w = w;
    this.decayW = this.p.decay ** w;
    this.relaxW = 1 - (1 - this.p.range_relax) ** w;
    if (this.wRec === 1) this.recDecayW = this.decayW;
  }

  /** Slow series with per-time records: the records decay by `decay` per time_ref (factor wr ≥ 1, at most a day's worth; 1: as the other memories). */
  private setRecRate(wr: number): void {
    this.wRec = wr;
    this.recDecayW = wr === 1 ? this.decayW : this.p.decay ** wr;
  }

  update(ts: number, x: number): Judgement {
    if (this.sharedWith !== null) this.unshare();
    const p = this.p;
    const o = this.out;
    if (this.n === 0) {
      this.prev = this.slow = this.hi = this.lo = x;
    }
    // Sampling interval: EWMA of positive gaps, each clipped to 10× the current estimate (one outage
    // barely moves it); the memories scale with it below time_ref. The gap is 0 for the first
    // reading and for one not after the last.
    const gap = ts > this.lastTs ? ts - this.lastTs : 0;
    if (gap > 0) {
      this.dt = Number.isNaN(this.dt) ? gap : this.dt + 0.05 * ((gap > 10 * this.dt ? 10 * this.dt : gap) - this.dt);
      const w = this.dt >= p.time_ref ? 1 : this.dt / p.time_ref;
      if (Math.abs(w - this.w) > 0.01 * this.w) this.setRate(w);
      // Slower than time_ref with per-time records: they decay by `decay` per time_ref of time.
      const wr = p.slow_records === 'per_time' && this.dt > p.time_ref ? Math.min(this.dt / p.time_ref, 86_400_000 / p.time_ref) : 1;
      if (Math.abs(wr - this.wRec) > 0.01 * this.wRec) this.setRecRate(wr);
    }
    // After a clock re-based backwards the interval is measured on the new clock.
    if (!(ts <= this.lastTs) || ts < this.lastTs - REBASED) this.lastTs = ts;
    // "No change": within 10⁻¹² of the level (float rounding) or 10⁻¹⁵: units are the sender's. It
    // was 10⁻⁹ + 10⁻⁹ of the level: at 10⁹ a whole unit (a gauge moving by ones had flat runs), and
    // a series in picofarads or nanoamps (10⁻¹², 10⁻⁹) was all "no change": silent. (Not 0: a
    // series of exact zeros that starts to move would take hundreds of readings to learn its scale.)
    const tiny = 1e-15 + 1e-12 * Math.abs(this.slow);
    // An anomalous excursion still pending: if this reading comes back, it was a glitch and is forgotten.
    const b = this.before;
    if (b !== null && this.glitchPending) {
      const from = b[0]!;
      if (Math.abs(x - from) <= 0.5 * Math.abs(this.prev - from)) {
        b[10] = 0;
        this.forgetGlitch(b);
      } else if (!(Math.abs(x - this.prev) <= tiny && this.flatRun + 1 > p.flat_factor * this.flatRecord && ts - b[11]! <= p.glitch_stuck)) {
        b[10] = b[10]! < p.glitch_readings ? b[10]! + 1 : 0;
      }
    }
    // Slow series only: there an anomalous step is not learnt (spike_learn_below), so a daily one needs this memory.
    const daily = this.daily !== null && this.dt >= p.spike_learn_below ? this.daily : null;
    const wallTs = this.local === undefined ? ts : this.local(ts);
    daily?.at(wallTs, this.dt);
    // Statistics, against the state before this reading.
    const width = Math.max(this.hi - this.lo, tiny);
    const above = x - this.hi;
    const below = this.lo - x;
    const excess = above > below ? above : below;
    // Quantised series (integer counts, levels, 0.1-degree readings): one quantum past the range is
    // just the next level, not an anomaly; the excess must reach range_quanta quanta.
    const qFloor = this.quantum < Infinity ? p.range_quanta * this.quantum : 0;
    const tFloor = p.range_steps * this.typical;
    const stepFloor = tFloor > qFloor ? tFloor : qFloor;
    // Score 0.5 where the excess reaches both its floors (margin × width and range_steps typical steps).
    const range = excess / width;
    const rangeLimit = Math.max(p.range_margin, stepFloor / width);
    const step = Math.abs(x - this.prev);
    const spike = step / Math.max(this.typical, tiny);
    const flat = step <= tiny ? this.flatRun + 1 : 0;
    // Seasonal residual, standardised by the chosen model's error scale (judged before learning).
    let sz = 0;
    if (this.useSeason) {
      const se = this.season;
      // A pending excursion (a glitch, maybe) is not learnt: a run of wild errors at one time of day
      // would widen that slot's error scale for days, and the range rule is gated by it.
      se.update(ts, x, this.levelDev, wallTs, !this.glitchPending);
      if (se.model >= 0) {
        // The shift test starts after a Phase I: a CUSUM assumes the prediction right on average, and
        // slot means from a few days carry errors that persist along the day (one odd day, a trend).
        const mature = ts - se.firstTs >= p.season_shift_after;
        sz = (x - se.pred) / (1.25 * se.scale + 0.01 * this.levelDev + tiny);
        // Each reading adds at most season_z to the sums: one spike alone is not a shift.
        const cz = sz > p.season_z ? p.season_z : sz < -p.season_z ? -p.season_z : sz;
        const cap = 2 * p.season_h;
        // Per time: below time_ref a reading adds w (= interval / time_ref) of a step, since fast
        // readings are not independent evidence (a minute series' residual is the same for minutes).
        const cw = this.cusumPerTime ? this.w : 1;
        this.cusumUp = mature ? Math.min(cap, Math.max(0, this.cusumUp + cw * (cz - p.season_k))) : 0;
        this.cusumDown = mature ? Math.min(cap, Math.max(0, this.cusumDown + cw * (-cz - p.season_k))) : 0;
      } else {
        this.cusumUp = this.cusumDown = 0;
      }
    }

    // Sequence memory: how surprising this level is after the last ones (judged before learning).
    let seqZ = 0;
    if (this.useSeq) {
      const half = p.seq_width * this.levelDev + tiny;
      seqZ = this.seq.likelihood(this.seq.observe(this.seq.level(x, this.slow - half, this.slow + half)));
    }

    const newShape = this.shape?.update(x, this.dt) === true;

    o.baseline = this.slow;
    let excused = false;
    if (this.n >= p.warmup) {
      let best = 0;
      let rule = 'range';
      let dev = range;
      let limit = rangeLimit;
      // The joint rule's two views: the largest share of its limit a local and a seasonal statistic reach.
      let local = 0;
      let localRule = 'range';
      let seasonal = 0;
      let seasonalRule = 'season';
      // With a seasonal model in use, leaving the range counts only when the value is also unusual for the time of day/week.
      const gated = this.useSeason && this.season.model >= 0 && Math.abs(sz) < GATE;
      if (this.useRange && !gated) {
        best = scoreOf(range, rangeLimit);
        // A limit of 0 (range_margin and range_steps set to 0) would make 0 / 0 a NaN view; any excess then scores 1 anyway.
        if (rangeLimit > 0) local = range / rangeLimit;
      }
      // As for the range: on a quantised series a step of a quantum or two is the next level, not a spike.
      // A step known at this time of day (daily-steps.ts) is no spike, and does not raise the record
      // either: the same step at another time still is one.
      excused = this.useSpike && daily?.known(step, x >= this.prev) === true;
      if (this.useSpike && step >= qFloor && !excused) {
        const lim = Math.max(p.spike_z, this.spikeRecord);
        const s = scoreOf(spike, lim);
        const side = x >= this.prev ? 'spike' : 'dip';
        if (s > best) { best = s; rule = side; dev = spike; limit = lim; }
        if (spike / lim > local) { local = spike / lim; localRule = side; }
      }
      if (this.growth !== null && !gated) {
        // This reading's extension counts too: a creep is judged as it happens, like a jump; against
        // the width the range had before it grew (a creep that doubles the range is 1).
        const grown = this.growth.judge(above, below);
        const before = width - grown > tiny ? width - grown : tiny;
        const floor = Math.max(p.drift_steps * this.typical, qFloor) / before;
        const lim = p.drift_margin > floor ? p.drift_margin : floor;
        const s = scoreOf(grown / before, lim);
        if (s > best) { best = s; rule = 'drift'; dev = grown / before; limit = lim; }
      }
      if (this.useFlat) {
        // Stuck: a run reaching flat_readings on a stream whose runs in recent memory were all
        // shorter by flat_factor. Judged at the reading that reaches it, an event once as a spike
        // is, not a state held while it lasts: a status flag or a parked vehicle's course is one
        // value for hours, and an alert held that long would hide everything else on the stream.
        const lim = Math.max(p.flat_readings, p.flat_factor * this.flatRecord);
        const s = lim === p.flat_readings && flat <= lim ? scoreOf(flat, lim) : 0;
        if (s > best) { best = s; rule = 'flat'; dev = flat; limit = lim; }
      }
      if (this.useSeason && this.season.model >= 0) {
        const az = Math.abs(sz);
        const lim = Math.max(p.season_z, this.seasonRecord);
        let s = scoreOf(az, lim);
        if (s > best) { best = s; rule = 'season'; dev = az; limit = lim; o.baseline = this.season.pred; }
        const cu = Math.max(this.cusumUp, this.cusumDown);
        s = scoreOf(cu, p.season_h);
        if (s > best) { best = s; rule = 'season_shift'; dev = cu; limit = p.season_h; o.baseline = this.season.pred; }
        seasonal = az / lim;
        if (cu / p.season_h > seasonal) { seasonal = cu / p.season_h; seasonalRule = 'season_shift'; }
      }
      if (this.useSeq) {
        // Unusual for this stream (z) and new in absolute terms (share): both must reach their limit.
        const r = Math.min(seqZ / p.seq_z, this.seq.short / p.seq_share);
        const s = scoreOf(r, 1);
        if (s > best) { best = s; rule = 'sequence'; dev = seqZ; limit = p.seq_z; }
        if (r > local) { local = r; localRule = 'sequence'; }
      }
      // Two views, each half convinced (no rule reached its limit): the weaker of the two against the share.
      // Only on series of at most 16 readings a season slot (max_per_slot) (a daily period: one reading
      // per ~32 s or slower): faster, one reading's two half-convinced views come by the hundred a
      // day from noise alone (a 1 s series: 5 false alerts a day), and the CUSUM sees a shift soon.
      const jointHere = this.season.model < 0 || p.periods[this.season.model]! <= DEFAULT_SEASONAL_PARAMS.max_per_slot * p.season_slots * this.dt;
      if (this.useJoint && best < 0.5 && jointHere) {
        const both = local < seasonal ? local : seasonal;
        const s = scoreOf(both, p.joint_share);
        if (s >= 0.5) { best = s; rule = `joint:${seasonalRule}+${localRule}`; dev = both; limit = p.joint_share; o.baseline = this.season.pred; }
      }
      // Reported as a mismatch (1 − best match) against its limit, so that larger is more anomalous as for every rule.
      if (newShape && best < 1) { best = 1; rule = 'shape'; dev = 1 - this.shape!.best; limit = 1 - this.shape!.limit; }
      // Calibration: the raw score must also be unusual for this stream (judged before learning it).
      if (p.cal_z > 0) {
        const c = scoreOf(this.cal.judge(best), p.cal_z);
        if (c < best) best = c;
      }
      o.score = best;
      o.anomalous = best >= 0.5;

      o.rule = rule;
      o.deviation = dev;
      o.limit = limit;
    } else {
      o.score = 0;
      o.anomalous = false;
      o.rule = 'warmup';
      o.deviation = 0;
      o.limit = 0;
    }

    // Learn (after keeping what an anomalous reading is about to change, in case it is a glitch).
    if (o.anomalous && p.glitch_readings > 0 && range >= p.glitch_size && !this.glitchPending) this.keepBefore(ts);
    const dr = this.recDecayW;
    // Only once the typical step is known: before, a step over a typical step of ~0 is a record of
    // 10^6 and more, which took ~200,000 readings to fade (the rule was silent that long).
    // A slow series' anomalous step does not raise the bar for the next anomaly (metrics at minutes
    // or hours: large steps are events). Faster series learn from every step: a sensor's raw steps
    // are heavy-tailed by physics (driving, impacts), and an unlearnt tail alarms at each repeat.
    const learn = !excused && !(o.anomalous && (o.rule === 'spike' || o.rule === 'dip') && this.dt >= p.spike_learn_below);
    if (this.n >= p.warmup) this.spikeRecord = learn && this.n - this.moveStart >= p.warmup && spike > this.spikeRecord * dr ? spike : this.spikeRecord * dr;
    // Nor does a pending excursion teach the daily steps (a loose wire's −127 is no machine's start).
    if (daily !== null && this.n >= p.warmup && !this.glitchPending) daily.learn(x, this.prev, step, spike, p.spike_z);
    // A run of one value is learnt once it ends. Learnt while it lasted, the record followed the run
    // itself and the limit (flat_factor × record) ran ahead of it: a run never reached a
    // flat_readings above 11, and at 10 it was anomalous for two readings, then "normal".
    const ended = flat === 0 ? this.flatRun : 0;
    this.flatRecord = ended > this.flatRecord * dr ? ended : this.flatRecord * dr;
    const asz = Math.abs(sz);
    this.seasonRecord = asz > this.seasonRecord * dr ? asz : this.seasonRecord * dr;
    const a = this.n < p.warmup ? Math.max(p.slow_alpha, 1 / (this.n + 1)) : p.slow_alpha;
    // Clipped like the seasonal error scales, so both are compared like with like.
    const ld = Math.abs(x - this.slow);
    this.levelDev += a * ((this.n >= 10 && ld > 10 * this.levelDev ? 10 * this.levelDev : ld) - this.levelDev);
    this.slow += a * (x - this.slow);
    const moved = this.n - this.moveStart;
    if (this.n > 0) this.typical += (moved < p.warmup ? Math.max(p.slow_alpha, 1 / Math.max(moved, 1)) : p.slow_alpha) * (step - this.typical);
    const r = this.relaxW;
    this.hi -= r * (this.hi - this.slow);
    this.lo += r * (this.slow - this.lo);
    // Extensions after the warm-up only: before it the range is still being learnt.
    if (this.growth !== null && this.n >= p.warmup) this.growth.learn(gap, x > this.hi ? x - this.hi : 0, x < this.lo ? this.lo - x : 0);
    if (x > this.hi) this.hi = x;
    if (x < this.lo) this.lo = x;
    if (step > tiny) {
      // A stream that held one value through the warm-up (a machine off when the gateway started)
      // starts its steps now: learnt from a typical step of ~0, its first moves were hundreds of
      // typical steps each, and the spike record they set hid every spike for days.
      if (this.quantum === Infinity && this.n >= p.warmup) this.moveStart = this.n;
      // The resolution: a low quantile of the non-zero steps, not their minimum, which one value
      // interpolated between two levels (a gap filled, an average) set for good: a water utility's
      // chlorine readings in steps of 0.01 had a minimum step of 0.0019, and a move of one level
      // could be a spike. In the warm-up (or until a first step) the minimum, from which the
      // quantile moves on: tracked from the first step, it was still that step's size when a pump's
      // fault came two minutes in.
      if (this.n < p.warmup || this.quantum === Infinity) {
        if (step < this.quantum) this.quantum = step;
      } else this.quantum = step < this.quantum ? this.quantum * (1 - QUANTUM_RATE * (1 - QUANTUM_SHARE)) : this.quantum * (1 + QUANTUM_RATE * QUANTUM_SHARE);
    }
    this.flatRun = flat;
    this.prev = x;
    this.n++;
    return o;
  }

  /** An anomalous excursion is pending: the next readings tell whether it was a glitch. */
  private get glitchPending(): boolean {
    return this.before !== null && this.before[10]! > 0;
  }

  private keepBefore(ts: number): void {
    const b = (this.before ??= new Float64Array(12));
    b[0] = this.prev;
    b[1] = this.slow;
    b[2] = this.typical;
    b[3] = this.hi;
    b[4] = this.lo;
    b[5] = this.spikeRecord;
    b[6] = this.seasonRecord;
    b[7] = this.levelDev;
    b[8] = this.growth?.up ?? 0;
    b[9] = this.growth?.down ?? 0;
    b[10] = 1;
    b[11] = ts;
  }

  /** The memories back as they were before the glitch (the range: see below); the next step is measured from the value before it. */
  private forgetGlitch(b: Float64Array): void {
    this.prev = b[0]!;
    // A run of the glitch's value (a sensor stuck on it) is not the stream's own: not learnt as a flat run.
    this.flatRun = 0;
    this.slow = b[1]!;
    this.typical = b[2]!;
    // A stream's first glitch in recent memory is forgotten whole. Later ones widen the range by
    // up to half its width each: on a heavy-tailed series, where huge values are its nature, they
    // then stop alarming, where forgotten whole each would alarm again.
    const seen = this.glitches * this.decayW ** (this.n - this.glitchAt);
    const keep = seen >= 0.5 ? 0.5 * (b[3]! - b[4]!) : 0;
    this.glitches = seen + 1;
    this.glitchAt = this.n;
    if (this.hi > b[3]! + keep) this.hi = b[3]! + keep;
    if (this.lo < b[4]! - keep) this.lo = b[4]! - keep;
    // As for any step (spike_learn_below): faster series keep it in the spike record, since a sensor's
    // one-reading impulses are physics there (an impact, a pothole) and would alarm at every repeat.
    if (this.dt >= this.p.spike_learn_below) this.spikeRecord = b[5]!;
    this.seasonRecord = b[6]!;
    this.levelDev = b[7]!;
    if (this.growth !== null) [this.growth.up, this.growth.down] = [b[8]!, b[9]!];
  }

  /** The clock was set back from `from` to `to`: the series keeps its age and its last time moves to the new clock (as for a step back of a day or more, REBASED). */
  rebased(from: number, to: number): void {
    this.lastTs += to - from;
    this.season.rebased(to - from);
  }

  snapshot(): Record<string, unknown> {
    return this.state(false);
  }

  /** The state with the seasonal rings and the sequence table uncopied, shared with `capture` until it closes. */
  snapshotView(capture: SharedCapture): Record<string, unknown> {
    if (this.sharedWith !== null) this.unshare(); // still held by an earlier capture: that one keeps them
    this.sharedWith = capture;
    return this.state(true);
  }

  /** Before a change: a capture still holding the live arrays keeps them, the detector goes on with copies. */
  private unshare(): void {
    if (this.sharedWith?.open) {
      this.season.ownArrays();
      this.seq.ownArrays();
      this.shape?.ownArrays();
      this.daily?.ownArrays();
    }
    this.sharedWith = null;
  }

  private state(view: boolean): Record<string, unknown> {
    return {
      kind: this.kind,
      state: [this.n, this.prev, this.slow, this.typical, this.hi, this.lo, this.flatRun, this.spikeRecord, this.flatRecord, this.levelDev, this.cusumUp, this.cusumDown, this.seasonRecord],
      time: [this.lastTs, this.dt, this.w, this.quantum === Infinity ? null : this.quantum, this.moveStart].map((v) => (v === null || Number.isNaN(v) ? null : v)),
      seasonal: view ? this.season.view() : this.season.snapshot(),
      sequence: view ? this.seq.view() : this.seq.snapshot(),
      calibration: this.cal.numbers(),
      ...(this.shape === null ? {} : { shape: view ? this.shape.view() : this.shape.snapshot() }),
      ...(this.daily === null ? {} : { daily: view ? this.daily.view() : this.daily.snapshot() }),
      ...(this.growth === null ? {} : { drift: this.growth.numbers() }),
      // An anomalous excursion still pending (it may be a glitch): the memories from before it.
      ...(this.before !== null && this.glitchPending ? { glitch: Array.from(this.before) } : {}),
      ...(this.glitches > 0 ? { glitches: [this.glitches, this.glitchAt] } : {}),
      // The spike record is learnt only after the warm-up (below 2: from the second reading, see restore).
      spike_record: 2,
    };
  }

  restore(s: Record<string, unknown>): void {
    if (this.sharedWith !== null) this.unshare();
    checkKind(s, this.kind);
    const v = snapNums(s, 'state', this.kind, 13);
    if (v.some((x) => !Number.isFinite(x))) throw new Error('default detector snapshot: "state" must hold 13 finite numbers');
    [this.n, this.prev, this.slow, this.typical, this.hi, this.lo, this.flatRun, this.spikeRecord, this.flatRecord, this.levelDev, this.cusumUp, this.cusumDown, this.seasonRecord] = v as [number, number, number, number, number, number, number, number, number, number, number, number, number];
    // An older snapshot's spike record was learnt from the second reading on (10^6 typical steps
    // and more: the rule would stay silent for ~200,000 readings): it starts again.
    if (s.spike_record !== 2) this.spikeRecord = 0;
    // Four numbers before the first move was kept (2026-12-07): such a stream moved from its start.
    const time = snapNums(s, 'time', this.kind);
    const [lastTs, dt, w, quantum, moveStart = 0] = time as [number, number, number, number, number?];
    if ((time.length !== 4 && time.length !== 5) || !(w > 0 && w <= 1) || !(moveStart >= 0)) throw new Error('default detector snapshot: "time" must be [last_ts, dt, w, quantum, move_start] with 0 < w <= 1 and move_start >= 0');
    [this.lastTs, this.dt] = [lastTs, dt];
    this.quantum = Number.isNaN(quantum) ? Infinity : quantum;
    this.moveStart = moveStart;
    this.setRate(w);
    this.season.restore(s.seasonal, 'default detector snapshot');
    // A snapshot from before the sequence rule has none: its memory starts empty, the rest is kept.
    if (s.sequence !== undefined) this.seq.restore(s.sequence, 'default detector snapshot');
    // Likewise the calibration stage (before it existed): it starts afresh.
    const cal = s.calibration === undefined ? [0, 0, 0, 0] : snapNums(s, 'calibration', this.kind, 4);
    if (!cal.every(Number.isFinite)) throw new Error('default detector snapshot: "calibration" must hold 4 finite numbers [short, mean, variance, n]');
    this.cal.set(cal);
    // A snapshot from before the shape rule was switched on has none: its memory starts empty.
    if (this.shape !== null && s.shape !== undefined) this.shape.restore(s.shape, 'default detector snapshot');
    // Likewise the daily steps (before 2026-12-04, or with spike_daily off).
    if (this.daily !== null && s.daily !== undefined) this.daily.restore(s.daily, 'default detector snapshot');
    // The drift rule's extensions (none before it was switched on: they start from nothing).
    if (this.growth !== null) this.growth.set(s.drift === undefined ? [0, 0] : snapNums(s, 'drift', this.kind), 'default detector snapshot');
    if (s.glitch === undefined) {
      if (this.before !== null) this.before[10] = 0;
    } else {
      const g = snapNums(s, 'glitch', this.kind);
      // 11 before 2026-12-07 (no start time: the excursion counts from the last reading's).
      if (g.length === 11) g.push(this.lastTs);
      if (g.length !== 12 || !g.every(Number.isFinite)) throw new Error('default detector snapshot: "glitch" must hold 12 finite numbers');
      this.before ??= new Float64Array(12);
      this.before.set(g);
    }
    const gl = s.glitches === undefined ? [0, 0] : snapNums(s, 'glitches', this.kind, 2);
    if (!gl.every(Number.isFinite)) throw new Error('default detector snapshot: "glitches" must hold 2 finite numbers [count, at reading]');
    [this.glitches, this.glitchAt] = gl as [number, number];
  }
}
