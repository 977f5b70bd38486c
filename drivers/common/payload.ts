import type { Reading } from '../../src/core/reading.js';
import { isValidName, toName } from './names.js';
import { parseJsonObject } from '../../src/core/json-object.js';
import { MAX_DATE_MS, parseTimestamp, unitHint, type DeviceTimeUnit } from '../../src/core/time.js';
import { lineTimeMs, looksLikeLineProtocol, parseLines } from './line-protocol.js';
import type { LocalZone } from '../../src/core/local-zone.js';

/**
 * Decodes one device message (an MQTT payload or a JSON line) into readings. Shared by the
 * MQTT and serial drivers so that both read the same payload forms the same way:
 *
 * - a bare number: `21.5` → one reading `<device>/<metric>`;
 * - a JSON object with `value` (and optional `ts`): one reading; other scalar keys travel in
 *   `reading.fields`;
 * - a JSON object with several fields (no `value` key): one reading per numeric (or boolean)
 *   field. The metric is the field name when no metric is known (the topic template has no
 *   `{metric}`), else `<metric>_<field>`.
 *
 * Booleans are read as 1/0, and so are switch states ("ON"/"OFF", "true"/"false", any case).
 * Numeric strings ("21.5") are accepted. Other non-numeric scalar fields in
 * the several-field form are not readings: they are counted (`fieldsIgnored`) and skipped.
 */
export interface PayloadOptions {
  /** Keys holding the timestamp, first found wins. */
  tsKeys: readonly string[];
  tsUnit: DeviceTimeUnit;
  /** Zone of date-times without one (default UTC). */
  tsZone?: LocalZone;
  /** Most readings taken from one message; the rest are dropped as `too_many_fields`. */
  maxFields: number;
  /** Keys never read as values (e.g. `device`, `id`). */
  ignoreKeys?: readonly string[];
  /** Fields of the several-field form not read, by flattened name (`id`, `aenergy_minute_ts`); a nested object's name skips all of it. */
  ignoreFields?: readonly string[];
  /** Keys leading to the object whose fields are the readings (`uplink_message`, `decoded_payload`); time keys are looked up there, then at the top. */
  valuesPath?: readonly string[];
}

/** Levels of nested objects and arrays read in the several-field form (the top object is level 1). */
const MAX_DEPTH = 4;

export interface DropSink {
  drop(reason: string, sample: unknown, detail?: string): void;
}

export class PayloadDecoder {
  fieldsIgnored = 0;
  /** Line protocol drops so far (to tell a payload that gave nothing and said why from one that did not). */
  private lineDrops = 0;
  private readonly tsKeys: readonly string[];
  private readonly ignore: Set<string>;
  private readonly ignoreFields: Set<string> | undefined;

  constructor(private readonly opts: PayloadOptions) {
    this.tsKeys = opts.tsKeys;
    this.ignore = new Set([...(opts.ignoreKeys ?? []), ...opts.tsKeys]);
    this.ignoreFields = opts.ignoreFields?.length ? new Set(opts.ignoreFields) : undefined;
  }

  /**
   * Decode text. `metric` is undefined when the source names no metric. `where` names the source
   * in drop details (a topic, a port). `stream`: the key of the value forms, `<device>/<metric or
   * value>`, when the caller has it built already. Returns the number of readings emitted.
   */
  decodeText(
    text: string,
    device: string,
    metric: string | undefined,
    now: number,
    emit: (r: Reading) => void,
    drops: DropSink,
    where: string,
    stream?: string,
  ): number {
    let i = 0;
    while (i < text.length && text.charCodeAt(i) <= 32) i++;
    if (i === text.length) {
      drops.drop('bad_payload', text, `${where}: empty payload`);
      return 0;
    }
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      // A JSON string holding a number: "21.5".
      let s: unknown;
      try {
        s = JSON.parse(text);
      } catch (e) {
        drops.drop('bad_payload', text, `${where}: not valid JSON (${(e as Error).message})`);
        return 0;
      }
      return this.scalar(String(s), text, device, metric, now, emit, drops, where, stream);
    }
    if (c === 123 /* { */ || c === 91 /* [ */) {
      const parsed = parseJsonObject(text);
      if (!parsed.ok) {
        drops.drop('bad_payload', text, `${where}: ${parsed.detail}`);
        return 0;
      }
      return this.decodeObject(parsed.obj, text, device, metric, now, emit, drops, where, stream);
    }
    return this.scalar(text, text, device, metric, now, emit, drops, where, stream);
  }

  private scalar(s: string, sample: string, device: string, metric: string | undefined, now: number, emit: (r: Reading) => void, drops: DropSink, where: string, stream?: string): number {
    const v = toNumber(s);
    if (v === undefined && looksLikeLineProtocol(s)) return this.linePoints(s, device, now, emit, drops, where);
    if (v === undefined) {
      drops.drop('not_a_number', sample, `${where}: "${s.trim().slice(0, 40)}" is not a finite number`);
      return 0;
    }
    emit({ stream: stream ?? `${device}/${metric ?? 'value'}`, ts: now, value: v });
    return 1;
  }

  /**
   * InfluxDB line protocol (Telegraf's MQTT output): one reading per numeric or boolean field of
   * each line, metric `<measurement>_<field>`, or `<measurement>_<tag values>_<field>` when the
   * line has tags other than `host` (Telegraf's `cpu,cpu=cpu0 usage_idle=97` →
   * `cpu_cpu0_usage_idle`: one stream per CPU, not one stream of every CPU interleaved). The
   * template's `{metric}` is not used: the line names its measurement. String fields are counted
   * as ignored; `max_fields` holds per line.
   */
  private linePoints(text: string, device: string, now: number, emit: (r: Reading) => void, drops: DropSink, where: string): number {
    let n = 0;
    const dropsBefore = this.lineDrops;
    const drop = (reason: string, sample: string, detail: string) => {
      this.lineDrops++;
      drops.drop(reason, sample, detail);
    };
    for (const o of parseLines(text)) {
      const lineNo = o.line;
      const line = o.text;
      if ('error' in o) {
        drop('bad_payload', line, `${where}: line protocol, line ${lineNo}: ${o.error}`);
        continue;
      }
      const p = o.point;
      const ts = p.ts === undefined ? now : lineTimeMs(p.ts);
      if (ts < 0 || ts > MAX_DATE_MS) {
        drop('bad_timestamp', line, `${where}: line protocol, line ${lineNo}: timestamp ${p.ts} is not a time since 1970 (ns, µs, ms or s)`);
        continue;
      }
      let name = p.measurement;
      for (const [k, v] of p.tags) if (k !== 'host') name += `_${toName(v)}`;
      let taken = 0;
      let skipped = 0;
      for (const [k, v] of p.fields) {
        if (typeof v === 'string') {
          this.fieldsIgnored++;
          continue;
        }
        if (this.ignoreFields?.has(`${p.measurement}_${k}`)) continue;
        const m = `${name}_${k}`;
        if (!isValidName(m)) {
          drop('bad_name', line, `${where}: line protocol, line ${lineNo}: "${m.slice(0, 40)}" does not make a metric name (letters, digits, _ . : -, max 64; drop tags with Telegraf's tagexclude)`);
          continue;
        }
        if (taken >= this.opts.maxFields) {
          skipped++;
          continue;
        }
        emit({ stream: `${device}/${m}`, ts, value: typeof v === 'boolean' ? (v ? 1 : 0) : v });
        taken++;
      }
      if (skipped > 0) drop('too_many_fields', line, `${where}: line protocol, line ${lineNo}: ${skipped} fields over the limit of ${this.opts.maxFields} per line`);
      n += taken;
    }
    if (n === 0 && this.lineDrops === dropsBefore) drops.drop('bad_payload', text, `${where}: line protocol with no numeric or boolean field`);
    return n;
  }

  /** Decode an already parsed object (JSON lines). */
  decodeObject(
    obj: Record<string, unknown>,
    sample: unknown,
    device: string,
    metric: string | undefined,
    now: number,
    emit: (r: Reading) => void,
    drops: DropSink,
    where: string,
    stream?: string,
  ): number {
    const top = obj;
    if (this.opts.valuesPath) {
      let o: unknown = obj;
      for (const k of this.opts.valuesPath) o = typeof o === 'object' && o !== null && !Array.isArray(o) ? (o as Record<string, unknown>)[k] : undefined;
      if (typeof o !== 'object' || o === null) {
        drops.drop('bad_payload', sample, `${where}: no object at values_path "${this.opts.valuesPath.join('.')}"`);
        return 0;
      }
      obj = o as Record<string, unknown>;
    }
    let ts = now;
    for (const k of this.tsKeys) {
      const raw = obj[k] ?? (obj === top ? undefined : top[k]);
      if (raw === undefined || raw === null) continue;
      const t = parseTimestamp(raw, this.opts.tsUnit, this.opts.tsZone, now);
      if (Number.isNaN(t)) {
        drops.drop('bad_timestamp', sample, `${where}: "${k}" = ${JSON.stringify(raw)?.slice(0, 40)} is neither ${this.opts.tsUnit} since epoch nor ISO 8601${unitHint(Number(raw), now)}`);
        return 0;
      }
      ts = t;
      break;
    }
    if ('value' in obj) {
      const v = toNumber(obj.value);
      if (v === undefined) {
        drops.drop('not_a_number', sample, `${where}: "value" = ${JSON.stringify(obj.value)?.slice(0, 40)} is not a finite number`);
        return 0;
      }
      let fields: Record<string, number | string | boolean> | undefined;
      for (const k in obj) {
        if (k === 'value' || this.ignore.has(k)) continue;
        const f = obj[k];
        if (typeof f === 'number' || typeof f === 'string' || typeof f === 'boolean') (fields ??= {})[k] = f;
      }
      const r: Reading = { stream: stream ?? `${device}/${metric ?? 'value'}`, ts, value: v };
      if (fields) r.fields = fields;
      emit(r);
      return 1;
    }
    const count = { n: 0, skipped: 0 };
    this.fieldReadings(obj, undefined, 1, metric, device, ts, count, sample, emit, drops, where);
    if (count.skipped > 0) drops.drop('too_many_fields', sample, `${where}: ${count.skipped} numeric fields over the limit of ${this.opts.maxFields} per message`);
    if (count.n === 0 && count.skipped === 0) drops.drop('bad_payload', sample, `${where}: JSON object has no "value" and no numeric field`);
    return count.n;
  }

  /**
   * One reading per numeric (or boolean) field; nested objects and arrays are flattened into
   * `<parent>_<key>` and `<parent>_<index>` (as Telegraf's JSON parser does), so that Tasmota's
   * `{"ENERGY": {"Power": 45}}` is `ENERGY_Power` and a three-phase `"Voltage": [230, 231, 229]`
   * is `Voltage_0`…`Voltage_2`. Deeper than MAX_DEPTH levels is counted as ignored.
   */
  private fieldReadings(
    obj: Record<string, unknown> | unknown[],
    parent: string | undefined,
    depth: number,
    metric: string | undefined,
    device: string,
    ts: number,
    count: { n: number; skipped: number },
    sample: unknown,
    emit: (r: Reading) => void,
    drops: DropSink,
    where: string,
  ): void {
    for (const k in obj) {
      if (parent === undefined && this.ignore.has(k)) continue;
      const path = parent === undefined ? k : `${parent}_${k}`;
      if (this.ignoreFields?.has(path)) continue;
      const f = (obj as Record<string, unknown>)[k];
      if (typeof f === 'object' && f !== null) {
        if (depth < MAX_DEPTH) this.fieldReadings(f as Record<string, unknown>, path, depth + 1, metric, device, ts, count, sample, emit, drops, where);
        else this.fieldsIgnored++;
        continue;
      }
      const m = metric === undefined ? path : `${metric}_${path}`;
      const v = typeof f === 'number' || typeof f === 'boolean' || typeof f === 'string' ? toNumber(f) : undefined;
      if (v === undefined) {
        this.fieldsIgnored++;
        continue;
      }
      if (!isValidName(m)) {
        drops.drop('bad_name', sample, `${where}: field "${m.slice(0, 40)}" does not make a metric name (letters, digits, _ . : -, max 64)`);
        continue;
      }
      if (count.n >= this.opts.maxFields) {
        count.skipped++;
        continue;
      }
      emit({ stream: `${device}/${m}`, ts, value: v });
      count.n++;
    }
  }
}

/**
 * A finite number from a number, a boolean (1/0), a numeric string, or a switch state as firmwares
 * send it ("ON"/"OFF": Tasmota's POWER, ESPHome's binary sensors, Zigbee2MQTT's state; "true"/
 * "false"), any case, as 1/0; else undefined.
 */
export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const s = v.trim();
    if (s.length === 0) return undefined;
    const n = Number(s);
    if (Number.isFinite(n)) return n;
    return s.length <= 5 ? SWITCH_STATES[s.toLowerCase()] : undefined;
  }
  return undefined;
}

const SWITCH_STATES: Readonly<Record<string, number>> = Object.assign(Object.create(null), { on: 1, off: 0, true: 1, false: 0 });
