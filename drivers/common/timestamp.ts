import { MAX_DATE_MS, parseDateTime } from '../../src/core/time.js';

/**
 * Timestamps from device payloads. Numbers are milliseconds since the Unix epoch (or seconds when
 * the input says so); strings are date-times read by the project's one parser (src/core/time.ts):
 * without a zone they are UTC, never the gateway's local time.
 */

export type TsUnit = 'ms' | 's';

/**
 * Parse a timestamp value. Returns the time in ms, or `undefined` when it cannot be read.
 * Accepted: finite numbers (`unit` ms or s), numeric strings, ISO 8601 strings.
 */
export function parseTimestamp(v: unknown, unit: TsUnit = 'ms'): number | undefined {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) return undefined;
    const ms = unit === 's' ? Math.round(v * 1000) : v;
    return ms <= MAX_DATE_MS ? ms : undefined; // beyond what a Date holds (e.g. 1e20): not a time
  }
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (s.length === 0) return undefined;
  const c = s.charCodeAt(0);
  if (c >= 48 && c <= 57 && !s.includes('-') && !s.includes(':')) {
    const n = Number(s);
    return Number.isFinite(n) ? parseTimestamp(n, unit) : undefined;
  }
  const t = parseDateTime(s);
  return Number.isNaN(t) ? undefined : t;
}
