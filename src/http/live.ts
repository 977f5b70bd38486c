import type { AlertRecord, Emission, Severity } from '../core/records.js';
import type { DetectEvent } from '../engine/pipeline.js';

/** One detector judgement kept for the dashboard's chart. */
export interface SeriesPoint {
  ts: number;
  value: number;
  score: number;
  /** An alert was active at this point (the chart shades it). */
  alert: boolean;
}

export interface Series {
  pipeline: string;
  stream: string;
  detector: string;
  points: SeriesPoint[];
}

export interface LiveOptions {
  /**
   * Series kept (pipeline × stream × detector). When full, a series whose newest point is more
   * than `stale` older than a new stream's judgement makes room for it (checked at most once a
   * minute of event time); otherwise judgements of further series are not charted.
   */
  maxSeries?: number;
  stale?: number;
  /** Points kept per series (the newest). */
  points?: number;
  /** Cleared alerts kept for the dashboard. */
  recentCleared?: number;
}

/**
 * What the dashboard and the alert metrics need that the stats do not have: the active alerts with
 * their explanation, and per stream the recent values and detector scores. Fed from the gateway's
 * onEmission and onDetect hooks; bounded in memory.
 */
export class LiveState {
  private readonly active = new Map<string, AlertRecord>();
  private readonly cleared: AlertRecord[] = [];
  private readonly series = new Map<string, { meta: Omit<Series, 'points'>; ring: SeriesPoint[]; next: number; last: number }>();
  private readonly maxSeries: number;
  private readonly stale: number;
  private nextEviction = -Infinity;
  private readonly points: number;
  private readonly keepCleared: number;
  readonly raised: Partial<Record<Severity, number>> = {};

  constructor(opts: LiveOptions = {}) {
    this.maxSeries = opts.maxSeries ?? 64;
    this.stale = opts.stale ?? 3_600_000;
    this.points = opts.points ?? 120;
    this.keepCleared = opts.recentCleared ?? 20;
  }

  onEmission(e: Emission): void {
    if (e.kind !== 'alert') return;
    const a = { ...e.alert, pipeline: e.alert.pipeline ?? e.pipeline };
    if (a.state === 'cleared') {
      this.active.delete(a.id);
      this.cleared.unshift(a);
      if (this.cleared.length > this.keepCleared) this.cleared.pop();
      return;
    }
    if (a.state === 'raised' && !this.active.has(a.id)) this.raised[a.severity] = (this.raised[a.severity] ?? 0) + 1;
    this.active.set(a.id, a);
  }

  onDetect(pipeline: string, e: DetectEvent): void {
    const key = `${pipeline}\u0000${e.stream}\u0000${e.step}`;
    let s = this.series.get(key);
    if (!s) {
      if (this.series.size >= this.maxSeries && !this.evictStale(e.ts)) return;
      s = { meta: { pipeline, stream: e.stream, detector: e.step }, ring: [], next: 0, last: e.ts };
      this.series.set(key, s);
    }
    if (e.ts > s.last) s.last = e.ts;
    const p: SeriesPoint = { ts: e.ts, value: e.value, score: e.score, alert: e.alertActive };
    if (s.ring.length < this.points) s.ring.push(p);
    else s.ring[s.next] = p;
    s.next = (s.next + 1) % this.points;
  }

  /** Full: drop the series with nothing for `stale` before `ts` (devices gone: patients discharged, sensors replaced). Whether there is room now. */
  private evictStale(ts: number): boolean {
    if (ts < this.nextEviction) return false;
    this.nextEviction = ts + 60_000;
    for (const [key, s] of this.series) if (s.last < ts - this.stale) this.series.delete(key);
    return this.series.size < this.maxSeries;
  }

  activeAlerts(): AlertRecord[] {
    return [...this.active.values()].sort((a, b) => b.start - a.start);
  }

  recentlyCleared(): AlertRecord[] {
    return [...this.cleared];
  }

  activeBySeverity(): Partial<Record<Severity, number>> {
    const n: Partial<Record<Severity, number>> = {};
    for (const a of this.active.values()) n[a.severity] = (n[a.severity] ?? 0) + 1;
    return n;
  }

  /**
   * Forget the alerts and charts of a pipeline's detectors whose state is gone (a reload removed
   * the pipeline, or rebuilt it without that detector's state): nothing will clear those alerts.
   */
  forget(pipeline: string, keep: (detector: string) => boolean = () => false): void {
    for (const [id, a] of this.active) if (a.pipeline === pipeline && !keep(a.detector)) this.active.delete(id);
    for (const [key, s] of this.series) if (s.meta.pipeline === pipeline && !keep(s.meta.detector)) this.series.delete(key);
  }

  /** Every series, oldest point first. */
  allSeries(): Series[] {
    return [...this.series.values()].map(({ meta, ring, next }) => ({
      ...meta,
      points: ring.length < this.points ? [...ring] : [...ring.slice(next), ...ring.slice(0, next)],
    }));
  }
}
