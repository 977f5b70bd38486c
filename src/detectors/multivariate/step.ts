/**
 * The `multivariate` pipeline step: the sensors of one device judged together (mewma.ts), one
 * alert per episode per device. A reading of each judged metric at one timestamp makes a row; a
 * row is judged when it is complete, or when a reading of a later timestamp arrives first (a
 * missing sensor then keeps its last value), or at the end of input. Readings pass on unchanged,
 * so per-metric steps after this one still see them.
 *
 * ```yaml
 * steps:
 *   - multivariate: { baseline: 250, calibration: 250, threshold: 4 }
 * ```
 *
 * Counted, never silent: a reading older than its device's current row (`multivariate_late`; it
 * still passes on), devices beyond `max_devices` (`multivariate_device_limit`). Metrics that are not
 * judged (not in `metrics`, or beyond the first 32) pass on. The config schema is in
 * multivariate-schema.ts.
 */
import { AlertTracker, type AlertParams } from '../../alerts/tracker.js';
import { alertParamsFor } from '../step.js';
import { deviceOf, metricOf, type Reading } from '../../core/reading.js';
import { isoTime } from '../../core/time.js';
import type { EngineOperator, OperatorContext } from '../../engine/pipeline.js';
import { MewmaModel } from './mewma.js';
import type { MultivariateStepSpec } from './schema.js';

export type { MultivariateStepSpec } from './schema.js';

const SNAPSHOT_VERSION = 1;
const MAX_METRICS = 32;

interface Device {
  id: string;
  /** Judged metrics in row order; undefined until the first timestamp is over (when not configured). */
  metrics?: string[];
  index: Map<string, number>;
  model?: MewmaModel;
  tracker: AlertTracker;
  /** The first timestamp's readings, while the metrics are still being found. */
  first: Map<string, number>;
  rowTs: number;
  /** The current row has been judged (a reading of the same time is then late). */
  done: boolean;
  row: Float64Array;
  have: Uint8Array;
  count: number;
  /** Last value of each metric (a row missing a sensor takes it), and whether there is one. */
  last: Float64Array;
  seen: Uint8Array;
}

export class MultivariateOperator implements EngineOperator {
  readonly name: string;
  private readonly devices = new Map<string, Device>();
  private readonly alertParams: AlertParams;

  constructor(private readonly spec: MultivariateStepSpec) {
    this.name = spec.name;
    this.alertParams = alertParamsFor(spec.alert);
  }

  reading(r: Reading, ctx: OperatorContext): void {
    ctx.reading(r);
    const d = this.device(deviceOf(r.stream), r, ctx);
    if (!d) return;
    const metric = metricOf(r.stream);
    if (!d.metrics) {
      if (Number.isNaN(d.rowTs) || r.ts === d.rowTs) {
        d.rowTs = r.ts;
        if (d.first.size < MAX_METRICS || d.first.has(metric)) d.first.set(metric, r.value);
        return;
      }
      if (r.ts < d.rowTs) {
        this.late(d, r, ctx);
        return;
      }
      this.fix(d, [...d.first.keys()]);
      for (const [m, v] of d.first) this.put(d, d.index.get(m)!, v);
      d.first.clear();
      this.finish(d, ctx);
    }
    const i = d.index.get(metric);
    if (i === undefined) return;
    if (r.ts < d.rowTs || (r.ts === d.rowTs && d.done)) {
      this.late(d, r, ctx);
      return;
    }
    if (r.ts > d.rowTs) {
      if (d.count > 0 && !d.done) this.finish(d, ctx);
      d.rowTs = r.ts;
      d.done = false;
      d.count = 0;
      d.have.fill(0);
    }
    this.put(d, i, r.value);
    if (d.count === d.metrics!.length) this.finish(d, ctx);
  }

  /** The device was forgotten (input.forget_after): an active alert clears at `ts` with `reason`; its model goes. */
  forget(device: string, ts: number, reason: string, ctx: OperatorContext): void {
    const d = this.devices.get(device);
    if (!d) return;
    this.devices.delete(device);
    const alert = d.tracker.end(ts, NaN, reason, true);
    if (alert) ctx.emit({ kind: 'alert', pipeline: ctx.pipeline, output: this.spec.output, alert });
  }

  flush(_partial: boolean, ctx: OperatorContext): void {
    for (const d of this.devices.values()) {
      if (!d.metrics && d.first.size > 0) {
        this.fix(d, [...d.first.keys()]);
        for (const [m, v] of d.first) this.put(d, d.index.get(m)!, v);
        d.first.clear();
      }
      if (d.metrics && d.count > 0 && !d.done) this.finish(d, ctx);
    }
  }

  private device(id: string, r: Reading, ctx: OperatorContext): Device | undefined {
    let d = this.devices.get(id);
    if (d) return d;
    if (this.devices.size >= this.spec.max_devices) {
      ctx.drop('multivariate_device_limit', r, `${r.stream}: ${this.name} already judges max_devices=${this.spec.max_devices} devices`, r.ts);
      return undefined;
    }
    d = {
      id, index: new Map(), tracker: new AlertTracker(`${id}/${this.name}`, this.name, this.alertParams), first: new Map(),
      rowTs: NaN, done: false, row: new Float64Array(0), have: new Uint8Array(0), count: 0, last: new Float64Array(0), seen: new Uint8Array(0),
    };
    this.devices.set(id, d);
    if (this.spec.metrics) this.fix(d, this.spec.metrics);
    return d;
  }

  private fix(d: Device, metrics: string[]): void {
    const n = metrics.length;
    d.metrics = metrics;
    d.index = new Map(metrics.map((m, i) => [m, i]));
    d.model = new MewmaModel(n, this.spec);
    d.row = new Float64Array(n);
    d.have = new Uint8Array(n);
    d.last = new Float64Array(n);
    d.seen = new Uint8Array(n);
    d.count = 0;
  }

  private put(d: Device, i: number, v: number): void {
    d.row[i] = v;
    if (d.have[i] === 0) {
      d.have[i] = 1;
      d.count++;
    }
  }

  private late(d: Device, r: Reading, ctx: OperatorContext): void {
    ctx.drop('multivariate_late', r, `${r.stream}: reading at ${isoTime(r.ts)} is not newer than ${this.name}'s current row of ${d.id} (${isoTime(d.rowTs)}); passed on, not judged`, r.ts);
  }

  /** Judge the current row (missing sensors take their last value; a sensor never seen skips the row). */
  private finish(d: Device, ctx: OperatorContext): void {
    d.done = true;
    const n = d.metrics!.length;
    // Per row, i < n = the row's length: the `!` are bounds-checked by the loop.
    for (let i = 0; i < n; i++) {
      if (d.have[i] === 1) {
        d.last[i] = d.row[i]!;
        d.seen[i] = 1;
      } else if (d.seen[i] === 1) d.row[i] = d.last[i]!;
      else return;
    }
    const model = d.model!;
    const j = model.update(d.row);
    if (j.anomalous) {
      const w = d.metrics?.[model.worst] ?? `sensor ${model.worst}`;
      j.rule = `mewma (${n} sensors, most off: ${w} ${fmt(d.row[model.worst] ?? NaN)} vs baseline ${fmt(model.baselineOf(model.worst))})`;
    }
    const alert = d.tracker.update(d.rowTs, j.deviation, j);
    if (alert) ctx.emit({ kind: 'alert', pipeline: ctx.pipeline, output: this.spec.output, alert });
  }

  /** Per device: the judged metrics, the model's phase, whether an alert is active (for status views and tests). */
  status(): Array<{ device: string; metrics: string[]; phase: string; active: boolean }> {
    return [...this.devices.values()].map((d) => ({ device: d.id, metrics: d.metrics ?? [...d.first.keys()], phase: d.model?.phase ?? 'baseline', active: d.tracker.active }));
  }

  snapshot(): unknown {
    return {
      version: SNAPSHOT_VERSION,
      devices: [...this.devices.values()].map((d) => ({
        id: d.id, metrics: d.metrics ?? null, first: [...d.first], model: d.model?.snapshot() ?? null, alert: d.tracker.snapshot(),
        rowTs: Number.isNaN(d.rowTs) ? null : d.rowTs, done: d.done, row: [...d.row], have: [...d.have], last: [...d.last], seen: [...d.seen],
      })),
    };
  }

  restore(snap: unknown): void {
    const s = snap as { version?: unknown; devices?: unknown };
    if (s?.version !== SNAPSHOT_VERSION || !Array.isArray(s.devices)) {
      throw new Error(`${this.name}: saved state must be { version: ${SNAPSHOT_VERSION}, devices: [...] } (found version ${JSON.stringify(s?.version)}); delete the state file to start fresh`);
    }
    this.devices.clear();
    for (const raw of s.devices as Array<Record<string, unknown>>) {
      const id = String(raw.id);
      const bad = (what: string) => new Error(`${this.name}: saved state of device ${id}: ${what}; delete the state file to start fresh`);
      const d: Device = {
        id, index: new Map(), tracker: new AlertTracker(`${id}/${this.name}`, this.name, this.alertParams), first: new Map(),
        rowTs: NaN, done: false, row: new Float64Array(0), have: new Uint8Array(0), count: 0, last: new Float64Array(0), seen: new Uint8Array(0),
      };
      if (raw.metrics !== null) {
        if (!Array.isArray(raw.metrics) || !raw.metrics.every((m) => typeof m === 'string')) throw bad('metrics must be a list of names');
        this.fix(d, raw.metrics as string[]);
        if (typeof raw.model !== 'object' || raw.model === null) throw bad('model missing');
        d.model!.restore(raw.model as Record<string, unknown>);
        const n = d.metrics!.length;
        const nums = (k: string) => {
          const v = raw[k];
          if (!Array.isArray(v) || v.length !== n || !v.every((x) => typeof x === 'number')) throw bad(`${k} must be ${n} numbers`);
          return v as number[];
        };
        d.row.set(nums('row'));
        d.have.set(nums('have'));
        d.last.set(nums('last'));
        d.seen.set(nums('seen'));
        d.count = d.have.reduce((a, b) => a + b, 0);
      }
      if (!Array.isArray(raw.first)) throw bad('first must be a list');
      for (const [m, v] of raw.first as Array<[string, number]>) d.first.set(m, v);
      d.rowTs = raw.rowTs === null ? NaN : Number(raw.rowTs);
      d.done = raw.done === true;
      if (typeof raw.alert !== 'object' || raw.alert === null) throw bad('alert state missing');
      d.tracker.restore(raw.alert as Record<string, unknown>);
      this.devices.set(id, d);
    }
  }
}

function fmt(x: number): string {
  return Number.isFinite(x) ? String(Math.round(x * 1000) / 1000) : String(x);
}

export function compileMultivariateStep(spec: MultivariateStepSpec): MultivariateOperator {
  return new MultivariateOperator(spec);
}
