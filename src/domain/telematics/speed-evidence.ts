/**
 * Forward from speed changes, at the delay that fits: the evidence of an accelerometer with a
 * speed (GPS or CAN). Pure maths, no I/O, no clock: time comes from the samples.
 *
 * Over each interval between speed readings the speed changes by dv; the horizontal acceleration
 * over that interval, times dv, points forward, and summed over a drive it finds forward.
 * But a speed can come late: a phone's location speed is filtered, and an iPhone's followed the
 * car's own accelerometer about 2 s behind (bench/telematics-drive.ts): paired with the
 * acceleration of its own interval, forward came out 9° from the car's; with the acceleration
 * 2 s earlier, 2°. An Android phone's GPS speed was on time. So the pairing is kept at several
 * delays (`LAGS` of `LAG_STEP_MS`), from the horizontal acceleration binned by time (`BIN_MS`,
 * the last `BINS`), and forward is taken at the delay whose evidence agrees best: the largest
 * |Σ h̄·dv| / Σ |h̄|·|dv| (at the right delay the intervals point the same way; at a wrong one a
 * speeding up is paired with part of a braking).
 */
import { norm, savedNumber, savedNumbers, type Vec3 } from './vec.js';

const BIN_MS = 250;
const LAG_STEP_MS = 500;
/** Delays 0, 0.5, … 3 s. */
const LAGS = 7;
/** 11 s of bins: an interval up to the step's longest `max_gap` (5 s by default) at the longest delay, and some. */
const BINS = 44;
/** A delay is chosen only with at least this share of the on-time pairing's evidence (restored state from before delays were kept has only that). */
const MIN_SHARE = 0.5;
/** An interval counts when the speed changes this fast (m/s²) or more. */
const MIN_DVDT = 0.3;

export class SpeedEvidence {
  /** Per bin: Σh (3 axes) and the count; `bin` is the newest bin's index (time / BIN_MS). */
  private bins = new Float64Array(BINS * 4);
  private bin = NaN;
  /** Per delay: Σ h̄·dv (points forward), Σ |h̄|·|dv|, and the same forgetting per m/s of speed change (the recent evidence). */
  private fwd = new Float64Array(LAGS * 3);
  private abs = new Float64Array(LAGS);
  private recent = new Float64Array(LAGS * 3);
  private recentAbs = new Float64Array(LAGS);
  /** Speed change (m/s) summed over the intervals counted, and its forgetting sum. */
  change = 0;
  recentChange = 0;
  /** The delay chosen (index), kept as the evidence changes (it is read at every sample). */
  private chosen = 0;

  /** The clock was set back: the recent samples' bins (by time) go; the evidence stays. */
  rebase(): void {
    this.bins.fill(0);
    this.bin = NaN;
  }

  /** One sample of the horizontal acceleration. */
  add(ts: number, h: Vec3): void {
    const b = Math.floor(ts / BIN_MS);
    if (Number.isNaN(this.bin)) this.bin = b;
    else if (b > this.bin) {
      for (let i = Math.max(this.bin + 1, b - BINS + 1); i <= b; i++) this.bins.fill(0, slot(i) * 4, slot(i) * 4 + 4);
      this.bin = b;
    } else if (b <= this.bin - BINS) return;
    const o = slot(b) * 4;
    this.bins[o]! += h[0];
    this.bins[o + 1]! += h[1];
    this.bins[o + 2]! += h[2];
    this.bins[o + 3]! += 1;
  }

  /** The mean horizontal acceleration over [from, to) ms, from the bins that start in it (undefined: no sample there, or gone). */
  private mean(from: number, to: number): Vec3 | undefined {
    let x = 0;
    let y = 0;
    let z = 0;
    let n = 0;
    for (let i = Math.max(Math.ceil(from / BIN_MS), this.bin - BINS + 1); i * BIN_MS < to && i <= this.bin; i++) {
      const o = slot(i) * 4;
      x += this.bins[o]!;
      y += this.bins[o + 1]!;
      z += this.bins[o + 2]!;
      n += this.bins[o + 3]!;
    }
    return n > 0 ? [x / n, y / n, z / n] : undefined;
  }

  /**
   * The speed changed at `dvdt` (m/s²) over the `dtMs` before `ts`: evidence at every delay.
   * `forget`: how much of the recent evidence is kept per m/s of speed change (e^(−dv / this)).
   */
  interval(ts: number, dtMs: number, dvdt: number, forget: number): boolean {
    if (Math.abs(dvdt) < MIN_DVDT || this.mean(ts - dtMs, ts) === undefined) return false;
    const dv = (dvdt * dtMs) / 1000;
    const k = Math.exp(-Math.abs(dv) / forget);
    for (let j = 0; j < LAGS; j++) {
      const lag = j * LAG_STEP_MS;
      const m = this.mean(ts - dtMs - lag, ts - lag);
      const a = m ? norm(m) * Math.abs(dv) : 0;
      this.abs[j]! += a;
      this.recentAbs[j] = this.recentAbs[j]! * k + a;
      for (let i = 0; i < 3; i++) {
        const e = m ? m[i]! * dv : 0;
        this.fwd[j * 3 + i]! += e;
        this.recent[j * 3 + i] = this.recent[j * 3 + i]! * k + e;
      }
    }
    this.change += Math.abs(dv);
    this.recentChange = this.recentChange * k + Math.abs(dv);
    this.chosen = this.best();
    return true;
  }

  /** The delay (index) whose evidence agrees best. */
  private best(): number {
    let best = 0;
    let score = -1;
    for (let j = 0; j < LAGS; j++) {
      const a = this.abs[j]!;
      if (!(a > 0) || a < MIN_SHARE * this.abs[0]!) continue;
      const s = norm(this.at(this.fwd, j)) / a;
      if (s > score) [best, score] = [j, s];
    }
    return best;
  }

  /** The delay chosen (ms). */
  lag(): number {
    return this.chosen * LAG_STEP_MS;
  }

  /** Σ h̄·dv at the delay chosen: points forward. */
  forward(): Vec3 {
    return this.at(this.fwd, this.chosen);
  }

  /** The recent part of it (forgetting per m/s of speed change). */
  recentForward(): Vec3 {
    return this.at(this.recent, this.chosen);
  }

  private at(a: Float64Array, j: number): Vec3 {
    return [a[j * 3]!, a[j * 3 + 1]!, a[j * 3 + 2]!];
  }

  /** Forward learnt again from the recent evidence only (the device turned in its mount). */
  keepRecent(): void {
    this.fwd.set(this.recent);
    this.abs.set(this.recentAbs);
    this.change = this.recentChange;
    this.chosen = this.best();
  }

  /** Forward learnt again from nothing (the device moved in its mount), the bins too. */
  clear(): void {
    this.fwd.fill(0);
    this.abs.fill(0);
    this.recent.fill(0);
    this.recentAbs.fill(0);
    this.bins.fill(0);
    this.change = this.recentChange = 0;
    this.chosen = 0;
  }

  /** State saved before 2026-12-06: the on-time pairing's sums only. */
  loadOnTime(fwd: Vec3, change: number, recent: Vec3, recentChange: number): void {
    this.clear();
    this.fwd.set(fwd);
    this.recent.set(recent);
    // |Σ| stands for Σ|·|: the delays kept from now on must gather half as much before they count
    this.abs[0] = norm(fwd);
    this.recentAbs[0] = norm(recent);
    this.change = change;
    this.recentChange = recentChange;
    this.chosen = 0;
  }

  save(): Record<string, unknown> {
    return { bin: this.bin, bins: [...this.bins], fwd: [...this.fwd], abs: [...this.abs], recent: [...this.recent], recentAbs: [...this.recentAbs], change: this.change, recentChange: this.recentChange };
  }

  load(s: Record<string, unknown>): void {
    const arr = (x: unknown, n: number, what: string) => Float64Array.from(savedNumbers(x, n, `speed.${what}`));
    this.bin = savedNumber(s.bin, 'speed.bin', NaN);
    this.bins = arr(s.bins, BINS * 4, 'bins');
    this.fwd = arr(s.fwd, LAGS * 3, 'fwd');
    this.abs = arr(s.abs, LAGS, 'abs');
    this.recent = arr(s.recent, LAGS * 3, 'recent');
    this.recentAbs = arr(s.recentAbs, LAGS, 'recentAbs');
    this.change = savedNumber(s.change, 'speed.change', NaN);
    this.recentChange = savedNumber(s.recentChange, 'speed.recentChange', NaN);
    this.chosen = this.best();
  }
}

function slot(i: number): number {
  return ((i % BINS) + BINS) % BINS;
}
