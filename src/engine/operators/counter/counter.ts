/**
 * The `counter` step: a cumulative counter — an energy meter's kWh total, a water or gas meter, a
 * packet, pulse or error count — becomes its rate. A detector on the total itself sees a series
 * that only rises: twice the consumption for two hours is a slightly steeper climb, never a new
 * step or level (the default detector: 0 of 4 such doublings found on the total, 4 of 4 on the
 * rate; test/engine/counter.test.ts). What an operator watches is the rate.
 *
 * ```yaml
 * steps:
 *   - counter: { per: 1h }            # kWh total → kW
 *   - detect: { detector: default }
 * ```
 *
 * Per stream: each reading after the first passes on, under the same stream, as the increase since
 * the stream's previous reading per `per`, with the reading's time, fields and tags. The increase
 * reads a fall as Prometheus's rate() does: the counter was reset (the device restarted) and
 * counted from 0, so the increase is the new value (`resets`); with `wrap`, a fall of more than half
 * of it is the register wrapping, and the increase is counted across it (`wraps`). A stream's first
 * reading gives no rate (`started`). A reading not after the stream's last (out of order, or the
 * same time again) gives none either: dropped with its time (`counter_order`; an exact resend of
 * the last, `duplicate`).
 */
import { deviceOf, metricOf, type Reading } from '../../../core/reading.js';
import { isoTime, onOldClock } from '../../../core/time.js';
import type { EngineOperator, OperatorContext } from '../../pipeline.js';
import type { CounterStepSpec } from './schema.js';

/** Saved state: per stream, [time, value] of its last reading. */
type Snapshot = Record<string, [number, number]>;

export class CounterOperator implements EngineOperator {
  readonly name: string;
  private readonly per: number;
  private readonly wrap: number;
  private readonly metrics: Set<string> | null;
  private readonly last = new Map<string, { ts: number; value: number }>();
  private started = 0;
  private resets = 0;
  private wraps = 0;

  constructor(spec: CounterStepSpec) {
    this.name = spec.name;
    this.per = spec.per;
    this.wrap = spec.wrap ?? Infinity;
    this.metrics = spec.metrics ? new Set(spec.metrics) : null;
  }

  reading(r: Reading, ctx: OperatorContext): void {
    if (this.metrics !== null && !this.metrics.has(metricOf(r.stream))) {
      ctx.reading(r);
      return;
    }
    const p = this.last.get(r.stream);
    if (p === undefined) {
      this.last.set(r.stream, { ts: r.ts, value: r.value });
      this.started++;
      return;
    }
    if (r.ts <= p.ts) {
      const again = r.ts === p.ts && r.value === p.value;
      ctx.drop(
        again ? 'duplicate' : 'counter_order',
        r,
        again
          ? `${r.stream}: the counter reading of ${isoTime(r.ts)} (value ${r.value}) came again: dropped (step ${this.name})`
          : `${r.stream}: the counter reading of ${isoTime(r.ts)} (value ${r.value}) is not after the last one, of ${isoTime(p.ts)}: a rate needs readings in time order; dropped (step ${this.name})`,
        r.ts,
      );
      return;
    }
    let increase = r.value - p.value;
    if (increase < 0) {
      if (-increase > this.wrap / 2) {
        increase += this.wrap;
        this.wraps++;
      } else {
        increase = r.value;
        this.resets++;
      }
    }
    const rate = (increase * this.per) / (r.ts - p.ts);
    p.ts = r.ts;
    p.value = r.value;
    ctx.reading({ ...r, value: rate });
  }

  /**
   * The stream's clock was set back from `from` to `to`: its rate starts again at its first reading
   * on the new clock (how long passed between the two clocks' readings is not known). Else every
   * reading was `counter_order` until real time caught up with the old clock.
   */
  rebased(stream: string, from: number, to: number): void {
    const p = this.last.get(stream);
    if (p !== undefined && onOldClock(p.ts, from, to)) this.last.delete(stream);
  }

  forget(device: string): void {
    for (const stream of this.last.keys()) if (deviceOf(stream) === device) this.last.delete(stream);
  }

  counters(): Readonly<Record<string, number>> {
    return { started: this.started, resets: this.resets, wraps: this.wraps };
  }

  snapshot(): Snapshot {
    const out: Snapshot = {};
    for (const [stream, p] of this.last) out[stream] = [p.ts, p.value];
    return out;
  }

  restore(snap: unknown): void {
    if (typeof snap !== 'object' || snap === null || Array.isArray(snap)) throw new Error('counter snapshot: expected an object of streams');
    this.last.clear();
    for (const [stream, row] of Object.entries(snap as Record<string, unknown>)) {
      if (!Array.isArray(row) || row.length !== 2 || !row.every((v) => typeof v === 'number' && Number.isFinite(v))) {
        throw new Error(`counter snapshot: stream ${stream}: expected [time, value] of its last reading, found ${JSON.stringify(row)}`);
      }
      this.last.set(stream, { ts: row[0], value: row[1] });
    }
  }
}
