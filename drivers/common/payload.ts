import type { Reading } from '../../src/core/reading.js';
import { isValidName } from './names.js';
import { parseJsonObject } from '../../src/core/json-object.js';
import { parseTimestamp, unitHint, type DeviceTimeUnit } from '../../src/core/time.js';
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
 * Booleans are read as 1/0. Numeric strings ("21.5") are accepted. Non-numeric scalar fields in
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
}

export interface DropSink {
  drop(reason: string, sample: unknown, detail?: string): void;
}

export class PayloadDecoder {
  fieldsIgnored = 0;
  private readonly tsKeys: readonly string[];
  private readonly ignore: Set<string>;

  constructor(private readonly opts: PayloadOptions) {
    this.tsKeys = opts.tsKeys;
    this.ignore = new Set([...(opts.ignoreKeys ?? []), ...opts.tsKeys]);
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
    if (v === undefined) {
      drops.drop('not_a_number', sample, `${where}: "${s.trim().slice(0, 40)}" is not a finite number`);
      return 0;
    }
    emit({ stream: stream ?? `${device}/${metric ?? 'value'}`, ts: now, value: v });
    return 1;
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
    let ts = now;
    for (const k of this.tsKeys) {
      const raw = obj[k];
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
    let n = 0;
    let skipped = 0;
    for (const k in obj) {
      if (this.ignore.has(k)) continue;
      const f = obj[k];
      const v = typeof f === 'number' || typeof f === 'boolean' || typeof f === 'string' ? toNumber(f) : undefined;
      if (v === undefined) {
        this.fieldsIgnored++;
        continue;
      }
      const m = metric === undefined ? k : `${metric}_${k}`;
      if (!isValidName(m)) {
        drops.drop('bad_name', sample, `${where}: field "${k.slice(0, 40)}" does not make a metric name (letters, digits, _ . : -, max 64)`);
        continue;
      }
      if (n >= this.opts.maxFields) {
        skipped++;
        continue;
      }
      emit({ stream: `${device}/${m}`, ts, value: v });
      n++;
    }
    if (skipped > 0) drops.drop('too_many_fields', sample, `${where}: ${skipped} numeric fields over the limit of ${this.opts.maxFields} per message`);
    if (n === 0 && skipped === 0) drops.drop('bad_payload', sample, `${where}: JSON object has no "value" and no numeric field`);
    return n;
  }
}

/** A finite number from a number, a boolean (1/0) or a numeric string; else undefined. */
export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const s = v.trim();
    if (s.length === 0) return undefined;
    const n = Number(s);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}
