import type { Domain, FaultEvent, FaultKind, FaultPlan } from './types.js';
import type { Rng } from './rng.js';

/** A fault a device can suffer: its name, kind, typical length, and the metrics it shows in. */
export interface FaultType {
  fault: string;
  kind: FaultKind;
  /** Typical length range (ms); shortened to fit when the run is short. */
  minMs: number;
  maxMs: number;
  metrics: readonly string[];
}

/**
 * Place faults along a run: the first 20 % is clean (detectors learn a baseline; NAB calls it
 * the probationary period), the rest is cut into one slot per fault type (in a per-device random
 * order), and each fault sits at a random place in its slot, taking at most 60 % of it.
 */
export function planFaults(rng: Rng, types: readonly FaultType[], start: number, end: number): FaultPlan[] {
  const span0 = start + 0.2 * (end - start);
  const span1 = start + 0.97 * (end - start);
  const order = rng.shuffle(types);
  const slot = (span1 - span0) / Math.max(1, order.length);
  const plans: FaultPlan[] = [];
  order.forEach((ft, i) => {
    const s0 = span0 + i * slot;
    const len = Math.max(1000, Math.min(rng.uniform(ft.minMs, ft.maxMs), 0.6 * slot));
    const st = Math.round(s0 + rng.uniform(0.1, 0.9) * (slot - len));
    plans.push({ fault: ft.fault, start: st, end: Math.round(st + len), severity: rng.uniform(0.3, 1) });
  });
  return plans.sort((a, b) => a.start - b.start);
}

/** Ground-truth events for a device's plans. */
export function faultEvents(device: string, domain: Domain, types: readonly FaultType[], plans: readonly FaultPlan[]): FaultEvent[] {
  return plans.map((p) => {
    const ft = types.find((t) => t.fault === p.fault)!;
    return { device, domain, streams: ft.metrics.map((m) => `${device}/${m}`), fault: p.fault, kind: ft.kind, start: p.start, end: p.end };
  });
}
