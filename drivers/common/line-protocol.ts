/**
 * InfluxDB line protocol, as Telegraf's MQTT output and many device libraries publish it:
 *
 *   measurement[,tag=value...] field=value[,field=value...] [timestamp]
 *
 * Measurement names escape `,` and space with `\`; tag keys, tag values and field keys escape `,`,
 * `=` and space; string field values are double-quoted with `\"`, `\\`, `\n`, `\r`, `\t` and may
 * span lines. Values: floats (`1`, `-1.5e3`), 64-bit integers `1i`, unsigned `1u`, booleans (`t`,
 * `true`, `F`, `FALSE`…) and strings. Lines starting with `#` are comments. Checked against the
 * decode corpus of influxdata/line-protocol (test/drivers/line-protocol-conformance.test.ts).
 */
interface LinePoint {
  measurement: string;
  /** Sorted by key (as InfluxDB keys a series), so a name built from them does not depend on the writer's order. */
  tags: Array<[string, string]>;
  fields: Array<[string, number | boolean | string]>;
  /** The integer after the fields (its unit is the writer's: ns for Telegraf); exact to ~256 ns past 2^53. */
  ts?: number;
}

/** One line of a payload: its point, or why it was refused. `line` counts from 1. */
export type LineOutcome = { line: number; text: string; point: LinePoint } | { line: number; text: string; error: string };

const TRUE = new Set(['t', 'T', 'true', 'True', 'TRUE']);
const FALSE = new Set(['f', 'F', 'false', 'False', 'FALSE']);
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };
const UINT64_MAX = 2n ** 64n - 1n;
const STRING_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', r: '\r', t: '\t' };

/** True when `text` looks like line protocol rather than a bare value: `name[,tags] key=…`. */
export function looksLikeLineProtocol(text: string): boolean {
  return /^\s*(?:#|[^\s=,"{[][^\s]*\s+[^\s=]+=)/.test(text);
}

class LineError extends Error {}

/** Every line of a payload. A bad line does not stop the others (each is its own outcome). */
export function parseLines(text: string): LineOutcome[] {
  const out: LineOutcome[] = [];
  const n = text.length;
  let i = 0;
  let line = 1;
  const fail = (why: string): never => {
    throw new LineError(why);
  };
  /** Read up to an unescaped character of `stops` (or a line end); escapes of `escapable` are undone. */
  const token = (stops: string, escapable: string, what: string): string => {
    let s = '';
    while (i < n) {
      const c = text[i]!;
      if (c === '\\' && i + 1 < n && escapable.includes(text[i + 1]!)) {
        s += text[i + 1];
        i += 2;
        continue;
      }
      if (c === '\n' || stops.includes(c)) break;
      if (c.charCodeAt(0) < 32) fail(`${what}: control character ${JSON.stringify(c)}`);
      s += c;
      i++;
    }
    return s;
  };
  const point = (): LinePoint => {
    const measurement = token(', ', ', ', 'measurement');
    if (measurement === '') fail('no measurement name');
    const tags: Array<[string, string]> = [];
    while (text[i] === ',') {
      i++;
      const k = token('=, ', ',= ', 'tag key');
      if (text[i] !== '=' || k === '') fail(`tag "${k.slice(0, 40)}" has no value (tag=value)`);
      i++;
      const v = token(', ', ',= ', 'tag value');
      if (v === '') fail(`tag "${k.slice(0, 40)}" is empty`);
      if (tags.some(([t]) => t === k)) fail(`tag "${k.slice(0, 40)}" twice`);
      tags.push([k, v]);
    }
    if (text[i] !== ' ') fail('no fields (measurement[,tag=value] field=value [timestamp])');
    while (text[i] === ' ') i++;
    const fields: Array<[string, number | boolean | string]> = [];
    for (;;) {
      const k = token('=, ', ',= ', 'field key');
      if (text[i] !== '=' || k === '') fail(`field "${k.slice(0, 40)}" has no value (field=value)`);
      i++;
      fields.push([k, value(k)]);
      if (text[i] !== ',') break;
      i++;
    }
    while (text[i] === ' ') i++;
    let ts: number | undefined;
    if (i < n && text[i] !== '\n' && text[i] !== '\r') {
      const raw = token(' \r', '', 'timestamp');
      if (!/^-?\d+$/.test(raw)) fail(`"${raw.slice(0, 40)}" after the fields is not an integer timestamp`);
      const big = BigInt(raw);
      if (big < INT64.min || big > INT64.max) fail(`timestamp ${raw.slice(0, 40)} is out of the 64-bit range`);
      ts = Number(big);
    }
    while (text[i] === ' ' || text[i] === '\r') i++;
    if (i < n && text[i] !== '\n') fail(`"${text.slice(i, i + 40)}" after the timestamp`);
    tags.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return { measurement, tags, fields, ts };
  };
  const value = (k: string): number | boolean | string => {
    const key = k.slice(0, 40);
    if (text[i] === '"') {
      i++;
      let s = '';
      while (i < n && text[i] !== '"') {
        const c = text[i]!;
        if (c === '\\' && i + 1 < n && STRING_ESCAPES[text[i + 1]!] !== undefined) {
          s += STRING_ESCAPES[text[i + 1]!];
          i += 2;
          continue;
        }
        if (c === '\n') line++;
        s += c;
        i++;
      }
      if (text[i] !== '"') fail(`field "${key}": string not closed`);
      i++;
      return s;
    }
    const raw = token(', ', '', `field "${key}"`);
    if (TRUE.has(raw)) return true;
    if (FALSE.has(raw)) return false;
    const last = raw[raw.length - 1];
    if (last === 'i' || last === 'u') {
      const digits = raw.slice(0, -1);
      if (!(last === 'i' ? /^[+-]?\d+$/ : /^\d+$/).test(digits)) fail(`field "${key}" = ${raw.slice(0, 40)} is not ${last === 'i' ? 'an integer' : 'an unsigned integer'}`);
      const big = BigInt(digits);
      if (last === 'i' ? big < INT64.min || big > INT64.max : big > UINT64_MAX) fail(`field "${key}" = ${raw.slice(0, 40)} is out of the 64-bit range`);
      return Number(big);
    }
    if (!FLOAT.test(raw)) fail(`field "${key}" = ${raw.slice(0, 40)} is not a number, boolean or "string"`);
    const v = Number(raw);
    if (!Number.isFinite(v)) fail(`field "${key}" is out of range`);
    return v;
  };

  while (i < n) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    if (c === ' ' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    const startLine = line;
    if (c === '#') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    try {
      const p = point();
      out.push({ line: startLine, text: text.slice(start, i).trimEnd(), point: p });
    } catch (e) {
      if (!(e instanceof LineError)) throw e;
      while (i < n && text[i] !== '\n') i++;
      out.push({ line: startLine, text: text.slice(start, i).trimEnd(), error: e.message });
    }
  }
  return out;
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
