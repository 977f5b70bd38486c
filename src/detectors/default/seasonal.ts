/**
 * A seasonal baseline with bounded state, used by the default detector: for each candidate period
 * (a day and a week by default) a ring of `slots` per-slot EWMA means, indexed by the phase of the
 * reading's timestamp within the period and linearly interpolated between the two nearest slot
 * centres. Each model's out-of-sample error is tracked (EWMA of |x − prediction|); the model that
 * explains the series best is used, and only when it explains it clearly better than a flat level
 * (`ratio`), has seen `min_periods` periods, and the series has at least 8 readings a period.
 *
 * Pure (time from the readings), no allocation per reading, state = 2 × periods × slots float32
 * in one buffer (the means relative to the first value) + a few numbers; snapshot/restore exact
 * (one packed Float64Array copy, NaN kept).
 */

/** `fast`: the flat level's weight per `time_ref` (the detector's `slow_alpha` per reading). */
const FLAT_ALPHA = 0.005;

/** A step back in time larger than this is a clock re-based, not a late reading. */
export const REBASED = 86_400_000;

export interface SeasonalParams {
  /** Candidate periods (ms). */
  periods: number[];
  /** Slots per period (ring length). */
  slots: number;
  /**
   * Weight of each reading in its slot means (per reading, split between the two slots it falls
   * between): a slot that k readings visit at a time moves by about 1 − (1 − alpha)^k a visit, so
   * with many readings a visit it also follows the level within the visit (docs/detectors.md).
   */
  alpha: number;
  /** Weight of each reading in the tracked error scales. */
  scale_alpha: number;
  /** A model is used only when its error scale is below this fraction of the flat-level error scale. */
  ratio: number;
  /** Periods of history a model needs before it is used. */
  min_periods: number;
  /** A model is used only when the series has at most this many readings per slot (typical interval ≥ period / slots / this). */
  max_per_slot: number;
  /** Floor of a slot's error scale, as a fraction of the model's overall error scale. */
  slot_floor: number;
  /** Learn from the value clipped to prediction ± clip × scale (so an anomaly is learnt slowly). */
  clip: number;
  /**
   * A series of more than `max_per_slot` readings a slot of the shortest period (a daily one of
   * 168 slots: faster than one reading per ~32 s): false, no model is used (as before 2026-12-07);
   * true, the models are used, and each reading learns interval / `time_ref` of what a reading at
   * `time_ref` does (`alpha`, `scale_alpha`, the warm-up), so the slots remember as many days as
   * at `time_ref`, and the flat level the models must beat is one of the same memory (FLAT_ALPHA).
   */
  fast: boolean;
  /** The reference interval of `fast` (ms): the detector's `time_ref`. */
  time_ref: number;
}

export const DEFAULT_SEASONAL_PARAMS: SeasonalParams = {
  periods: [86_400_000, 7 * 86_400_000],
  slots: 168,
  alpha: 0.2,
  scale_alpha: 0.01,
  ratio: 0.5,
  min_periods: 2,
  max_per_slot: 16,
  slot_floor: 0.5,
  clip: 4,
  fast: false,
  time_ref: 300_000,
};

/**
 * Size of the numeric state (for snapshots): per model slots + scale, plus shared scalars.
 * Per reading, the rings are read at indices computed in range (m < np, slot < slots): their
 * `x[i]!` are kept because a checked read would cost on every reading.
 */
export class SeasonalBaseline {
  /**
   * Slot means relative to `offset` (the first value), one ring per period, back to back (NaN:
   * slot never visited); float32 (one part in ~10^7) of the distance from the first value, not of
   * the magnitude: a series near 10^9 that stays near where it started keeps its tenths.
   */
  private means: Float32Array;
  /** Slot error scales (EWMA of |x − prediction| per slot; NaN: none yet), same layout as `means`. */
  private slotErr: Float32Array;
  /** Means and error scales in one buffer (one allocation per stream). */
  private rings: Float32Array;
  /** What the means are relative to: the first value learnt (0 before). */
  private offset = 0;
  /** Per period: EWMA of |x − prediction| (out of sample). */
  private scales: Float64Array;
  /** Per period: readings that had a prediction (warm-up of the scale). */
  private counts: Float64Array;
  private readonly np: number;
  private readonly minPeriod: number;
  private t0 = NaN;
  private lastTs = NaN;
  /** Typical interval between readings (ms), EWMA. */
  private dt = NaN;
  /**
   * `fast` only: a flat level and its error (EWMA |x − level|) of the same memory at any rate, the
   * flat model the seasonal ones must beat on a fast series (the detector's own level learns per
   * reading: on a 1 s series it follows a daily cycle within minutes and its error is the noise,
   * which no seasonal model beats twice over). `flatN`: the readings learnt so far, each counted
   * as its share (its warm-up).
   */
  private flat = NaN;
  private flatErr = NaN;
  private flatN = 0;
  /** Prediction, its error scale and the model used for the current reading (NaN / −1 when none). */
  pred = NaN;
  scale = NaN;
  model = -1;

  /** Time of the first reading (NaN before). */
  get firstTs(): number {
    return this.t0;
  }

  constructor(private readonly p: SeasonalParams = DEFAULT_SEASONAL_PARAMS) {
    this.np = p.periods.length;
    this.minPeriod = Math.min(...p.periods);
    const nm = this.np * p.slots;
    this.rings = new Float32Array(2 * nm).fill(NaN);
    this.means = this.rings.subarray(0, nm);
    this.slotErr = this.rings.subarray(nm);
    this.scales = new Float64Array(this.np);
    this.counts = new Float64Array(this.np);
  }

  /**
   * Predict `x` at `ts` from the best usable model (sets `pred`, `scale`, `model`), then learn it.
   * `levelScale` is the flat-level error scale (EWMA |x − slow mean|) the models must beat.
   * `wallTs` places the reading in each period (default `ts`: UTC; a zone's wall-clock time, so
   * that a daily pattern kept in local time does not move at a daylight-saving change).
   * `learn` false: predict only (a reading that may be a sensor's glitch).
   */
  update(ts: number, x: number, levelScale: number, wallTs = ts, learn = true): void {
    const p = this.p;
    const S = p.slots;
    if (Number.isNaN(this.t0)) {
      this.t0 = ts;
      this.offset = x;
    } else if (ts > this.lastTs) {
      const d = ts - this.lastTs;
      this.dt = Number.isNaN(this.dt) ? d : this.dt + 0.05 * (d - this.dt);
    } else if (ts < this.lastTs - REBASED) {
      // A clock re-based backwards (a replayed log whose device rebooted to an old date): the series
      // keeps its age, so its models stay usable (else not until the clock came back to t0, years).
      this.t0 -= this.lastTs - ts;
    }
    this.lastTs = ts;
    // A fast series (see `fast`): each reading learns a share k of a reading at time_ref.
    const fast = p.fast && this.dt * S * p.max_per_slot < this.minPeriod;
    const kf = Math.min(1, this.dt / p.time_ref) || 1;
    const k = fast ? kf : 1;
    const alpha = k * p.alpha;
    let flatScale = levelScale;
    if (p.fast) {
      if (fast) flatScale = this.flatErr;
      if (learn) {
        // Each reading weighs k against the flatN learnt so far: an average until FLAT_ALPHA takes over.
        const a = Math.max(kf * FLAT_ALPHA, kf / (this.flatN + kf));
        this.flatN += kf;
        if (Number.isNaN(this.flat)) this.flat = x;
        const d = Math.abs(x - this.flat);
        this.flatErr = Number.isNaN(this.flatErr) ? d : this.flatErr + a * ((this.flatN >= 10 && d > 10 * this.flatErr ? 10 * this.flatErr : d) - this.flatErr);
        this.flat += a * (x - this.flat);
      }
    }
    this.pred = NaN;
    this.scale = NaN;
    this.model = -1;
    let best = Infinity;
    for (let m = 0; m < this.np; m++) {
      const P = p.periods[m]!;
      const ph = ((((wallTs % P) + P) % P) / P) * S; // phase in slots, [0, S)
      const i0 = Math.floor(ph);
      const f = ph - i0;
      const base = m * S;
      const a = base + (i0 % S);
      const b = base + ((i0 + 1) % S);
      const off = this.offset;
      const ma = this.means[a]! + off;
      const mb = this.means[b]! + off;
      let pr: number;
      if (Number.isNaN(ma)) pr = mb;
      else if (Number.isNaN(mb)) pr = ma;
      else pr = ma + f * (mb - ma);
      let sc = this.scales[m]!;
      // The error scale at this phase (edges of a square wave err more than its plateaus), floored
      // by part of the model's overall scale and by a sliver of the flat-level scale.
      const ea = this.slotErr[a]!;
      const eb = this.slotErr[b]!;
      const local = Number.isNaN(ea) ? eb : Number.isNaN(eb) ? ea : ea + f * (eb - ea);
      const floor = p.slot_floor * sc + 0.01 * levelScale;
      const scHere = Number.isNaN(local) || local < floor ? floor : local;
      let v = x;
      if (!Number.isNaN(pr)) {
        const err = Math.abs(x - pr);
        const warm = this.counts[m]! * p.scale_alpha >= 1;
        // Judge with the scales from before this reading; then learn them.
        // At most `max_per_slot` readings per slot unless `fast`: each reading learning as much as
        // one at 5 minutes, a slot's mean followed the level within a visit and the CUSUM alarmed
        // on ordinary wander.
        const usable = warm && ts - this.t0 >= p.min_periods * P && this.dt * 8 <= P && (fast || this.dt * S * p.max_per_slot >= P) && sc < p.ratio * flatScale;
        if (usable && sc < best) {
          best = sc;
          this.pred = pr;
          this.scale = scHere;
          this.model = m;
        }
        if (!learn) continue;
        const e = this.counts[m]! >= 10 && err > 10 * scHere ? 10 * scHere : err; // one wild error moves the scales little
        const ca = warm ? k * p.scale_alpha : k / (this.counts[m]! + k);
        this.scales[m] = sc = sc + ca * (e - sc);
        // On a fast series each reading counts its share towards the warm-up.
        this.counts[m]! += warm ? 1 : k;
        this.slotErr[a] = Number.isNaN(ea) ? e : ea + alpha * (1 - f) * (e - ea);
        if (f > 0) this.slotErr[b] = Number.isNaN(eb) ? e : eb + alpha * f * (e - eb);
        // Learn the slot means from the value clipped around the prediction (an anomaly is learnt slowly).
        if (warm && !Number.isNaN(ma) && !Number.isNaN(mb)) {
          const lim = p.clip * scHere;
          if (v > pr + lim) v = pr + lim;
          else if (v < pr - lim) v = pr - lim;
        }
      } else if (!learn) continue;
      const wa = 1 - f;
      const wb = f;
      this.means[a] = (Number.isNaN(ma) ? v : ma + alpha * wa * (v - ma)) - off;
      if (wb > 0) this.means[b] = (Number.isNaN(mb) ? v : mb + alpha * wb * (v - mb)) - off;
    }
  }

  /** New copies of the arrays, so that those handed out by `view()` stay as they are (copy on write). */
  ownArrays(): void {
    this.scales = this.scales.slice();
    this.counts = this.counts.slice();
    this.bindRings(this.rings.slice());
  }

  private bindRings(rings: Float32Array): void {
    const nm = rings.length / 2;
    this.rings = rings;
    this.means = rings.subarray(0, nm);
    this.slotErr = rings.subarray(nm);
  }

  /** The state uncopied, in the five-array form `restore` takes: [[t0, last_ts, dt, offset, flat, flat_err, flat_n], scales, counts, means (relative to offset), errors]. */
  view(): [number[], Float64Array, Float64Array, Float32Array, Float32Array] {
    return [[this.t0, this.lastTs, this.dt, this.offset, this.flat, this.flatErr, this.flatN], this.scales, this.counts, this.means, this.slotErr];
  }

  /**
   * One packed copy: [t0, last_ts, dt, scales(np), counts(np), means, errors, offset, flat,
   * flat_err, flat_n] (means relative to offset). One typed array, not five: a checkpoint of
   * thousands of streams spent most of its capture allocating them.
   */
  /** The clock was set back by `-by` ms: the series keeps its age (as below, for a step back of more than REBASED). */
  rebased(by: number): void {
    this.t0 += by;
    this.lastTs += by;
  }

  snapshot(): Float64Array {
    const np = this.np;
    const nm = this.means.length;
    const end = 3 + 2 * np + 2 * nm;
    const out = new Float64Array(end + 4);
    out[0] = this.t0;
    out[1] = this.lastTs;
    out[2] = this.dt;
    out.set(this.scales, 3);
    out.set(this.counts, 3 + np);
    out.set(this.rings, 3 + 2 * np);
    out[end] = this.offset;
    out[end + 1] = this.flat;
    out[end + 2] = this.flatErr;
    out[end + 3] = this.flatN;
    return out;
  }

  /**
   * Takes what `snapshot` returned, or its earlier forms: packed without the flat level (before
   * 2026-12-07: learnt afresh) or without the offset either (absolute means, before 2026-12-04), or
   * five arrays (typed, or plain numbers with NaN as null; times of 3 numbers: absolute means; of 4:
   * no flat level).
   */
  restore(s: unknown, what: string): void {
    const np = this.np;
    const nm = this.means.length;
    let times: ArrayLike<number | null>, scales: ArrayLike<number | null>, counts: ArrayLike<number | null>, means: ArrayLike<number | null>, errors: ArrayLike<number | null>;
    let offset: number | undefined;
    let flat: ArrayLike<number | null> = [NaN, NaN, 0];
    if (s instanceof Float64Array) {
      const n = 3 + 2 * np + 2 * nm;
      if (s.length !== n && s.length !== n + 1 && s.length !== n + 4) {
        throw new Error(`${what}: "seasonal" must hold ${n + 4} numbers (3 + 2 × ${np} periods + 2 × ${nm} slots + the offset + the flat level's 3), not ${s.length} (the detector's periods or slots changed; delete the state file to start fresh)`);
      }
      if (s.length === n + 4) flat = s.subarray(n + 1);
      times = s.subarray(0, 3);
      scales = s.subarray(3, 3 + np);
      counts = s.subarray(3 + np, 3 + 2 * np);
      means = s.subarray(3 + 2 * np, 3 + 2 * np + nm);
      errors = s.subarray(3 + 2 * np + nm, n);
      if (s.length > n) offset = s[n]!;
    } else {
      const nums = (a: unknown) => a instanceof Float64Array || a instanceof Float32Array || (Array.isArray(a) && a.every((x) => x === null || typeof x === 'number'));
      type Saved = ArrayLike<number | null>;
      const ok = Array.isArray(s) && s.length === 5 && s.every(nums);
      const [t, sc, co, me, er] = ok ? (s as [Saved, Saved, Saved, Saved, Saved]) : [];
      if (!t || !sc || !co || !me || !er || (t.length !== 3 && t.length !== 4 && t.length !== 7) || sc.length !== np || co.length !== np || me.length !== nm || er.length !== nm) {
        throw new Error(`${what}: "seasonal" must be [t0, last_ts, dt, scales(${np}), counts(${np}), means(${nm}), errors(${nm}), offset, flat, flat_err, flat_n] packed in one Float64Array (the detector's periods or slots changed; delete the state file to start fresh)`);
      }
      [times, scales, counts, means, errors] = [t, sc, co, me, er];
      if (t.length >= 4) offset = t[3] ?? 0;
      if (t.length === 7) flat = [t[4]!, t[5]!, t[6]!];
    }
    const num = (x: number | null | undefined) => (x === null || x === undefined ? NaN : x);
    [this.t0, this.lastTs, this.dt] = [num(times[0]), num(times[1]), num(times[2])];
    this.scales.set(Array.from(scales, num));
    this.counts.set(Array.from(counts, num));
    this.slotErr.set(Array.from(errors, num));
    if (offset === undefined) {
      // Absolute means (an earlier snapshot): relative to the first one found.
      const abs = Array.from(means, num);
      offset = abs.find((v) => !Number.isNaN(v)) ?? 0;
      this.means.set(abs.map((v) => v - offset!));
    } else this.means.set(Array.from(means, num));
    if (!Number.isFinite(offset)) throw new Error(`${what}: "seasonal" holds a non-finite offset`);
    this.offset = offset;
    [this.flat, this.flatErr, this.flatN] = [num(flat[0]), num(flat[1]), num(flat[2]) || 0];
  }
}
