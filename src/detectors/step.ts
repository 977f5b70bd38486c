/**
 * The `detect` pipeline step compiled: detector and alert tracker per key, called by the engine.
 * Pure: time comes from readings. Its config schema is in schema.ts.
 */
import { AlertTracker, DEFAULT_ALERT_PARAMS, type AlertParams } from '../alerts/tracker.js';
import type { AlertRecord } from '../core/records.js';
import { CusumDetector } from './cusum.js';
import { DefaultDetector } from './default.js';
import { DropoutDetector } from './dropout.js';
import { EwmaDetector } from './ewma.js';
import { FlatlineDetector } from './flatline.js';
import { Iso10816Detector } from './iso10816.js';
import { LevelShiftDetector } from './level-shift.js';
import { PageHinkleyDetector } from './page-hinkley.js';
import { RobustZDetector } from './robust.js';
import { SpikeDetector } from './spike.js';
import { ThresholdDetector } from './threshold.js';
import type { DetectorKind, DetectStepSpec } from './schema.js';
import type { Detector } from './types.js';

export type { DetectorKind, DetectStepSpec } from './schema.js';

export const DETECTOR_KINDS: DetectorKind[] = ['default', 'threshold', 'ewma', 'robust_z', 'hampel', 'cusum', 'page_hinkley', 'spike', 'flatline', 'dropout', 'level_shift', 'iso10816'];

/** Build one detector instance for a parsed spec. */
export function createDetector(spec: DetectStepSpec): Detector {
  switch (spec.detector) {
    case 'default':
      return new DefaultDetector({ ...spec, periods: [...spec.periods], rules: [...spec.rules] });
    case 'threshold':
      return new ThresholdDetector(spec);
    case 'ewma':
      return new EwmaDetector(spec);
    case 'robust_z':
      return new RobustZDetector({ ...spec, replace_outliers: false });
    case 'hampel':
      return new RobustZDetector({ ...spec, replace_outliers: true }, 'hampel');
    case 'cusum':
      return new CusumDetector(spec);
    case 'page_hinkley':
      return new PageHinkleyDetector(spec);
    case 'spike':
      return new SpikeDetector(spec);
    case 'flatline':
      return new FlatlineDetector(spec);
    case 'dropout':
      return new DropoutDetector(spec);
    case 'level_shift':
      return new LevelShiftDetector(spec);
    case 'iso10816':
      return new Iso10816Detector(spec);
  }
}

/** Alert parameters with the detector-dependent defaults filled in. */
export function alertParamsFor(spec: DetectStepSpec): AlertParams {
  const a = spec.alert;
  const isDefault = spec.detector === 'default';
  return {
    ...DEFAULT_ALERT_PARAMS,
    ...a,
    clear_readings: a.clear_readings ?? (isDefault ? 10 : 1),
    cooldown_readings: a.cooldown_readings ?? (isDefault ? 200 : 0),
  };
}

export interface DetectOutcome {
  score: number;
  anomalous: boolean;
  alertActive: boolean;
  /** Set only on a lifecycle event (raised, active heartbeat, cleared). */
  alert?: AlertRecord;
}

export interface DetectStep {
  readonly name: string;
  readonly field: string;
  readonly output: string;
  /** Detector and alert tracker for one key. */
  createKeyState(stream: string): unknown;
  /** Judge one reading; the returned object is reused by the next call. */
  update(state: unknown, ts: number, value: number): DetectOutcome;
  snapshot(state: unknown): unknown;
  restore(stream: string, snap: unknown): unknown;
}

interface KeyState {
  detector: Detector;
  alert: AlertTracker;
}

export function compileDetectStep(spec: DetectStepSpec): DetectStep {
  const name = spec.name ?? spec.detector;
  const alertParams = alertParamsFor(spec);
  const out: DetectOutcome = { score: 0, anomalous: false, alertActive: false, alert: undefined };
  const create = (stream: string): KeyState => ({ detector: createDetector(spec), alert: new AlertTracker(stream, name, alertParams) });
  return {
    name,
    field: spec.field,
    output: spec.output,
    createKeyState: create,
    update(state: unknown, ts: number, value: number): DetectOutcome {
      const st = state as KeyState;
      const j = st.detector.update(ts, value);
      out.score = j.score;
      out.anomalous = j.anomalous;
      out.alert = st.alert.update(ts, value, j);
      out.alertActive = st.alert.active;
      return out;
    },
    snapshot(state: unknown): unknown {
      const st = state as KeyState;
      return { detector: st.detector.snapshot(), alert: st.alert.snapshot() };
    },
    restore(stream: string, snap: unknown): unknown {
      const st = create(stream);
      if (typeof snap !== 'object' || snap === null || typeof (snap as { detector?: unknown }).detector !== 'object' || typeof (snap as { alert?: unknown }).alert !== 'object') {
        throw new Error(`detect step "${name}", stream ${stream}: saved state must be { detector: {...}, alert: {...} }`);
      }
      const s = snap as { detector: Record<string, unknown>; alert: Record<string, unknown> };
      st.detector.restore(s.detector);
      st.alert.restore(s.alert);
      return st;
    },
  };
}
