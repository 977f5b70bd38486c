/**
 * NMEA 0183 framing and field parsing: checksum, address, and the field forms real receivers
 * send (times with any number of decimals, leap second 60, empty fields for "no value").
 * Pure functions; the decoder in nmea.ts decides what the fields mean over time.
 */

export type ChecksumMode = 'required' | 'optional';

interface Sentence {
  /** Talker (GP, GN, GL, BD...), 'P' for proprietary sentences, '' for other vendor addresses. */
  talker: string;
  /** Sentence type: GGA, RMC... (for proprietary ones: the maker's code). */
  type: string;
  /** Fields after the address; fields[0] is the first data field. */
  fields: string[];
}

export type Framed = { ok: true; sentence: Sentence } | { ok: false; reason: 'bad_checksum' | 'garbled'; detail: string };

const ADDRESS = /^[A-Z0-9]{2,}$/;

/** Checks the checksum (`*hh`) and splits the sentence. `line` starts with `$` or `!`. */
export function frame(line: string, checksum: ChecksumMode): Framed {
  const c0 = line.charCodeAt(0);
  if (c0 !== 36 /* $ */ && c0 !== 33 /* ! */) return { ok: false, reason: 'garbled', detail: 'not an NMEA sentence (does not start with $)' };
  let end = line.length;
  const star = line.lastIndexOf('*');
  if (star >= 0) {
    const hh = line.slice(star + 1);
    if (!/^[0-9A-Fa-f]{2}$/.test(hh)) return { ok: false, reason: 'bad_checksum', detail: `"*${hh.slice(0, 8)}" after the sentence is not a two-digit hex checksum` };
    let sum = 0;
    for (let i = 1; i < star; i++) sum ^= line.charCodeAt(i);
    if (sum !== parseInt(hh, 16)) {
      return { ok: false, reason: 'bad_checksum', detail: `checksum ${hh} but the sentence sums to ${hex2(sum)}` };
    }
    end = star;
  } else if (checksum === 'required') {
    return { ok: false, reason: 'bad_checksum', detail: 'NMEA sentence without a *hh checksum (if the receiver never sends checksums, set checksum: optional)' };
  }
  const fields = line.slice(1, end).split(',');
  const address = fields.shift()!;
  // proprietary ($P + maker code, some makers put text right after it) and vendor addresses
  // ($LOG108...) are sentences the device meant to send: they are told apart from noise
  if (address[0] === 'P' && (star >= 0 || ADDRESS.test(address))) return { ok: true, sentence: { talker: 'P', type: address.slice(1), fields } };
  if (!ADDRESS.test(address)) return { ok: false, reason: 'garbled', detail: `"${address.slice(0, 12)}" is not an NMEA address (talker + sentence type)` };
  if (address.length !== 5) return { ok: true, sentence: { talker: '', type: address, fields } };
  return { ok: true, sentence: { talker: address.slice(0, 2), type: address.slice(2), fields } };
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

/** Thrown for a field that is present but not what the sentence type allows. */
export class FieldError extends Error {}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)$/;

/** A number field; undefined when empty. */
export function num(field: string | undefined, name: string): number | undefined {
  if (field === undefined || field === '') return undefined;
  if (!DECIMAL.test(field)) throw new FieldError(`${name} "${field.slice(0, 16)}" is not a number`);
  return Number(field);
}

export interface TimeOfDay {
  /** Milliseconds since UTC midnight; a leap second (ss = 60) is clamped to 23:59:59.999. */
  ms: number;
  leap: boolean;
}

const TIME = /^(\d\d)(\d\d)(\d\d)(?:\.(\d*))?$/;

/**
 * `hhmmss`, `hhmmss.s`, `hhmmss.sss`... (any number of decimals, truncated to the millisecond,
 * as gpsd reports it). Second 60 is a leap second: Unix time has no 23:59:60, so it is stamped
 * 23:59:59.999, which keeps it before the real midnight that follows.
 */
export function timeOfDay(field: string | undefined): TimeOfDay | undefined {
  if (!field) return undefined;
  const m = TIME.exec(field);
  if (!m) throw new FieldError(`time "${field.slice(0, 16)}" is not hhmmss[.sss]`);
  const h = Number(m[1]);
  const min = Number(m[2]);
  const s = Number(m[3]);
  if (h > 23 || min > 59 || s > 60) throw new FieldError(`time "${field}" is out of range`);
  if (s === 60) {
    if (h !== 23 || min !== 59) throw new FieldError(`time "${field}": second 60 (leap second) outside 23:59`);
    return { ms: 86_399_999, leap: true };
  }
  const frac = m[4] ? Number((m[4] + '000').slice(0, 3)) : 0;
  return { ms: ((h * 60 + min) * 60 + s) * 1000 + frac, leap: false };
}

/** A calendar date as UTC midnight in ms, or undefined when it is not a real calendar day. */
function utcDay(year: number, month: number, day: number): number | undefined {
  if (!Number.isInteger(year) || !Number.isInteger(month) || !Number.isInteger(day)) return undefined;
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  const t = Date.UTC(year, month - 1, day);
  const d = new Date(t);
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return undefined;
  return t;
}

/**
 * RMC `ddmmyy`: two-digit years 80–99 are 1980–1999, 00–79 are 2000–2079 (GPS starts in 1980).
 * Returns undefined for a field that is not a calendar day (`2208-1`, `310299`): the caller counts it.
 */
export function rmcDate(field: string): number | undefined {
  if (!/^\d{6}$/.test(field)) return undefined;
  const yy = Number(field.slice(4, 6));
  return utcDay(yy >= 80 ? 1900 + yy : 2000 + yy, Number(field.slice(2, 4)), Number(field.slice(0, 2)));
}

/** ZDA day, month, four-digit year. */
export function zdaDate(day: string, month: string, year: string): number | undefined {
  if (!/^\d{1,2}$/.test(day) || !/^\d{1,2}$/.test(month) || !/^\d{4}$/.test(year)) return undefined;
  return utcDay(Number(year), Number(month), Number(day));
}

const ANGLE = /^(\d+)(\d\d(?:\.\d*)?)$/;

/**
 * `ddmm.mmmm` + N/S or `dddmm.mmmm` + E/W → decimal degrees, south and west negative.
 * Undefined when both fields are empty (no position).
 */
export function angle(value: string | undefined, hemi: string | undefined, axis: 'lat' | 'lon'): number | undefined {
  if (!value && !hemi) return undefined;
  const m = value ? ANGLE.exec(value) : null;
  if (!m) throw new FieldError(`${axis} "${(value ?? '').slice(0, 16)}" is not ${axis === 'lat' ? 'ddmm.mmmm' : 'dddmm.mmmm'}`);
  const deg = Number(m[1]);
  const min = Number(m[2]);
  const pos = axis === 'lat' ? 'N' : 'E';
  const neg = axis === 'lat' ? 'S' : 'W';
  if (hemi !== pos && hemi !== neg) throw new FieldError(`${axis} hemisphere "${(hemi ?? '').slice(0, 4)}" is not ${pos} or ${neg}`);
  const v = deg + min / 60;
  if (min >= 60 || v > (axis === 'lat' ? 90 : 180)) throw new FieldError(`${axis} "${value}" is out of range`);
  return hemi === neg ? -v : v;
}
