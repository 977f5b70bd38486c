/**
 * Shape memory for the default detector's `shape` rule: is the recent *shape* of the series, over
 * a few hours, like one it has shown before? Designed after ARTime (Hampton, 2021: adaptive
 * resonance theory on windows of a reduced series, the detector that leads NAB), for a stream of
 * unknown length and range and with bounded state:
 *
 *   blocks   — readings are reduced in blocks of about `block_time` (at least one reading): the
 *              block's extreme (the side further from a fast moving average), or its mean when the
 *              extreme is within 10 % of it;
 *   level    — a block value in units of the blocks' typical deviation from their slow baseline,
 *              mapped to [0, 1] over baseline ± span/2 deviations, in 80 steps, and snapped to the
 *              baseline when within `snap` deviations of it (ARTime learns against the file's min
 *              and max, known in advance; a stream knows only its past);
 *   features — the last 8 levels (where the series is) and their Haar transform after scaling the
 *              window to [0, 1] (its shape; pulled towards flat when the window spans less than
 *              `floor`), complement-coded: 32 bytes;
 *   memory   — fuzzy ART with two vigilances: a window resonating with a category (match ≥ upper)
 *              refines it, one between the vigilances adds a category to a known cluster, one below
 *              the lower vigilance opens a new cluster: a shape not seen before. At most
 *              `categories` categories; the least recently matched one is replaced;
 *   vigilance — learnt over the first `LEARN` blocks, then moved every LEARN/2 blocks towards the
 *              matches seen (ARTime's rule), the upper never above 0.97, the lower never below
 *              `lower_min`;
 *   anomaly  — a new cluster well below the lower vigilance (`margin`), not within 12 blocks of the
 *              last anomaly or of a new cluster (unless it matches far worse than that anomaly did).
 *
 * State: one buffer per stream, `categories` × 38 bytes (2.4 KB at 64), two rings of 53 and 105
 * float32 and the window; 24 numbers. Work: one block's features and a match against every category
 * per block (a reading ends at most one block): the latest level's similarity first, which bounds
 * the match, then the 32 bytes, four at a time, only where the bound can beat the best so far or
 * resonate.
 */

/** Blocks learnt before the vigilances are set and anomalies are reported (ARTime: 104). */
const LEARN = 104;
const WIN = 8;
const DIM = 2 * WIN;
const CODE = 2 * DIM;
const LEVELS = 80;
const MASK = 12;
const SIM_RING = LEARN / 2 + 1;
const DIFF_RING = LEARN + 1;
/** Features are bytes (0..255), matched four to a 32-bit word (see overlap). */
const TOP = 255;
const WORDS = CODE / 4;

export interface ResonanceParams {
  /** Time a block of readings covers (ms); a series slower than that has one reading a block. */
  block_time: number;
  /** Levels span the blocks' baseline ± span / 2 typical deviations. */
  span: number;
  /** Most categories remembered. */
  categories: number;
  /** A new cluster is an anomaly only when its best match is below this fraction of the lower vigilance. */
  margin: number;
  /** Windows after which anomalies are reported (at least LEARN; the vigilances move from LEARN on). */
  quiet: number;
  /** Block values within this many typical deviations of the baseline are placed on it. */
  snap: number;
  /** A window spanning less than this (level units) has its shape pulled towards flat in proportion (0: never). */
  floor: number;
  /** The lower vigilance never falls below this (0: as ARTime, it follows the matches down without bound). */
  lower_min: number;
}

const N_NUMBERS = 24;

export class ShapeMemory {
  // The arrays are views of one buffer per stream (one allocation: with 100,000 streams a buffer
  // each cost ~4 KB more RSS per stream in allocator overhead). See bind().
  private buf!: ArrayBuffer;
  private weights!: Uint8Array;
  /** The same bytes as 32-bit words. */
  private w32!: Uint32Array;
  private used!: Uint32Array;
  /** Sum of each category's weights (derived from them: not in snapshots). */
  private sums!: Uint16Array;
  private sims!: Float32Array;
  private diffs!: Float32Array;
  private win!: Float64Array;
  // Numbers (see numbers()).
  private nCat = 0;
  private blocks = 0;
  private bn = 0;
  private bsum = 0;
  private bmax = -Infinity;
  private bmin = Infinity;
  private bsize = 1;
  private ma = NaN;
  private slow = NaN;
  private dev = 0;
  private upper = 0.8;
  private lower = 0.8;
  private sumBest = 0;
  private nBest = 0;
  private learnSum = 0;
  private learnN = 0;
  private lastAnom = -1e9;
  private lastAnomSim = 0;
  private lastVig = 0;
  private maskCat = 0;
  private noNew = 0;
  private anomSum = 0;
  private anomN = 0;
  private anomLast = 0;
  /** Where the next match starts: the last best category (speed only; not in snapshots). */
  private hint = 0;
  /** The best match of the last block (1 before any). */
  best = 1;
  /** The match a new shape had to fall below at the last block (lower vigilance × margin). */
  limit = 0;

  /** `snap` in level units. */
  private readonly snap: number;

  constructor(private readonly p: ResonanceParams) {
    this.snap = p.snap / p.span;
    this.bind(new ArrayBuffer(layout(p.categories).size));
  }

  /**
   * One reading; `dt` is the stream's typical interval (ms, NaN before it is known). Returns true
   * when this reading ends a block whose window of levels is a new shape (an anomaly).
   */
  update(x: number, dt: number): boolean {
    if (this.bn === 0) this.bsize = dt > 0 ? Math.max(1, Math.round(this.p.block_time / dt)) : 1;
    this.bn++;
    this.bsum += x;
    if (x > this.bmax) this.bmax = x;
    if (x < this.bmin) this.bmin = x;
    if (this.bn < this.bsize) return false;
    const mean = this.bsum / this.bn;
    const max = this.bmax;
    const min = this.bmin;
    this.bn = 0;
    this.bsum = 0;
    this.bmax = -Infinity;
    this.bmin = Infinity;
    this.ma = Number.isNaN(this.ma) ? mean : (this.ma + mean) / 2;
    let v = Math.abs(max - this.ma) < Math.abs(min - this.ma) ? min : max;
    if (Math.abs(v - mean) < 0.1 * Math.abs(mean)) v = mean;
    return this.block(v);
  }

  private block(v: number): boolean {
    const i = this.blocks++;
    if (Number.isNaN(this.slow)) this.slow = v;
    let lvl = 0.5 + (v - this.slow) / (this.p.span * this.dev + 1e-12);
    lvl = lvl < 0 ? 0 : lvl > 1 ? 1 : lvl;
    const a = i < 100 ? 1 / (i + 1) : 0.01;
    this.dev += a * (Math.abs(v - this.slow) - this.dev);
    this.slow += a * (v - this.slow);
    lvl = Math.round(lvl * LEVELS) / LEVELS;
    if (Math.abs(lvl - 0.5) < this.snap) lvl = 0.5;
    const w = this.win;
    for (let k = 0; k < WIN - 1; k++) w[k] = w[k + 1]!;
    w[WIN - 1] = lvl;
    if (i < WIN - 1) return false;
    features(this.win, this.p.floor, X);
    return this.detect(i - (WIN - 1));
  }

  /** Fuzzy ART with dual vigilance on window number `i` (0 = the first full window). */
  private detect(i: number): boolean {
    const x = X;
    const W = this.weights;
    const learning = i < LEARN;
    // Match of every category: feature similarity³ × similarity of the latest level² (ARTime's choice function).
    let best = 0;
    let upperHit = false;
    let bestJ = -1;
    const n = this.nCat;
    const from = this.hint < n ? this.hint : 0;
    for (let q = 0; q < n; q++) {
      const j = from + q < n ? from + q : from + q - n;
      const o = j * CODE;
      const e1 = W[o + DIM - 1]!, e2 = W[o + CODE - 1]!;
      const en = e1 + e2;
      const es = ((x[DIM - 1]! < e1 ? x[DIM - 1]! : e1) + (x[CODE - 1]! < e2 ? x[CODE - 1]! : e2)) / (en > 0 ? en : 1);
      // The feature similarity is at most 1, so es² bounds the match: a category that can neither
      // beat the best so far nor resonate is not matched byte by byte (exact, only faster).
      const bound = es * es;
      if (bound <= best && bound < this.upper) continue;
      const num = overlap(this.w32, j * WORDS, X32);
      const nw = this.sums[j]!;
      const fs = num / (nw > 0 ? nw : 1);
      const m = fs * fs * fs * es * es;
      if (m > best) { best = m; bestJ = j; }
      if (m >= this.upper) {
        // Resonance: the category learns the window (fast commit: its box grows to hold it).
        overlap(this.w32, j * WORDS, X32, true);
        this.sums[j] = num;
        this.used[j] = i;
        upperHit = true;
      }
    }
    if (bestJ >= 0) this.hint = bestJ;
    let newCluster = false;
    this.limit = this.lower * this.p.margin;
    if (!upperHit) {
      if (!(bestJ >= 0 && best >= this.lower)) newCluster = this.nCat > 0 && best < this.lower * this.p.margin;
      this.add(i);
    }
    this.best = best;
    if (learning) {
      if (i >= LEARN / 2) { this.learnSum += best; this.learnN++; }
      if (i === LEARN - 1 && this.learnN > 0) this.upper = this.lower = Math.min(0.97, this.learnSum / this.learnN);
    }
    this.noNew = newCluster ? 0 : this.noNew + 1;
    this.sumBest += best;
    this.nBest++;
    this.sims[i % SIM_RING] = best;
    this.diffs[i % DIFF_RING] = this.upper - best;
    if (i - this.lastAnom < MASK && this.anomN > 0 && best < this.anomLast) {
      this.anomSum += best - this.anomLast;
      this.anomLast = best;
    }
    if (i > LEARN + MASK && this.maskCat === 1 && this.noNew >= MASK) this.maskCat = 0;
    const afterAnom = i - this.lastAnom <= MASK;
    const masking = this.maskCat === 1 || afterAnom;
    const belowLast = best < this.lastAnomSim * (afterAnom ? 0.9 : 0.7);
    let anomaly = false;
    if (!learning && i >= this.p.quiet && newCluster && (!masking || belowLast)) {
      anomaly = true;
      this.anomSum += best;
      this.anomN++;
      this.anomLast = best;
      this.lastAnomSim = best;
      this.lastAnom = i;
    }
    if (newCluster) this.maskCat = 1;
    if (!learning && (i - this.lastAnom === MASK || i - this.lastVig >= LEARN / 2)) this.moveVigilance(i);
    return anomaly;
  }

  /** ARTime's vigilance update: the upper one is the mean match so far; the lower one follows the recent matches. */
  private moveVigilance(i: number): void {
    let minSim = Infinity;
    const ns = Math.min(i + 1, SIM_RING);
    for (let k = 0; k < ns; k++) if (this.sims[k]! < minSim) minSim = this.sims[k]!;
    const upper = Math.min(0.97, this.sumBest / this.nBest);
    let lower = this.lower;
    if (lower <= minSim) lower += (minSim - lower) * 0.19;
    else {
      let d = 0;
      if (i > 2 * LEARN) {
        let s = 0, n = 0;
        for (let k = 0; k < DIFF_RING; k++) { const v = this.diffs[k]!; if (v > 0.05) { s += v < 0.37 ? v : 0.37; n++; } }
        if (n > 0) d = s / n;
      }
      lower -= Math.max(0.01, d) / 2;
      if (this.anomN > 0) lower = Math.max(this.anomSum / this.anomN, lower);
    }
    this.lower = Math.min(upper, Math.max(this.p.lower_min, lower));
    this.upper = upper;
    this.lastVig = i;
    this.maskCat = 1;
  }

  private add(i: number): void {
    let j = this.nCat;
    if (j < this.p.categories) this.nCat++;
    else {
      j = 0;
      for (let k = 1; k < this.nCat; k++) if (this.used[k]! < this.used[j]!) j = k;
    }
    this.weights.set(X, j * CODE);
    let sum = 0;
    for (let k = 0; k < CODE; k++) sum += X[k]!;
    this.sums[j] = sum;
    this.used[j] = i;
  }

  private bind(buf: ArrayBuffer): void {
    const c = this.p.categories;
    const l = layout(c);
    this.buf = buf;
    this.weights = new Uint8Array(buf, 0, c * CODE);
    this.w32 = new Uint32Array(buf, 0, c * WORDS);
    this.used = new Uint32Array(buf, l.used, c);
    this.sums = new Uint16Array(buf, l.sums, c);
    this.sims = new Float32Array(buf, l.sims, SIM_RING);
    this.diffs = new Float32Array(buf, l.diffs, DIFF_RING);
    this.win = new Float64Array(buf, l.win, WIN);
  }

  /** A new copy of the buffer, so the arrays handed out by `view()` stay as they are (copy on write). */
  ownArrays(): void {
    this.bind(this.buf.slice(0));
  }

  private numbers(): number[] {
    return [this.nCat, this.blocks, this.bn, this.bsum, this.bmax, this.bmin, this.bsize, this.ma, this.slow, this.dev, this.upper, this.lower,
      this.sumBest, this.nBest, this.learnSum, this.learnN, this.lastAnom, this.lastAnomSim, this.lastVig, this.maskCat, this.noNew, this.anomSum, this.anomN, this.anomLast];
  }

  /** The state, the arrays uncopied (see DefaultDetector.snapshotView). Non-finite numbers as null. */
  view(): { numbers: Array<number | null>; window: number[]; weights: Uint8Array; used: Uint32Array; sims: Float32Array; diffs: Float32Array } {
    // Views of the live buffer: the detector copies it before its next change while a capture holds them.
    return {
      numbers: this.numbers().map((v) => (Number.isFinite(v) ? v : null)),
      window: Array.from(this.win),
      weights: this.weights,
      used: this.used,
      sims: this.sims,
      diffs: this.diffs,
    };
  }

  snapshot(): ReturnType<ShapeMemory['view']> {
    const v = this.view();
    return { ...v, weights: v.weights.slice(), used: v.used.slice(), sims: v.sims.slice(), diffs: v.diffs.slice() };
  }

  restore(s: unknown, where: string): void {
    const o = s as Record<string, unknown> | null;
    const nums = o?.numbers;
    if (!Array.isArray(nums) || nums.length !== N_NUMBERS || !nums.every((v) => v === null || typeof v === 'number')) {
      throw new Error(`${where}: "shape.numbers" must hold ${N_NUMBERS} numbers (null for a non-finite one)`);
    }
    const win = o?.window;
    if (!Array.isArray(win) || win.length !== WIN || !win.every((v) => typeof v === 'number' && Number.isFinite(v))) throw new Error(`${where}: "shape.window" must hold ${WIN} finite numbers`);
    // Typed arrays (v8-serialised state) or plain arrays.
    const arr = (name: string, len: number): ArrayLike<number> => {
      const a = o?.[name];
      const v = ArrayBuffer.isView(a) || Array.isArray(a) ? (a as ArrayLike<unknown>) : undefined;
      if (v === undefined || v.length !== len) throw new Error(`${where}: "shape.${name}" must hold ${len} numbers, not ${v?.length ?? 'none'} (shape_categories changed? delete the state file to start fresh)`);
      for (let k = 0; k < len; k++) if (typeof v[k] !== 'number' || !Number.isFinite(v[k])) throw new Error(`${where}: "shape.${name}" must hold ${len} finite numbers`);
      return v as ArrayLike<number>;
    };
    const weights = arr('weights', this.weights.length);
    for (let k = 0; k < weights.length; k++) if (!(weights[k]! >= 0 && weights[k]! <= TOP)) throw new Error(`${where}: "shape.weights" must hold bytes (0 to ${TOP})`);
    this.weights.set(weights);
    for (let j = 0; j < this.p.categories; j++) {
      let sum = 0;
      for (let k = 0; k < CODE; k++) sum += this.weights[j * CODE + k]!;
      this.sums[j] = sum;
    }
    this.used.set(arr('used', this.used.length));
    this.sims.set(arr('sims', SIM_RING));
    this.diffs.set(arr('diffs', DIFF_RING));
    this.win.set(win as number[]);
    const v = (nums as Array<number | null>).map((x, k) => (x === null ? (k === 4 ? -Infinity : k === 5 ? Infinity : NaN) : x));
    [this.nCat, this.blocks, this.bn, this.bsum, this.bmax, this.bmin, this.bsize, this.ma, this.slow, this.dev, this.upper, this.lower,
      this.sumBest, this.nBest, this.learnSum, this.learnN, this.lastAnom, this.lastAnomSim, this.lastVig, this.maskCat, this.noNew, this.anomSum, this.anomN, this.anomLast] = v as [
      number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number];
    if (!(this.nCat >= 0 && this.nCat <= this.p.categories)) throw new Error(`${where}: "shape.numbers" holds ${this.nCat} categories, more than the ${this.p.categories} configured (shape_categories changed? delete the state file to start fresh)`);
  }
}

/** Scratch for one window's features (the detector runs one reading at a time): bytes and the same as words. */
const X = new Uint8Array(CODE);
const X32 = new Uint32Array(X.buffer);
const TMP = new Float64Array(WIN);

/** Byte offsets of the arrays in a stream's buffer (weights from 0), and its size. */
function layout(categories: number): { used: number; sums: number; sims: number; diffs: number; win: number; size: number } {
  const used = categories * CODE;
  const sums = used + 4 * categories;
  const sims = Math.ceil((sums + 2 * categories) / 4) * 4;
  const diffs = sims + 4 * SIM_RING;
  const win = Math.ceil((diffs + 4 * DIFF_RING) / 8) * 8;
  return { used, sums, sims, diffs, win, size: win + 8 * WIN };
}

/**
 * Σ min(w, x) over one category's 32 bytes (8 words from word `o`): the size of the fuzzy AND.
 * Four bytes a word, without branches (random data makes a per-byte comparison mispredict; this is
 * ~4× faster): a ≥ b per byte when a's top bit is set and b's is not, or both are equal and the
 * low seven bits compare so ((a | 0x80) − (b & 0x7f) keeps its top bit); that gives a byte mask
 * choosing b or a, and the minima are summed in 16-bit lanes. With `store` the category keeps the
 * minima (fast commit: its box grows to hold x; the new sum of its weights is the overlap).
 */
export function overlap(w: Uint32Array, o: number, x: Uint32Array, store = false): number {
  let acc = 0;
  for (let k = 0; k < WORDS; k++) {
    const a = w[o + k]!;
    const b = x[k]!;
    const low = ((a | 0x80808080) - (b & 0x7f7f7f7f)) | 0;
    const ge = ((a & ~b) | (~(a ^ b) & low)) & 0x80808080;
    const mask = Math.imul(ge >>> 7, 0xff);
    const m = (b & mask) | (a & ~mask);
    if (store) w[o + k] = m;
    acc = (acc + (m & 0x00ff00ff) + ((m >>> 8) & 0x00ff00ff)) | 0;
  }
  return (acc & 0xffff) + (acc >>> 16);
}

/**
 * Features of a window of 8 levels into `x` (32 bytes): the Haar transform of the window scaled to
 * [0, 1] (its shape, pulled towards flat when the window spans less than `floor`), then the levels;
 * complement-coded.
 */
export function features(w: ArrayLike<number>, floor: number, x: Uint8Array): void {
  const t = TMP;
  let mn = Infinity, mx = -Infinity;
  for (let k = 0; k < WIN; k++) { if (w[k]! < mn) mn = w[k]!; if (w[k]! > mx) mx = w[k]!; }
  const r = mx - mn;
  for (let k = 0; k < WIN; k++) t[k] = r > 0 ? (w[k]! - mn) / r : 0;
  // A window whose range is below the floor has its shape pulled towards the neutral 0.5 (small wiggles are no shape).
  const amp = r >= floor ? 1 : r / floor;
  haar8(t);
  let fmn = Infinity, fmx = -Infinity;
  for (let k = 0; k < WIN; k++) { if (t[k]! < fmn) fmn = t[k]!; if (t[k]! > fmx) fmx = t[k]!; }
  const fr = fmx - fmn;
  for (let k = 0; k < WIN; k++) {
    const f = 0.5 + ((fr > 0 ? (t[k]! - fmn) / fr : 0) - 0.5) * amp;
    x[k] = Math.round(TOP * f);
    x[WIN + k] = Math.round(TOP * w[k]!);
  }
  for (let k = 0; k < DIM; k++) x[DIM + k] = TOP - x[k]!;
}

/** In-place orthonormal Haar transform of 8 values: [average, coarse to fine details]. */
function haar8(t: Float64Array): void {
  const s = Math.SQRT1_2;
  const a0 = (t[0]! + t[1]!) * s, a1 = (t[2]! + t[3]!) * s, a2 = (t[4]! + t[5]!) * s, a3 = (t[6]! + t[7]!) * s;
  const d4 = (t[0]! - t[1]!) * s, d5 = (t[2]! - t[3]!) * s, d6 = (t[4]! - t[5]!) * s, d7 = (t[6]! - t[7]!) * s;
  const b0 = (a0 + a1) * s, b1 = (a2 + a3) * s, d2 = (a0 - a1) * s, d3 = (a2 - a3) * s;
  t[0] = (b0 + b1) * s;
  t[1] = (b0 - b1) * s;
  t[2] = d2; t[3] = d3; t[4] = d4; t[5] = d5; t[6] = d6; t[7] = d7;
}
