/**
 * Harsh manoeuvres while a vehicle's forward axis is not known yet, kept to be judged once it is
 * (also a trip's first `gravity_tau`, while gravity is still being averaged: judged against gravity
 * as known then; not while the device is being put in its mount, `abandon`).
 *
 * An accelerometer of unknown mounting cannot tell a brake from a start or a corner until forward
 * is learnt (from speed, stops or the gyro's turns: a minute or more into a trip). What happens
 * before is not lost: every excursion of the horizontal acceleration beyond the lowest limit all
 * through `sustain` is counted (`unjudged`) and its samples are kept, from where it passed
 * `release` × that limit to where it fell back under it — all a harsh event of any kind can span,
 * since each kind's acceleration is a part of the horizontal one. Once forward is known, the step
 * judges them in order with the same rules (late, each alert saying so). Bounded: the newest
 * MAX_EXCURSIONS excursions, each at most MAX_SAMPLES samples at most one every MIN_STEP_MS
 * (a brake of 2 s keeps 50 samples; 32 of them are 41 KB of saved JSON).
 */
import { savedNumber, savedNumbers, savedVec, type Vec3 } from './vec.js';

/**
 * Excursions kept; an older one is dropped (it stays counted as unjudged). An accelerometer alone
 * may learn forward only at a trip's first stops, after a dozen harsh manoeuvres or more.
 */
const MAX_EXCURSIONS = 32;
/** Samples kept of one excursion (5 s at the step below; a harsh event is over long before). */
const MAX_SAMPLES = 128;
/** At most one sample per this many ms (25 Hz: `sustain` is 500 ms, judged as well at 10 Hz). */
const MIN_STEP_MS = 39;

export interface Excursion {
  /** Sample times (ms), oldest first. */
  ts: number[];
  /** The horizontal acceleration at each (m/s², sensor axes), three numbers a sample. */
  h: number[];
  /** The time of the first sample back under `release` × the limit (NaN while it goes on). */
  end: number;
  /** Gravity as estimated at its start (sensor axes): judged later, the horizontal is taken again against gravity as then known. */
  g: Vec3;
  /** The time (ms) its first sample stands for: since the sample before it. */
  before: number;
}

export class BlindLog {
  private since = NaN;
  private counted = false;
  private open: (Excursion & { counted: boolean }) | undefined;
  private closed: Excursion[] = [];

  /** `limit`: the lowest of the three limits (m/s²); `release` and `sustain` as the step's. */
  constructor(
    private readonly limit: number,
    private readonly release: number,
    private readonly sustain: number,
  ) {}

  /** A sample while forward is unknown (`h`: the horizontal acceleration; `interval`: ms since the sample before, which it stands for). True when it makes an excursion count (once each). */
  add(ts: number, h: Vec3, g: Vec3, interval: number): boolean {
    const x = Math.hypot(h[0], h[1], h[2]);
    if (x >= this.release * this.limit) {
      const o = (this.open ??= { ts: [], h: [], end: NaN, g: [g[0], g[1], g[2]], before: interval, counted: false });
      const last = o.ts.at(-1);
      if (o.ts.length < MAX_SAMPLES && (last === undefined || ts - last >= MIN_STEP_MS)) {
        o.ts.push(ts);
        // to 1 mm/s² (the limits are metres a second squared): a third of the saved state's size
        o.h.push(Math.round(h[0] * 1000) / 1000, Math.round(h[1] * 1000) / 1000, Math.round(h[2] * 1000) / 1000);
      }
    } else if (this.open) {
      if (this.open.counted) this.keep({ ts: this.open.ts, h: this.open.h, end: ts, g: this.open.g, before: this.open.before });
      this.open = undefined;
    }
    if (x < (this.counted ? this.release * this.limit : this.limit)) {
      this.since = NaN;
      this.counted = false;
      return false;
    }
    // (each sample stands for the time since the one before, as the step judges them)
    if (Number.isNaN(this.since)) this.since = ts - interval;
    if (this.counted || ts - this.since < this.sustain) return false;
    this.counted = true;
    if (this.open) this.open.counted = true;
    return true;
  }

  /**
   * The excursions kept, oldest first, and the one going on last (`end` NaN; `counted` false if
   * it has not lasted `sustain` yet: it goes on as the live one); the log is empty after.
   */
  take(): Array<Excursion & { counted: boolean }> {
    const out = this.closed.map((e) => ({ ...e, counted: true }));
    if (this.open) out.push({ ts: this.open.ts, h: this.open.h, end: NaN, g: this.open.g, before: this.open.before, counted: this.open.counted });
    this.clear();
    return out;
  }

  /** Forget the excursion going on (the device is being moved: its samples are no vehicle's); those before it stay. */
  abandon(): void {
    this.since = NaN;
    this.counted = false;
    this.open = undefined;
  }

  /** Forget all (the device moved in its mount: what came before is in other axes). */
  clear(): void {
    this.since = NaN;
    this.counted = false;
    this.open = undefined;
    this.closed = [];
  }

  /** Excursions kept, the one going on included. */
  get size(): number {
    return this.closed.length + (this.open ? 1 : 0);
  }

  private keep(e: Excursion): void {
    this.closed.push(e);
    if (this.closed.length > MAX_EXCURSIONS) this.closed.shift();
  }

  save(): Record<string, unknown> {
    const ex = (e: Excursion) => ({ ts: e.ts, h: e.h, end: Number.isNaN(e.end) ? null : e.end, g: e.g, before: e.before });
    return { since: Number.isNaN(this.since) ? null : this.since, counted: this.counted, open: this.open ? { ...ex(this.open), counted: this.open.counted } : null, closed: this.closed.map(ex) };
  }

  /** From `save()`; state saved before 2026-12-06 had only the count's start and whether it counted (no samples). */
  load(s: Record<string, unknown>): void {
    this.clear();
    this.since = savedNumber(s.since ?? null, 'blind.since', NaN);
    this.counted = s.counted === true;
    const ex = (o: unknown, what: string): Excursion => {
      if (typeof o !== 'object' || o === null) throw new Error(`${what} must be an object, found ${JSON.stringify(o)}`);
      const r = o as Record<string, unknown>;
      const ts = savedNumbers(r.ts, Array.isArray(r.ts) ? r.ts.length : 0, `${what}.ts`);
      const h = savedNumbers(r.h, 3 * ts.length, `${what}.h`);
      // (saved before 2026-12-06 evening: no `before`; its first sample stood for no time)
      return { ts, h, end: savedNumber(r.end ?? null, `${what}.end`, NaN), g: savedVec(r.g, `${what}.g`), before: r.before === undefined ? 0 : savedNumber(r.before, `${what}.before`, 0) };
    };
    if (s.open !== undefined && s.open !== null) this.open = { ...ex(s.open, 'blind.open'), counted: (s.open as Record<string, unknown>).counted === true };
    if (Array.isArray(s.closed)) this.closed = s.closed.slice(-MAX_EXCURSIONS).map((e, i) => ex(e, `blind.closed[${i}]`));
  }
}
