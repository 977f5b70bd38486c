/**
 * The `running` pipeline step (generic, no domain code): a machine's readings are held back while
 * it is stopped and for `settle` after each start, judged by one of its own metrics (a motor's
 * current above `above`). Rules after it then learn and judge the running machine only: a pump that
 * stops every night or cycles every 20 minutes is not "anomalous" at every start (inrush current,
 * run-up vibration, a bearing warming from cold), and a baseline is not learnt while it stands.
 *
 * ```yaml
 * steps:
 *   - running: { metric: current_a, above: 1, settle: 2m }
 *   - window: { type: tumbling, size: 10s, aggregates: [mean, rms] }
 * ```
 *
 * Per device: its first readings wait up to `settle` for a `metric` reading, which says whether
 * they were a standing machine's (up to 256 a device, 10,000 in all; more are dropped, counted as
 * `unknown`); a device that sends none by then is taken as running and its waiting readings go
 * on. A device first seen running settles from its first reading, as after a start (it may be
 * starting as the gateway first sees it). From a stop its held streams are paused (`ctx.pause`:
 * live, detectors of absence after this step are not asked about them: a parked van's receiver is
 * not "lost"); once a metric has
 * settled after the next start (`settle`, or its own in `settle_by_metric`), the detectors after
 * this step are told that its streams were paused until then (`ctx.resume`): the stop is not time
 * for them (memories in time do not forget over it, warm-ups count running time, silence counts
 * from there). At a stop what the rules after it were counting towards an alert ends, and alerts
 * of rules with `alert.at_stop: clear` clear (reason `stopped`); while it stands none is raised or
 * cleared on its held streams. Held
 * readings are counted by reason (`stopped`, `settling`, `unknown`) in the step's counters, with
 * `starts` and `stops`. The step takes raw readings; put it before the window
 * step. The config schema is in schema.ts.
 */
import { deviceOf, metricOf } from '../../../core/reading.js';
import type { Reading } from '../../../core/reading.js';
import { shiftedBack } from '../../../core/time.js';
import type { EngineOperator, OperatorContext } from '../../pipeline.js';
import type { RunningStepSpec } from './schema.js';

export type { RunningStepSpec } from './schema.js';

interface Machine {
  running: boolean;
  /** Event time of the last start, or of the first reading of a machine first seen running (-Infinity: a device without `metric`, taken as running). */
  since: number;
  /** Settle groups (bit i: group i) whose settle since the last start has not ended yet. */
  unsettled: number;
  /** No `metric` reading yet: the device's first event time, and its readings held till then (else null). */
  firstSeen: number;
  waiting: Reading[] | null;
  /** The device has sent `metric` (false: taken as running without it). */
  seen: boolean;
}

function stateOf(m: Machine): 'unknown' | 'running' | 'stopped' {
  return m.waiting !== null ? 'unknown' : m.running ? 'running' : 'stopped';
}

/** Readings a device not yet known keeps waiting, and all such devices together (more are dropped, counted as `unknown`). */
const MAX_WAITING = 256;
const MAX_WAITING_ALL = 10_000;

/** Metrics that settle alike: one pause reported per group and start. */
interface SettleGroup {
  settle: number;
  /** Does a stream of this metric (raw, or made by a later step) belong to the group? */
  has(metric: string): boolean;
}

export class RunningOperator implements EngineOperator {
  readonly name: string;
  private readonly machines = new Map<string, Machine>();
  private readonly groups: SettleGroup[];
  private readonly groupOf = new Map<string, number>();
  private readonly isHeld: ((metric: string) => boolean) | undefined;
  private waitingAll = 0;
  private readonly counts = { starts: 0, stops: 0, stopped: 0, settling: 0, unknown: 0, untracked: 0, no_metric: 0 };
  /** `without_metric`: held from a device that has never sent `metric`. */
  private readonly withoutMetric: ReadonlySet<string>;

  constructor(private readonly spec: RunningStepSpec) {
    this.name = spec.name;
    const held = spec.metrics ? new Set(spec.metrics) : undefined;
    const own = Object.entries(spec.settle_by_metric ?? {});
    // group 0: every held metric without a settle of its own (streams later steps make, too, when all are held)
    this.isHeld = held ? (metric) => held.has(metric) : undefined;
    this.groups = [{ settle: spec.settle, has: (metric) => !this.groupOf.has(metric) && (!held || held.has(metric)) }];
    for (const [metric, settle] of own) {
      this.groupOf.set(metric, this.groups.length);
      this.groups.push({ settle, has: (m) => m === metric });
    }
    if (this.groups.length > 30) throw new Error(`${this.name}: settle_by_metric names more than 29 metrics`);
    this.withoutMetric = new Set(spec.without_metric ?? []);
    const loose = [...this.withoutMetric].filter((m) => held && !held.has(m));
    if (loose.length) throw new Error(`${this.name}: without_metric names ${loose.join(', ')}, which \`metrics\` does not hold back; add it there too`);
  }

  reading(r: Reading, ctx: OperatorContext): void {
    const device = deviceOf(r.stream);
    const metric = metricOf(r.stream);
    let m = this.machines.get(device);
    if (metric === this.spec.metric) {
      const waiting = m?.waiting;
      m = this.observe(device, m, r, ctx);
      if (waiting && m) this.release(waiting, m, ctx);
    } else if (m === undefined) m = this.add(device, { running: false, since: -Infinity, unsettled: 0, firstSeen: r.ts, waiting: [], seen: false });
    if (m !== undefined && m.unsettled !== 0) this.settle(device, m, r.ts, ctx);
    if (m === undefined || (this.isHeld !== undefined && !this.isHeld(metric))) {
      ctx.reading(r);
      return;
    }
    if (m.waiting !== null) {
      // Not known yet: readings wait `settle` for the running metric (devices send their metrics in
      // any order); a device that has not sent it by then has none and is taken as running.
      if (r.ts < m.firstSeen + this.spec.settle) {
        if (m.waiting.length < MAX_WAITING && this.waitingAll < MAX_WAITING_ALL) {
          m.waiting.push(r);
          this.waitingAll++;
        } else this.counts.unknown++;
        return;
      }
      const waiting = m.waiting;
      Object.assign(m, { running: true, since: -Infinity, waiting: null });
      this.release(waiting, m, ctx);
    }
    if (!m.seen && this.withoutMetric.has(metric)) {
      this.counts.no_metric++;
      return;
    }
    this.judge(r, metric, m, ctx);
  }

  /**
   * The device's time is `ts`: each settle group whose settle since the start has passed is no
   * longer paused, from the end of its settle (before a reading at `ts` goes on: the engine
   * applies the pause to each rule before its first record after it). A receiver that died while
   * the machine stood is then reported, its silence counted from there.
   */
  private settle(device: string, m: Machine, ts: number, ctx: OperatorContext): void {
    if (!m.running) return;
    for (let g = 0; g < this.groups.length; g++) {
      const group = this.groups[g]!;
      if (m.unsettled & (1 << g) && ts >= m.since + group.settle) {
        m.unsettled &= ~(1 << g);
        ctx.resume(device, m.since + group.settle, group.has);
      }
    }
  }

  /** The readings that waited for the machine's state, now known. */
  private release(waiting: Reading[], m: Machine, ctx: OperatorContext): void {
    this.waitingAll -= waiting.length;
    for (const w of waiting) this.judge(w, metricOf(w.stream), m, ctx);
  }

  /** A held metric's reading of a known machine: held while it stands or settles, else passed on. */
  private judge(r: Reading, metric: string, m: Machine, ctx: OperatorContext): void {
    if (!m.running || r.ts < m.since) {
      this.counts.stopped++;
      return;
    }
    const g = this.groupOf.get(metric) ?? 0;
    const group = this.groups[g]!;
    if (r.ts < m.since + group.settle) {
      this.counts.settling++;
      return;
    }
    ctx.reading(r);
  }

  /** A reading of the running metric: the machine's state after it. */
  private observe(device: string, m: Machine | undefined, r: Reading, ctx: OperatorContext): Machine | undefined {
    const running = r.value > this.spec.above;
    if (m !== undefined) m.seen = true;
    if (m === undefined || m.waiting !== null) {
      // First seen standing: stopped. First seen running: it may be starting as we first see it
      // (a cabinet powered up with its gateway: the inrush in the first window), so it settles as
      // after a start, from its first reading; not counted as a start.
      const since = running && m !== undefined && Number.isFinite(m.firstSeen) ? Math.min(m.firstSeen, r.ts) : r.ts;
      const first = { running, since, unsettled: running ? (1 << this.groups.length) - 1 : 0, firstSeen: NaN, waiting: null, seen: true };
      const known = m === undefined ? this.add(device, first) : Object.assign(m, first);
      if (known && !running) ctx.pause(device, r.ts, this.isHeld);
      return known;
    } else if (running && !m.running) {
      this.counts.starts++;
      m.since = r.ts;
      m.unsettled = (1 << this.groups.length) - 1;
    } else if (!running && m.running && r.ts >= m.since) {
      this.counts.stops++;
      ctx.pause(device, r.ts, this.isHeld, { value: r.value, reason: `${this.name}: stopped (${this.spec.metric} ${r.value} not above ${this.spec.above})` });
    } else {
      // Running at a time before the run's start: it ran then already (the start was stamped
      // ahead: a device's first reading a day ahead held every later one as `stopped`).
      if (running && m.running && r.ts < m.since) m.since = r.ts;
      return m;
    }
    m.running = running;
    return m;
  }

  /** A new device, within max_devices (beyond it: undefined, and its readings pass, counted). */
  private add(device: string, m: Machine): Machine | undefined {
    if (this.machines.size >= this.spec.max_devices) {
      this.counts.untracked++;
      return undefined;
    }
    this.machines.set(device, m);
    return m;
  }

  /**
   * A stream's clock was set back from `from` to `to`: a start on the old clock (nearer `from`)
   * moves to the new one, so a machine settled before the correction is not settling again after
   * it (until 2026-12-07 it was: its readings held back as `settling` for `settle` again, and a
   * start within the correction's span held them until real time caught up with it).
   */
  rebased(stream: string, from: number, to: number): void {
    const m = this.machines.get(deviceOf(stream));
    if (!m) return;
    m.since = shiftedBack(m.since, from, to);
    m.firstSeen = shiftedBack(m.firstSeen, from, to);
  }

  /** The device was forgotten (input.forget_after): readings still waiting for its first `metric` reading go on (taken as running), then its state goes. */
  forget(device: string, _ts: number, _reason: string, ctx: OperatorContext): void {
    const m = this.machines.get(device);
    if (!m) return;
    if (m.waiting) {
      const waiting = m.waiting;
      Object.assign(m, { running: true, since: -Infinity, waiting: null });
      this.release(waiting, m, ctx);
    }
    this.machines.delete(device);
  }

  counters(): Readonly<Record<string, number>> {
    return this.counts;
  }

  /** Devices running, stopped, and not known yet (waiting for their first `metric`). */
  gauges(): Record<string, number> {
    const n = { running: 0, stopped: 0, unknown: 0 };
    for (const m of this.machines.values()) n[stateOf(m)]++;
    return n;
  }

  /** Per device: running or stopped (`unknown` while it waits for its first `metric`), since when it runs, and whether it is settling. */
  status(): Array<{ device: string; state: 'unknown' | 'running' | 'stopped'; since?: string; settling: boolean }> {
    return [...this.machines].map(([device, m]) => ({
      device,
      state: stateOf(m),
      ...(m.running && Number.isFinite(m.since) ? { since: new Date(m.since).toISOString() } : {}),
      settling: m.unsettled !== 0,
    }));
  }

  snapshot(): unknown {
    return [...this.machines].map(([device, m]) => ({ device, ...m, since: Number.isFinite(m.since) ? m.since : null, firstSeen: Number.isFinite(m.firstSeen) ? m.firstSeen : null, waiting: m.waiting && [...m.waiting] }));
  }

  restore(snap: unknown): void {
    if (!Array.isArray(snap)) throw new Error(`${this.name}: saved state must be [{ device, running, since, unsettled }]`);
    const next = new Map<string, Machine>();
    for (const e of snap as Array<Record<string, unknown>>) {
      if (typeof e?.device !== 'string' || typeof e.running !== 'boolean' || typeof e.unsettled !== 'number' || !(typeof e.since === 'number' || e.since === null)) {
        throw new Error(`${this.name}: each saved machine must be { device, running, since, unsettled }`);
      }
      const waiting = Array.isArray(e.waiting) ? (e.waiting as Reading[]) : null;
      // saved before 2026-12-06: a device taken as running without `metric` had since -Infinity (null)
      const seen = typeof e.seen === 'boolean' ? e.seen : !(e.running && e.since === null) && waiting === null;
      next.set(e.device, { running: e.running, since: e.since ?? -Infinity, unsettled: e.unsettled, firstSeen: typeof e.firstSeen === 'number' ? e.firstSeen : NaN, waiting, seen });
    }
    this.machines.clear();
    this.waitingAll = 0;
    for (const [d, m] of next) {
      this.machines.set(d, m);
      this.waitingAll += m.waiting?.length ?? 0;
    }
  }
}
