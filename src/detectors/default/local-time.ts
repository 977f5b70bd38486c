/**
 * Wall-clock time in a time zone, for the default detector's time-of-day memories: a stream that
 * follows people (offices, traffic, shops) keeps its daily pattern in local time, so against UTC
 * timestamps the pattern moves by an hour at each daylight-saving change. Phase taken from
 * `localClock(zone)(ts)` does not move.
 *
 * The value is ts plus the zone's UTC offset at ts (milliseconds "as if UTC"). Offsets come from
 * the platform's time-zone data (Intl, ICU; about 10 µs a look-up) and each stream keeps the span
 * its offset holds for, found up to a day ahead: a zone changes its offset at most a few times a
 * year, on a quarter hour of UTC, so a look-up is made about twice a day of the stream's time.
 */

const QUARTER_HOUR = 900_000;
const DAY = 86_400_000;
const formats = new Map<string, Intl.DateTimeFormat>();

function formatFor(zone: string): Intl.DateTimeFormat {
  let f = formats.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' });
    formats.set(zone, f);
  }
  return f;
}

/** Is `zone` an IANA time-zone name this platform knows (e.g. Europe/Berlin)? */
export function isTimeZone(zone: string): boolean {
  try {
    formatFor(zone);
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC (ms) at `ts`. */
export function zoneOffset(zone: string, ts: number): number {
  const parts = formatFor(zone).formatToParts(ts);
  const n = (type: string) => Number(parts.find((x) => x.type === type)?.value);
  const wall = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'));
  // the parts drop the seconds: the offset is whole minutes
  return wall - Math.floor(ts / 60_000) * 60_000;
}

/** A clock for one stream: ts → local wall-clock ms, with the span its current offset holds for kept. */
export function localClock(zone: string): (ts: number) => number {
  let from = Infinity;
  let to = -Infinity;
  let offset = 0;
  return (ts) => {
    if (!Number.isFinite(ts)) return ts;
    if (ts < from || ts >= to) {
      from = Math.floor(ts / QUARTER_HOUR) * QUARTER_HOUR;
      offset = zoneOffset(zone, from);
      // the offset holds until the first quarter hour (within a day) that has another
      let lo = from;
      let hi = from + DAY;
      if (zoneOffset(zone, hi) !== offset) {
        while (hi - lo > QUARTER_HOUR) {
          const mid = lo + Math.floor((hi - lo) / (2 * QUARTER_HOUR)) * QUARTER_HOUR;
          if (zoneOffset(zone, mid) === offset) lo = mid;
          else hi = mid;
        }
      }
      to = hi;
    }
    return ts + offset;
  };
}
