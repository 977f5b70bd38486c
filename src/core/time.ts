/**
 * Timestamps as text, one reading of them for the whole project (recorded files, device payloads,
 * labels): a date-time without a zone is UTC (never the gateway's local time); a zone in the text
 * (`Z`, `+02:00`, `+02`) is honoured.
 */

const HAS_ZONE = /(?:[zZ]|[+-]\d\d(?::?\d\d)?)$/;
const DATE_TIME = /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d/;

/** A date-time string (ISO 8601 and the `YYYY-MM-DD HH:MM:SS` of NAB and SKAB) in ms, or NaN. */
export function parseDateTime(text: string): number {
  const s = text.trim();
  // Fast path: YYYY-MM-DD[ T]HH:MM:SS[.fff...] with no zone (NAB, SKAB).
  if (s.length >= 19 && s.charCodeAt(4) === 45 /* - */ && s.charCodeAt(7) === 45 && s.charCodeAt(13) === 58 /* : */) {
    const sep = s.charCodeAt(10);
    const rest = s.slice(19);
    if ((sep === 32 || sep === 84) && /^(\.\d+)?$/.test(rest)) {
      const y = num(s, 0, 4), mo = num(s, 5, 7), d = num(s, 8, 10), h = num(s, 11, 13), mi = num(s, 14, 16), se = num(s, 17, 19);
      const frac = rest.length > 1 ? Math.round(Number(`0${rest}`) * 1000) : 0;
      if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return NaN;
      return Date.UTC(y, mo - 1, d, h, mi, se, frac);
    }
  }
  const t = Date.parse(DATE_TIME.test(s) && !HAS_ZONE.test(s) ? `${s.replace(' ', 'T')}Z` : s.replace(/^(\d{4}-\d{2}-\d{2}) /, '$1T'));
  return Number.isFinite(t) ? t : NaN;
}

/**
 * A timestamp in a recorded file: a date-time (see parseDateTime), or a number of epoch seconds
 * (< 1e11) or milliseconds. NaN when the text is not a time.
 */
export function parseTimestamp(text: string): number {
  const s = text.trim();
  if (s.length === 0) return NaN;
  const c0 = s.charCodeAt(0);
  if (((c0 >= 48 && c0 <= 57) || c0 === 45) && /^-?\d+(\.\d+)?$/.test(s)) {
    const n = Number(s);
    const ms = Math.abs(n) < 1e11 ? Math.round(n * 1000) : Math.round(n);
    return Math.abs(ms) <= MAX_DATE_MS ? ms : NaN;
  }
  return parseDateTime(s);
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
