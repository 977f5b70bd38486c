/**
 * NMEA 0183 sentences (GGA, RMC, VTG) with correct checksums, as a GPS receiver prints them.
 * Pure string building; the serial driver parses them with nmea-simple.
 */

/** `*hh`: XOR of every character between `$` and `*`. */
export function nmeaChecksum(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum ^= body.charCodeAt(i);
  return sum.toString(16).toUpperCase().padStart(2, '0');
}

/** `$<body>*hh` */
function sentence(body: string): string {
  return `$${body}*${nmeaChecksum(body)}`;
}

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

function hhmmss(t: number): string {
  const d = new Date(t);
  return `${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}.${pad(Math.floor(d.getUTCMilliseconds() / 10), 2)}`;
}

function ddmmyy(t: number): string {
  const d = new Date(t);
  return `${pad(d.getUTCDate(), 2)}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCFullYear() % 100, 2)}`;
}

/** Degrees → `ddmm.mmmm` / `dddmm.mmmm` and hemisphere. */
function angle(deg: number, lat: boolean): [string, string] {
  const hemi = lat ? (deg >= 0 ? 'N' : 'S') : deg >= 0 ? 'E' : 'W';
  const a = Math.abs(deg);
  let d = Math.floor(a);
  let m = Math.round((a - d) * 60 * 10000) / 10000;
  if (m >= 60) {
    d += 1;
    m -= 60;
  }
  return [`${pad(d, lat ? 2 : 3)}${m.toFixed(4).padStart(7, '0')}`, hemi];
}

export interface GpsFix {
  /** ms since the epoch (UTC). */
  t: number;
  /** false in a tunnel: no position. */
  fix: boolean;
  lat: number;
  lon: number;
  altitudeM: number;
  speedKmh: number;
  courseDeg: number;
  satellites: number;
  hdop: number;
}

/** GGA, RMC and VTG for one fix (or for no fix: empty position fields, fix quality 0, status V). */
export function nmeaSentences(f: GpsFix): string[] {
  const time = hhmmss(f.t);
  const date = ddmmyy(f.t);
  if (!f.fix) {
    return [
      sentence(`GPGGA,${time},,,,,0,00,99.99,,M,,M,,`),
      sentence(`GPRMC,${time},V,,,,,,,${date},,,N`),
      sentence('GPVTG,,T,,M,,N,,K,N'),
    ];
  }
  const [lat, ns] = angle(f.lat, true);
  const [lon, ew] = angle(f.lon, false);
  const knots = (f.speedKmh / 1.852).toFixed(2);
  const course = f.courseDeg.toFixed(1);
  return [
    sentence(`GPGGA,${time},${lat},${ns},${lon},${ew},1,${pad(f.satellites, 2)},${f.hdop.toFixed(1)},${f.altitudeM.toFixed(1)},M,47.0,M,,`),
    sentence(`GPRMC,${time},A,${lat},${ns},${lon},${ew},${knots},${course},${date},,,A`),
    sentence(`GPVTG,${course},T,,M,${knots},N,${f.speedKmh.toFixed(2)},K,A`),
  ];
}
