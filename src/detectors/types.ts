/**
 * The contract every streaming detector keeps. A detector judges one key (stream): one pass,
 * no look-ahead, no I/O, time taken from the readings. Its state is bounded and is plain data
 * (`snapshot()`: numbers, strings, booleans, arrays, typed arrays; a checkpoint stores it with
 * v8.serialize, so NaN and typed arrays survive), a copy that later updates do not touch; and
 * `restore()` brings it back exactly, so a restart does not reset a baseline.
 */
import type { z } from 'zod';
import type { Declared } from '../core/plugin.js';
import type { Judgement } from '../core/records.js';
import type { SharedCapture } from '../core/shared-capture.js';
import type { DetectorSchemaKit } from './schema.js';

// What a detector says about one reading: part of the data model (the alert tracker reads it too).
export type { Judgement } from '../core/records.js';

export interface Detector {
  /** Detector kind, e.g. `ewma`. */
  readonly kind: string;
  /**
   * Judge one reading (`ts` in ms, event time). Returns the detector's reused result object.
   * `context`: the operating state's value (the step's `by` field, e.g. a load), for detectors that take one.
   */
  update(ts: number, value: number, context?: number): Judgement;
  /**
   * Optional, for detectors of absence (`dropout`): judge that no reading has come up to event
   * time `ts`. Called live on the gateway's ticks while a stream is silent; learns nothing (the
   * reading that ends the silence is judged by `update` as usual).
   */
  overdue?(ts: number): Judgement;
  /**
   * Optional: the stream was paused until event time `ts` — the gateway was not running (asked of
   * detectors with `overdue`), or a `running` step held the stream back while its machine stood.
   * The pause is not the stream's time: a dropout counts silence from `ts`; a memory in time does
   * not forget over it; a warm-up or baseline measured in time counts without it.
   */
  resume?(ts: number): void;
  /**
   * Optional: the stream's machine stopped (a `running` step before it): a decision the detector
   * is still counting towards ends here (a threshold's minimum duration), and with `ended` (the
   * rule's `alert.at_stop: clear`) a decision it holds too (a threshold's latched state). What it
   * has learnt stays.
   */
  stop?(ended: boolean): void;
  /**
   * Optional: the stream's clock was set back (the engine re-based it), from `from` (where the old
   * clock stands: its newest time, plus, live, the time since it arrived) to `to` (the first reading
   * on the new clock): times kept on the old clock should move to the new one (by `to − from`), so
   * that no duration or interval measured across the correction comes out negative for as long as
   * the correction was.
   */
  rebased?(from: number, to: number): void;
  /** Plain state (numbers, arrays of numbers, typed arrays, booleans, strings): a copy, independent of the detector. */
  snapshot(): Record<string, unknown>;
  /**
   * Optional: the same state, but sharing the detector's live typed arrays (and only those: every
   * other container is new) with a checkpoint's `capture` while it is open: until then the
   * detector copies them before it next changes them (src/core/shared-capture.ts). `restore()`
   * must take it too.
   */
  snapshotView?(capture: SharedCapture): Record<string, unknown>;
  /** Restore what `snapshot()` returned; throws a clear error on a malformed snapshot. */
  restore(snap: Record<string, unknown>): void;
}

/**
 * The rule of a judgement with no opinion: the detector holds readings back after its machine's
 * start (`ewma`'s `settle`). The reading is neither judged nor learnt, and it does not count for
 * the alert either way: an alert active before the stop stays until the stream is judged again.
 */
export const SETTLING = 'settling';

export function newJudgement(): Judgement {
  return { score: 0, anomalous: false, baseline: NaN, deviation: 0, limit: 0, rule: 'warmup' };
}

/** Map a non-negative deviation onto [0, 1) so that the limit maps to exactly 0.5. */
export function scoreOf(deviation: number, limit: number): number {
  if (!(deviation > 0)) return 0;
  if (!(limit > 0)) return 1;
  return deviation / (deviation + limit);
}

/** A finite number from a snapshot, or a clear error naming the field. */
export function snapNum(snap: Record<string, unknown>, key: string, kind: string): number {
  const v = snap[key];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (v === null) return NaN; // JSON turns NaN into null; only fields that may be NaN are stored that way
  throw new Error(`${kind} detector snapshot: field "${key}" must be a number, found ${JSON.stringify(v)}`);
}

export function snapBool(snap: Record<string, unknown>, key: string, kind: string): boolean {
  const v = snap[key];
  if (typeof v === 'boolean') return v;
  throw new Error(`${kind} detector snapshot: field "${key}" must be true or false, found ${JSON.stringify(v)}`);
}

export function snapNums(snap: Record<string, unknown>, key: string, kind: string, length?: number): number[] {
  const v = snap[key];
  if (Array.isArray(v) && v.every((x) => typeof x === 'number' || x === null) && (length === undefined || v.length === length)) {
    return v.map((x) => (x === null ? NaN : (x as number)));
  }
  throw new Error(`${kind} detector snapshot: field "${key}" must be an array of ${length ?? ''} numbers`);
}

/** Check a snapshot's kind tag so one detector's state is never loaded into another. */
export function checkKind(snap: Record<string, unknown>, kind: string): void {
  if (snap.kind !== kind) {
    throw new Error(`cannot restore a "${String(snap.kind)}" detector snapshot into a "${kind}" detector (the pipeline's detect step changed; delete the state file to start fresh)`);
  }
}

/** `up`: only values above the baseline count; `down`: only below; `both`: either. */
export type Direction = 'both' | 'up' | 'down';

export function directed(signed: number, direction: Direction): number {
  return direction === 'both' ? Math.abs(signed) : direction === 'up' ? signed : -signed;
}

/**
 * A detector's parameters made once per step (its validated spec) and shared by every key's
 * detector, which only reads them: a copy per key cost ~550 bytes a key for `ceiling`.
 */
export function perStep<S extends object, P>(make: (spec: S) => P): (spec: S) => P {
  const made = new WeakMap<S, P>();
  return (spec) => {
    let p = made.get(spec);
    if (p === undefined) made.set(spec, (p = make(spec)));
    return p;
  };
}

/** A detector kind: `detect` steps with `detector: <kind>`. */
export interface DetectorPlugin<S = unknown> extends Declared {
  readonly type: 'detector';
  /**
   * The whole `detect` step for this kind: `k.detectStep(kind, fields)` adds `detector: <kind>` and
   * the fields every detect step has (`name`, `field`, `alert`, `output`); refine it as needed.
   */
  schema(k: DetectorSchemaKit): z.ZodType;
  /** One detector (one key's state) from a validated step. */
  create(spec: S): Detector;
  /** Alert lifecycle defaults other than the usual ones (e.g. a detector that flickers clears slower). */
  readonly alertDefaults?: { clear_readings?: number; clear_readings_within?: number; cooldown_readings?: number; cooldown_readings_within?: number; cooldown_readings_score?: number };
}
