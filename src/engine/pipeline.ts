import type { EnginePipelineSpec, EngineStep, FilterSpec, MapSpec, WindowSpec } from './spec.js';
import type { SharedCapture } from '../core/shared-capture.js';
import { DropCounter } from '../core/drops.js';
import { deviceOf, metricOf, type Reading } from '../core/reading.js';
import { isoTime, onOldClock, MAX_DATE_MS, unitHint } from '../core/time.js';
import { formatDuration } from '../core/duration.js';
import type { AlertRecord, Emission, Sink, WindowResult } from '../core/records.js';
import { planFor } from './aggregates.js';
import { CONVERT } from './conversions.js';
import { StreamMatcher } from '../core/patterns.js';
import { CountWindowOperator } from './windows/count-windows.js';
import { SessionWindowOperator } from './windows/session-windows.js';
import { hopping, sliding, TimeWindowOperator, tumbling } from './windows/time-windows.js';
import { WindowAggregation, type WindowOperator } from './windows/types.js';
import { PART_VERSIONS, partKind, type PartSnapshot, type PipelineSnapshot, type RestoreFailure } from './snapshot.js';

/**
 * Per-key state: one per stream the pipeline has accepted. Stateful steps keep theirs in `slots`.
 * The time fields are the key's own clock; all of them must be snapshotted with the key (a replay
 * of the journal after a restore must take the same decisions): maxTs, lastArrival, jumpRun, jumpTs.
 */
interface KeyState {
  stream: string;
  /** Newest event time accepted for this key (its own watermark, before lateness). */
  maxTs: number;
  /** Gateway clock when its last accepted reading arrived (its event time in a replay). */
  lastArrival: number;
  /** Clock jumps refused in a row, and the time of the last one (a replay re-bases after `confirm`). */
  jumpRun: number;
  jumpTs: number;
  /**
   * A `running` step paused the stream until this event time (-Infinity: never): detect steps from
   * slot `pausedFrom` on apply it (Detector.resume) before their first record at or after it, once
   * each (`resumed[slot]`; null until a first pause), so windows still open from before the pause
   * are judged as they were.
   */
  pausedUntil: number;
  pausedFrom: number;
  resumed: number[] | null;
  /** Held back now by a `running` step (its machine stands): detectors of absence from `pausedFrom` on are not asked. */
  paused: boolean;
  /** Event time of the last such stop (Infinity: never): from it until the pause ends, alerts from `pausedFrom` on are not fed. */
  stoppedAt: number;
  /** Live: the gateway's running time (its clock less its own downtime) when a reading of this stream last arrived; -Infinity if none did (a replay, a stream an operator makes). */
  seenAt: number;
  slots: unknown[];
}

/** A window result on its way out, with the stream it belongs to. */
interface ClosedWindow {
  keyState: KeyState;
  res: WindowResult;
}

function newKey(stream: string, slots: number): KeyState {
  return { stream, maxTs: -Infinity, lastArrival: -Infinity, jumpRun: 0, jumpTs: 0, pausedUntil: -Infinity, pausedFrom: 0, resumed: null, paused: false, stoppedAt: Infinity, seenAt: -Infinity, slots: new Array(slots) };
}

/** A gap in the gateway clock (no tick, no arrival) this long means the gateway was not running. */
const RESUMED_AFTER = 10_000;

/** What a detect step looks like to the engine (implemented in src/detectors). */
/**
 * The largest magnitude a detect step judges. Beyond it a value is no measurement — float32's
 * largest, ±3.4e38, is a common fault code, and a value decoded from the wrong bytes or type can
 * be anything up to 1.8e308 — and detectors' sums of squares and float32 memories overflow, their
 * scores turn NaN and their state cannot be restored (a checkpoint would then set aside the whole
 * step's state, every stream's). Such a value, or a window aggregate that overflowed, is counted
 * as `not_judged` and not fed to the detector; the reading itself goes on.
 */
export const MAX_JUDGED = 1e38;

export interface EngineDetectStep {
  readonly name: string;
  readonly field: string;
  /** The field that gives the operating state the value is judged in (a `ceiling` with `by`). */
  readonly by?: string;
  readonly output: string;
  createKeyState(stream: string): unknown;
  /** `quiet`: the detector learns the reading, its alert is not fed (the stream's machine stands). `context`: the `by` field's value. `value` is finite and within ±MAX_JUDGED. */
  update(state: unknown, ts: number, value: number, quiet?: boolean, context?: number): { score: number; anomalous: boolean; alertActive: boolean; alert?: AlertRecord };
  /** The stream stops being judged at `ts` (a `running` step's machine stopped): pending counts end; an alert `at_stop: clear` clears with `reason`. */
  stop?(state: unknown, ts: number, value: number, reason: string): AlertRecord | undefined;
  /** Detectors of absence only: no reading up to event time `ts`; a raised alert, if the silence is one. */
  overdue?(state: unknown, ts: number): AlertRecord | undefined;
  /** The stream is forgotten at `ts` (its device silent for `input.forget_after`): an active alert clears with `reason`. */
  forget?(state: unknown, ts: number, reason: string): AlertRecord | undefined;
  /**
   * The stream was paused until event time `ts` (the gateway was not running, or a `running` step
   * held it back while its machine stood): the pause is not the stream's time (Detector.resume).
   */
  resume?(state: unknown, ts: number): void;
  /** The stream's clock was set back from `from` (its newest time) to `to`: times the step keeps on the old clock move to the new one. */
  rebased?(state: unknown, from: number, to: number): void;
  /** With a `capture`, the detector may share its live typed arrays with it (copy on write) instead of copying them now. */
  snapshot(state: unknown, capture?: SharedCapture): unknown;
  restore(stream: string, snap: unknown): unknown;
  /** The stream's detector is still learning (in warm-up), or has judged nothing yet. */
  learning?(state: unknown): boolean;
}

/**
 * What an operator step sees of the engine. Operators (registered step kinds such as `news2`) may
 * keep state across keys (per device, say), send records to named outputs, and pass records on
 * down the chain under any stream (a new stream becomes a new key, within `input.max_keys`).
 */
export interface OperatorContext {
  /** The pipeline's name. */
  readonly pipeline: string;
  /** Pass a reading on to the next step (under its own stream's key). */
  reading(r: Reading): void;
  /** Pass a window-like result on to the next step (under its own stream's key). */
  result(res: WindowResult): void;
  /** Send to a named output (the pipeline name is filled in; counted per output in stats). */
  emit(e: Emission): void;
  /** Count a refused input in the pipeline's drops (reason, sample, detail, event time). */
  drop(reason: string, sample: unknown, detail?: string, at?: number): void;
  /**
   * The event time up to which a device's streams are complete, as Flink takes the minimum
   * watermark of its inputs: the slowest of its streams that are not idle (idle: nothing delivered
   * for `input.idle_timeout` by the gateway clock); when all are idle, the slowest of those.
   * A stream's time is its window watermark (or newest event time without a window step); with
   * `running`, plus the gateway time since it last delivered (its clock running on while silent).
   * Never another device's time. -Infinity for a device not seen.
   */
  deviceTime(device: string, running?: boolean): number;
  /**
   * The device's streams (those whose metric `metrics` takes; all without it) are held back from
   * event time `ts` on (its machine stands): the detect steps after this operator feed no alert
   * with their records from `ts` until the pause ends (a window closing after the stop is still
   * learnt) and, live, detectors of absence are not asked about them until `resume`. With `stop`
   * (a running machine stopped, not one first seen standing), what those steps were counting
   * towards an alert ends, and the alerts of rules with `alert.at_stop: clear` clear at `ts` with
   * its reason and value.
   */
  pause(device: string, ts: number, metrics?: (metric: string) => boolean, stop?: StopEvent): void;
  /**
   * ...and were paused until event time `ts` (call it before passing the reading at `ts` on): the
   * detect steps after this operator do not count the pause as the streams' time (Detector.resume).
   */
  resume(device: string, ts: number, metrics?: (metric: string) => boolean): void;
}

/** A machine stopped (OperatorContext.pause): what the alerts it clears carry. */
export interface StopEvent {
  /** The reading that showed the stop (e.g. its current). */
  value: number;
  reason: string;
}

/** A compiled operator step: one instance per pipeline (state across keys is its own, and bounded by it). */
export interface EngineOperator {
  readonly name: string;
  /** A reading reached this step. Omit to pass readings on unchanged. */
  reading?(r: Reading, ctx: OperatorContext): void;
  /** A window result reached this step. Omit to pass results on unchanged. */
  result?(res: WindowResult, ctx: OperatorContext): void;
  /** The gateway clock moved on (live ticks). Per-device time: `ctx.deviceTime`. */
  advanceTo?(now: number, ctx: OperatorContext): void;
  /** End of input or shutdown: emit what is pending. */
  flush?(partial: boolean, ctx: OperatorContext): void;
  /**
   * Live: the device has sent nothing for `input.forget_after` (gateway running time): drop what
   * the operator keeps for it; an alert it holds active clears at event time `ts` with `reason`.
   * Its windows have been flushed (partial) just before.
   */
  forget?(device: string, ts: number, reason: string, ctx: OperatorContext): void;
  /**
   * A stream's clock was set back (`input.clock_jump`: a device clock corrected by more than its
   * `threshold`): its newest time was `from`, its readings go on from `to` (< from) on the new
   * clock. Each of a device's streams is re-based in turn, at its own first reading on the new
   * clock: what the operator keeps for the device on the old clock should go on, on the new one
   * (else the device's readings are late until real time catches up with the old clock).
   */
  rebased?(stream: string, from: number, to: number, ctx: OperatorContext): void;
  /** State to save across restarts (JSON), and to restore it. */
  snapshot?(): unknown;
  restore?(snap: unknown): void;
  /**
   * What the operator did that a user should be able to see, by name (counts since start: events
   * raised, readings it could not judge and why). Drops go through `ctx.drop` instead.
   */
  counters?(): Readonly<Record<string, number>>;
  /**
   * Where each thing the operator keeps stands now, a row each (a vehicle's learnt forward, a
   * patient's band): what `edgewise status` and GET /api/status show. Plain values only (strings,
   * numbers, booleans and arrays of them).
   */
  status?(): readonly object[];
  /**
   * Where its things stand as numbers now (vehicles whose forward is unknown, machines running):
   * Prometheus gauges, `edgewise_pipeline_operator_state{pipeline, operator, name}`.
   */
  gauges?(): Record<string, number>;
}

/** One operator step's status rows (the first STATUS_ROWS of `total`). */
export interface StepStatus {
  pipeline: string;
  step: string;
  total: number;
  rows: readonly object[];
}

/** Rows shown per step: a fleet's status stays readable and its event stream small. */
export const STATUS_ROWS = 50;

/** A detector's judgement of one record, for replay/backtest (one per judged reading or window). */
export interface DetectEvent {
  step: string;
  stream: string;
  ts: number;
  value: number;
  score: number;
  anomalous: boolean;
  alertActive: boolean;
}

export interface PipelineOptions {
  /** Called for every detector judgement (replay writes anomaly_score per row from these). */
  onDetect?: (e: DetectEvent) => void;
  /** Samples kept per drop reason. */
  samplesPerReason?: number;
}

export interface PipelineStats {
  pipeline: string;
  /** Readings offered that matched `input.streams` (and readings without a stream, refused as `missing_stream`). */
  received: number;
  /** Accepted into the steps (valid, within key and time bounds). */
  accepted: number;
  /**
   * Dropped by reason. Refused at the input: not_a_number, nan, infinite, bad_time,
   * missing_stream, key_limit, future, clock_jump_back, clock_jump_forward; dropped later by a
   * step (of accepted readings or their results): e.g. sensor_fault, news2_late, join_late.
   */
  dropped: Record<string, number>;
  /** Readings refused at the input (the sum of the input reasons above). */
  refused: number;
  /**
   * received − accepted − refused − late: always 0. Every reading offered ends accepted, refused
   * with a reason, or late; `filtered` and step drops are parts of `accepted`.
   */
  unaccounted: number;
  /** Streams re-based after a clock jump (their open windows emitted as partial). */
  rebased: number;
  /** Readings later than the allowed lateness: sent to the `late` side output. */
  late: number;
  /** Live, with `input.forget_after`: devices forgotten after their silence, and their streams (keys). */
  forgottenDevices: number;
  forgotten: number;
  /** Readings or results a filter step dropped (by design, not an error). */
  filtered: number;
  windowsFired: number;
  emitted: Record<string, number>;
  keys: number;
  openWindows: number;
  /** Each operator step's own counters (`EngineOperator.counters`), by step name; only steps that have them. */
  operators: Record<string, Record<string, number>>;
  /** Each operator step's gauges (`EngineOperator.gauges`), by step name; only steps that have them. */
  gauges: Record<string, Record<string, number>>;
  /**
   * Each detect step's streams, in chain order: how many it keeps a detector for, and how many of
   * those are still learning (their detector in warm-up, or nothing judged yet): no alert can come
   * from a learning stream.
   */
  detectors: DetectorStats[];
}

/** One detect step's streams (PipelineStats.detectors). */
interface DetectorStats {
  /** The step's name (its detector kind unless named). */
  step: string;
  streams: number;
  learning: number;
}

type RecordOp = {
  reading(keyState: KeyState, r: Reading): void;
  result(keyState: KeyState, res: WindowResult): void;
};

/**
 * A compiled pipeline: pure (no I/O, no wall clock). Time comes from the readings, or from
 * `advanceTo(now)` when running live. Emissions go to the sink synchronously.
 */
export class Pipeline {
  readonly name: string;
  readonly drops: DropCounter;
  private readonly matcher: StreamMatcher;
  private readonly keys = new Map<string, KeyState>();
  private readonly head: RecordOp;
  private readonly windowOp: WindowOperator | undefined;
  private readonly windowSlot: number;
  private readonly detectSteps: Array<{ slot: number; step: EngineDetectStep }> = [];
  /** Detect steps whose detector judges absence (`dropout`): asked on every tick. */
  private readonly overdueSteps: Array<{ slot: number; step: EngineDetectStep }> = [];
  /** Operator steps in chain order, each with the first slot after it. */
  private readonly operators: Array<{ op: EngineOperator; ctx: OperatorContext; slot: number }> = [];
  private slotCount = 0;
  private readonly maxKeys: number;
  private readonly maxFutureSkew: number;
  private readonly ingestTime: boolean;
  /** A step in a stream's time bigger than this is a clock jump (at least the window's lateness). */
  private readonly jumpThreshold: number;
  /**
   * Live: a stream that ran ahead of the gateway clock by more than this (the window's lateness,
   * at least 30 s: more than a delivery's delay) and steps back to it had its clock corrected.
   */
  private readonly correctionAfter: number;
  private readonly jumpConfirm: number;
  /** Silence (gateway clock) after which a stream is idle for cross-stream operators. */
  private readonly streamIdle: number;
  /**
   * The gateway clock: newest of advanceTo(now) and arrival times. -Infinity in a replay without
   * arrival times (there is then no idleness: the end of input closes what is open). Snapshot it.
   */
  private gatewayClock = -Infinity;
  private nextIdleCheck = -Infinity;
  private readonly idleCheckEvery: number;
  /** Streams per device, for cross-stream operators (deviceTime). */
  private readonly byDevice = new Map<string, KeyState[]>();
  /** Readings by outcome (the counters of `stats()`). */
  private readonly counts = { received: 0, accepted: 0, refused: 0, late: 0, filtered: 0, windowsFired: 0, rebased: 0, forgottenDevices: 0, forgotten: 0 };
  /** `input.forget_after` (Infinity: never), and when the devices are next checked for it. */
  private readonly forgetAfter: number;
  private nextForgetCheck = -Infinity;
  /** Gateway clock gaps longer than RESUMED_AFTER (the gateway not running), summed: not the devices' silence. */
  private downtime = 0;
  private readonly emitted = new Map<string, number>();

  constructor(
    readonly spec: EnginePipelineSpec,
    private readonly sink: Sink,
    private readonly opts: PipelineOptions = {},
  ) {
    this.name = spec.name;
    this.drops = new DropCounter(opts.samplesPerReason ?? 5);
    this.matcher = new StreamMatcher(spec.input.streams);
    this.maxKeys = spec.input.max_keys;
    this.maxFutureSkew = spec.input.max_future_skew;
    this.forgetAfter = spec.input.forget_after ?? Infinity;
    this.ingestTime = spec.input.time === 'ingest';
    this.jumpConfirm = spec.input.clock_jump.confirm;
    let op: RecordOp = { reading() {}, result() {} };
    let windowOp: WindowOperator | undefined;
    let windowSlot = -1;
    // Build the chain back to front; each step knows only the next.
    const steps = spec.steps;
    const slotOf = new Map<EngineStep, number>();
    const slotsBefore = new Map<EngineStep, number>();
    for (const stepDef of steps) {
      slotsBefore.set(stepDef, this.slotCount);
      if (stepDef.kind === 'window' || stepDef.kind === 'detect') slotOf.set(stepDef, this.slotCount++);
    }
    for (const stepDef of [...steps].reverse()) {
      const after = op;
      switch (stepDef.kind) {
        case 'operator':
          op = this.operatorOp(stepDef.operator, op, slotsBefore.get(stepDef)!);
          break;
        case 'filter':
          op = this.filterOp(stepDef.filter, op);
          break;
        case 'map':
          op = this.mapOp(stepDef.map, op);
          break;
        case 'output':
          op = this.outputOp(stepDef.output, op);
          break;
        case 'window':
          windowOp = makeWindowOperator(stepDef.window);
          windowSlot = slotOf.get(stepDef)!;
          op = this.windowStep(windowOp, windowSlot, op);
          break;
        case 'detect': {
          const slot = slotOf.get(stepDef)!;
          this.detectSteps.push({ slot, step: stepDef.detect });
          if (stepDef.detect.overdue) this.overdueSteps.push({ slot, step: stepDef.detect });
          op = this.detectOp(stepDef.detect, slot, op);
          break;
        }
      }
      if (stepDef.streams && stepDef.kind !== 'window') op = this.selectOp(new StreamMatcher(stepDef.streams), op, after);
    }
    this.operators.reverse(); // chain order: upstream operators flush first
    this.head = op;
    this.windowOp = windowOp;
    this.windowSlot = windowSlot;
    const idle = windowOp?.idleTimeout ?? Infinity;
    this.idleCheckEvery = Number.isFinite(idle) ? Math.max(1, Math.floor(idle / 4)) : Infinity;
    this.streamIdle = spec.input.idle_timeout ?? (Number.isFinite(idle) ? idle : 60_000);
    const lateness = windowOp instanceof TimeWindowOperator || windowOp instanceof SessionWindowOperator ? windowOp.lateness : 0;
    this.jumpThreshold = Math.max(spec.input.clock_jump.threshold, lateness);
    this.correctionAfter = Math.max(lateness, 30_000);
  }

  /** Does this pipeline take readings of this stream? */
  matches(stream: string): boolean {
    return this.matcher.matches(stream);
  }

  /**
   * Offer one reading. Returns false when the stream is not for this pipeline. Bad readings are
   * counted in `drops` (with a sample) and never throw.
   */
  push(r: Reading): boolean {
    const stream = r?.stream;
    if (typeof stream !== 'string' || stream.length === 0) {
      this.counts.received++;
      this.refuse('missing_stream', r, 'a reading needs a non-empty "stream" ("<device>/<metric>")');
      return false;
    }
    if (!this.matcher.matches(stream)) return false;
    this.counts.received++;
    const v = r.value;
    if (typeof v !== 'number') return this.refuse('not_a_number', r, `${stream}: value is ${v === undefined ? 'missing' : typeof v}, expected a number`);
    if (Number.isNaN(v)) return this.refuse('nan', r, `${stream}: value is NaN`);
    if (v === Infinity || v === -Infinity) return this.refuse('infinite', r, `${stream}: value is ${v}`);
    let ts = r.ts;
    if (typeof ts !== 'number' || !(ts <= MAX_DATE_MS && ts >= -MAX_DATE_MS)) {
      return this.refuse('bad_time', r, Number.isFinite(ts)
        ? `${stream}: event time ${ts} is outside the date range (±${MAX_DATE_MS} ms, years −271821…275760): check the device's time unit (ms since the epoch)`
        : `${stream}: event time is ${String(ts)}, expected ms since the epoch`);
    }
    const arrival = r.arrival;
    const live = typeof arrival === 'number' && arrival - arrival === 0; // a finite number
    if (live && arrival > this.gatewayClock) this.clockTo(arrival);
    if (this.ingestTime && live) {
      ts = arrival;
      r = { ...r, ts };
    }
    // Live, the reading is judged against the gateway clock when it arrived (from the first reading).
    const ref = live ? arrival : this.gatewayClock;
    if (ts > ref + this.maxFutureSkew && ref !== -Infinity) {
      return this.refuse('future', r, `${stream}: event time ${isoTime(ts)} is more than ${this.maxFutureSkew} ms ahead of the gateway clock ${isoTime(ref)}: the device clock runs ahead (max_future_skew)${unitHint(ts, ref)}`);
    }
    const keyState = this.keyFor(stream, r);
    if (keyState === undefined) {
      this.counts.refused++;
      return true;
    }
    const step = ts - keyState.maxTs; // Infinity for a key's first reading
    if ((step > this.jumpThreshold || step < -this.jumpThreshold) && keyState.maxTs !== -Infinity) {
      if (!this.clockJump(keyState, r, ts, ref)) return true;
    } else {
      if (keyState.jumpRun !== 0) keyState.jumpRun = 0;
      // Live: a stream that ran ahead of the gateway clock steps back to it: its device's clock was
      // corrected (NTP), by less than the jump threshold. Re-based, so that the minutes it ran ahead
      // are not `late` in every step until real time catches up.
      if (live && step < 0 && keyState.maxTs - keyState.lastArrival > this.correctionAfter && Math.abs(ts - arrival) < -step / 2) this.rebase(keyState, ts, arrival);
    }
    if (this.windowOp?.eventTime) {
      let wst = keyState.slots[this.windowSlot];
      if (wst === undefined) wst = keyState.slots[this.windowSlot] = this.windowOp.createKey();
      const wm = this.windowOp.watermark(wst);
      // Live: newer than anything the stream sent, behind only where its idle windows were closed
      // to (its newest time plus its silence), from a stream that ran ahead of the gateway clock
      // and now is near it: its clock was set right while it was silent (a restart with NTP). Its
      // windows start afresh at this reading. No step is told: nothing kept for it is later than
      // this reading (no duration comes out negative; one across the silence is short by the lead).
      // Taken for such a correction wrongly (a fast device's backlog), a window restarts: no harm.
      const lead = ts < wm ? keyState.maxTs - keyState.lastArrival : 0;
      if (live && lead > 0 && ts > keyState.maxTs && Math.abs(ts - arrival) < lead / 2) {
        this.counts.rebased++;
        this.windowOp.flush(wst, keyState.stream, true, (res) => this.fired(keyState, res));
        keyState.slots[this.windowSlot] = this.windowOp.createKey();
      } else if (ts < wm) {
        this.counts.late++;
        this.count('late');
        this.sink({ kind: 'late', pipeline: this.name, output: 'late', reading: r, watermark: wm });
        // A stream that delivers is not silent, if late: else its idle windows would go on closing
        // at its newest time plus the silence, ahead of what it sends, and every reading after it
        // be late for good (a device fast by a minute, restarted, back with its clock set right).
        if (live) keyState.lastArrival = arrival;
        return true;
      }
    }
    this.counts.accepted++;
    if (ts > keyState.maxTs) keyState.maxTs = ts;
    // In a replay the event time stands in for the arrival time (only this key's own idleness uses it).
    keyState.lastArrival = live ? arrival : this.gatewayClock !== -Infinity ? this.gatewayClock : ts;
    if (live) keyState.seenAt = arrival - this.downtime;
    this.head.reading(keyState, r);
    if (live && arrival >= this.nextIdleCheck) this.checkIdle();
    return true;
  }

  /** Count a reading refused at the input. Returns true (the reading was for this pipeline). */
  private refuse(reason: string, r: unknown, detail: string): true {
    this.counts.refused++;
    this.drops.drop(reason, r, detail);
    return true;
  }

  /**
   * A reading whose time jumped by more than the threshold from its stream's newest time.
   * Returns true to accept it (the stream re-based where needed), false when refused and counted.
   */
  private clockJump(keyState: KeyState, r: Reading, ts: number, ref: number): boolean {
    const back = ts < keyState.maxTs;
    const T = this.jumpThreshold;
    if (ref !== -Infinity) {
      // Live: the gateway clock says which side is right. A jump to within T of it is a clock
      // being corrected (NTP, GPS fix): re-base. A jump away from it is refused for as long as it lasts.
      if (ts >= ref - T && ts <= ref + T) {
        if (back) this.rebase(keyState, ts, ref);
        keyState.jumpRun = 0;
        return true;
      }
    } else if (!back) {
      // Replay: a jump ahead cannot be told from a gap in the recording.
      keyState.jumpRun = 0;
      return true;
    } else if (this.deviceAt(keyState, ts)) {
      // Replay: another stream of the device is already at this time (re-based before this one,
      // or never ahead): a device has one clock as a rule, so this needs no confirming (else a
      // stream read every 5 minutes lost its first 20 minutes after a correction).
      this.rebase(keyState, ts);
      keyState.jumpRun = 0;
      return true;
    } else {
      keyState.jumpRun = keyState.jumpRun > 0 && Math.abs(ts - keyState.jumpTs) <= T ? keyState.jumpRun + 1 : 1;
      keyState.jumpTs = ts;
      if (keyState.jumpRun >= this.jumpConfirm) {
        this.rebase(keyState, ts);
        keyState.jumpRun = 0;
        return true;
      }
    }
    const reason = back ? 'clock_jump_back' : 'clock_jump_forward';
    const against = ref !== -Infinity ? ` and ${Math.round(Math.abs(ts - ref) / 1000)} s from the gateway clock ${isoTime(ref)}` : `; the stream is re-based after ${this.jumpConfirm} consistent readings`;
    this.refuse(reason, r, `${keyState.stream}: event time ${isoTime(ts)} jumped ${back ? 'back' : 'forward'} ${Math.round(Math.abs(ts - keyState.maxTs) / 1000)} s from the stream's newest ${isoTime(keyState.maxTs)}${against} (device clock reset or rollover?)`);
    return false;
  }

  /** Is another stream of `keyState`'s device at `ts` (its newest time within the jump threshold)? */
  private deviceAt(keyState: KeyState, ts: number): boolean {
    for (const ks of this.byDevice.get(deviceOf(keyState.stream)) ?? []) if (ks !== keyState && Math.abs(ks.maxTs - ts) <= this.jumpThreshold) return true;
    return false;
  }

  /**
   * Start a stream's time afresh after its clock jumped back to `ts`: operators are told (in chain
   * order, those before the window step first), its open windows go out (partial), then new ones.
   * So do the open windows of the device's other streams still on the old clock (nearer its newest
   * time than `ts`), together and in time order: a device has one clock as a rule, and each of its
   * streams is re-based at its own next reading, so a join after the window step would otherwise
   * get one stream's last windows before another's (parts of one window `join_late`). Last, its
   * detect steps (and those of the streams its device's operators make) move their times.
   */
  private rebase(keyState: KeyState, ts: number, arrival?: number): void {
    this.counts.rebased++;
    // Where the old clock would be now: live, the gateway clock says how long passed since the
    // stream's last reading (the readings' times alone put the two on top of each other) — at
    // most half the step back, so that what was kept on the old clock (up to its newest time) is
    // still nearer `from` than `to` (onOldClock): a silence longer than that (a device restarted
    // with its clock set right) is taken off the correction in part.
    const gap = arrival !== undefined && arrival > keyState.lastArrival ? arrival - keyState.lastArrival : 0;
    const from = keyState.maxTs + Math.min(gap, (keyState.maxTs - ts) / 2);
    const windowSlot = this.windowOp ? this.windowSlot : Infinity;
    for (const { op: o, ctx, slot } of this.operators) if (slot <= windowSlot) o.rebased?.(keyState.stream, from, ts, ctx);
    const op = this.windowOp;
    if (op) {
      const closed: ClosedWindow[] = [];
      for (const ks of this.byDevice.get(deviceOf(keyState.stream)) ?? [keyState]) {
        const slotState = ks.slots[this.windowSlot];
        if (slotState === undefined || !(ks === keyState || onOldClock(ks.maxTs, from, ts))) continue;
        op.flush(slotState, ks.stream, true, (res) => closed.push({ keyState: ks, res }));
        ks.slots[this.windowSlot] = op.createKey();
      }
      this.fireInOrder(closed);
    }
    for (const { op: o, ctx, slot } of this.operators) if (slot > windowSlot) o.rebased?.(keyState.stream, from, ts, ctx);
    // Last, when every old-clock record has been judged: the detect steps of the stream, and of the
    // streams its device's operators make (a join's `<device>/vibration`: never read, no time of their own).
    for (const ks of this.byDevice.get(deviceOf(keyState.stream)) ?? [keyState]) {
      if (ks !== keyState && ks.maxTs !== -Infinity) continue;
      for (const { slot, step } of this.detectSteps) {
        const slotState = ks.slots[slot];
        if (slotState !== undefined) step.rebased?.(slotState, from, ts);
      }
    }
    keyState.maxTs = -Infinity;
  }

  /**
   * Live mode: the gateway's clock. Closes windows of silent streams (each at its own time), asks
   * detectors of absence about silent streams, and lets operators see the time.
   */
  advanceTo(now: number): void {
    if (now > this.gatewayClock) this.clockTo(now);
    if (this.gatewayClock >= this.nextIdleCheck) this.checkIdle();
    if (this.overdueSteps.length > 0) this.checkOverdue();
    for (const { op, ctx } of this.operators) op.advanceTo?.(this.gatewayClock, ctx);
    if (this.gatewayClock >= this.nextForgetCheck && this.forgetAfter !== Infinity) this.checkForget();
  }

  /** The gateway clock moves on to `now` (later than it): a gap of more than RESUMED_AFTER was the gateway's own downtime. */
  private clockTo(now: number): void {
    if (now - this.gatewayClock > RESUMED_AFTER && this.gatewayClock !== -Infinity) {
      this.downtime += now - this.gatewayClock;
      if (this.overdueSteps.length > 0) this.resumeIfPaused(now);
    }
    this.gatewayClock = now;
  }

  /**
   * Live, with `input.forget_after`: forget every device none of whose streams has delivered for
   * that long in the gateway's running time (its downtime does not count). Checked at most 8
   * times per `forget_after`, and at least every minute.
   */
  private checkForget(): void {
    const running = this.gatewayClock - this.downtime;
    this.nextForgetCheck = this.gatewayClock + Math.min(60_000, this.forgetAfter / 8);
    for (const [device, list] of [...this.byDevice]) {
      let seen = -Infinity;
      let maxTs = -Infinity;
      for (const k of list) {
        if (k.seenAt > seen) seen = k.seenAt;
        if (k.maxTs > maxTs) maxTs = k.maxTs;
      }
      if (seen === -Infinity || running - seen < this.forgetAfter) continue;
      // at the device's own time: its newest event time plus the silence
      this.forget(device, (maxTs === -Infinity ? this.gatewayClock : maxTs) + (running - seen));
    }
  }

  /**
   * Forget a device at event time `ts`: its open windows go out (partial), active alerts of its
   * streams clear with the reason, operators drop what they keep for it, and its keys go (counted).
   */
  private forget(device: string, ts: number): void {
    const reason = `forgotten: ${device} sent nothing for ${formatDuration(this.forgetAfter)} (input.forget_after)`;
    // in chain order: operators before the window step (a `running` step passes on what it held), the window, those after it
    const windowSlot = this.windowOp ? this.windowSlot : Infinity;
    for (const { op: o, ctx, slot } of this.operators) if (slot <= windowSlot) o.forget?.(device, ts, reason, ctx);
    const op = this.windowOp;
    if (op) {
      const closed: ClosedWindow[] = [];
      for (const keyState of this.byDevice.get(device) ?? []) {
        const slotState = keyState.slots[this.windowSlot];
        if (slotState !== undefined) op.flush(slotState, keyState.stream, true, (res) => closed.push({ keyState, res }));
      }
      this.fireInOrder(closed);
    }
    for (const { op: o, ctx, slot } of this.operators) if (slot > windowSlot) o.forget?.(device, ts, reason, ctx);
    for (const keyState of this.byDevice.get(device) ?? []) {
      for (const { slot, step } of this.detectSteps) {
        const slotState = keyState.slots[slot];
        const alert = slotState !== undefined ? step.forget?.(slotState, ts, reason) : undefined;
        if (alert) this.emitAlert(step.output, alert);
      }
    }
    const list = this.byDevice.get(device) ?? [];
    for (const keyState of list) this.keys.delete(keyState.stream);
    this.byDevice.delete(device);
    this.counts.forgottenDevices++;
    this.counts.forgotten += list.length;
  }

  /**
   * Nothing arrived and no tick came for RESUMED_AFTER: the gateway was not running (a restart
   * after downtime). What it did not hear meanwhile is not the streams' silence: detectors of
   * absence count each stream's silence from now.
   */
  private resumeIfPaused(now: number): void {
    for (const { slot, step } of this.overdueSteps) {
      for (const keyState of this.keys.values()) {
        const slotState = keyState.slots[slot];
        if (slotState !== undefined && keyState.maxTs !== -Infinity && now > keyState.lastArrival) step.resume!(slotState, keyState.maxTs + (now - keyState.lastArrival));
      }
    }
  }

  /**
   * Streams silent since their last reading (by the gateway clock), judged by the detectors of
   * absence at their own time: newest event time plus the silence. A replay has no ticks: there the
   * reading after a gap is what is judged.
   */
  private checkOverdue(): void {
    const now = this.gatewayClock;
    for (const { slot, step } of this.overdueSteps) {
      for (const keyState of this.keys.values()) {
        const slotState = keyState.slots[slot];
        if (slotState === undefined || keyState.maxTs === -Infinity || !(now > keyState.lastArrival)) continue;
        if (keyState.paused && slot >= keyState.pausedFrom) continue;
        const at = keyState.maxTs + (now - keyState.lastArrival);
        if (keyState.resumed !== null) this.applyPause(keyState, slot, slotState, step, at);
        const alert = step.overdue!(slotState, at);
        if (alert) this.emitAlert(step.output, alert);
      }
    }
  }

  /**
   * Fire every open window. At the end of a replay the windows are complete (`partial` false);
   * at shutdown pass `partial` true so consumers know the last windows were cut short.
   */
  flush(partial = false): void {
    const op = this.windowOp;
    if (op) {
      const closed: ClosedWindow[] = [];
      for (const keyState of [...this.keys.values()]) {
        const slotState = keyState.slots[this.windowSlot];
        if (slotState !== undefined) op.flush(slotState, keyState.stream, partial, (res) => closed.push({ keyState, res }));
      }
      this.fireInOrder(closed);
    }
    for (const { op: o, ctx } of this.operators) o.flush?.(partial, ctx);
  }

  stats(): PipelineStats {
    let open = 0;
    if (this.windowOp) for (const keyState of this.keys.values()) {
      const slotState = keyState.slots[this.windowSlot];
      if (slotState !== undefined) open += this.windowOp.openCount(slotState);
    }
    // (detectSteps is built back to front, as the chain is)
    const detectors = [...this.detectSteps].reverse().map(({ slot, step }) => {
      let streams = 0;
      let learning = 0;
      for (const keyState of this.keys.values()) {
        const slotState = keyState.slots[slot];
        if (slotState === undefined) continue;
        streams++;
        if (step.learning?.(slotState) === true) learning++;
      }
      return { step: step.name, streams, learning };
    });
    return {
      pipeline: this.name,
      ...this.counts,
      unaccounted: this.counts.received - this.counts.accepted - this.counts.refused - this.counts.late,
      dropped: this.drops.counters(),
      emitted: Object.fromEntries(this.emitted),
      keys: this.keys.size,
      openWindows: open,
      operators: Object.fromEntries(this.operators.flatMap(({ op }) => (op.counters ? [[op.name, { ...op.counters() }]] : []))),
      gauges: Object.fromEntries(this.operators.flatMap(({ op }) => (op.gauges ? [[op.name, op.gauges()]] : []))),
      detectors,
    };
  }

  /** Each operator step's status rows, in chain order (EngineOperator.status). */
  stepStatus(): StepStatus[] {
    return [...this.operators].reverse().flatMap(({ op }) => {
      if (!op.status) return [];
      const rows = op.status();
      return [{ pipeline: this.name, step: op.name, total: rows.length, rows: rows.slice(0, STATUS_ROWS) }];
    });
  }

  /**
   * Every stateful part of the pipeline as plain data, one part per operator: the key registry
   * (with each key's time state), the open windows of every key, each detect step's detector and
   * alert state per key, and each operator step's own state. Taken between two pushes, so it
   * matches exactly the emissions made so far, and independent of the live state. With a
   * `capture` (a periodic checkpoint's), detectors share their live typed arrays with it instead
   * of copying them: each copies its own before its next change while the capture is open.
   */
  snapshot(capture?: SharedCapture): PipelineSnapshot {
    const parts: Record<string, PartSnapshot> = {};
    const keys: Array<Record<string, unknown>> = [];
    for (const keyState of this.keys.values()) {
      const { slots: _slots, ...time } = keyState;
      keys.push(time);
    }
    parts.keys = { version: PART_VERSIONS.keys, data: { gatewayClock: this.gatewayClock, nextIdleCheck: this.nextIdleCheck, downtime: this.downtime, nextForgetCheck: this.nextForgetCheck, keys } };
    if (this.windowOp) {
      const list: Array<[string, unknown]> = [];
      for (const keyState of this.keys.values()) {
        const slotState = keyState.slots[this.windowSlot];
        if (slotState !== undefined) list.push([keyState.stream, this.windowOp.snapshotKey(slotState)]);
      }
      parts.window = { version: PART_VERSIONS.window, data: list };
    }
    for (const { slot, step } of this.detectSteps) {
      const list: Array<[string, unknown]> = [];
      for (const keyState of this.keys.values()) {
        const slotState = keyState.slots[slot];
        if (slotState !== undefined) list.push([keyState.stream, step.snapshot(slotState, capture)]);
      }
      parts[`detect:${step.name}`] = { version: PART_VERSIONS.detect, data: list };
    }
    for (const { op } of this.operators) if (op.snapshot) parts[`operator:${op.name}`] = { version: PART_VERSIONS.operator, data: op.snapshot() };
    return { pipeline: this.name, parts };
  }

  /**
   * Restore a snapshot, part by part: a part that cannot be restored (unknown, newer version,
   * damaged) is returned as a failure and its operator alone starts fresh; the others are restored.
   * Call on a fresh pipeline, before the first reading.
   */
  restore(snap: PipelineSnapshot): RestoreFailure[] {
    const failures: RestoreFailure[] = [];
    const parts = Object.entries(snap.parts).sort(([a], [b]) => (a === 'keys' ? -1 : b === 'keys' ? 1 : 0));
    for (const [part, saved] of parts) {
      const kind = partKind(part);
      try {
        if (!kind) throw new Error(`unknown part "${part}"`);
        if (saved.version !== PART_VERSIONS[kind]) throw new Error(`${part} was saved in format version ${saved.version}; this build reads version ${PART_VERSIONS[kind]}`);
        this.restorePart(part, kind, saved.data);
      } catch (err) {
        failures.push({ pipeline: this.name, part, version: saved.version, error: (err as Error).message });
      }
    }
    return failures;
  }

  private restorePart(part: string, kind: keyof typeof PART_VERSIONS, data: unknown): void {
    const perKey = (what: string, restoreOne: (stream: string, d: unknown) => unknown, slot: number) => {
      if (!Array.isArray(data)) throw new Error(`${what}: saved state must be [[stream, state], ...]`);
      // Build everything first: a damaged entry leaves this part (and only it) fresh.
      const built: Array<[string, unknown]> = [];
      for (const e of data as Array<[string, unknown]>) {
        if (!Array.isArray(e) || typeof e[0] !== 'string') throw new Error(`${what}: each entry must be [stream, state]`);
        // Every key of the registry (restored first) gets its state back, streams that operators
        // make and the input does not name too (a join's `<device>/vibration`); an entry without
        // a key (beyond max_keys) is skipped unless the input takes its stream.
        if (!this.matcher.matches(e[0]) && !this.keys.has(e[0])) continue;
        try {
          built.push([e[0], restoreOne(e[0], e[1])]);
        } catch (err) {
          throw new Error(`${what}, stream ${e[0]}: ${(err as Error).message}`);
        }
      }
      for (const [stream, slotState] of built) {
        const keyState = this.restoredKey(stream);
        if (keyState) keyState.slots[slot] = slotState;
      }
    };
    if (kind === 'keys') {
      const d = data as { gatewayClock: number; nextIdleCheck: number; downtime?: number; nextForgetCheck?: number; keys: Array<Record<string, unknown> & { stream: string }> };
      if (typeof d?.gatewayClock !== 'number' || !Array.isArray(d.keys)) throw new Error('keys: saved state must be { gatewayClock, nextIdleCheck, keys: [{ stream, maxTs, lastArrival, ... }] }');
      for (const k of d.keys) if (typeof k?.stream !== 'string') throw new Error('keys: each key must have a "stream"');
      this.gatewayClock = d.gatewayClock;
      this.nextIdleCheck = d.nextIdleCheck;
      // saved before forget_after: no downtime counted, every stream seen at the checkpoint
      this.downtime = typeof d.downtime === 'number' ? d.downtime : 0;
      this.nextForgetCheck = typeof d.nextForgetCheck === 'number' ? d.nextForgetCheck : -Infinity;
      for (const k of d.keys) {
        const keyState = this.restoredKey(k.stream);
        if (keyState) Object.assign(keyState, k, { slots: keyState.slots }, typeof k.seenAt === 'number' ? {} : { seenAt: this.gatewayClock - this.downtime });
      }
    } else if (kind === 'window') {
      const op = this.windowOp;
      if (!op) throw new Error('the pipeline has no window step any more');
      perKey('window', (_s, d) => op.restoreKey(d), this.windowSlot);
    } else if (kind === 'detect') {
      const name = part.slice('detect:'.length);
      const found = this.detectSteps.find((d) => d.step.name === name);
      if (!found) throw new Error(`the pipeline has no detect step "${name}" any more`);
      perKey(`detect step "${name}"`, (stream, d) => found.step.restore(stream, d), found.slot);
    } else {
      const name = part.slice('operator:'.length);
      const found = this.operators.find((o) => o.op.name === name);
      if (!found?.op.restore) throw new Error(`the pipeline has no operator step "${name}" that keeps state`);
      found.op.restore(data);
    }
  }

  /** The key of a restored stream, created within max_keys. */
  private restoredKey(stream: string): KeyState | undefined {
    return this.keys.get(stream) ?? (this.keys.size < this.maxKeys ? this.addKey(stream) : undefined);
  }


  /**
   * Close the windows of streams that have delivered nothing for idle_timeout by the gateway clock,
   * each at its own time (newest event time plus the gateway time since), never another stream's.
   */
  private checkIdle(): void {
    const now = this.gatewayClock;
    if (now === -Infinity) return;
    this.nextIdleCheck = now + this.idleCheckEvery;
    const op = this.windowOp;
    if (!op || !Number.isFinite(op.idleTimeout)) return;
    const closed: ClosedWindow[] = [];
    for (const keyState of this.keys.values()) {
      const silent = now - keyState.lastArrival;
      if (silent >= op.idleTimeout && keyState.maxTs !== -Infinity) {
        const slotState = keyState.slots[this.windowSlot];
        if (slotState !== undefined) op.idle(slotState, keyState.stream, keyState.maxTs + silent, (res) => closed.push({ keyState, res }));
      }
    }
    this.fireInOrder(closed);
  }

  /**
   * Windows closed together (at the end of input, or a device falling silent) go on in time order
   * across streams, as they would have closed live: a step that combines a device's streams (join)
   * takes its windows in order and counts an older one as late.
   */
  private fireInOrder(closed: ClosedWindow[]): void {
    closed.sort((a, b) => a.res.end - b.res.end || a.res.start - b.res.start);
    for (const { keyState, res } of closed) this.fired(keyState, res);
  }

  /** See OperatorContext.deviceTime. */
  private deviceTime(device: string, running = false): number {
    const list = this.byDevice.get(device);
    if (list === undefined) return -Infinity;
    const now = this.gatewayClock;
    let active = Infinity;
    let idle = Infinity;
    for (const keyState of list) {
      if (keyState.maxTs === -Infinity) continue;
      const silent = now === -Infinity ? 0 : Math.max(0, now - keyState.lastArrival);
      const slotState = this.windowOp?.eventTime ? keyState.slots[this.windowSlot] : undefined;
      let t = slotState !== undefined ? this.windowOp!.watermark(slotState) : keyState.maxTs;
      if (running) t = Math.max(t, keyState.maxTs + silent);
      if (silent >= this.streamIdle) idle = Math.min(idle, t);
      else active = Math.min(active, t);
    }
    const t = active !== Infinity ? active : idle;
    return t === Infinity ? -Infinity : t;
  }

  private fired(keyState: KeyState, res: WindowResult): void {
    this.counts.windowsFired++;
    this.afterWindow!.result(keyState, res);
  }

  private afterWindow: RecordOp | undefined;

  private windowStep(op: WindowOperator, slot: number, next: RecordOp): RecordOp {
    this.afterWindow = next;
    return {
      reading: (keyState, r) => {
        let slotState = keyState.slots[slot];
        if (slotState === undefined) slotState = keyState.slots[slot] = op.createKey();
        op.add(slotState, keyState.stream, r, (res) => this.fired(keyState, res));
      },
      result: () => {
        throw new Error('a pipeline has at most one window step');
      },
    };
  }

  private filterOp(f: FilterSpec, next: RecordOp): RecordOp {
    const min = f.min ?? -Infinity;
    const max = f.max ?? Infinity;
    const keep = f.streams ? new StreamMatcher(f.streams) : undefined;
    const drop = f.exclude_streams ? new StreamMatcher(f.exclude_streams) : undefined;
    const field = f.field;
    const passStream = (s: string) => (!keep || keep.matches(s)) && !(drop && drop.matches(s));
    return {
      reading: (keyState, r) => {
        const v = field === 'value' ? r.value : (r.fields?.[field] as number | undefined);
        if (typeof v === 'number' && v >= min && v <= max && passStream(r.stream)) next.reading(keyState, r);
        else this.counts.filtered++;
      },
      result: (keyState, res) => {
        const v = res.values[field] ?? (field === 'count' ? res.count : undefined);
        if (v !== undefined && v >= min && v <= max && passStream(res.stream)) next.result(keyState, res);
        else this.counts.filtered++;
      },
    };
  }

  private mapOp(m: MapSpec, next: RecordOp): RecordOp {
    const convert = m.convert ? CONVERT[m.convert] : undefined;
    const { scale, offset } = m;
    const lo = m.clamp?.min ?? -Infinity;
    const hi = m.clamp?.max ?? Infinity;
    const renamed = new Map<string, string>();
    const rename = (s: string) => {
      let out = renamed.get(s);
      if (out === undefined) {
        const i = s.indexOf('/');
        out = `${i < 0 ? s : s.slice(0, i)}/${m.metric}`;
        if (renamed.size < 100_000) renamed.set(s, out);
      }
      return out;
    };
    return {
      reading: (keyState, r) => {
        let v = convert ? convert(r.value) : r.value;
        v = v * scale + offset;
        if (v < lo) v = lo;
        else if (v > hi) v = hi;
        const out: Reading = { stream: m.metric ? rename(r.stream) : r.stream, ts: r.ts, value: v };
        if (r.fields) out.fields = r.fields;
        if (r.tags) out.tags = r.tags;
        next.reading(keyState, out);
      },
      result: (keyState, res) => next.result(keyState, res),
    };
  }

  private outputOp(name: string, next: RecordOp): RecordOp {
    return {
      reading: (keyState, r) => {
        this.count(name);
        this.sink({ kind: 'reading', pipeline: this.name, output: name, reading: r });
        next.reading(keyState, r);
      },
      result: (keyState, res) => {
        this.count(name);
        this.sink({ kind: 'aggregate', pipeline: this.name, output: name, result: res });
        next.result(keyState, res);
      },
    };
  }

  private detectOp(step: EngineDetectStep, slot: number, next: RecordOp): RecordOp {
    const by = step.by;
    const judge = (keyState: KeyState, stream: string, ts: number, value: number | undefined, context?: number) => {
      if (value === undefined) return;
      if (!(value <= MAX_JUDGED && value >= -MAX_JUDGED)) {
        const what = !Number.isFinite(value) ? `${value} (an aggregate that overflowed?)` : `${value}, beyond ±${MAX_JUDGED} (a fault code such as float32's largest, or a value decoded from the wrong bytes or type?)`;
        this.drops.drop('not_judged', { stream, ts, [step.field]: value }, `detect step "${step.name}", stream ${stream}: ${step.field} is ${what}: not judged, the detector's state kept as it was`, ts);
        return;
      }
      let slotState = keyState.slots[slot];
      if (slotState === undefined) slotState = keyState.slots[slot] = step.createKeyState(stream);
      else if (keyState.resumed !== null) this.applyPause(keyState, slot, slotState, step, ts);
      // from a stop to the end of its pause no alert is fed (a window from before it may close late)
      const quiet = ts >= keyState.stoppedAt && slot >= keyState.pausedFrom && (keyState.paused || ts < keyState.pausedUntil);
      const out = step.update(slotState, ts, value, quiet, context);
      this.opts.onDetect?.({ step: step.name, stream, ts, value, score: out.score, anomalous: out.anomalous, alertActive: out.alertActive });
      if (out.alert) this.emitAlert(step.output, out.alert);
    };
    return {
      reading: (keyState, r) => {
        judge(keyState, r.stream, r.ts, step.field === 'value' ? r.value : (r.fields?.[step.field] as number | undefined), by === undefined ? undefined : (r.fields?.[by] as number | undefined));
        next.reading(keyState, r);
      },
      result: (keyState, res) => {
        // A window result is judged at its end time.
        judge(keyState, res.stream, res.end, step.field === 'count' ? res.count : res.values[step.field], by === undefined ? undefined : by === 'count' ? res.count : res.values[by]);
        next.result(keyState, res);
      },
    };
  }

  /** A stream's machine stopped: the detect steps from `fromSlot` on end what they counted; alerts `at_stop: clear` clear (OperatorContext.pause). */
  private stopAlerts(keyState: KeyState, fromSlot: number, ts: number, stop: StopEvent): void {
    for (const { slot, step } of this.detectSteps) {
      const slotState = keyState.slots[slot];
      if (slot < fromSlot || slotState === undefined || !step.stop) continue;
      const alert = step.stop(slotState, ts, stop.value, stop.reason);
      if (alert) this.emitAlert(step.output, alert);
    }
  }

  /** A detect step's alert event, to its output. */
  private emitAlert(output: string, alert: AlertRecord): void {
    alert.pipeline = this.name;
    this.count(output);
    this.sink({ kind: 'alert', pipeline: this.name, output, alert });
  }

  /** A pause (OperatorContext.resume) reaches a detect step after its operator: once, before its first record (or silence check) at `ts` after it. */
  private applyPause(keyState: KeyState, slot: number, slotState: unknown, step: EngineDetectStep, ts: number): void {
    const done = keyState.resumed!;
    if (ts < keyState.pausedUntil || slot < keyState.pausedFrom || done[slot] === keyState.pausedUntil) return;
    done[slot] = keyState.pausedUntil;
    step.resume?.(slotState, keyState.pausedUntil);
  }

  /** The key state of a stream, created on first use (within max_keys; beyond it the record is refused and counted). */
  private keyFor(stream: string, sample: unknown): KeyState | undefined {
    let keyState = this.keys.get(stream);
    if (keyState === undefined) {
      if (this.keys.size >= this.maxKeys) {
        const hint = this.forgetAfter === Infinity ? 'set input.forget_after to forget devices that went silent (patients discharged, sensors replaced), or raise max_keys' : 'raise max_keys';
        this.drops.drop('key_limit', sample, `${stream}: pipeline ${this.name} already tracks max_keys=${this.maxKeys} streams: ${hint}`);
        return undefined;
      }
      keyState = this.addKey(stream);
    }
    return keyState;
  }

  private addKey(stream: string): KeyState {
    const keyState = newKey(stream, this.slotCount);
    this.keys.set(stream, keyState);
    const device = deviceOf(stream);
    const list = this.byDevice.get(device);
    if (list) list.push(keyState);
    else this.byDevice.set(device, [keyState]);
    return keyState;
  }

  /** `streams:` on a step: matching records go through the step, others straight to what follows it. */
  private selectOp(m: StreamMatcher, step: RecordOp, after: RecordOp): RecordOp {
    return {
      reading: (keyState, r) => (m.matches(r.stream) ? step.reading(keyState, r) : after.reading(keyState, r)),
      result: (keyState, res) => (m.matches(res.stream) ? step.result(keyState, res) : after.result(keyState, res)),
    };
  }

  private operatorOp(op: EngineOperator, next: RecordOp, firstSlotAfter: number): RecordOp {
    const ctx: OperatorContext = {
      pipeline: this.name,
      reading: (r) => {
        const keyState = this.keyFor(r.stream, r);
        if (keyState) next.reading(keyState, r);
      },
      result: (res) => {
        const keyState = this.keyFor(res.stream, res);
        if (keyState) next.result(keyState, res);
      },
      emit: (e) => {
        e.pipeline = this.name;
        if (e.kind === 'alert') e.alert.pipeline = this.name;
        this.count(e.output);
        this.sink(e);
      },
      drop: (reason, sample, detail, at) => this.drops.drop(reason, sample, detail, at),
      deviceTime: (device, running) => this.deviceTime(device, running),
      pause: (device, ts, metrics, stop) => {
        for (const keyState of this.byDevice.get(device) ?? []) {
          if (metrics && !metrics(metricOf(keyState.stream))) continue;
          keyState.paused = true;
          keyState.pausedFrom = firstSlotAfter;
          keyState.stoppedAt = ts;
          if (stop) this.stopAlerts(keyState, firstSlotAfter, ts, stop);
        }
      },
      resume: (device, ts, metrics) => {
        for (const keyState of this.byDevice.get(device) ?? []) {
          if (metrics && !metrics(metricOf(keyState.stream))) continue;
          keyState.paused = false;
          if (!(ts > keyState.pausedUntil)) continue;
          keyState.pausedUntil = ts;
          keyState.pausedFrom = firstSlotAfter;
          keyState.resumed ??= [];
        }
      },
    };
    this.operators.push({ op, ctx, slot: firstSlotAfter });
    return {
      reading: (keyState, r) => (op.reading ? op.reading(r, ctx) : next.reading(keyState, r)),
      result: (keyState, res) => (op.result ? op.result(res, ctx) : next.result(keyState, res)),
    };
  }

  private count(output: string): void {
    this.emitted.set(output, (this.emitted.get(output) ?? 0) + 1);
  }
}

/** Default idle timeout: twice the window (or gap), and at least a minute so device clocks may differ a little. */
function defaultIdle(span: number): number {
  return Math.max(2 * span, 60_000);
}

function makeWindowOperator(w: WindowSpec): WindowOperator {
  const agg = new WindowAggregation(w.aggregates, planFor(w.aggregates));
  switch (w.type) {
    case 'tumbling':
      return new TimeWindowOperator(tumbling(w.size), w.lateness, w.idle_timeout ?? defaultIdle(w.size), agg);
    case 'hopping':
      return new TimeWindowOperator(hopping(w.size, w.hop), w.lateness, w.idle_timeout ?? defaultIdle(w.size), agg);
    case 'sliding':
      return new TimeWindowOperator(sliding(w.size, w.resolution), w.lateness, w.idle_timeout ?? defaultIdle(w.size), agg);
    case 'session':
      return new SessionWindowOperator(w.gap, w.max_duration ?? Infinity, w.lateness, w.idle_timeout ?? defaultIdle(w.gap), agg);
    case 'count':
      return new CountWindowOperator(w.size, w.slide ?? w.size, w.idle_timeout ?? Infinity, agg);
  }
}
