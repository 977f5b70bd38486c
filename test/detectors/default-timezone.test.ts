/**
 * The default detector's `timezone` (src/detectors/default/local-time.ts): a stream that follows
 * people keeps its daily pattern in local time, so against the UTC timestamps a gateway writes it
 * moves an hour at each daylight-saving change. With phase taken in UTC the time-of-day rules
 * (season, the daily steps behind spike/dip) raise it that day; with the zone's wall-clock time
 * they do not. Also the zone's offsets themselves, and a clear error for a zone nobody knows.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DefaultDetector, DEFAULT_DETECTOR_PARAMS } from '../../src/detectors/default/detector.js';
import { localClock, zoneOffset } from '../../src/detectors/default/local-time.js';
import { detectStepSchema } from '../helpers/schemas.js';
import { noise } from './helpers.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ZONE = 'Europe/Berlin';

/** An office in Berlin: 50 from 08:00 to 18:00 wall time on weekdays, else 10 (noise 0.5), one reading every `step`, stamped in UTC; `days` from wall-clock midnight `fromWall`. */
function office(fromWall: number, days: number, step: number, seed: number) {
  const g = noise(seed);
  const ts: number[] = [];
  const values: number[] = [];
  for (let w = fromWall; w < fromWall + days * DAY; w += step) {
    const h = (w % DAY) / HOUR;
    const weekday = new Date(w).getUTCDay() % 6 !== 0;
    const u = w - zoneOffset(ZONE, w - 2 * HOUR);
    // spring's missing wall hour: no readings in it
    if (ts.length > 0 && u <= ts[ts.length - 1]!) continue;
    ts.push(u);
    values.push((weekday && h >= 8 && h < 18 ? 50 : 10) + 0.5 * g());
  }
  return { ts, values };
}

/** Readings after `from` judged anomalous by a time-of-day rule (season, season_shift, spike, dip). */
function timeOfDayAnomalies(s: { ts: number[]; values: number[] }, from: number, timezone: string | undefined): number {
  const d = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS, timezone });
  let n = 0;
  s.values.forEach((v, i) => {
    const o = d.update(s.ts[i]!, v);
    if (o.anomalous && s.ts[i]! >= from && ['season', 'season_shift', 'spike', 'dip'].includes(o.rule)) n++;
  });
  return n;
}

describe('default detector, phase in a time zone (timezone)', () => {
  const CHANGES = [
    ['spring (2024-03-31)', Date.UTC(2024, 2, 3), Date.UTC(2024, 2, 31, 1)],
    ['autumn (2024-10-27)', Date.UTC(2024, 8, 29), Date.UTC(2024, 9, 27, 1)],
  ] as const;
  for (const [name, start, change] of CHANGES) {
    it(`an office's daily pattern kept in Berlin time across the ${name} change, stamped in UTC, every 1, 5 and 60 minutes: with timezone ${ZONE}, no time-of-day anomaly after it; with phase in UTC, some`, () => {
      let inUtc = 0;
      for (const step of [60_000, 300_000, HOUR]) {
        const s = office(start, step === 60_000 ? 35 : 42, step, 1);
        assert.equal(timeOfDayAnomalies(s, change, ZONE), 0, `every ${step / 60_000} min, ${ZONE}`);
        inUtc += timeOfDayAnomalies(s, change, undefined);
      }
      assert.ok(inUtc >= 4, `phase in UTC: ${inUtc}`);
    });
  }

  it('the offsets come from the zone\'s rules: Berlin +1 h, then +2 h from 01:00 UTC on 2024-03-31; New York −5 h then −4 h; Kolkata +5:30; a repeated autumn hour reads the same wall time twice', () => {
    assert.equal(zoneOffset(ZONE, Date.UTC(2024, 2, 31, 0, 59)), HOUR);
    assert.equal(zoneOffset(ZONE, Date.UTC(2024, 2, 31, 1, 0)), 2 * HOUR);
    assert.equal(zoneOffset('America/New_York', Date.UTC(2024, 2, 10, 6, 59)), -5 * HOUR);
    assert.equal(zoneOffset('America/New_York', Date.UTC(2024, 2, 10, 7, 0)), -4 * HOUR);
    assert.equal(zoneOffset('Asia/Kolkata', Date.UTC(2024, 0, 1)), 5.5 * HOUR);
    const wall = localClock(ZONE);
    assert.equal(wall(Date.UTC(2024, 9, 27, 0, 30)), Date.UTC(2024, 9, 27, 2, 30));
    assert.equal(wall(Date.UTC(2024, 9, 27, 1, 30)), Date.UTC(2024, 9, 27, 2, 30));
  });

  it('a zone nobody knows is a configuration error that names it and says what to give', () => {
    assert.equal((detectStepSchema.parse({ detector: 'default', timezone: ZONE }) as { timezone?: string }).timezone, ZONE);
    const r = detectStepSchema.safeParse({ detector: 'default', timezone: 'Mars/Olympus_Mons' });
    assert.ok(!r.success);
    assert.match(r.error.issues[0]!.message, /unknown time zone "Mars\/Olympus_Mons": give an IANA name such as Europe\/Berlin/);
  });
});
