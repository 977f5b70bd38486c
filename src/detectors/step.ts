/**
 * The `detect` pipeline step compiled: detector and alert tracker per key, called by the engine.
 * Pure: time comes from readings. The detector comes from its plugin (src/detectors/<kind>/plugin.ts);
 * the step's config schema is built in schema.ts.
 */
import type { SharedCapture } from '../core/shared-capture.js';
import { AlertTracker, DEFAULT_ALERT_PARAMS, type AlertParams } from '../alerts/tracker.js';
import type { AlertRecord } from '../core/records.js';
import { onOldClock } from '../core/time.js';
import type { DetectorPlugin } from './types.js';
import { SETTLING, type Detector } from './types.js';

/**
 * A validated `detect` step as the step needs it: the fields every detect step has; the detector's
 * own fields go to its plugin's `create`.
 */
export interface DetectStepSpec {
  readonly detector: string;
  readonly name?: string;
  readonly field: string;
  /** The field that gives the operating state (detectors that take one: `ceiling`). */
  readonly by?: string;
  readonly output: string;
  readonly alert: Omit<AlertParams, 'clear_readings' | 'clear_readings_within' | 'cooldown_readings' | 'cooldown_readings_within' | 'cooldown_readings_score'> & {
    clear_readings?: number;
    clear_readings_within?: number;
    cooldown_readings?: number;
    cooldown_readings_within?: number;
    cooldown_readings_score?: number;
  };
}

/** Alert parameters as written, with the detector's defaults (`alertDefaults`), then the usual ones, filled in. */
export function alertParamsFor(a: DetectStepSpec['alert'], defaults: DetectorPlugin['alertDefaults'] = {}): AlertParams {
  return {
    ...DEFAULT_ALERT_PARAMS,
    ...a,
    clear_readings: a.clear_readings ?? defaults.clear_readings ?? DEFAULT_ALERT_PARAMS.clear_readings,
    clear_readings_within: a.clear_readings_within ?? defaults.clear_readings_within ?? DEFAULT_ALERT_PARAMS.clear_readings_within,
    cooldown_readings: a.cooldown_readings ?? defaults.cooldown_readings ?? DEFAULT_ALERT_PARAMS.cooldown_readings,
    cooldown_readings_within: a.cooldown_readings_within ?? defaults.cooldown_readings_within ?? DEFAULT_ALERT_PARAMS.cooldown_readings_within,
    cooldown_readings_score: a.cooldown_readings_score ?? defaults.cooldown_readings_score ?? DEFAULT_ALERT_PARAMS.cooldown_readings_score,
  };
}

interface DetectOutcome {
  score: number;
  anomalous: boolean;
  alertActive: boolean;
  /** Set only on a lifecycle event (raised, active heartbeat, cleared). */
  alert?: AlertRecord;
}

export interface DetectStep {
  readonly name: string;
  readonly field: string;
  readonly by?: string;
  readonly output: string;
  /** Detector and alert tracker for one key. */
  createKeyState(stream: string): unknown;
  /** Judge one reading (`quiet`: the detector learns it, the alert is not fed; `context`: the `by` field's value); the returned object is reused by the next call. An exact repeat of the last reading judged (time, value, context) gets no opinion: score 0, not anomalous, the alert as it was. */
  update(state: unknown, ts: number, value: number, quiet?: boolean, context?: number): DetectOutcome;
  /** The stream stops being judged at `ts` (its machine stopped): pending runs end; with `alert.at_stop: clear` an active alert clears with `reason` (Detector.stop, AlertTracker.end). */
  stop(state: unknown, ts: number, value: number, reason: string): AlertRecord | undefined;
  /** The stream is forgotten at `ts` (input.forget_after): an active alert clears with `reason` (its value NaN: nothing was judged). */
  forget(state: unknown, ts: number, reason: string): AlertRecord | undefined;
  /**
   * Only for detectors of absence: no reading up to event time `ts` (live, on the gateway's ticks).
   * Returns a raised alert once the silence is anomalous; nothing while one is active.
   */
  overdue?(state: unknown, ts: number): AlertRecord | undefined;
  /** The stream was paused until event time `ts` (gateway down, machine stopped): Detector.resume. */
  resume?(state: unknown, ts: number): void;
  /**
   * The stream's device clock was set back from `from` (its newest time on the old clock) to `to`
   * (the engine re-based it): what the alert tracker and the detector keep on the old clock moves
   * to the new one (AlertTracker.rebased, Detector.rebased). Nothing if the step judged nothing on
   * the old clock.
   */
  rebased(state: unknown, from: number, to: number): void;
  /** With a `capture`, the detector may share its live typed arrays with it (copy on write) instead of copying them now. */
  snapshot(state: unknown, capture?: SharedCapture): unknown;
  restore(stream: string, snap: unknown): unknown;
  /** The stream's detector is still learning: its last judgement was in warm-up (rule `warmup`), or it has judged nothing yet. */
  learning(state: unknown): boolean;
}

interface KeyState {
  detector: Detector;
  alert: AlertTracker;
  /** See DetectStep.learning; a settling reading (SETTLING) leaves it as it was. */
  learning: boolean;
  /** The last reading judged (time, value, context): an exact repeat of it is not judged again. */
  lastTs: number;
  lastValue: number;
  lastContext: number | undefined;
}

/** The step for one validated spec, whose detectors `plugin` (of kind `spec.detector`) creates. */
export function compileDetectStep(spec: DetectStepSpec, plugin: DetectorPlugin): DetectStep {
  if (plugin.kind !== spec.detector) throw new Error(`detect step: the spec is for detector "${spec.detector}", the plugin is "${plugin.kind}"`);
  const name = spec.name ?? spec.detector;
  const alertParams = alertParamsFor(spec.alert, plugin.alertDefaults);
  const out: DetectOutcome = { score: 0, anomalous: false, alertActive: false, alert: undefined };
  const create = (stream: string): KeyState => ({ detector: plugin.create(spec), alert: new AlertTracker(stream, name, alertParams), learning: true, lastTs: NaN, lastValue: NaN, lastContext: undefined });
  const probe = plugin.create(spec);
  return {
    name,
    field: spec.field,
    ...(spec.by !== undefined ? { by: spec.by } : {}),
    output: spec.output,
    createKeyState: create,
    update(state: unknown, ts: number, value: number, quiet = false, context?: number): DetectOutcome {
      const keyState = state as KeyState;
      // The same reading again (a QoS 1 resend, a LoRaWAN uplink heard by two gateways, a bridge
      // that forwards twice): no new evidence. Judged again it was a second, identical reading —
      // a step of 0 halving the typical step, a run of one value, a confirmation for min_readings.
      if (ts === keyState.lastTs && value === keyState.lastValue && context === keyState.lastContext) {
        out.score = 0;
        out.anomalous = false;
        out.alert = undefined;
        out.alertActive = keyState.alert.active;
        return out;
      }
      keyState.lastTs = ts;
      keyState.lastValue = value;
      keyState.lastContext = context;
      const j = keyState.detector.update(ts, value, context);
      out.score = j.score;
      out.anomalous = j.anomalous;
      if (j.rule !== SETTLING) keyState.learning = j.rule === 'warmup';
      out.alert = quiet || j.rule === SETTLING ? undefined : keyState.alert.update(ts, value, j);
      out.alertActive = keyState.alert.active;
      return out;
    },
    rebased(state: unknown, from: number, to: number): void {
      const keyState = state as KeyState;
      // judged nothing on the old clock (or told already: a stream's own re-base after its device's)
      if (!onOldClock(keyState.lastTs, from, to)) return;
      keyState.alert.rebased(from, to);
      keyState.detector.rebased?.(from, to);
      keyState.lastTs += to - from;
    },
    stop(state: unknown, ts: number, value: number, reason: string): AlertRecord | undefined {
      const keyState = state as KeyState;
      keyState.detector.stop?.(alertParams.at_stop === 'clear');
      return keyState.alert.end(ts, value, reason);
    },
    forget(state: unknown, ts: number, reason: string): AlertRecord | undefined {
      return (state as KeyState).alert.end(ts, NaN, reason, true);
    },
    ...(probe.overdue
      ? {
          overdue(state: unknown, ts: number): AlertRecord | undefined {
            const keyState = state as KeyState;
            if (keyState.alert.active) return undefined;
            const j = keyState.detector.overdue!(ts);
            // the value of a silence is its length in expected intervals (there is no reading)
            return j.anomalous ? keyState.alert.update(ts, j.deviation, j) : undefined;
          },
        }
      : {}),
    ...(probe.resume
      ? {
          resume(state: unknown, ts: number): void {
            (state as KeyState).detector.resume!(ts);
          },
        }
      : {}),
    snapshot(state: unknown, capture?: SharedCapture): unknown {
      const keyState = state as KeyState;
      const d = keyState.detector;
      const saved: Record<string, unknown> = { detector: capture && d.snapshotView ? d.snapshotView(capture) : d.snapshot(), alert: keyState.alert.snapshot() };
      if (keyState.learning) saved.learning = true;
      // The last reading judged: a resend of it after a restart is still no new evidence.
      if (!Number.isNaN(keyState.lastTs)) saved.last = keyState.lastContext === undefined ? [keyState.lastTs, keyState.lastValue] : [keyState.lastTs, keyState.lastValue, keyState.lastContext];
      return saved;
    },
    restore(stream: string, snap: unknown): unknown {
      const keyState = create(stream);
      if (typeof snap !== 'object' || snap === null || typeof (snap as { detector?: unknown }).detector !== 'object' || typeof (snap as { alert?: unknown }).alert !== 'object') {
        throw new Error(`detect step "${name}", stream ${stream}: saved state must be { detector: {...}, alert: {...} }`);
      }
      const s = snap as { detector: Record<string, unknown>; alert: Record<string, unknown> };
      keyState.detector.restore(s.detector);
      keyState.alert.restore(s.alert);
      // (saved before 2026-12-07: no flag; taken as judging, and set again by the next reading)
      keyState.learning = (snap as { learning?: unknown }).learning === true;
      // (saved before 2026-12-07: none; the next reading is judged whatever it is)
      const last = (snap as { last?: unknown }).last;
      if (last !== undefined) {
        if (!Array.isArray(last) || last.length < 2 || last.length > 3 || !last.every((v) => typeof v === 'number')) {
          throw new Error(`detect step "${name}", stream ${stream}: saved "last" must be [ts, value] or [ts, value, context], found ${JSON.stringify(last)}`);
        }
        [keyState.lastTs, keyState.lastValue, keyState.lastContext] = last as [number, number, number?];
      }
      return keyState;
    },
    learning(state: unknown): boolean {
      return (state as KeyState).learning;
    },
  };
}
