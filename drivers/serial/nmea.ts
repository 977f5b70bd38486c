import { parseNmeaSentence, type GGAPacket, type RMCPacket, type VTGPacket } from 'nmea-simple';
import type { Reading } from '../../src/core/reading.js';
import type { DropSink } from '../common/payload.js';

/**
 * NMEA 0183 → readings, with nmea-simple doing the field decoding. Checksums are verified here
 * first so that a bad checksum is told apart from a garbled line. Metrics (stream
 * `<device>/<metric>`):
 *
 * | metric | from | unit |
 * |---|---|---|
 * | `lat`, `lon` | GGA (fix) / RMC (status A) | decimal degrees, south/west negative |
 * | `altitude_m` | GGA | metres above mean sea level |
 * | `fix_quality` | GGA | 0 none, 1 GPS, 2 DGPS, 4 RTK, 5 float RTK, 6 dead reckoning… |
 * | `satellites` | GGA | satellites used |
 * | `hdop` | GGA | horizontal dilution of precision |
 * | `speed_kmh` | RMC, VTG | km/h over ground |
 * | `course_deg` | RMC, VTG | degrees true |
 *
 * Times: RMC carries date and time; GGA only the time of day, completed with the date of the
 * last RMC (else the gateway clock's UTC date, corrected across midnight); VTG has no time and
 * takes the time of the last fix. The same metric at the same time (GGA and RMC of one fix both
 * give lat/lon) is emitted once.
 */
const FIX_TYPES = ['none', 'fix', 'delta', 'pps', 'rtk', 'frtk', 'estimated', 'manual', 'simulation'];
const KNOT_KMH = 1.852;
const DAY = 86_400_000;

export class NmeaDecoder {
  /** Valid sentences of other types (GSV, GSA...): not errors, not readings. */
  ignored = 0;
  /** Readings skipped because the same metric/time was already emitted. */
  duplicates = 0;
  /** RMC with status V, GGA with fix 0: no position emitted. */
  noFix = 0;
  private dayStart: number | undefined; // UTC midnight of the last RMC date
  private lastFixTs: number | undefined;
  private readonly lastTs = new Map<string, number>();

  constructor(private readonly device: string) {}

  decode(line: string, now: number, emit: (r: Reading) => void, drops: DropSink, where: string): number {
    const s = line.trim();
    const c0 = s.charCodeAt(0);
    if (c0 !== 36 /* $ */ && c0 !== 33 /* ! */) {
      drops.drop('garbled', line, `${where}: not an NMEA sentence (does not start with $)`);
      return 0;
    }
    const star = s.lastIndexOf('*');
    if (star < 0 || star + 3 !== s.length) {
      drops.drop('bad_checksum', line, `${where}: NMEA sentence without a *hh checksum`);
      return 0;
    }
    let sum = 0;
    for (let i = 1; i < star; i++) sum ^= s.charCodeAt(i);
    const want = parseInt(s.slice(star + 1), 16);
    if (sum !== want) {
      drops.drop('bad_checksum', line, `${where}: checksum ${s.slice(star + 1)} but the sentence sums to ${sum.toString(16).toUpperCase().padStart(2, '0')}`);
      return 0;
    }
    let packet;
    try {
      packet = parseNmeaSentence(s);
    } catch (e) {
      const msg = (e as Error).message;
      if (msg.startsWith('No known parser')) {
        this.ignored++;
        return 0;
      }
      drops.drop('garbled', line, `${where}: NMEA sentence not understood: ${msg}`);
      return 0;
    }
    const f = s.slice(0, star).split(',');
    try {
      switch (packet.sentenceId) {
        case 'GGA':
          return this.gga(packet, f, now, emit);
        case 'RMC':
          return this.rmc(packet, f, emit);
        case 'VTG':
          return this.vtg(packet, f, now, emit);
        default:
          this.ignored++;
          return 0;
      }
    } catch (e) {
      drops.drop('garbled', line, `${where}: NMEA fields not understood: ${(e as Error).message}`);
      return 0;
    }
  }

  private out(metric: string, ts: number, value: number, emit: (r: Reading) => void): number {
    if (!Number.isFinite(value)) return 0;
    const stream = `${this.device}/${metric}`;
    const last = this.lastTs.get(stream);
    if (last !== undefined && ts <= last) {
      this.duplicates++;
      return 0;
    }
    this.lastTs.set(stream, ts);
    emit({ stream, ts, value });
    return 1;
  }

  private gga(p: GGAPacket, f: string[], now: number, emit: (r: Reading) => void): number {
    if (!f[1]) return 0;
    const t = p.time;
    const tod = ((t.getUTCHours() * 60 + t.getUTCMinutes()) * 60 + t.getUTCSeconds()) * 1000 + t.getUTCMilliseconds();
    let ts: number;
    if (this.dayStart !== undefined) {
      ts = this.dayStart + tod;
      if (this.lastFixTs !== undefined && ts < this.lastFixTs - DAY / 2) ts += DAY; // past midnight before the next RMC
    } else {
      ts = Math.floor(now / DAY) * DAY + tod;
      if (ts - now > DAY / 2) ts -= DAY;
      else if (now - ts > DAY / 2) ts += DAY;
    }
    this.lastFixTs = ts;
    const fix = FIX_TYPES.indexOf(p.fixType);
    let n = 0;
    if (f[6]) n += this.out('fix_quality', ts, fix < 0 ? Number(f[6]) : fix, emit);
    if (f[7]) n += this.out('satellites', ts, p.satellitesInView, emit);
    if (fix <= 0) {
      this.noFix++;
      return n;
    }
    if (f[2] && f[4]) {
      n += this.out('lat', ts, p.latitude, emit);
      n += this.out('lon', ts, p.longitude, emit);
    }
    if (f[8]) n += this.out('hdop', ts, p.horizontalDilution, emit);
    if (f[9]) n += this.out('altitude_m', ts, p.altitudeMeters, emit);
    return n;
  }

  private rmc(p: RMCPacket, f: string[], emit: (r: Reading) => void): number {
    const ts = p.datetime.getTime();
    if (!Number.isFinite(ts)) throw new Error('no date/time');
    this.dayStart = Math.floor(ts / DAY) * DAY;
    this.lastFixTs = ts;
    if (p.status !== 'valid') {
      this.noFix++;
      return 0;
    }
    let n = 0;
    if (f[3] && f[5]) {
      n += this.out('lat', ts, p.latitude, emit);
      n += this.out('lon', ts, p.longitude, emit);
    }
    if (f[7]) n += this.out('speed_kmh', ts, p.speedKnots * KNOT_KMH, emit);
    if (f[8]) n += this.out('course_deg', ts, p.trackTrue, emit);
    return n;
  }

  private vtg(p: VTGPacket, f: string[], now: number, emit: (r: Reading) => void): number {
    const ts = this.lastFixTs ?? now;
    let n = 0;
    if (f[7]) n += this.out('speed_kmh', ts, p.speedKmph ?? p.speedKnots * KNOT_KMH, emit);
    else if (f[5]) n += this.out('speed_kmh', ts, p.speedKnots * KNOT_KMH, emit);
    if (f[1]) n += this.out('course_deg', ts, p.trackTrue, emit);
    return n;
  }
}
