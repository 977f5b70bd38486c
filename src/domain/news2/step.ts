/**
 * The `news2` pipeline step: NEWS2 per patient, scored every `interval` from the vitals of that
 * patient's streams (`<patient>/<metric>`), with its risk band, an alert when the band rises to
 * `alert_band` or above, and probe-off artefacts counted as sensor faults (never scored).
 *
 * ```yaml
 * steps:
 *   - news2: { interval: 30s, alert_band: low-medium }
 *   - output: news2            # the per-patient results go on down the chain
 * ```
 *
 * Per patient and interval (aligned to the epoch: [k·interval, (k+1)·interval)) the step averages
 * each continuous vital (pulse, SpO2, respiration, systolic BP, temperature) and takes the worst
 * (largest) consciousness level and oxygen flag, hands them to a `News2Tracker` (which keeps each
 * vital with a maximum age: a vital silent for longer counts as missing, never as normal) and
 * scores at the interval's end. Readings outside a vital's plausible range (SpO2 0 from a probe
 * off the finger) never enter the average: they are counted in the pipeline's drops as
 * `sensor_fault` (with a sample), and, if `sensor_fault_output` is set, raise a `sensor_fault`
 * alert on that output (cleared by the next plausible reading of that vital).
 *
 * Output per patient and interval: a window-like result `{stream: "<patient>/news2", window:
 * "news2", start, end, count, values}` with `total`, `band` (0 low, 1 low-medium, 2 medium,
 * 3 high), `complete` (1/0), `missing` (parameters not scored), `max_possible` and one
 * `sub_<parameter>` per scored parameter. It goes on to the next step (e.g. `output: news2`).
 *
 * Alerts (detector `news2`, on `output`): `raised` when the band has been at `alert_band` or
 * above for `confirm` intervals in a row; `active` when it rises further during the episode
 * (`reason` says from which band to which); `cleared` after `clear_after` complete intervals below
 * `alert_band`. An incomplete score (a vital missing, e.g. during a probe-off) is a lower bound:
 * it may raise or escalate, never clear, so an artefact neither raises nor ends an alert.
 * Severity: `critical` for the high band, `warning` otherwise. Pure: time comes from readings
 * (and, live, from each patient's own clock: `ctx.deviceTime` at each `advanceTo`).
 */
import { deviceOf, metricOf, type Reading } from '../../core/reading.js';
import { isoTime, onOldClock } from '../../core/time.js';
import { itemAt } from '../../core/item-at.js';
import type { AlertRecord, WindowResult } from '../../core/records.js';
import type { EngineOperator, OperatorContext } from '../../engine/pipeline.js';
import type { News2Band } from './news2.js';
import type { News2StepSpec } from './schema.js';
import { DEFAULT_PLAUSIBLE, DEFAULT_VITAL_METRICS, News2Tracker, VITALS, type News2Score, type Vital } from './news2-tracker.js';

export type { News2StepSpec } from './schema.js';

const NEWS2_BANDS: readonly News2Band[] = ['low', 'low-medium', 'medium', 'high'];
/** Vitals averaged over an interval; the others take the interval's largest value (worst consciousness, any oxygen). */
const WORST: ReadonlySet<Vital> = new Set<Vital>(['consciousness', 'on_oxygen']);

interface Acc {
  sum: number;
  max: number;
  n: number;
  lastTs: number;
}

/** Readings of a later interval than the patient's open one, from a vital whose clock runs ahead of the patient's others. */
interface Ahead {
  k: number;
  count: number;
  acc: Partial<Record<Vital, Acc>>;
}

/** Intervals a patient's readings may run ahead of its other vitals (a vital whose clock is fast); beyond, `news2_ahead`. */
const MAX_AHEAD = 16;

interface Patient {
  id: string;
  /** Index of the open interval (floor(ts / interval)); -Infinity before the first reading. */
  k: number;
  count: number;
  acc: Partial<Record<Vital, Acc>>;
  /**
   * Later intervals, oldest first, that a vital running ahead of the others filled while the
   * others still report in the open one: they are scored in turn once the others reach them
   * (saved before 2026-12-07: none).
   */
  ahead: Ahead[];
  /** Event time of each vital's latest reading: how far the patient's other vitals have got. */
  latest: Partial<Record<Vital, number>>;
  /** Index of the last interval scored (-Infinity before the first): never opened again... */
  closed: number;
  /**
   * ...unless it and every interval scored since `shared` (the last with readings of two vitals or
   * more) held readings of one vital alone, `lone`, or none (undefined; saved before 2026-12-07:
   * none): a vital stamped ahead before the others came, whose intervals a reading of another
   * vital may open below. `lone` is null once two different vitals scored alone.
   */
  shared: number;
  lone: Vital | null | undefined;
  /** Readings of the patient so far, and that count at each vital's latest reading: which vitals still come in between. */
  arrivals: number;
  seen: Partial<Record<Vital, number>>;
  // alert state
  active: boolean;
  alertId: string;
  alertStart: number;
  peakLevel: number;
  peakTotal: number;
  pending: number;
  /** Band level before the pending rise began. */
  pendingFrom: number;
  below: number;
  lastLevel: number;
  /** Vitals currently reading implausible values, with the alert id when alerts are on. */
  faults: Map<Vital, string>;
}

const levelOf = (b: News2Band) => NEWS2_BANDS.indexOf(b);

export class News2Operator implements EngineOperator {
  readonly name: string;
  readonly tracker: News2Tracker;
  private readonly spec: News2StepSpec;
  private readonly metrics: Record<string, Vital>;
  private readonly plausible: Record<Vital, readonly [number, number]>;
  private readonly patients = new Map<string, Patient>();
  private readonly alertLevel: number;
  private readonly subKeys = new Map<string, string>();
  /**
   * Intervals `scored`; of them `incomplete` (a vital missing: a lower bound, which never clears an
   * alert), and per parameter `missing_<parameter>` (which vital a ward's monitors do not send, or
   * send too seldom for its `max_age`).
   */
  private readonly counts: { scored: number; incomplete: number; no_vitals: number; forgotten: number; [missing: string]: number } = { scored: 0, incomplete: 0, no_vitals: 0, forgotten: 0 };

  constructor(spec: News2StepSpec) {
    this.spec = spec;
    this.name = spec.name;
    this.metrics = { ...(spec.metrics ?? DEFAULT_VITAL_METRICS) };
    this.plausible = { ...DEFAULT_PLAUSIBLE, ...(spec.plausible as Partial<Record<Vital, [number, number]>> | undefined) };
    // The operator checks plausibility and averages; the tracker keeps the averages with their ages.
    this.tracker = new News2Tracker({ metrics: this.metrics, maxAge: spec.max_age, plausible: this.plausible, defaultScale: spec.spo2_scale, maxPatients: spec.max_patients });
    this.alertLevel = levelOf(spec.alert_band);
  }

  reading(r: Reading, ctx: OperatorContext): void {
    const vital = this.metrics[metricOf(r.stream)];
    if (vital === undefined) {
      ctx.reading(r);
      return;
    }
    const id = deviceOf(r.stream);
    let p = this.patients.get(id);
    if (!p) {
      if (this.patients.size >= this.spec.max_patients) {
        ctx.drop('too_many_patients', r, `${r.stream}: ${this.name} already tracks max_patients=${this.spec.max_patients} patients`, r.ts);
        return;
      }
      p = { id, k: -Infinity, count: 0, acc: {}, ahead: [], latest: {}, closed: -Infinity, shared: -Infinity, lone: undefined, arrivals: 0, seen: {}, active: false, alertId: '', alertStart: 0, peakLevel: 0, peakTotal: 0, pending: 0, pendingFrom: 0, below: 0, lastLevel: 0, faults: new Map() };
      this.patients.set(id, p);
    }
    const k = Math.floor(r.ts / this.spec.interval);
    if (k < p.k) {
      // The open interval was opened by one vital alone running ahead (a patient's first reading
      // stamped a day ahead; a clock re-based back): it waits ahead, and this reading's interval opens.
      const open = k > p.closed || (k > p.shared && p.lone !== null && p.lone !== vital);
      if (!(open && p.ahead.length < MAX_AHEAD && this.fewAhead(p, vital))) {
        ctx.drop('news2_late', r, `${r.stream}: reading at ${isoTime(r.ts)} is older than ${id}'s open interval (starts ${isoTime(p.k * this.spec.interval)})`, r.ts);
        return;
      }
      if (p.count > 0) p.ahead.unshift({ k: p.k, count: p.count, acc: p.acc });
      p.k = k;
      p.count = 0;
      p.acc = {};
    }
    // A reading of a later interval closes the open one only as far as the patient's other vitals
    // have got (the furthest of those still reporting). Beyond that this vital's clock runs ahead
    // (a probe with its own clock set fast, one garbled timestamp), and closing would make all the
    // others' readings late until real time caught up (one reading a day ahead used to silence
    // NEWS2 for a day): it waits in its own interval until the others reach it.
    let into: { count: number; acc: Partial<Record<Vital, Acc>> } = p;
    if (k > p.k) {
      const reached = p.k === -Infinity ? undefined : this.othersReached(p, vital, r.ts);
      const target = reached === undefined ? k : Math.min(k, Math.floor(reached / this.spec.interval));
      if (target > p.k) {
        if (p.k !== -Infinity) this.close(p, ctx);
        this.moveTo(p, target, ctx);
      }
      if (k > p.k) {
        let i = 0;
        while (i < p.ahead.length && p.ahead[i]!.k < k) i++;
        if (p.ahead[i]?.k !== k) {
          if (p.ahead.length >= MAX_AHEAD) {
            ctx.drop('news2_ahead', r, `${r.stream}: reading at ${isoTime(r.ts)} is more than ${MAX_AHEAD} intervals ahead of ${id}'s other vitals (open interval starts ${isoTime(p.k * this.spec.interval)}): its clock runs fast?`, r.ts);
            return;
          }
          p.ahead.splice(i, 0, { k, count: 0, acc: {} });
        }
        into = p.ahead[i]!;
      }
    }
    p.latest[vital] = r.ts;
    p.seen[vital] = ++p.arrivals;
    const [lo, hi] = this.plausible[vital];
    if (!(r.value >= lo && r.value <= hi)) {
      ctx.drop('sensor_fault', r, `${r.stream}: ${r.value} is outside the plausible range ${lo}–${hi} for ${vital} (sensor fault or artefact, e.g. a probe off): not scored`, r.ts);
      if (!p.faults.has(vital)) {
        const aid = `sensor_fault:${r.stream}:${r.ts}`;
        p.faults.set(vital, aid);
        if (this.spec.sensor_fault_output) this.emitAlert(ctx, this.spec.sensor_fault_output, { id: aid, state: 'raised', stream: r.stream, detector: 'sensor_fault', severity: 'info', score: 1, start: r.ts, value: r.value, reason: `${vital} ${r.value} outside ${lo}–${hi}: sensor fault (e.g. probe off), not scored` });
      }
      return;
    }
    const fault = p.faults.get(vital);
    if (fault !== undefined) {
      p.faults.delete(vital);
      if (this.spec.sensor_fault_output) {
        const start = Number(fault.slice(fault.lastIndexOf(':') + 1));
        this.emitAlert(ctx, this.spec.sensor_fault_output, { id: fault, state: 'cleared', stream: r.stream, detector: 'sensor_fault', severity: 'info', score: 0, start, end: r.ts, value: r.value, reason: `${vital} plausible again` });
      }
    }
    let a = into.acc[vital];
    if (!a) a = into.acc[vital] = { sum: 0, max: -Infinity, n: 0, lastTs: r.ts };
    a.sum += r.value;
    if (r.value > a.max) a.max = r.value;
    a.n++;
    if (r.ts > a.lastTs || a.n === 1) a.lastTs = r.ts;
    into.count++;
  }

  /**
   * How far the patient's other vitals that still report have got: the latest time of the
   * furthest; undefined when none does. A vital still reports if it sent a reading since
   * `vital`'s last one (they come in between), or within two intervals before `ts`: a vital read
   * every 15 minutes (a blood pressure cuff), or one that stopped (a probe taken off), holds an
   * interval back for two intervals at most.
   */
  private othersReached(p: Patient, vital: Vital, ts: number): number | undefined {
    const since = ts - 2 * this.spec.interval;
    const mine = p.seen[vital] ?? 0;
    let reached: number | undefined;
    for (const v of VITALS) {
      const t = p.latest[v];
      if (v === vital || t === undefined || (t < since && (p.seen[v] ?? 0) < mine)) continue;
      if (reached === undefined || t > reached) reached = t;
    }
    return reached;
  }

  /** Has at most one vital of the patient other than `vital` reached its open interval? */
  private fewAhead(p: Patient, vital: Vital): boolean {
    const start = p.k * this.spec.interval;
    let n = 0;
    for (const v of VITALS) if (v !== vital && (p.latest[v] ?? -Infinity) >= start) n++;
    return n <= 1;
  }

  /**
   * The patient's open interval becomes `k` (its previous one closed): intervals kept ahead that
   * end by then are scored first, in order, and one for `k` itself becomes the open one.
   */
  private moveTo(p: Patient, k: number, ctx: OperatorContext): void {
    while (p.ahead.length > 0 && p.ahead[0]!.k < k) {
      const a = p.ahead.shift()!;
      p.k = a.k;
      p.count = a.count;
      p.acc = a.acc;
      this.close(p, ctx);
    }
    p.k = k;
    if (p.ahead[0]?.k === k) {
      const a = p.ahead.shift()!;
      for (const v of VITALS) {
        const x = a.acc[v];
        if (!x) continue;
        const o = p.acc[v];
        if (!o || o.n === 0) p.acc[v] = x;
        else {
          o.sum += x.sum;
          o.max = Math.max(o.max, x.max);
          o.n += x.n;
          o.lastTs = Math.max(o.lastTs, x.lastTs);
        }
      }
      p.count += a.count;
    }
  }

  /**
   * Live: close a patient's interval once that patient's own time has passed its end + lateness:
   * the slowest of its active vital streams, each running on with the gateway clock while silent
   * (ctx.deviceTime). Another patient's clock, fast or slow, never closes it.
   */
  advanceTo(_now: number, ctx: OperatorContext): void {
    for (const p of this.patients.values()) {
      if (p.k === -Infinity) continue;
      const t = ctx.deviceTime(p.id, true);
      if ((p.k + 1) * this.spec.interval + this.spec.lateness <= t) {
        this.close(p, ctx);
        this.moveTo(p, Math.floor(t / this.spec.interval), ctx);
      }
    }
  }

  flush(_partial: boolean, ctx: OperatorContext): void {
    for (const p of this.patients.values()) this.closeAll(p, ctx);
  }

  /** Score what a patient has: the open interval, then those a fast vital filled ahead of the others, each in turn. */
  private closeAll(p: Patient, ctx: OperatorContext): void {
    if (p.k !== -Infinity && p.count > 0) {
      this.close(p, ctx);
      p.k++;
    }
    while (p.ahead.length > 0) {
      this.moveTo(p, p.ahead[0]!.k, ctx);
      this.close(p, ctx);
      p.k++;
    }
  }

  /**
   * A vital's clock was set back from `from` to `to` (the engine re-based its stream). If the
   * patient's open interval is on the old clock (nearer `from` than `to`: the first of the
   * patient's vitals to come back on the new clock), what it has is scored now and its intervals
   * start again on the new clock; the latest vitals move to the new clock with it, so their ages
   * stay right. Until 2026-12-07 the patient's readings were `news2_late` until real time caught
   * up with the old clock: a monitor set two hours ahead and corrected lost two hours of NEWS2.
   */
  rebased(stream: string, from: number, to: number, ctx: OperatorContext): void {
    const p = this.patients.get(deviceOf(stream));
    if (!p || this.metrics[metricOf(stream)] === undefined || !onOldClock(p.k * this.spec.interval, from, to)) return;
    this.closeAll(p, ctx);
    this.tracker.rebased(p.id, from, to);
    Object.assign(p, { k: -Infinity, count: 0, acc: {}, ahead: [], latest: {}, closed: -Infinity, shared: -Infinity, lone: undefined, arrivals: 0, seen: {} });
  }

  /** Score the open interval of a patient at its end, pass the result on, update the alert. */
  private close(p: Patient, ctx: OperatorContext): void {
    const end = (p.k + 1) * this.spec.interval;
    p.closed = p.k;
    let only: Vital | null | undefined;
    for (const v of VITALS) {
      const a = p.acc[v];
      if (!a || a.n === 0) continue;
      only = only === undefined ? v : null;
      this.tracker.update(p.id, v, WORST.has(v) ? a.max : a.sum / a.n, a.lastTs);
      a.n = 0;
      a.sum = 0;
      a.max = -Infinity;
    }
    if (only === null) {
      p.shared = p.k;
      p.lone = undefined;
    } else if (only !== undefined) p.lone = p.lone === undefined || p.lone === only ? only : null;
    const s = this.tracker.score(p.id, end);
    if (p.count === 0 && s.missing.length === VITALS.length) {
      // nothing measured in the interval and every vital older than its max_age: nothing to score
      // (a patient discharged or unplugged); an alert stays as it is until vitals return or the
      // patient is forgotten (input.forget_after)
      this.counts.no_vitals++;
      return;
    }
    this.counts.scored++;
    if (!s.complete) this.counts.incomplete++;
    for (const m of s.missing) {
      const key = `missing_${m}`;
      this.counts[key] = (this.counts[key] ?? 0) + 1;
    }
    const values: Record<string, number> = {
      total: s.total,
      band: levelOf(s.band),
      complete: s.complete ? 1 : 0,
      missing: s.missing.length,
      max_possible: s.maxPossibleTotal,
    };
    for (const [param, sub] of Object.entries(s.subScores)) values[this.subKey(param)] = sub;
    const res: WindowResult = { stream: `${p.id}/${this.spec.metric}`, window: 'news2', start: end - this.spec.interval, end, count: p.count, values };
    p.count = 0;
    ctx.result(res);
    this.judge(p, s, ctx);
  }

  /** The patient sent nothing for input.forget_after: an open alert and sensor faults clear at `ts` with `reason`; the patient is forgotten. */
  forget(device: string, ts: number, reason: string, ctx: OperatorContext): void {
    this.tracker.forget(device);
    const p = this.patients.get(device);
    if (!p) return;
    this.patients.delete(device);
    this.counts.forgotten++;
    if (p.active) {
      const stream = `${p.id}/${this.spec.metric}`;
      this.emitAlert(ctx, this.spec.output, { id: p.alertId, state: 'cleared', stream, detector: this.name, severity: p.peakLevel >= 3 ? 'critical' : 'warning', score: this.scoreOf(p.peakTotal), start: p.alertStart, end: ts, value: NaN, reason });
    }
    if (this.spec.sensor_fault_output) {
      for (const [vital, fault] of p.faults) {
        const metric = Object.keys(this.metrics).find((m) => this.metrics[m] === vital) ?? vital;
        const start = Number(fault.slice(fault.lastIndexOf(':') + 1));
        this.emitAlert(ctx, this.spec.sensor_fault_output, { id: fault, state: 'cleared', stream: `${p.id}/${metric}`, detector: 'sensor_fault', severity: 'info', score: 0, start, end: ts, value: NaN, reason });
      }
    }
  }

  private subKey(param: string): string {
    let k = this.subKeys.get(param);
    if (k === undefined) this.subKeys.set(param, (k = `sub_${param}`));
    return k;
  }

  private judge(p: Patient, s: News2Score, ctx: OperatorContext): void {
    const level = levelOf(s.band);
    const stream = `${p.id}/${this.spec.metric}`;
    const describe = () => `NEWS2 ${s.total} (${s.band}: ${s.rule})${s.complete ? '' : `; missing ${s.missing.join(', ')} (lower bound)`}`;
    if (!p.active) {
      if (level >= this.alertLevel) {
        if (p.pending === 0) p.pendingFrom = p.lastLevel;
        p.pending++;
        if (p.pending >= this.spec.confirm) {
          p.active = true;
          p.alertStart = s.at;
          p.alertId = `${this.name}:${stream}:${s.at}`;
          p.peakLevel = level;
          p.peakTotal = s.total;
          p.below = 0;
          this.emitAlert(ctx, this.spec.output, { id: p.alertId, state: 'raised', stream, detector: this.name, severity: level >= 3 ? 'critical' : 'warning', score: this.scoreOf(s.total), start: s.at, value: s.total, baseline: 0, reason: `band rose ${NEWS2_BANDS[p.pendingFrom]} → ${s.band}: ${describe()}` });
        }
      } else p.pending = 0;
    } else if (level >= this.alertLevel || !s.complete) {
      p.below = 0;
      if (level > p.peakLevel) {
        const from = NEWS2_BANDS[p.peakLevel];
        p.peakLevel = level;
        p.peakTotal = Math.max(p.peakTotal, s.total);
        this.emitAlert(ctx, this.spec.output, { id: p.alertId, state: 'active', stream, detector: this.name, severity: level >= 3 ? 'critical' : 'warning', score: this.scoreOf(p.peakTotal), start: p.alertStart, value: s.total, reason: `band rose ${from} → ${s.band}: ${describe()}` });
      }
      p.peakTotal = Math.max(p.peakTotal, s.total);
    } else {
      p.below++;
      if (p.below >= this.spec.clear_after) {
        p.active = false;
        p.pending = 0;
        this.emitAlert(ctx, this.spec.output, { id: p.alertId, state: 'cleared', stream, detector: this.name, severity: p.peakLevel >= 3 ? 'critical' : 'warning', score: this.scoreOf(p.peakTotal), start: p.alertStart, end: s.at, value: s.total, reason: `band back to ${s.band}: ${describe()}` });
      }
    }
    if (s.complete || level > p.lastLevel) p.lastLevel = level;
  }

  /** Alert score in [0, 1]: 0.5 at a total of 5 (medium), approaching 1 as the total grows. */
  private scoreOf(total: number): number {
    return total / (total + 5);
  }

  private emitAlert(ctx: OperatorContext, output: string, alert: AlertRecord): void {
    ctx.emit({ kind: 'alert', pipeline: ctx.pipeline, output, alert });
  }

  counters(): Readonly<Record<string, number>> {
    return this.counts;
  }

  /** Patients tracked, and of those with an alert open. */
  gauges(): Record<string, number> {
    let alerting = 0;
    for (const p of this.patients.values()) if (p.active) alerting++;
    return { patients: this.patients.size, alerting };
  }

  /** Patients tracked, their open alerts and sensor faults (for status views and tests). */
  status(): Array<{ patient: string; alert: boolean; band: News2Band; sensorFaults: Vital[] }> {
    return [...this.patients.values()].map((p) => ({ patient: p.id, alert: p.active, band: itemAt(NEWS2_BANDS, p.lastLevel, 'NEWS2 band'), sensorFaults: [...p.faults.keys()] }));
  }

  /** Everything per patient (open interval, averages, alert and sensor-fault state) and the tracker's latest vitals. */
  snapshot(): unknown {
    return {
      patients: [...this.patients.values()].map((p) => ({ ...p, acc: structuredClone(p.acc), ahead: structuredClone(p.ahead), latest: { ...p.latest }, seen: { ...p.seen }, faults: [...p.faults] })),
      tracker: this.tracker.snapshot(),
    };
  }

  restore(snap: unknown): void {
    const s = snap as { patients?: unknown; tracker?: unknown };
    if (!Array.isArray(s?.patients)) throw new Error(`${this.name}: saved state must be { patients: [...], tracker: [...] }`);
    const next = new Map<string, Patient>();
    for (const e of s.patients as Array<Omit<Patient, 'faults'> & { faults: unknown }>) {
      if (typeof e?.id !== 'string' || typeof e.k !== 'number' || typeof e.acc !== 'object' || !Array.isArray(e.faults)) {
        throw new Error(`${this.name}: each saved patient must be { id, k, count, acc, faults: [[vital, alert id]], ... }`);
      }
      if (next.size >= this.spec.max_patients) break;
      const ahead = Array.isArray(e.ahead) ? (structuredClone(e.ahead) as Ahead[]) : [];
      const closed = typeof e.closed === 'number' ? e.closed : e.k - 1;
      const record = (o: unknown) => (typeof o === 'object' && o !== null ? { ...(o as Record<string, number>) } : {});
      const shared = typeof e.shared === 'number' ? e.shared : closed;
      const lone = typeof e.lone === 'string' ? e.lone : e.lone === null ? null : undefined;
      next.set(e.id, { ...e, acc: structuredClone(e.acc), ahead, latest: record(e.latest), closed, shared, lone, arrivals: typeof e.arrivals === 'number' ? e.arrivals : 0, seen: record(e.seen), faults: new Map(e.faults as Array<[Vital, string]>) });
    }
    this.tracker.restore(s.tracker ?? []);
    this.patients.clear();
    for (const [id, p] of next) this.patients.set(id, p);
  }
}

export function compileNews2Step(spec: News2StepSpec): News2Operator {
  return new News2Operator(spec);
}
