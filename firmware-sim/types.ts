/** The simulator's shared types: devices, faults and their ground truth. */

export type Domain = 'maintenance' | 'vitals' | 'telematics';
export const DOMAINS: readonly Domain[] = ['maintenance', 'vitals', 'telematics'];

/** `fault`: something to detect. `artefact`: a sensor artefact that must NOT be taken for a fault (e.g. a probe off). */
export type FaultKind = 'fault' | 'artefact';

/** One injected fault: the ground truth. Times are ms since the epoch (UTC). */
export interface FaultEvent {
  device: string;
  domain: Domain;
  /** Streams it shows in (`<device>/<metric>`). */
  streams: string[];
  /** What it is: `bearing_wear`, `probe_off`, `harsh_braking`, ... */
  fault: string;
  kind: FaultKind;
  start: number;
  end: number;
}

/** Where in the run a fault is placed and how strong it is; devices turn it into signal changes. */
export interface FaultPlan {
  fault: string;
  start: number;
  end: number;
  /** 0..1, drawn per fault: how strong it gets. */
  severity: number;
}

/**
 * A simulated device: a pure signal model. `sample(t, out)` advances the model to time `t` (ms;
 * strictly increasing from call to call) and writes one value per metric into `out` (NaN = the
 * device sends nothing for that metric at this tick). Deterministic from its seed and the sample
 * times: the same times give the same values, whether the run is paced live or simulated.
 */
export interface DeviceModel {
  readonly id: string;
  readonly domain: Domain;
  /** Metric names, in column order. */
  readonly metrics: readonly string[];
  /** Decimals each metric is rounded to (the device's resolution). */
  readonly decimals: readonly number[];
  /** The injected faults (ground truth), fixed when the device is made. */
  readonly faults: readonly FaultEvent[];
  sample(t: number, out: Float64Array): void;
}

/** Extra output of the vehicle: GPS as NMEA 0183 sentences for the last sample. */
export interface GpsSource {
  nmea(t: number): string[];
}

export function hasGps(d: DeviceModel): d is DeviceModel & GpsSource {
  return typeof (d as Partial<GpsSource>).nmea === 'function';
}

/** Round to `d` decimals (deterministic text when printed with String()). */
export function roundTo(x: number, d: number): number {
  if (!Number.isFinite(x)) return x;
  const f = POW10[d] ?? 10 ** d;
  return Math.round(x * f) / f;
}
const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000];

/** Is `t` inside the fault window? */
export function active(f: FaultPlan | undefined, t: number): boolean {
  return f !== undefined && t >= f.start && t < f.end;
}

/** Progress 0..1 through a fault window (0 before, 1 after). */
export function progress(f: FaultPlan, t: number): number {
  if (t <= f.start) return 0;
  if (t >= f.end) return 1;
  return (t - f.start) / (f.end - f.start);
}
