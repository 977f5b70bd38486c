import type { AlertRecord, Judgement, Severity } from '../core/records.js';

export interface AlertParams {
  severity: Severity;
  /** Decisions must stay anomalous this long (ms) before an alert is raised. */
  min_duration: number;
  /** ...and for at least this many readings. */
  min_readings: number;
  /** Hysteresis on the score: while active, a reading only counts as normal when its score is below this. */
  clear_score: number;
  /** The score must stay below `clear_score` this long (ms) before the alert clears. */
  clear_after: number;
  /** ...and for at least this many readings... */
  clear_readings: number;
  /**
   * ...counted only within this long (ms; 0: no limit): after this long of normal readings the alert
   * clears with fewer, so on a slow series a reading count does not hold it over the next event.
   */
  clear_readings_within: number;
  /** After a clear, no new alert for this long (ms)... */
  cooldown: number;
  /** ...nor for this many readings... */
  cooldown_readings: number;
  /** ...counted only within this long (ms) after the clear (0: no limit), so a slow series is not silenced for days. */
  cooldown_readings_within: number;
  /**
   * ...and after that, for the rest of `cooldown_readings`, it still holds against anomalies scoring
   * below this (0: it ends there): a strong new event is raised, a weak echo of the last one is not.
   */
  cooldown_readings_score: number;
  /**
   * The reading cooldown holds only against anomalies on the same side of the baseline as the last
   * alert: a rise after a dip is a new event, not an echo of the dip.
   */
  cooldown_same_side: boolean;
  /** Behind a `running` step, at a stop: keep an active alert (latched) or clear it (AlertTracker.end). */
  at_stop: 'keep' | 'clear';
  /** While active, emit an `active` record this often (ms; 0 = never): a heartbeat for dashboards. */
  repeat_every: number;
}

export const DEFAULT_ALERT_PARAMS: AlertParams = {
  severity: 'warning',
  min_duration: 0,
  min_readings: 1,
  clear_score: 0.5,
  clear_after: 0,
  clear_readings: 1,
  clear_readings_within: 0,
  cooldown: 0,
  cooldown_readings: 0,
  cooldown_readings_within: 0,
  cooldown_readings_score: 0,
  cooldown_same_side: false,
  at_stop: 'keep',
  repeat_every: 0,
};

/**
 * The life of an alert for one key and detector: raised → active → cleared, with a minimum
 * duration before raising, hysteresis and a hold time before clearing, and a cooldown after.
 * One alert per episode: repeated anomalous decisions while active raise nothing new. Pure.
 */
export class AlertTracker {
  active = false;
  /** Anomalous decisions that a cooldown kept from raising a new alert. */
  suppressed = 0;
  private start = 0;
  private peak = 0;
  /** First time/count of the current pending run (anomalous while idle, or normal while active). */
  private runSince = NaN;
  private runCount = 0;
  private clearedAt = -Infinity;
  private readingsSinceClear = Number.MAX_SAFE_INTEGER;
  private lastRepeat = 0;
  /** Side of the baseline the last alert was raised on: 1 above, -1 below, 0 unknown. */
  private side = 0;

  constructor(
    readonly stream: string,
    readonly detector: string,
    private readonly p: AlertParams,
  ) {}

  /** Feed one judgement; returns a record on a lifecycle event (raised, active heartbeat, cleared). */
  update(ts: number, value: number, j: Judgement): AlertRecord | undefined {
    const p = this.p;
    if (!this.active) {
      if (this.readingsSinceClear < Number.MAX_SAFE_INTEGER) this.readingsSinceClear++;
      if (!j.anomalous) {
        this.runSince = NaN;
        this.runCount = 0;
        return undefined;
      }
      if (this.runCount === 0) this.runSince = ts;
      this.runCount++;
      if (ts - this.runSince < p.min_duration || this.runCount < p.min_readings) return undefined;
      const sinceClear = ts - this.clearedAt;
      const byReadings =
        this.readingsSinceClear <= p.cooldown_readings &&
        (p.cooldown_readings_within === 0 || sinceClear < p.cooldown_readings_within || j.score < p.cooldown_readings_score) &&
        !(p.cooldown_same_side && this.side !== 0 && sideOf(value, j) === -this.side);
      if (sinceClear < p.cooldown || byReadings) {
        this.suppressed++;
        return undefined;
      }
      this.active = true;
      this.side = sideOf(value, j);
      this.start = this.runSince;
      this.peak = j.score;
      this.lastRepeat = ts;
      this.runSince = NaN;
      this.runCount = 0;
      return this.record('raised', ts, value, j);
    }
    if (j.score > this.peak) this.peak = j.score;
    if (j.score < p.clear_score && !j.anomalous) {
      if (this.runCount === 0) this.runSince = ts;
      this.runCount++;
      const normalFor = ts - this.runSince;
      const counted = this.runCount >= p.clear_readings || (p.clear_readings_within > 0 && normalFor >= p.clear_readings_within);
      if (normalFor >= p.clear_after && counted) {
        this.active = false;
        this.clearedAt = ts;
        this.readingsSinceClear = 0;
        this.runSince = NaN;
        this.runCount = 0;
        const rec = this.record('cleared', ts, value, j);
        rec.end = ts;
        return rec;
      }
    } else {
      this.runSince = NaN;
      this.runCount = 0;
    }
    if (p.repeat_every > 0 && ts - this.lastRepeat >= p.repeat_every) {
      this.lastRepeat = ts;
      return this.record('active', ts, value, j);
    }
    return undefined;
  }

  /**
   * The stream's clock was set back from `from` to `to`: the times kept on the old clock (a pending
   * run's start, the last clear, the last repeat) move with it, so a cooldown or a minimum duration
   * is not measured across the correction. An active alert keeps its start (its id). Until
   * 2026-12-07 the time since the last clear came out negative: every alert of the stream was held
   * back as within the cooldown until real time caught up with the old clock.
   */
  rebased(from: number, to: number): void {
    this.runSince += to - from;
    this.clearedAt += to - from;
    this.lastRepeat += to - from;
  }

  /**
   * The stream stops being judged at `ts` (its machine stopped): an anomalous run not yet raised is
   * forgotten, and with `at_stop: clear` (or `clear` given: the stream is forgotten) an active alert
   * is cleared with `reason` (returned). No cooldown starts: if the condition is still there when
   * the stream is judged again, it is raised again.
   */
  end(ts: number, value: number, reason: string, clear = this.p.at_stop === 'clear'): AlertRecord | undefined {
    this.runSince = NaN;
    this.runCount = 0;
    if (!this.active || !clear) return undefined;
    this.active = false;
    return { id: this.id(), state: 'cleared', stream: this.stream, detector: this.detector, severity: this.p.severity, score: round(this.peak), start: this.start, end: ts, value, reason };
  }

  /** Stable from raised to cleared. */
  private id(): string {
    return `${this.detector}:${this.stream}:${this.start}`;
  }

  private record(state: AlertRecord['state'], ts: number, value: number, j: Judgement): AlertRecord {
    const rec: AlertRecord = {
      id: this.id(),
      state,
      stream: this.stream,
      detector: this.detector,
      severity: this.p.severity,
      score: state === 'raised' ? round(j.score) : round(this.peak),
      start: this.start,
      value,
      reason: describe(j),
    };
    if (Number.isFinite(j.baseline)) rec.baseline = j.baseline;
    return rec;
  }

  snapshot(): Record<string, unknown> {
    return {
      active: this.active,
      start: this.start,
      peak: this.peak,
      run_since: Number.isNaN(this.runSince) ? null : this.runSince,
      run_count: this.runCount,
      cleared_at: Number.isFinite(this.clearedAt) ? this.clearedAt : null,
      since_clear: this.readingsSinceClear,
      last_repeat: this.lastRepeat,
      suppressed: this.suppressed,
      side: this.side,
    };
  }

  restore(s: Record<string, unknown>): void {
    const num = (k: string, nullAs: number) => {
      const v = s[k];
      if (v === null) return nullAs;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`alert state snapshot: field "${k}" must be a number, found ${JSON.stringify(v)}`);
      return v;
    };
    if (typeof s.active !== 'boolean') throw new Error('alert state snapshot: field "active" must be true or false');
    this.active = s.active;
    this.start = num('start', 0);
    this.peak = num('peak', 0);
    this.runSince = num('run_since', NaN);
    this.runCount = num('run_count', 0);
    this.clearedAt = num('cleared_at', -Infinity);
    this.readingsSinceClear = num('since_clear', Number.MAX_SAFE_INTEGER);
    this.lastRepeat = num('last_repeat', 0);
    this.suppressed = num('suppressed', 0);
    // Absent in snapshots from before cooldown_same_side: the side of the last alert is unknown.
    this.side = s.side === undefined ? 0 : Math.sign(num('side', 0));
  }
}

function sideOf(value: number, j: Judgement): number {
  return Number.isFinite(j.baseline) ? Math.sign(value - j.baseline) : 0;
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a !== 0 && (a >= 1e6 || a < 1e-3) ? x.toExponential(3) : String(Math.round(x * 1000) / 1000);
}

/** The rule in words, e.g. `ewma_z 5.2 (limit 4, baseline 20.1)`. */
function describe(j: Judgement): string {
  const base = Number.isFinite(j.baseline) ? `, baseline ${fmt(j.baseline)}` : '';
  return `${j.rule} ${fmt(j.deviation)} (limit ${fmt(j.limit)}${base})`;
}
