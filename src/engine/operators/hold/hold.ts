/**
 * The `hold` step: a stream reported by exception becomes a regular series again. Sparkplug B
 * sends a metric only when it changes, an OPC UA subscription only past its deadband, a Zigbee or
 * LoRaWAN sensor on a reportable change or a heartbeat, Node-RED's `rbe` node only a new value:
 * between two readings the value *held* (within the deadband), and the readings that say so were
 * never sent. The rules after it learn what a stream's steps, runs and times of day look like from
 * its readings; fed only the changes, they learn steps as large as the deadband, days with half
 * their readings, and anomalies found on the regular series go unseen (bench/tune/exception.ts).
 *
 * ```yaml
 * steps:
 *   - hold: { every: 1m, max: 1h }
 *   - detect: { detector: default }
 * ```
 *
 * Per stream: after each reading, its value (with its fields and tags) is passed on again at
 * `every`, 2 × `every`, … after it while no newer reading has come, for up to `max` after it (the
 * device's heartbeat: silence beyond it is a device gone quiet, for the detectors of absence).
 * The copies due before a reading are passed on when it arrives, before it (in a replay, the only
 * way); live, also as the device's own time passes them (its clock running on with the gateway's
 * while silent, `ctx.deviceTime`), one `every` behind it, so a window closes with them in it and a
 * reading that comes on time is not behind a copy. A reading older than the stream's last passes
 * on unchanged and holds nothing. Copies are counted (`held`), as are holds that ran out at `max`
 * (`expired`).
 */
import { deviceOf, metricOf, type Reading } from '../../../core/reading.js';
import { onOldClock } from '../../../core/time.js';
import type { EngineOperator, OperatorContext } from '../../pipeline.js';
import type { HoldStepSpec } from './schema.js';

/** A stream's last reading and the time of its next copy. */
interface Held {
  last: Reading;
  next: number;
}

/** Saved state: per stream, [time of its last reading, value, time of the next copy, fields?, tags?]. */
/** (The time of the next copy is null once the hold ran out.) */
type Snapshot = Record<string, [number, number, number | null, Reading['fields']?, Reading['tags']?]>;

export class HoldOperator implements EngineOperator {
  readonly name: string;
  private readonly every: number;
  private readonly max: number;
  private readonly metrics: Set<string> | null;
  private readonly streams = new Map<string, Held>();
  private held = 0;
  private expired = 0;

  constructor(spec: HoldStepSpec) {
    this.name = spec.name;
    this.every = spec.every;
    this.max = spec.max;
    this.metrics = spec.metrics ? new Set(spec.metrics) : null;
  }

  reading(r: Reading, ctx: OperatorContext): void {
    if (this.metrics !== null && !this.metrics.has(metricOf(r.stream))) {
      ctx.reading(r);
      return;
    }
    const h = this.streams.get(r.stream);
    if (h === undefined) this.streams.set(r.stream, { last: r, next: r.ts + this.every });
    else if (r.ts > h.last.ts) {
      // The copies due before it, not yet passed on by the device's time.
      this.copies(h, r.ts, false, ctx);
      h.last = r;
      h.next = r.ts + this.every;
    }
    ctx.reading(r);
  }

  /** Live: copies the device's own time has passed, one `every` behind it. */
  advanceTo(_now: number, ctx: OperatorContext): void {
    for (const h of this.streams.values()) {
      if (h.next > h.last.ts + this.max) continue;
      const t = ctx.deviceTime(deviceOf(h.last.stream), true) - this.every;
      if (t >= h.next) this.copies(h, t, true, ctx);
    }
  }

  /** Pass on the stream's copies due before `until` (up to it with `upTo`), within `max` of its last reading. */
  private copies(h: Held, until: number, upTo: boolean, ctx: OperatorContext): void {
    const end = h.last.ts + this.max;
    while (h.next <= end && (upTo ? h.next <= until : h.next < until)) {
      const { stream, value, fields, tags } = h.last;
      const copy: Reading = { stream, ts: h.next, value };
      if (fields !== undefined) copy.fields = fields;
      if (tags !== undefined) copy.tags = tags;
      ctx.reading(copy);
      this.held++;
      h.next += this.every;
    }
    if (h.next > end && h.next !== Infinity) {
      this.expired++;
      h.next = Infinity;
    }
  }

  /**
   * The stream's clock was set back from `from` to `to`: it is held again from its first reading on
   * the new clock. Else no reading was remembered and no copy made until real time caught up.
   */
  rebased(stream: string, from: number, to: number): void {
    const h = this.streams.get(stream);
    if (h !== undefined && onOldClock(h.last.ts, from, to)) this.streams.delete(stream);
  }

  forget(device: string): void {
    for (const stream of this.streams.keys()) if (deviceOf(stream) === device) this.streams.delete(stream);
  }

  counters(): Readonly<Record<string, number>> {
    return { held: this.held, expired: this.expired };
  }

  snapshot(): Snapshot {
    const out: Snapshot = {};
    for (const [stream, { last, next }] of this.streams) {
      const row: Snapshot[string] = [last.ts, last.value, next === Infinity ? null : next];
      if (last.fields !== undefined || last.tags !== undefined) row.push(last.fields, last.tags);
      out[stream] = row;
    }
    return out;
  }

  restore(snap: unknown): void {
    if (typeof snap !== 'object' || snap === null || Array.isArray(snap)) throw new Error('hold snapshot: expected an object of streams');
    this.streams.clear();
    for (const [stream, row] of Object.entries(snap as Record<string, unknown>)) {
      const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
      if (!Array.isArray(row) || row.length < 3 || !finite(row[0]) || !finite(row[1]) || !(row[2] === null || finite(row[2]))) {
        throw new Error(`hold snapshot: stream ${stream}: expected [time, value, next copy time, fields?, tags?], found ${JSON.stringify(row)}`);
      }
      const last: Reading = { stream, ts: row[0], value: row[1] };
      if (row[3] != null) last.fields = row[3];
      if (row[4] != null) last.tags = row[4];
      this.streams.set(stream, { last, next: row[2] ?? Infinity });
    }
  }
}
