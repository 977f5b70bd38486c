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
import { isoTime, onOldClock } from '../../../core/time.js';
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
  /** The metric of its first result, while every result in it is of that metric (undefined once another joined; saved before 2026-12-07: none). */
  alone?: string;
}

/** A result this many windows past the pending one waits for a second metric to agree before it replaces the pending join. */
const FAR_WINDOWS = 10;

export class JoinOperator implements EngineOperator {
  readonly name: string;
  /** metric → [output field, aggregate] pairs. */
  private readonly byMetric = new Map<string, Array<[string, string]>>();
  private readonly need: number;
  private readonly pending = new Map<string, Pending>();
  /**
   * Per device, a result far past its pending join (FAR_WINDOWS windows or more), held until a
   * result of another metric says which is right: the device came back after a gap (a result of
   * that window or later: the pending join goes out, the held one becomes pending), or the held one
   * was stamped ahead (a result of the pending window or near it: the held one is dropped as
   * `join_ahead`). Until 2026-12-07 one reading a day ahead made every later result `join_late`.
   */
  private readonly held = new Map<string, WindowResult>();
  /** Per device, the end of its last join sent: where the device is while no join is pending. */
  private readonly lastEnd = new Map<string, number>();

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
    const p = this.pending.get(device);
    const at = p?.end ?? this.lastEnd.get(device);
    const far = at !== undefined && this.byMetric.size > 1 && res.start >= at + FAR_WINDOWS * Math.max(1, res.end - res.start);
    const h = this.held.get(device);
    if (h) {
      this.held.delete(device);
      if (metricOf(h.stream) !== metricOf(res.stream) && res.start >= h.start) {
        // another metric there too: the device came back after a gap, the pending join gets no more parts
        this.add(device, h, ctx);
      } else {
        ctx.drop('join_ahead', h, `${h.stream}: window starting ${isoTime(h.start)} is ${FAR_WINDOWS} or more windows past ${device}'s pending join${p ? ` (${isoTime(p.start)})` : ''}, and no other metric came there (${res.stream} at ${isoTime(res.start)}): stamped ahead (its clock runs fast?), not joined`, h.end);
        if (far && metricOf(h.stream) === metricOf(res.stream)) {
          this.held.set(device, res);
          return;
        }
      }
    } else if (far) {
      this.held.set(device, res);
      return;
    }
    this.add(device, res, ctx);
  }

  /** `res` (of a joined metric) into its device's pending join. */
  private add(device: string, res: WindowResult, ctx: OperatorContext): void {
    const picks = this.byMetric.get(metricOf(res.stream))!;
    let p = this.pending.get(device);
    if (p && res.start < p.start) {
      // A pending join of one result alone, far ahead of this one and of the last join sent: it was
      // stamped ahead (a device's first reading a day ahead) and is dropped; else this one is late.
      const last = this.lastEnd.get(device) ?? -Infinity;
      if (!(p.alone !== undefined && p.start - res.start >= FAR_WINDOWS * Math.max(1, res.end - res.start) && res.start >= last)) {
        ctx.drop('join_late', res, `${res.stream}: window starting ${isoTime(res.start)} is older than the pending join of ${device}`, res.end);
        return;
      }
      ctx.drop('join_ahead', { stream: `${device}/${p.alone}`, start: p.start, end: p.end, values: p.values }, `${device}/${p.alone}: window starting ${isoTime(p.start)} is ${FAR_WINDOWS} or more windows ahead of ${res.stream} at ${isoTime(res.start)}, and no other metric came there: stamped ahead (its clock runs fast?), not joined`, p.end);
      this.pending.delete(device);
      p = undefined;
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
      p = { start: res.start, end: res.end, count: 0, values: {}, have: 0, alone: metricOf(res.stream) };
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
    if (p.alone !== metricOf(res.stream)) p.alone = undefined;
    if (p.have >= this.need) this.emit(device, p, ctx);
  }

  /**
   * Live: a pending join whose window every active stream of its device has passed (the slowest
   * active watermark, idle streams excluded) will get no more parts: emit it (partial).
   */
  advanceTo(_now: number, ctx: OperatorContext): void {
    for (const [device, p] of [...this.pending]) if (ctx.deviceTime(device) >= p.end) this.emit(device, p, ctx);
  }

  /** A held result goes into its join as the last thing known of its device (a gap it never came back from: end of input, forgotten). */
  private release(device: string, ctx: OperatorContext): void {
    const h = this.held.get(device);
    if (!h) return;
    this.held.delete(device);
    const p = this.pending.get(device);
    if (p) this.emit(device, p, ctx);
    this.add(device, h, ctx);
  }

  /** The device was forgotten (input.forget_after; its windows flushed just before): its pending join goes out as it would at the end of input. */
  forget(device: string, _ts: number, _reason: string, ctx: OperatorContext): void {
    this.release(device, ctx);
    const p = this.pending.get(device);
    if (p) this.emit(device, p, ctx);
    this.lastEnd.delete(device);
  }

  /**
   * A stream of the device was set back from `from` to `to` (its windows on the old clock have just
   * been flushed, the device's other streams' with them): a join still pending on the old clock
   * (nearer `from`) gets no more parts and goes out; the device's joins go on on the new clock.
   * Until 2026-12-07 the new clock's first windows were `join_late`, and the old clock's last were
   * joined in parts, each stream's as it came to be re-based.
   */
  rebased(stream: string, from: number, to: number, ctx: OperatorContext): void {
    const device = deviceOf(stream);
    // (a result held far ahead stays held: one stream stamped ahead once, as below)
    const p = this.pending.get(device);
    if (p && onOldClock(p.start, from, to)) this.emit(device, p, ctx);
    if (onOldClock(this.lastEnd.get(device) ?? -Infinity, from, to)) this.lastEnd.delete(device);
  }

  flush(_partial: boolean, ctx: OperatorContext): void {
    for (const device of [...this.held.keys()]) this.release(device, ctx);
    for (const [device, p] of [...this.pending]) this.emit(device, p, ctx);
  }

  /** The pending (incomplete) join of every device, and a result held with it. */
  snapshot(): unknown {
    return [...new Set([...this.pending.keys(), ...this.held.keys(), ...this.lastEnd.keys()])].map((device) => {
      const p = this.pending.get(device);
      const h = this.held.get(device);
      const last = this.lastEnd.get(device);
      return { device, ...(p ? { ...p, values: { ...p.values } } : {}), ...(h ? { held: structuredClone(h) } : {}), ...(last !== undefined ? { lastEnd: last } : {}) };
    });
  }

  restore(snap: unknown): void {
    if (!Array.isArray(snap)) throw new Error(`${this.name}: saved state must be [{ device, start, end, count, values, have }]`);
    const next = new Map<string, Pending>();
    const held = new Map<string, WindowResult>();
    const lastEnd = new Map<string, number>();
    for (const e of snap as Array<Pending & { device: unknown; held?: unknown; lastEnd?: unknown }>) {
      if (typeof e?.device !== 'string') throw new Error(`${this.name}: each saved join must be { device, start, end, count, values, have }`);
      if (typeof e.lastEnd === 'number') lastEnd.set(e.device, e.lastEnd);
      if (e.held !== undefined) {
        const r = e.held as WindowResult;
        if (typeof r?.stream !== 'string' || typeof r.start !== 'number' || typeof r.end !== 'number' || typeof r.values !== 'object') throw new Error(`${this.name}: a held result of ${e.device} must be a window result { stream, start, end, count, values }`);
        held.set(e.device, structuredClone(r));
      }
      if (e.start === undefined && (e.held !== undefined || e.lastEnd !== undefined)) continue;
      if (typeof e.start !== 'number' || typeof e.values !== 'object' || e.values === null) {
        throw new Error(`${this.name}: each saved join must be { device, start, end, count, values, have }`);
      }
      next.set(e.device, { start: e.start, end: e.end, count: e.count, values: { ...e.values }, have: e.have, ...(typeof e.alone === 'string' ? { alone: e.alone } : {}) });
    }
    this.pending.clear();
    this.held.clear();
    this.lastEnd.clear();
    for (const [d, p] of next) this.pending.set(d, p);
    for (const [d, h] of held) this.held.set(d, h);
    for (const [d, t] of lastEnd) this.lastEnd.set(d, t);
  }

  private emit(device: string, p: Pending, ctx: OperatorContext): void {
    this.pending.delete(device);
    this.lastEnd.set(device, p.end);
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
