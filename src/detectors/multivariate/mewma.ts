/**
 * A multivariate EWMA chart (MEWMA, Lowry et al. 1992) for the correlated sensors of one machine,
 * against a baseline learnt from the start of its run. Pure numeric core: one vector of readings
 * in, one judgement out; the pipeline step that groups readings into vectors is multivariate-step.ts.
 *
 * Three phases, counted in rows (vectors):
 * 1. **baseline** (`baseline` rows): the mean and standard deviation of each sensor and their
 *    correlation matrix (online co-moments). At its end the correlation (with a small ridge, so a
 *    near-duplicate sensor does not make it singular) is factored, R = L·Lᵀ.
 * 2. **calibration** (`calibration` rows): each row is standardised (u = (x − mean) / sd) and
 *    decorrelated (w = L⁻¹·u: a reading that breaks a learnt relation between sensors shows up in
 *    w even when every sensor stays inside its own range), and w is smoothed, Z ← (1 − λ)·Z + λ·w.
 *    The spread of each component of Z is measured here, not assumed: a slow state such as a
 *    temperature that keeps wandering (warm-up) has a wide spread, white sensor noise a narrow one.
 *    The spread is floored at the white-noise value √(λ / (2 − λ)).
 * 3. **judging**: the statistic is the root mean square of the `agree` largest standardised
 *    components Z_i / spread_i ("k of n agree": `agree` = the number of sensors gives Hotelling's
 *    T² / n; 1 gives the single worst component). Anomalous when it reaches `threshold`.
 *
 * The baseline is frozen after learning, so a fault is never learnt as normal however long it
 * lasts; a new run (or a changed operating point) needs a fresh baseline (a new state).
 * State: O(n²) numbers for n sensors (n ≤ 32).
 */
import { newJudgement, scoreOf, snapNum, snapNums, type Judgement } from '../types.js';

export interface MewmaParams {
  /** Rows (vectors) that learn the means, spreads and correlations. */
  baseline: number;
  /** Rows after the baseline that learn the spread of the smoothed deviations. */
  calibration: number;
  /** Smoothing weight of each new row (0 < λ ≤ 1; 0.1 ≈ the last 10–20 rows). */
  lambda: number;
  /** How many of the largest decorrelated deviations make the statistic (1 … n; larger than n means n). */
  agree: number;
  /** Limit on the statistic (in units of each component's calibrated spread). */
  threshold: number;
  /** Added to the correlation matrix's diagonal before it is factored (then rescaled to 1). */
  ridge: number;
  /** After the baseline, each sensor's mean moves this fraction towards a row that is not anomalous (0: frozen). */
  adapt?: number;
}

const MEWMA_KIND = 'mewma';

/**
 * The per-row loops index the typed arrays below within [0, n) or [0, n²): their `x[i]!` are
 * bounds-checked by the loop, and a checked read (`?? 0`) would cost on every row.
 */
export class MewmaModel {
  readonly n: number;
  /** Rows seen so far (saturates once judging). */
  private rows = 0;
  private readonly mean: Float64Array;
  /** Co-moments Σ (x_i − mean_i)(x_j − mean_j) while learning; afterwards the factor L (lower triangle). */
  private readonly m2: Float64Array;
  private readonly sd: Float64Array;
  private readonly z: Float64Array;
  /** Sum of Z_i² during calibration; afterwards the spread of Z_i. */
  private readonly spread: Float64Array;
  private readonly u: Float64Array;
  private readonly w: Float64Array;
  private readonly top: Float64Array;
  private readonly out: Judgement = newJudgement();
  /** Index of the largest standardised component in the last judged row (-1 before judging). */
  worst = -1;

  constructor(
    n: number,
    private readonly p: MewmaParams,
  ) {
    if (!(n >= 1 && n <= 32)) throw new Error(`multivariate detector: needs 1 to 32 sensors, got ${n}`);
    this.n = n;
    this.mean = new Float64Array(n);
    this.m2 = new Float64Array(n * n);
    this.sd = new Float64Array(n);
    this.z = new Float64Array(n);
    this.spread = new Float64Array(n);
    this.u = new Float64Array(n);
    this.w = new Float64Array(n);
    this.top = new Float64Array(Math.max(1, Math.min(n, p.agree)));
    this.out.limit = p.threshold;
  }

  get phase(): 'baseline' | 'calibration' | 'judging' {
    return this.rows < this.p.baseline ? 'baseline' : this.rows < this.p.baseline + this.p.calibration ? 'calibration' : 'judging';
  }

  /** Judge one row (one value per sensor, in a fixed order). Returns the reused judgement. */
  update(x: ArrayLike<number>): Judgement {
    const o = this.out;
    const { n, p } = this;
    o.score = 0;
    o.anomalous = false;
    o.deviation = 0;
    if (this.rows < p.baseline) {
      this.learn(x);
      this.rows++;
      if (this.rows === p.baseline) this.factor();
      o.rule = 'baseline';
      return o;
    }
    this.smooth(x);
    if (this.rows < p.baseline + p.calibration) {
      for (let i = 0; i < n; i++) this.spread[i]! += this.z[i]! * this.z[i]!;
      this.rows++;
      if (this.rows === p.baseline + p.calibration) {
        const floor = Math.sqrt(p.lambda / (2 - p.lambda));
        for (let i = 0; i < n; i++) this.spread[i] = Math.max(floor, Math.sqrt(this.spread[i]! / Math.max(1, p.calibration)));
      }
      o.rule = 'calibration';
      this.follow(x, false);
      return o;
    }
    // RMS of the `agree` largest standardised components, and which sensor is worst
    const top = this.top;
    top.fill(0);
    let worst = 0;
    let worstQ = -1;
    for (let i = 0; i < n; i++) {
      const q = this.z[i]! / this.spread[i]!;
      const qq = q * q;
      if (qq > worstQ) {
        worstQ = qq;
        worst = i;
      }
      if (qq <= top[top.length - 1]!) continue;
      let k = top.length - 1;
      while (k > 0 && top[k - 1]! < qq) {
        top[k] = top[k - 1]!;
        k--;
      }
      top[k] = qq;
    }
    let s = 0;
    for (const t of top) s += t;
    const d = Math.sqrt(s / top.length);
    this.worst = worst;
    o.deviation = d;
    o.score = scoreOf(d, p.threshold);
    o.anomalous = d >= p.threshold;
    o.rule = 'mewma';
    this.follow(x, o.anomalous);
    return o;
  }

  private follow(x: ArrayLike<number>, anomalous: boolean): void {
    const a = this.p.adapt ?? 0;
    if (a <= 0 || anomalous) return;
    for (let i = 0; i < this.n; i++) this.mean[i]! += a * (x[i]! - this.mean[i]!);
  }

  private learn(x: ArrayLike<number>): void {
    const { n, mean, m2 } = this;
    const k = this.rows + 1;
    const d = this.u;
    for (let i = 0; i < n; i++) d[i] = x[i]! - mean[i]!;
    for (let i = 0; i < n; i++) mean[i]! += d[i]! / k;
    // Welford for co-moments: C_ij += (x_i − mean_i(old)) · (x_j − mean_j(new))
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) m2[i * n + j]! += d[i]! * (x[j]! - mean[j]!);
  }

  /** Correlation (with ridge) → Cholesky factor, stored in m2's lower triangle. */
  private factor(): void {
    const { n, m2, sd } = this;
    const df = Math.max(1, this.p.baseline - 1);
    for (let i = 0; i < n; i++) {
      const v = m2[i * n + i]! / df;
      // a sensor constant during the baseline: any change is news, but not infinitely so
      sd[i] = Math.max(Math.sqrt(v), 1e-6 * Math.max(1, Math.abs(this.mean[i]!)));
    }
    const r = 1 / (1 + this.p.ridge);
    const c = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) c[i * n + j] = i === j ? 1 : (m2[i * n + j]! / df / (sd[i]! * sd[j]!)) * r;
    m2.fill(0);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        let s = c[i * n + j]!;
        for (let k = 0; k < j; k++) s -= m2[i * n + k]! * m2[j * n + k]!;
        m2[i * n + j] = i === j ? Math.sqrt(Math.max(s, 1e-9)) : s / m2[j * n + j]!;
      }
    }
  }

  /** Standardise, decorrelate (forward substitution L·w = u) and smooth one row into Z. */
  private smooth(x: ArrayLike<number>): void {
    const { n, m2: L, u, w, z } = this;
    const lam = this.p.lambda;
    for (let i = 0; i < n; i++) u[i] = (x[i]! - this.mean[i]!) / this.sd[i]!;
    for (let i = 0; i < n; i++) {
      let s = u[i]!;
      for (let k = 0; k < i; k++) s -= L[i * n + k]! * w[k]!;
      w[i] = s / L[i * n + i]!;
      z[i] = (1 - lam) * z[i]! + lam * w[i]!;
    }
  }

  /** The mean learnt for sensor i (NaN before the baseline is complete). */
  baselineOf(i: number): number {
    return this.rows >= this.p.baseline ? (this.mean[i] ?? NaN) : NaN;
  }

  snapshot(): Record<string, unknown> {
    return { kind: MEWMA_KIND, n: this.n, rows: this.rows, mean: [...this.mean], m2: [...this.m2], sd: [...this.sd], z: [...this.z], spread: [...this.spread] };
  }

  restore(snap: Record<string, unknown>): void {
    const k = 'multivariate';
    if (snap.kind !== MEWMA_KIND || snap.n !== this.n) {
      throw new Error(`multivariate detector snapshot: expected kind "${MEWMA_KIND}" with ${this.n} sensors, found ${JSON.stringify(snap.kind)} with ${JSON.stringify(snap.n)} (the step's metrics changed; delete the state file to start fresh)`);
    }
    this.rows = snapNum(snap, 'rows', k);
    const n = this.n;
    this.mean.set(snapNums(snap, 'mean', k, n));
    this.m2.set(snapNums(snap, 'm2', k, n * n));
    this.sd.set(snapNums(snap, 'sd', k, n));
    this.z.set(snapNums(snap, 'z', k, n));
    this.spread.set(snapNums(snap, 'spread', k, n));
  }
}
