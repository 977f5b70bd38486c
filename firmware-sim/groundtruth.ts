import type { FaultEvent } from './types.js';

/** NAB's time format: `YYYY-MM-DD HH:MM:SS.ffffff` (UTC). */
export function nabTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${iso.slice(20, 23)}000`;
}

/** Data-set time: `YYYY-MM-DD HH:MM:SS.fff` (UTC), as `edgewise backtest` and replay read it. */
export function csvTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

export interface LabelOptions {
  /** Key for a device's file, e.g. `maintenance/pump-1.csv`. */
  keyOf: (f: Pick<FaultEvent, 'device' | 'domain'>) => string;
  /** Every device that has a file, so that devices without faults get an empty list. */
  devices: ReadonlyArray<Pick<FaultEvent, 'device' | 'domain'>>;
  /** Sample interval (ms): windows get a tail of at least two intervals. */
  intervalMs: number;
}

/**
 * Ground truth in NAB's windows format with each window's type as a third element:
 * `{ "<file>": [["start", "end", "harsh_braking"], ...] }` (readers that take the first two
 * elements see plain NAB windows; `edgewise backtest --by-type` uses the type). Only `fault`
 * events make windows; `artefact` events do not (an alert during one is a false alert). Each
 * window is the fault's span plus a tail (10 % of its length, at least two sample intervals), so
 * a detection shortly after the fault (a dropout is seen on the first reading after the gap) counts.
 */
export function nabWindows(events: readonly FaultEvent[], o: LabelOptions): Record<string, [string, string, string][]> {
  const out: Record<string, [string, string, string][]> = {};
  for (const d of o.devices) out[o.keyOf(d)] = [];
  for (const e of events) {
    if (e.kind !== 'fault') continue;
    const tail = Math.max(2 * o.intervalMs, 0.1 * (e.end - e.start));
    (out[o.keyOf(e)] ??= []).push([nabTime(e.start), nabTime(e.end + tail), e.fault]);
  }
  for (const windows of Object.values(out)) windows.sort((a, b) => a[0].localeCompare(b[0]));
  return out;
}

/** One JSON line per event: `{device, domain, streams, fault, kind, start, end}` with ISO 8601 times (and `start_ms`, `end_ms`). */
export function faultLines(events: readonly FaultEvent[]): string {
  return events
    .map((e) => JSON.stringify({ device: e.device, domain: e.domain, streams: e.streams, fault: e.fault, kind: e.kind, start: new Date(e.start).toISOString(), end: new Date(e.end).toISOString(), start_ms: e.start, end_ms: e.end }))
    .join('\n') + (events.length ? '\n' : '');
}
