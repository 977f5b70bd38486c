/**
 * Sequence memory for the default detector: which short sequences of coarse levels the stream has
 * shown, and how surprising the current one is. Designed after contextual anomaly detection
 * (CAD OSE: a reading is a set of facts; anomaly = the share of contexts that did not predict it)
 * and HTM (a raw surprise per reading, then an anomaly-likelihood stage that judges the recent
 * surprise against the stream's own surprise history).
 *
 *   level    — the value quantised into `bins` equal bins over a given span (the caller passes the
 *              baseline ± a few typical deviations), plus one symbol for "below" and one for
 *              "above" it (so ≤ 15 symbols, 4 bits);
 *   memory   — for each order o = 1..3, how often the last o levels (the context) were followed by
 *              each level: saturating 8-bit counts in one hashed table of fixed size (collisions
 *              only ever make a sequence look familiar, never new). Every `age` readings all counts
 *              are halved, so a sequence seen once is forgotten and a frequent one lasts;
 *   surprise — the share of orders whose context did not predict the current level (a context
 *              never seen counts as not predicting): 0 for a familiar sequence, 1 for a new one;
 *   likelihood — a short average of the surprise against its long-run mean and spread (EWMAs): the
 *              z-score says how unusual the recent surprise is for this stream. A noisy stream is
 *              always a little surprised; a regular one never is.
 *
 * State: a 4 KB table and 8 numbers; O(1) time per reading (plus a 4 KB halving every `age`).
 */

/** Size of the hashed count table (a power of two). */
export const SEQ_TABLE = 4096;
const ORDERS = 3;
/** Symbol reserved for "this context was seen" counts. */
const ANY = 15;

export interface SequenceParams {
  /** Equal bins over the range (≤ 13: with "below" and "above", symbols fit in 4 bits). */
  bins: number;
  /** Readings between halvings of every count (the memory's length). */
  age: number;
  /** Weight of a reading's surprise in the short average (about 1 / readings averaged). */
  short_alpha: number;
  /** Readings in the long-run mean and spread of the short average (EWMA weight 1 / this). */
  long: number;
}

export class SequenceMemory {
  counts = new Uint8Array(SEQ_TABLE);
  /** The last three levels, 4 bits each (most recent lowest). */
  history = 0;
  /** Levels seen so far, up to 3 (contexts of an order need that many). */
  filled = 0;
  /** Readings since the last halving. */
  sinceAge = 0;
  /** Surprise of the last reading. */
  surprise = 0;
  /** Its short average judged against its long-run mean and spread. */
  readonly stage: Likelihood;

  constructor(private readonly p: SequenceParams) {
    this.stage = new Likelihood(p.short_alpha, p.long);
  }

  /** The level of `x` in [lo, hi]: 0 below, 1..bins inside, bins + 1 above. */
  level(x: number, lo: number, hi: number): number {
    const b = this.p.bins;
    if (x < lo) return 0;
    if (x > hi) return b + 1;
    const w = hi - lo;
    if (!(w > 0)) return 1;
    const i = Math.floor(((x - lo) / w) * b);
    return 1 + (i >= b ? b - 1 : i);
  }

  /** Judge level `s` against the memory, then learn it. Returns the surprise in [0, 1]. */
  observe(s: number): number {
    const c = this.counts;
    let novel = 0;
    for (let o = 1; o <= ORDERS; o++) {
      if (o > this.filled) { novel++; continue; }
      const ctx = (this.history & ((1 << (4 * o)) - 1)) | (o << 12);
      const seen = slot(ctx, ANY);
      const here = slot(ctx, s);
      if (c[seen] === 0 || c[here] === 0) novel++;
      // Per reading; slot() is below c.length, so the `!` are safe and cheaper than a checked read.
      if (c[seen]! < 255) c[seen]!++;
      if (c[here]! < 255) c[here]!++;
    }
    this.history = ((this.history << 4) | s) & 0xfff;
    if (this.filled < ORDERS) this.filled++;
    if (++this.sinceAge >= this.p.age) {
      this.sinceAge = 0;
      for (let i = 0; i < c.length; i++) c[i] = c[i]! >> 1;
    }
    this.surprise = novel / ORDERS;
    return this.surprise;
  }

  /** Likelihood stage on the surprise (see Likelihood). */
  likelihood(surprise: number): number {
    return this.stage.judge(surprise);
  }

  /** Short average of the surprise (the likelihood stage's). */
  get short(): number {
    return this.stage.short;
  }

  /** A new copy of the count table, so that the one handed out by `view()` stays as it is (copy on write). */
  ownArrays(): void {
    this.counts = this.counts.slice();
  }

  /** The state, the count table uncopied (see DefaultDetector.snapshotView). */
  view(): { numbers: number[]; counts: Uint8Array } {
    return {
      numbers: [this.history, this.filled, this.sinceAge, this.surprise, ...this.stage.numbers()],
      counts: this.counts,
    };
  }

  /** The numbers, and a copy of the count table (bytes; earlier versions wrote it in base64, still read). */
  snapshot(): { numbers: number[]; counts: Uint8Array } {
    const v = this.view();
    return { numbers: v.numbers, counts: v.counts.slice() };
  }

  restore(s: unknown, where: string): void {
    const o = s as { numbers?: unknown; counts?: unknown } | null;
    const nums = o?.numbers;
    if (!Array.isArray(nums) || nums.length !== 8 || !nums.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new Error(`${where}: "sequence.numbers" must hold 8 finite numbers`);
    }
    const c = o?.counts;
    const bytes = c instanceof Uint8Array ? c : typeof c === 'string' ? Buffer.from(c, 'base64') : undefined;
    if (bytes === undefined || bytes.length !== SEQ_TABLE) throw new Error(`${where}: "sequence.counts" must be ${SEQ_TABLE} bytes (a Uint8Array, or base64)`);
    this.counts.set(bytes);
    [this.history, this.filled, this.sinceAge, this.surprise] = nums as number[] as [number, number, number, number];
    this.stage.set(nums.slice(4) as number[]);
  }
}

/**
 * Anomaly-likelihood stage (after HTM's): a short average of a per-reading quantity in [0, 1] (a
 * surprise, a raw anomaly score), judged as a z-score against that average's own long-run mean and
 * spread (EWMAs over `long` readings, spread floored at 0.02; judged before the reading is learnt).
 * A stream that is always a little surprised, or whose rules often come close to firing, needs a
 * larger value to stand out than one that is usually quiet. State: 4 numbers.
 */
export class Likelihood {
  short = 0;
  mean = 0;
  variance = 0;
  /** Readings judged so far. */
  n = 0;

  /** `shortAlpha`: weight of a reading in the short average (1: the reading alone). */
  constructor(private readonly shortAlpha: number, private readonly long: number) {}

  /** The z-score of the short average after `v`, then learn it. */
  judge(v: number): number {
    this.short += this.shortAlpha * (v - this.short);
    const sd = Math.sqrt(this.variance);
    const z = (this.short - this.mean) / (sd > 0.02 ? sd : 0.02);
    const a = this.n < this.long ? 1 / (this.n + 1) : 1 / this.long;
    const d = this.short - this.mean;
    this.mean += a * d;
    this.variance += a * (d * (this.short - this.mean) - this.variance);
    this.n++;
    return z;
  }

  numbers(): [number, number, number, number] {
    return [this.short, this.mean, this.variance, this.n];
  }

  /** From `numbers()` (the caller checks they are 4 finite numbers). */
  set(v: number[]): void {
    [this.short, this.mean, this.variance, this.n] = v as [number, number, number, number];
  }
}

/** Table slot of (context, level): a multiplicative hash of the pair, top 12 bits. */
function slot(ctx: number, s: number): number {
  return Math.imul((ctx << 4) | s, 0x9e3779b1) >>> 20;
}
