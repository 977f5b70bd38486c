/**
 * The `join` pipeline step (generic, no domain code): joins the window results of several metrics
 * of one device for the same window into one result `<device>/<metric>`, with fields picked from
 * each (`<metric>.<aggregate>`) and optional ratios of those fields. Follows a window step.
 *
 * ```yaml
 * steps:
 *   - window: { type: tumbling, size: 10s, aggregates: [rms, max] }
 *   - join:
 *       metric: vibration
 *       fields: { rms: vibration_rms.rms, peak: vibration_peak.max }
 *       ratios: { crest: [peak, rms] }        # crest factor = peak / RMS
 * ```
 *
 * A joined result is emitted as soon as every field of its window is there, or, incomplete (with
 * `partial: true` and the fields it has), when a result of a later window arrives for that device
 * first, when (live) the slowest active stream of that device has passed the window's end (a
 * stream idle by the gateway clock does not hold it back), or at the end of input. A ratio is present only when both its fields are and the
 * denominator is not 0. The input results go on unchanged too (`pass: true`), so per-metric steps
 * after the join still see them. Results of a window older than the device's pending one are
 * counted (`join_late`); devices beyond `max_devices` are counted (`join_device_limit`).
 * The step's config schema is in join-schema.ts.
 */
import { deviceOf, metricOf } from '../../../core/reading.js';
import { isoTime } from '../../../core/time.js';
import type { WindowResult } from '../../../core/records.js';
import type { EngineOperator, OperatorContext } from '../../pipeline.js';
import type { JoinStepSpec } from './schema.js';

export type { JoinStepSpec } from './schema.js';

interface Pending {
  start: number;
  end: number;
  count: number;
  values: Record<string, number>;
  have: number;
}

export class JoinOperator implements EngineOperator {
  readonly name: string;
  /** metric → [output field, aggregate] pairs. */
  private readonly byMetric = new Map<string, Array<[string, string]>>();
  private readonly need: number;
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly spec: JoinStepSpec) {
    this.name = spec.name;
    for (const [out, ref] of Object.entries(spec.fields)) {
      const [metric, agg] = ref.split('.') as [string, string];
      let l = this.byMetric.get(metric);
      if (!l) this.byMetric.set(metric, (l = []));
      l.push([out, agg]);
    }
    this.need = Object.keys(spec.fields).length;
  }

  result(res: WindowResult, ctx: OperatorContext): void {
    if (this.spec.pass) ctx.result(res);
    const picks = this.byMetric.get(metricOf(res.stream));
    if (!picks) return;
    const device = deviceOf(res.stream);
    let p = this.pending.get(device);
    if (p && res.start < p.start) {
      ctx.drop('join_late', res, `${res.stream}: window starting ${isoTime(res.start)} is older than the pending join of ${device}`, res.end);
      return;
    }
    if (p && res.start > p.start) {
      this.emit(device, p, ctx);
      p = undefined;
    }
    if (!p) {
      if (this.pending.size >= this.spec.max_devices) {
        ctx.drop('join_device_limit', res, `${res.stream}: ${this.name} already joins max_devices=${this.spec.max_devices} devices`, res.end);
        return;
      }
      p = { start: res.start, end: res.end, count: 0, values: {}, have: 0 };
      this.pending.set(device, p);
    }
    for (const [out, agg] of picks) {
      const v = agg === 'count' ? res.count : res.values[agg];
      if (v === undefined || out in p.values) continue;
      p.values[out] = v;
      p.have++;
    }
    if (res.end > p.end) p.end = res.end;
    p.count += res.count;
    if (p.have >= this.need) this.emit(device, p, ctx);
  }

  /**
   * Live: a pending join whose window every active stream of its device has passed (the slowest
   * active watermark, idle streams excluded) will get no more parts: emit it (partial).
   */
  advanceTo(_now: number, ctx: OperatorContext): void {
    for (const [device, p] of [...this.pending]) if (ctx.deviceTime(device) >= p.end) this.emit(device, p, ctx);
  }

  /** The device was forgotten (input.forget_after; its windows flushed just before): its pending join goes out as it would at the end of input. */
  forget(device: string, _ts: number, _reason: string, ctx: OperatorContext): void {
    const p = this.pending.get(device);
    if (p) this.emit(device, p, ctx);
  }

  flush(_partial: boolean, ctx: OperatorContext): void {
    for (const [device, p] of [...this.pending]) this.emit(device, p, ctx);
  }

  /** The pending (incomplete) join of every device. */
  snapshot(): unknown {
    return [...this.pending].map(([device, p]) => ({ device, ...p, values: { ...p.values } }));
  }

  restore(snap: unknown): void {
    if (!Array.isArray(snap)) throw new Error(`${this.name}: saved state must be [{ device, start, end, count, values, have }]`);
    const next = new Map<string, Pending>();
    for (const e of snap as Array<Pending & { device: unknown }>) {
      if (typeof e?.device !== 'string' || typeof e.start !== 'number' || typeof e.values !== 'object' || e.values === null) {
        throw new Error(`${this.name}: each saved join must be { device, start, end, count, values, have }`);
      }
      next.set(e.device, { start: e.start, end: e.end, count: e.count, values: { ...e.values }, have: e.have });
    }
    this.pending.clear();
    for (const [d, p] of next) this.pending.set(d, p);
  }

  private emit(device: string, p: Pending, ctx: OperatorContext): void {
    this.pending.delete(device);
    for (const [k, [a, b]] of Object.entries(this.spec.ratios ?? {})) {
      const x = p.values[a];
      const y = p.values[b];
      if (x !== undefined && y !== undefined && y !== 0) p.values[k] = x / y;
    }
    const out: WindowResult = { stream: `${device}/${this.spec.metric}`, window: 'join', start: p.start, end: p.end, count: p.count, values: p.values };
    if (p.have < this.need) out.partial = true;
    ctx.result(out);
  }
}

export function compileJoinStep(spec: JoinStepSpec): JoinOperator {
  return new JoinOperator(spec);
}
