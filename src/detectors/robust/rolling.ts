/**
 * A bounded rolling window that keeps its values sorted, for median and MAD in O(window) per
 * reading with no allocation (two typed arrays, shifted with copyWithin). Per reading, the arrays
 * are read at indices the code keeps below `size`: those `x[i]!` stay, a checked read would cost.
 */
export class RollingOrder {
  readonly ring: Float64Array;
  readonly sorted: Float64Array;
  /** Next ring slot to write. */
  head = 0;
  /** Values held (<= capacity). */
  size = 0;

  constructor(readonly capacity: number) {
    this.ring = new Float64Array(capacity);
    this.sorted = new Float64Array(capacity);
  }

  push(x: number): void {
    const s = this.sorted;
    if (this.size === this.capacity) {
      const old = this.ring[this.head]!;
      const i = this.lowerBound(old);
      s.copyWithin(i, i + 1, this.size);
      this.size--;
    }
    const j = this.upperBound(x);
    s.copyWithin(j + 1, j, this.size);
    s[j] = x;
    this.size++;
    this.ring[this.head] = x;
    this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
  }

  median(): number {
    const n = this.size;
    if (n === 0) return NaN;
    const s = this.sorted;
    return (s[(n - 1) >> 1]! + s[n >> 1]!) / 2;
  }

  /** Median absolute deviation from `med` (unscaled). */
  mad(med: number): number {
    const n = this.size;
    if (n === 0) return NaN;
    const s = this.sorted;
    // Deviations left of the split grow leftwards, right of it rightwards: merge the two runs.
    let l = (n >> 1) - 1;
    let r = n >> 1;
    const k1 = (n - 1) >> 1;
    const k2 = n >> 1;
    let a = 0;
    let b = 0;
    for (let k = 0; k <= k2; k++) {
      let d: number;
      const dl = l >= 0 ? med - s[l]! : Infinity;
      const dr = r < n ? s[r]! - med : Infinity;
      if (dl <= dr) {
        d = dl;
        l--;
      } else {
        d = dr;
        r++;
      }
      if (k === k1) a = d;
      if (k === k2) b = d;
    }
    return (a + b) / 2;
  }

  /** Ring contents oldest first (for snapshots). */
  toArray(): number[] {
    if (this.size < this.capacity) return Array.from(this.ring.subarray(0, this.size));
    return [...this.ring.subarray(this.head), ...this.ring.subarray(0, this.head)];
  }

  load(values: number[]): void {
    this.head = 0;
    this.size = 0;
    for (const v of values.slice(-this.capacity)) this.push(v);
  }

  private lowerBound(x: number): number {
    let lo = 0;
    let hi = this.size;
    const s = this.sorted;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (s[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private upperBound(x: number): number {
    let lo = 0;
    let hi = this.size;
    const s = this.sorted;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (s[mid]! <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
