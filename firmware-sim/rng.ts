/**
 * A small seeded PRNG (mulberry32: 32-bit state, period 2^32, fast, good enough for simulated
 * noise) and Gaussian draws (Box–Muller, both values used). Same seed → same sequence, on every
 * platform: only 32-bit integer arithmetic and IEEE doubles.
 */
export class Rng {
  private s: number;
  private spare = NaN;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [a, b). */
  uniform(a: number, b: number): number {
    return a + (b - a) * this.next();
  }

  /** Integer in [a, b]. */
  int(a: number, b: number): number {
    return a + Math.floor(this.next() * (b - a + 1));
  }

  /** Standard normal (Box–Muller; the second value of each pair is kept for the next call). */
  gauss(): number {
    if (!Number.isNaN(this.spare)) {
      const v = this.spare;
      this.spare = NaN;
      return v;
    }
    let u = this.next();
    while (u <= 1e-12) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Normal with mean and standard deviation. */
  normal(mean: number, sd: number): number {
    return mean + sd * this.gauss();
  }

  /** A shuffled copy. */
  shuffle<T>(xs: readonly T[]): T[] {
    const a = xs.slice();
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [a[i], a[j]] = [a[j]!, a[i]!]; // 0 <= j <= i < a.length
    }
    return a;
  }
}

/** A 32-bit seed from a base seed and a name (FNV-1a over the name, mixed with the seed). */
export function deriveSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return h >>> 0;
}

/**
 * Ornstein–Uhlenbeck process: noise that wanders around 0 and returns to it with time constant
 * `tau` (s), stationary standard deviation `sd`. Exact discretisation, any step.
 */
export class Wander {
  x = 0;
  constructor(private readonly rng: Rng, private readonly tau: number, private readonly sd: number) {
    this.x = rng.normal(0, sd);
  }

  step(dtSeconds: number): number {
    const a = Math.exp(-dtSeconds / this.tau);
    this.x = this.x * a + this.sd * Math.sqrt(1 - a * a) * this.rng.gauss();
    return this.x;
  }
}
