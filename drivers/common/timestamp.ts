/**
 * Timestamps from device payloads. Numbers are milliseconds since the Unix epoch (or seconds when
 * the input says so); strings are ISO 8601, and a date-time without a zone is taken as UTC
 * (JavaScript's Date.parse would take it as local time, which differs from gateway to gateway).
 */
export type TsUnit = 'ms' | 's';

const HAS_ZONE = /(?:[zZ]|[+-]\d\d(?::?\d\d)?)$/;
const DATE_TIME = /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d/;

/**
 * Parse a timestamp value. Returns the time in ms, or `undefined` when it cannot be read.
 * Accepted: finite numbers (`unit` ms or s), numeric strings, ISO 8601 strings.
 */
export function parseTimestamp(v: unknown, unit: TsUnit = 'ms'): number | undefined {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) return undefined;
    return unit === 's' ? Math.round(v * 1000) : v;
  }
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (s.length === 0) return undefined;
  const c = s.charCodeAt(0);
  if (c >= 48 && c <= 57 && !s.includes('-') && !s.includes(':')) {
    const n = Number(s);
    return Number.isFinite(n) ? parseTimestamp(n, unit) : undefined;
  }
  let iso = s;
  if (DATE_TIME.test(s) && !HAS_ZONE.test(s)) iso = `${s.replace(' ', 'T')}Z`;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : undefined;
}
