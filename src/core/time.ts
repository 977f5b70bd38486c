import type { LocalZone } from './local-zone.js';

/**
 * Timestamps as text, one reading of them for the whole project (recorded files, device payloads,
 * labels): a date-time without a zone is UTC (never the gateway's local time), or the wall time of
 * the zone a device setting names (`ts_zone`); a zone in the text (`Z`, `+02:00`, `+02`) is honoured.
 */

const HAS_ZONE = /(?:[zZ]|[+-]\d\d(?::?\d\d)?)$/;
const DATE_TIME = /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d/;

/** A date-time string (ISO 8601 and the `YYYY-MM-DD HH:MM:SS` of NAB and SKAB) in ms, or NaN; without a zone in the text, wall time in `zone` (default UTC). */
function parseDateTime(text: string, zone?: LocalZone, near?: number): number {
  const s = text.trim();
  // Fast path: YYYY-MM-DD[ T]HH:MM:SS[.fff...] with no zone (NAB, SKAB).
  if (s.length >= 19 && s.charCodeAt(4) === 45 /* - */ && s.charCodeAt(7) === 45 && s.charCodeAt(13) === 58 /* : */) {
    const sep = s.charCodeAt(10);
    const rest = s.slice(19);
    if ((sep === 32 || sep === 84) && /^(\.\d+)?$/.test(rest)) {
      const y = num(s, 0, 4), mo = num(s, 5, 7), d = num(s, 8, 10), h = num(s, 11, 13), mi = num(s, 14, 16), se = num(s, 17, 19);
      const frac = rest.length > 1 ? Math.round(Number(`0${rest}`) * 1000) : 0;
      if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return NaN;
      const wall = Date.UTC(y, mo - 1, d, h, mi, se, frac);
      return zone ? zone.toUtc(wall, near) : wall;
    }
  }
  const zoneless = DATE_TIME.test(s) && !HAS_ZONE.test(s);
  const t = Date.parse(zoneless ? `${s.replace(' ', 'T')}Z` : s.replace(/^(\d{4}-\d{2}-\d{2}) /, '$1T'));
  if (!Number.isFinite(t)) return NaN;
  return zone && zoneless ? zone.toUtc(t, near) : t;
}

/** The unit of a numeric timestamp: ms, s, or `auto` (below 1e11 in magnitude: seconds; otherwise ms). */
export type TimeUnit = DeviceTimeUnit | 'auto';
/** The units a device setting (`ts_unit`) names: InfluxDB line protocol and Telegraf send ns, some loggers µs. */
export type DeviceTimeUnit = 'ms' | 's' | 'us' | 'ns';
export const DEVICE_TIME_UNITS = ['ms', 's', 'us', 'ns'] as const;
/** ms per unit. */
const MS_PER: Record<DeviceTimeUnit, number> = { ms: 1, s: 1000, us: 1e-3, ns: 1e-6 };

/** 1e11 s is the year 5138 and 1e11 ms is March 1973: below it, an `auto` number is seconds. */
const AUTO_SECONDS_BELOW = 1e11;
const NUMBER_TEXT = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * The project's one reading of a timestamp (device payloads, recorded files, labels), in ms since
 * the Unix epoch, or NaN when the value is not a time. The rule:
 * - a number, or a text that is one, counts from the epoch in `unit`: device settings say `ms` or
 *   `s` (`ts_unit`); recorded files, whose unit is not stated, use `auto`;
 * - another text is a date-time (parseDateTime): without a zone it is UTC, or wall time in `zone`
 *   (a device's `ts_zone`; an hour a fall-back repeats is read as its occurrence nearer `near`,
 *   the arrival time);
 * - a negative count is refused (a clock before 1970 is a clock gone wrong), as is anything outside
 *   the Date range (±8.64e15 ms); the result is rounded to whole milliseconds.
 */
export function parseTimestamp(v: unknown, unit: TimeUnit = 'auto', zone?: LocalZone, near?: number): number {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string') {
    const s = v.trim();
    if (s.length === 0) return NaN;
    if (!NUMBER_TEXT.test(s)) return parseDateTime(s, zone, near);
    n = Number(s);
  } else return NaN;
  if (!Number.isFinite(n) || n < 0) return NaN;
  const ms = Math.round(n * MS_PER[unit === 'auto' ? (n < AUTO_SECONDS_BELOW ? 's' : 'ms') : unit]);
  return ms <= MAX_DATE_MS ? ms : NaN;
}

function num(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return NaN;
    n = n * 10 + c;
  }
  return n;
}

/** Largest |ms| a JavaScript Date holds (±100,000,000 days around the epoch, years −271821…275760). */
export const MAX_DATE_MS = 8.64e15;

/**
 * For an error message about a numeric time `n` read in ms that is far off `now`: which other
 * unit would make it a time near now (within a day), as a hint ("" when none does).
 */
export function unitHint(n: number, now: number): string {
  for (const u of ['s', 'us', 'ns'] as const) if (Math.abs(n * MS_PER[u] - now) < 86_400_000) return ` (read as ${u === 'us' ? 'microseconds' : u === 'ns' ? 'nanoseconds' : 'seconds'} since the epoch it is now: set ts_unit: ${u} on the input)`;
  return '';
}

/**
 * Is a time kept for a stream whose clock was then set back from `from` to `to` (the engine
 * re-based it: input.clock_jump) on the old clock, nearer `from` than `to`? A device's streams are
 * re-based one after another: what the first moved to the new clock is not moved again.
 */
export function onOldClock(t: number, from: number, to: number): boolean {
  return t > (from + to) / 2;
}

/** A time kept for a stream whose clock was set back from `from` to `to`: moved to the new clock if it was on the old one, else as it was (NaN and ±Infinity too). */
export function shiftedBack(t: number, from: number, to: number): number {
  return onOldClock(t, from, to) && t !== Infinity ? t + (to - from) : t;
}

/** A time for messages: ISO 8601, or the raw number when it is outside the Date range (never throws). */
export function isoTime(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS ? new Date(ms).toISOString() : `${ms} ms (outside the date range)`;
}

/** `2014-02-14 14:30:00` style (UTC), as NAB and SKAB write it. */
export function formatTimestamp(ms: number): string {
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_DATE_MS) return String(ms);
  const iso = new Date(ms).toISOString();
  const frac = ms % 1000 === 0 ? '' : iso.slice(19, 23);
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac}`;
}
