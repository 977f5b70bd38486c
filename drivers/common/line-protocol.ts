/**
 * InfluxDB line protocol, as Telegraf's MQTT output and many device libraries publish it:
 *
 *   measurement[,tag=value...] field=value[,field=value...] [timestamp]
 *
 * Measurement names escape `,` and space with `\`; tag keys, tag values and field keys escape `,`,
 * `=` and space; string field values are double-quoted with `\"` and `\\`. Values: floats
 * (`1`, `-1.5e3`), integers `1i`, unsigned `1u`, booleans (`t`, `true`, `F`, `FALSE`…) and
 * strings. Lines starting with `#` are comments. One payload may hold several lines.
 */
interface LinePoint {
  measurement: string;
  /** In the order written. */
  tags: Array<[string, string]>;
  fields: Array<[string, number | boolean | string]>;
  /** The integer after the fields, as written (its unit is the writer's: ns for Telegraf). */
  ts?: number;
}

export type LineResult = { ok: true; point: LinePoint } | { ok: false; detail: string };

const TRUE = new Set(['t', 'T', 'true', 'True', 'TRUE']);
const FALSE = new Set(['f', 'F', 'false', 'False', 'FALSE']);
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+[iu]$/;

/** True when `text` looks like line protocol rather than a bare value: `name[,tags] key=…`. */
export function looksLikeLineProtocol(text: string): boolean {
  return /^\s*(?:#|[^\s=,"{[][^\s]*\s+[^\s=]+=)/.test(text);
}

/** Parse one line (no newline in it). */
export function parseLine(line: string): LineResult {
  let i = 0;
  const n = line.length;
  /** Read up to an unescaped character of `stops`; escapes of `escapable` are undone. */
  const token = (stops: string, escapable: string): string => {
    let out = '';
    while (i < n) {
      const c = line[i]!;
      if (c === '\\' && i + 1 < n && escapable.includes(line[i + 1]!)) {
        out += line[i + 1];
        i += 2;
        continue;
      }
      if (stops.includes(c)) break;
      out += c;
      i++;
    }
    return out;
  };

  const measurement = token(', ', ', ');
  if (measurement === '') return { ok: false, detail: 'no measurement name' };
  const tags: Array<[string, string]> = [];
  while (line[i] === ',') {
    i++;
    const k = token('=, ', ',= ');
    if (line[i] !== '=' || k === '') return { ok: false, detail: `tag "${k.slice(0, 40)}" has no value (tag=value)` };
    i++;
    const v = token(', ', ',= ');
    if (v === '') return { ok: false, detail: `tag "${k.slice(0, 40)}" is empty` };
    tags.push([k, v]);
  }
  if (line[i] !== ' ') return { ok: false, detail: 'no fields (measurement[,tag=value] field=value [timestamp])' };
  while (line[i] === ' ') i++;

  const fields: Array<[string, number | boolean | string]> = [];
  for (;;) {
    const k = token('=, ', ',= ');
    if (line[i] !== '=' || k === '') return { ok: false, detail: `field "${k.slice(0, 40)}" has no value (field=value)` };
    i++;
    let value: number | boolean | string;
    if (line[i] === '"') {
      i++;
      let s = '';
      while (i < n && line[i] !== '"') {
        if (line[i] === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) i++;
        s += line[i];
        i++;
      }
      if (line[i] !== '"') return { ok: false, detail: `field "${k.slice(0, 40)}": string not closed` };
      i++;
      value = s;
    } else {
      const raw = token(', ', '');
      if (TRUE.has(raw)) value = true;
      else if (FALSE.has(raw)) value = false;
      else if (INTEGER.test(raw)) value = Number(raw.slice(0, -1));
      else if (FLOAT.test(raw)) value = Number(raw);
      else return { ok: false, detail: `field "${k.slice(0, 40)}" = ${raw.slice(0, 40)} is not a number, boolean or "string"` };
      if (typeof value === 'number' && !Number.isFinite(value)) return { ok: false, detail: `field "${k.slice(0, 40)}" is out of range` };
    }
    fields.push([k, value]);
    if (line[i] === ',') {
      i++;
      continue;
    }
    break;
  }
  while (line[i] === ' ') i++;
  let ts: number | undefined;
  if (i < n) {
    const rest = line.slice(i).trimEnd();
    if (!/^-?\d+$/.test(rest)) return { ok: false, detail: `"${rest.slice(0, 40)}" after the fields is not an integer timestamp` };
    ts = Number(rest);
  }
  return { ok: true, point: { measurement, tags, fields, ts } };
}

/**
 * The unit of a line protocol timestamp from its size (the writer's precision is not in the line:
 * Telegraf writes ns, others s or ms): a time since 1973 in ns has ≥ 18 digits, in µs ≥ 15, in ms
 * ≥ 12. Returns ms since the epoch.
 */
export function lineTimeMs(ts: number): number {
  const a = Math.abs(ts);
  if (a >= 1e17) return Math.round(ts / 1e6);
  if (a >= 1e14) return Math.round(ts / 1e3);
  if (a >= 1e11) return ts;
  return ts * 1000;
}
