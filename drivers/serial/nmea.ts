import type { Reading } from '../../src/core/reading.js';
import type { DropSink } from '../common/payload.js';
import { angle, FieldError, frame, num, rmcDate, timeOfDay, zdaDate, type ChecksumMode, type TimeOfDay } from './nmea-sentence.js';

/**
 * NMEA 0183 → readings (GGA, RMC, GLL, GNS, VTG; ZDA for the date). Metrics (stream
 * `<device>/<metric>`):
 *
 * | metric | from | unit |
 * |---|---|---|
 * | `lat`, `lon` | GGA, GNS, RMC, GLL with a fix | decimal degrees, south/west negative |
 * | `altitude_m` | GGA, GNS | metres above mean sea level |
 * | `fix_quality` | GGA (GNS mode mapped to it) | 0 none, 1 GPS, 2 DGPS, 3 PPS, 4 RTK, 5 float RTK, 6 dead reckoning, 7 manual, 8 simulator |
 * | `satellites` | GGA, GNS | satellites used |
 * | `hdop` | GGA, GNS | horizontal dilution of precision |
 * | `speed_kmh` | RMC, VTG | km/h over ground |
 * | `course_deg` | RMC, VTG | degrees true |
 *
 * Time comes from the receiver only. RMC and ZDA carry the date; GGA, GNS and GLL only the time
 * of day: they are dated from the last receiver date (crossing midnight to the nearest day).
 * Before the first date they wait (`MAX_WAIT_MS` of receiver time), then follow the `undated`
 * rule. VTG has no time and belongs to the last fix. The same metric at the same time (GGA and
 * RMC of one fix both give lat/lon) is emitted once. The gateway clock is used only to correct
 * a GPS week rollover it makes unambiguous, and by `undated: gateway_clock`.
 */

export interface NmeaOptions {
  checksum: ChecksumMode;
  /** Time-only fixes when no date came within MAX_WAIT_MS: date them from the gateway clock, or drop them (counted). */
  undated: 'gateway_clock' | 'drop';
}

const NMEA_DEFAULTS: NmeaOptions = { checksum: 'required', undated: 'gateway_clock' };

const KNOT_KMH = 1.852;
const DAY = 86_400_000;
const HALF_DAY = DAY / 2;
const GPS_EPOCH = Date.UTC(1980, 0, 6);
const GPS_ROLLOVER = 1024 * 7 * DAY;
/**
 * A date is moved by 1024 weeks only when that lands it within a day of the gateway clock: a
 * gateway kept on time by NTP or an RTC agrees with a live receiver to seconds, while a replayed
 * capture landing that close by chance is unlikely (it would have to be 19.6 years old to the day).
 */
const ROLLOVER_WINDOW = DAY;
/** Receiver time a time-only fix waits for a date before the `undated` rule applies. */
const MAX_WAIT_MS = 10_000;
const MAX_WAITING = 200;
/** Two positions of one epoch further apart than this are two different fixes (not rounding). */
const SAME_PLACE_DEG = 1e-5;
/** GNS mode letters → GGA fix quality. */
const GNS_QUALITY: Record<string, number> = { N: 0, A: 1, D: 2, P: 3, R: 4, F: 5, E: 6, M: 7, S: 8 };

/** Per-sentence outcomes (each sentence counts once in one of these or as a drop) and events. */
export interface NmeaCounters {
  /** Sentences that gave at least one reading. */
  nmea_fixes: number;
  /** Valid sentences of types that carry no reading (GSV, GSA, TXT, proprietary...). */
  nmea_ignored: number;
  /** Sentences saying the receiver has no fix (RMC/GLL status V, GGA quality 0, mode N). */
  nmea_no_fix: number;
  /** Fixes flagged manual input (7/M) or simulator (8/S): fix_quality reported, no position. */
  nmea_manual_or_sim: number;
  /** ZDA: read for the date only. */
  nmea_time_only: number;
  /** Sentences whose readings were all given already by another sentence of the same fix. */
  nmea_duplicates: number;
  /** Receiver time went back (a restart, a replayed log): counted, and decoding starts over there. */
  nmea_time_back: number;
  /** Impossible date fields (before 1980-01-06, not a calendar day): the sentence is dated like GGA. */
  nmea_bad_date: number;
  /** Dates moved forward by 1024 GPS weeks (receiver week rollover), the gateway clock making it unambiguous. */
  nmea_week_rollover: number;
  /** Sentences in a leap second (hh:mm:60), stamped 23:59:59.999. */
  nmea_leap_second: number;
  /** Time-only sentences that came before the receiver's first date and waited for it. */
  nmea_waited_for_date: number;
  /** Fixes dated from the gateway clock (undated: gateway_clock, no receiver date yet). */
  nmea_dated_by_gateway: number;
  /** Lines where noise before the `$` was skipped. */
  nmea_resync: number;
}

type Values = Array<[metric: string, value: number | undefined]>;

/** A valid sentence with a fix but no time: it cannot be dated (a drop of its own, not garbled). */
class NoTime extends FieldError {}

/** What one sentence says, before it is dated. */
interface Fix {
  tod: TimeOfDay;
  /** UTC midnight of the sentence's own (sane) date, if it has one. */
  day?: number;
  position?: [number, number];
  values: Values;
  line: string;
  where: string;
  /** Already counted (no fix, manual/simulator): its readings do not count it again. */
  counted?: boolean;
}

export class NmeaDecoder {
  readonly c: NmeaCounters = {
    nmea_fixes: 0,
    nmea_ignored: 0,
    nmea_no_fix: 0,
    nmea_manual_or_sim: 0,
    nmea_time_only: 0,
    nmea_duplicates: 0,
    nmea_time_back: 0,
    nmea_bad_date: 0,
    nmea_week_rollover: 0,
    nmea_leap_second: 0,
    nmea_waited_for_date: 0,
    nmea_dated_by_gateway: 0,
    nmea_resync: 0,
  };
  private readonly opts: NmeaOptions;
  /** Time of the last dated sentence, and whether that date came from the gateway clock. */
  private anchor: number | undefined;
  private anchorFromGateway = false;
  /** Time-only fixes waiting for a date. */
  private waiting: Fix[] = [];
  /** The current epoch: its time, first position, time of day, and whether the receiver has a fix. */
  private epochTs: number | undefined;
  private epochPos: [number, number] | undefined;
  private epochTod: TimeOfDay | undefined;
  private hasFix = false;
  private readonly lastTs = new Map<string, number>();

  constructor(private readonly device: string, opts: Partial<NmeaOptions> = {}) {
    this.opts = { ...NMEA_DEFAULTS, ...opts };
  }

  /** Sentences saying "no fix" so far. */
  get noFix(): number {
    return this.c.nmea_no_fix;
  }

  decode(line: string, now: number, emit: (r: Reading) => void, drops: DropSink, where: string): number {
    let s = line.trim();
    if (s.length === 0) return 0; // a blank line between sentences
    const c0 = s.charCodeAt(0);
    if (c0 !== 36 /* $ */ && c0 !== 33 /* ! */) {
      const at = s.lastIndexOf('$');
      if (at < 0) {
        drops.drop('garbled', line, `${where}: not an NMEA sentence (no $)`);
        return 0;
      }
      this.c.nmea_resync++;
      s = s.slice(at);
    } else {
      const at = s.lastIndexOf('$');
      if (at > 0) {
        const head = s.slice(0, at);
        if (head.includes(',')) drops.drop('garbled', head, `${where}: NMEA sentence cut short by the next $ (a lost line end?)`);
        else this.c.nmea_resync++;
        s = s.slice(at);
      }
    }
    const framed = frame(s, this.opts.checksum);
    if (!framed.ok) {
      drops.drop(framed.reason, line, `${where}: ${framed.detail}`);
      return 0;
    }
    const { type, fields } = framed.sentence;
    try {
      let fix: Fix | undefined;
      switch (type) {
        case 'GGA':
          fix = this.gga(fields, s, where);
          break;
        case 'GNS':
          fix = this.gns(fields, s, where);
          break;
        case 'RMC':
          fix = this.rmc(fields, s, now, where);
          break;
        case 'GLL':
          fix = this.gll(fields, s, where);
          break;
        case 'VTG':
          return this.vtg(fields, s, now, emit, drops, where);
        case 'ZDA':
          this.zda(fields, now);
          this.c.nmea_time_only++;
          return this.flushIfDated(emit, drops);
        default:
          this.c.nmea_ignored++;
          return 0;
      }
      if (!fix) return 0;
      if (fix.tod.leap) this.c.nmea_leap_second++;
      this.epochTod = fix.tod;
      return this.date(fix, now, emit, drops);
    } catch (e) {
      if (!(e instanceof FieldError)) throw e;
      drops.drop(e instanceof NoTime ? 'nmea_no_time' : 'garbled', line, `${where}: NMEA ${type}: ${e.message}`);
      return 0;
    }
  }

  /** Sentences waiting for a date and not counted yet (each will count as a fix or duplicate once dated). */
  get waitingFixes(): number {
    return this.waiting.filter((w) => !w.counted).length;
  }

  private gga(f: string[], line: string, where: string): Fix | undefined {
    const quality = num(f[5], 'fix quality');
    return this.positionFix(f[0], quality, f.slice(1, 5), line, where, [
      ['satellites', num(f[6], 'satellites')],
      ['hdop', num(f[7], 'hdop')],
      ['altitude_m', num(f[8], 'altitude')],
    ]);
  }

  private gns(f: string[], line: string, where: string): Fix | undefined {
    const modes = f[5] ?? '';
    if (!/^[NADPRFEMS]*$/.test(modes)) throw new FieldError(`mode "${modes.slice(0, 8)}" is not GNS mode letters`);
    const best = [...modes].find((m) => m !== 'N');
    const quality = modes === '' ? undefined : GNS_QUALITY[best ?? 'N'];
    return this.positionFix(f[0], quality, f.slice(1, 5), line, where, [
      ['satellites', num(f[6], 'satellites')],
      ['hdop', num(f[7], 'hdop')],
      ['altitude_m', num(f[8], 'altitude')],
    ]);
  }

  /** GGA and GNS: fix quality decides what is reported. */
  private positionFix(time: string | undefined, quality: number | undefined, pos: string[], line: string, where: string, extra: Values): Fix | undefined {
    const tod = timeOfDay(time);
    if (!quality) {
      this.hasFix = false;
      this.c.nmea_no_fix++;
      if (!tod || quality === undefined) return undefined;
      return { tod, values: [['fix_quality', 0], ['satellites', extra[0]?.[1]]], line, where, counted: true };
    }
    this.hasFix = quality !== 7 && quality !== 8;
    if (!tod) throw new NoTime('a fix without a time');
    if (!this.hasFix) {
      this.c.nmea_manual_or_sim++;
      return { tod, values: [['fix_quality', quality]], line, where, counted: true };
    }
    const position = this.position(pos);
    const values: Values = [['fix_quality', quality], ...extra];
    if (position) values.push(['lat', position[0]], ['lon', position[1]]);
    return { tod, position, values, line, where };
  }

  private position(f: string[]): [number, number] | undefined {
    const lat = angle(f[0], f[1], 'lat');
    const lon = angle(f[2], f[3], 'lon');
    return lat === undefined || lon === undefined ? undefined : [lat, lon];
  }

  /** True when a mode indicator (NMEA 2.3+) rules the fix out (counted; the receiver has no fix). */
  private notAFix(mode: string | undefined): boolean {
    if (mode === 'N') this.c.nmea_no_fix++;
    else if (mode === 'M' || mode === 'S') this.c.nmea_manual_or_sim++;
    else return false;
    this.hasFix = false;
    return true;
  }

  private rmc(f: string[], line: string, now: number, where: string): Fix | undefined {
    if (f[1] !== 'A') {
      if (f[1] !== 'V') throw new FieldError(`status "${(f[1] ?? '').slice(0, 4)}" is not A or V`);
      this.hasFix = false;
      this.c.nmea_no_fix++;
      return undefined;
    }
    if (this.notAFix(f[11])) return undefined;
    const tod = timeOfDay(f[0]);
    if (!tod) throw new NoTime('a fix without a time');
    this.hasFix = true;
    const position = this.position(f.slice(2, 6));
    const knots = num(f[6], 'speed');
    const values: Values = [['speed_kmh', knots === undefined ? undefined : knots * KNOT_KMH], ['course_deg', num(f[7], 'course')]];
    if (position) values.unshift(['lat', position[0]], ['lon', position[1]]);
    return { tod, day: this.day(f[8] ? rmcDate(f[8]) : undefined, f[8], tod, now), position, values, line, where };
  }

  private gll(f: string[], line: string, where: string): Fix | undefined {
    if (f[5] !== undefined && f[5] !== 'A') {
      this.hasFix = false;
      this.c.nmea_no_fix++;
      return undefined;
    }
    if (this.notAFix(f[6])) return undefined;
    const tod = timeOfDay(f[4]);
    if (!tod) throw new NoTime('a position without a time (GLL before NMEA 2.0 has none: such a receiver needs RMC or GGA enabled too)');
    this.hasFix = true;
    const position = this.position(f.slice(0, 4));
    if (!position) throw new FieldError('status A without a position');
    return { tod, position, values: [['lat', position[0]], ['lon', position[1]]], line, where };
  }

  private vtg(f: string[], line: string, now: number, emit: (r: Reading) => void, drops: DropSink, where: string): number {
    // NMEA 2.0+: course,T,course,M,knots,N,kmh,K[,mode]; NMEA 1.x: course,course,knots,kmh
    const old = f[1] !== 'T' && f.length === 4;
    const mode = old ? undefined : f[8];
    if (mode !== undefined && mode !== '') {
      if (this.notAFix(mode)) return 0;
    } else if (!this.hasFix) {
      this.c.nmea_no_fix++;
      return 0;
    }
    if (!this.epochTod) {
      this.c.nmea_no_fix++;
      return 0;
    }
    const knots = num(old ? f[2] : f[4], 'speed (knots)');
    const kmh = knots === undefined ? num(old ? f[3] : f[6], 'speed (km/h)') : knots * KNOT_KMH;
    const values: Values = [['speed_kmh', kmh], ['course_deg', num(f[0], 'course')]];
    if (values.every(([, v]) => v === undefined)) {
      this.c.nmea_no_fix++;
      return 0;
    }
    return this.date({ tod: this.epochTod, values, line, where }, now, emit, drops);
  }

  private zda(f: string[], now: number): void {
    const tod = timeOfDay(f[0]);
    if (!tod) return;
    const field = f[1] || f[2] || f[3] ? f.slice(1, 4).join(',') : undefined;
    const day = this.day(field ? zdaDate(f[1] ?? '', f[2] ?? '', f[3] ?? '') : undefined, field, tod, now);
    if (day === undefined) return;
    this.setAnchor(day + tod.ms, false);
  }

  /** A sane date (UTC midnight), corrected for a week rollover; undefined (counted when present but impossible) otherwise. */
  private day(day: number | undefined, field: string | undefined, tod: TimeOfDay, now: number): number | undefined {
    if (!field) return undefined;
    if (day === undefined || day + tod.ms < GPS_EPOCH) {
      this.c.nmea_bad_date++;
      return undefined;
    }
    const ts = day + tod.ms;
    if (Math.abs(ts - now) > ROLLOVER_WINDOW) {
      for (let k = 1; k <= 3; k++) {
        if (Math.abs(ts + k * GPS_ROLLOVER - now) <= ROLLOVER_WINDOW) {
          this.c.nmea_week_rollover++;
          return day + k * GPS_ROLLOVER;
        }
      }
    }
    return day;
  }

  private setAnchor(ts: number, fromGateway: boolean): void {
    this.anchor = ts;
    this.anchorFromGateway = fromGateway;
  }

  /** The time of day nearest to the anchor (midnight crossed either way). */
  private near(anchor: number, tod: number): number {
    let ts = Math.floor(anchor / DAY) * DAY + tod;
    if (ts - anchor > HALF_DAY) ts -= DAY;
    else if (anchor - ts > HALF_DAY) ts += DAY;
    return ts;
  }

  private date(fix: Fix, now: number, emit: (r: Reading) => void, drops: DropSink): number {
    if (fix.day !== undefined) {
      this.setAnchor(fix.day + fix.tod.ms, false);
      return this.flushIfDated(emit, drops) + this.place(fix, fix.day + fix.tod.ms, emit, drops);
    }
    if (this.anchor === undefined) {
      this.waiting.push(fix);
      this.c.nmea_waited_for_date++;
      return this.waitedTooLong(fix) ? this.giveUpWaiting(now, emit, drops) : 0;
    }
    const ts = this.near(this.anchor, fix.tod.ms);
    this.anchor = ts;
    if (this.anchorFromGateway) this.c.nmea_dated_by_gateway++;
    return this.place(fix, ts, emit, drops);
  }

  /**
   * Only a fix that waited MAX_WAIT_MS makes the `undated` rule apply. No-fix sentences (already
   * counted) waiting longer than that are let go: a receiver without a fix and without a date
   * (RMC V dates are not used) gives no reading until it has one or the other.
   */
  private waitedTooLong(last: Fix): boolean {
    const older = (w: Fix) => {
      const span = (last.tod.ms - w.tod.ms + DAY) % DAY;
      return span >= MAX_WAIT_MS && span < HALF_DAY;
    };
    this.waiting = this.waiting.filter((w) => !w.counted || !older(w));
    if (this.waiting.length > MAX_WAITING) this.waiting.splice(this.waiting.findIndex((w) => w.counted) >>> 0, 1);
    const first = this.waiting.find((w) => !w.counted);
    return first !== undefined && (older(first) || this.waiting.length >= MAX_WAITING);
  }

  private giveUpWaiting(now: number, emit: (r: Reading) => void, drops: DropSink): number {
    if (this.opts.undated === 'drop') {
      for (const w of this.waiting) {
        if (!w.counted) drops.drop('nmea_no_date', w.line, `${w.where}: no date (RMC or ZDA) from the receiver within ${MAX_WAIT_MS / 1000}s of its time (undated: drop)`);
      }
      this.waiting = [];
      return 0;
    }
    const [oldest] = this.waiting;
    if (!oldest) return 0;
    this.setAnchor(this.near(now, oldest.tod.ms), true);
    return this.flushIfDated(emit, drops);
  }

  /** Places the fixes that waited for a date, relative to the anchor just set (they came before it). */
  private flushIfDated(emit: (r: Reading) => void, drops: DropSink): number {
    if (this.anchor === undefined || this.waiting.length === 0) return 0;
    const waiting = this.waiting;
    this.waiting = [];
    let n = 0;
    let ref = this.anchor;
    if (!this.anchorFromGateway) {
      // relative to the dated sentence, walking back so that a midnight between them is crossed right
      const placed = [...waiting].reverse().map((w) => ({ w, at: (ref = this.near(ref, w.tod.ms)) }));
      for (const { w, at } of placed.reverse()) n += this.place(w, at, emit, drops);
      return n;
    }
    for (const w of waiting) {
      ref = this.near(ref, w.tod.ms);
      this.c.nmea_dated_by_gateway++;
      n += this.place(w, ref, emit, drops);
    }
    this.anchor = ref;
    return n;
  }

  /** Emits a dated fix: a new epoch, the same epoch again, or time gone back (start over). */
  private place(fix: Fix, ts: number, emit: (r: Reading) => void, drops: DropSink): number {
    if (this.epochTs !== undefined && ts < this.epochTs) {
      this.c.nmea_time_back++;
      this.lastTs.clear();
      this.epochTs = undefined;
    }
    if (ts === this.epochTs && fix.position && this.epochPos) {
      const [a, b] = this.epochPos;
      if (Math.abs(a - fix.position[0]) > SAME_PLACE_DEG || Math.abs(b - fix.position[1]) > SAME_PLACE_DEG) {
        drops.drop('nmea_time_repeated', fix.line, `${fix.where}: same receiver time ${new Date(ts).toISOString()} as the last fix but another position (${fix.position.join(', ')} vs ${a}, ${b}); kept the first`);
        return 0;
      }
    }
    if (ts !== this.epochTs) {
      this.epochTs = ts;
      this.epochPos = fix.position;
    } else this.epochPos ??= fix.position;
    let n = 0;
    for (const [metric, value] of fix.values) if (value !== undefined) n += this.out(metric, ts, value, emit);
    if (fix.counted) return n;
    if (n > 0) this.c.nmea_fixes++;
    else this.c.nmea_duplicates++;
    return n;
  }

  private out(metric: string, ts: number, value: number, emit: (r: Reading) => void): number {
    if (!Number.isFinite(value)) return 0;
    const stream = `${this.device}/${metric}`;
    const last = this.lastTs.get(stream);
    if (last !== undefined && ts <= last) return 0;
    this.lastTs.set(stream, ts);
    emit({ stream, ts, value });
    return 1;
  }
}
