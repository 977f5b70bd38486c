import type { Reading } from '../../src/core/reading.js';
import { PayloadDecoder, toNumber, type DropSink } from '../common/payload.js';
import { isValidName } from '../common/names.js';
import { parseTimestamp, unitHint, type DeviceTimeUnit } from '../../src/core/time.js';
import type { LocalZone } from '../../src/core/local-zone.js';
import { zoneOf } from '../common/ts-zone.js';
import { pathOf } from '../common/values-path.js';
import { parseJsonObject } from '../../src/core/json-object.js';
import { NmeaDecoder } from './nmea.js';
import type { SerialConfig } from './config.js';

/** Decodes one text line into readings. `where` names the port in drop details. */
export interface LineDecoder {
  decode(line: string, now: number, emit: (r: Reading) => void, drops: DropSink, where: string): number;
  counters(): Record<string, number>;
}

export function lineDecoder(cfg: SerialConfig, device: string): LineDecoder {
  switch (cfg.format) {
    case 'csv':
      if (!cfg.csv) throw new Error('format csv needs a csv: section with columns');
      return new CsvDecoder(cfg.csv.columns, cfg.csv.delimiter, device, cfg.ts_unit, zoneOf(cfg.ts_zone));
    case 'json':
      return new JsonLineDecoder(device, cfg);
    case 'kv':
      return new KvDecoder(device, cfg);
    case 'nmea': {
      const d = new NmeaDecoder(device, cfg.nmea);
      return {
        decode: (l, now, emit, drops, where) => d.decode(l, now, emit, drops, where),
        counters: () => ({ ...d.c }),
      };
    }
  }
}

/** `ts,temp,hum` with columns [ts, temp, hum]: one reading per metric column. */
export class CsvDecoder implements LineDecoder {
  headers = 0;
  private readonly header: string;
  constructor(
    private readonly columns: string[],
    private readonly delimiter: string,
    private readonly device: string,
    private readonly tsUnit: DeviceTimeUnit,
    private readonly tsZone?: LocalZone,
  ) {
    this.header = columns.join(delimiter);
  }

  decode(line: string, now: number, emit: (r: Reading) => void, drops: DropSink, where: string): number {
    const cells = line.split(this.delimiter);
    if (cells.length !== this.columns.length) {
      if (line.trim().length === 0) return 0;
      drops.drop('wrong_columns', line, `${where}: ${cells.length} columns, expected ${this.columns.length} (${this.header})`);
      return 0;
    }
    if (line.replaceAll(' ', '') === this.header) {
      this.headers++;
      return 0;
    }
    let ts = now;
    let device = this.device;
    for (const [i, cell] of cells.entries()) {
      const col = this.columns[i];
      if (col === 'ts') {
        const t = parseTimestamp(cell, this.tsUnit, this.tsZone, now);
        if (Number.isNaN(t)) {
          drops.drop('bad_timestamp', line, `${where}: ts column "${cell}" is neither ${this.tsUnit} since epoch nor ISO 8601${unitHint(Number(cell), now)}`);
          return 0;
        }
        ts = t;
      } else if (col === 'device') {
        const d = cell.trim();
        if (!isValidName(d)) {
          drops.drop('bad_name', line, `${where}: device column "${d.slice(0, 40)}" is not a valid name`);
          return 0;
        }
        device = d;
      }
    }
    let n = 0;
    for (const [i, cell] of cells.entries()) {
      const col = this.columns[i];
      if (col === undefined || col === 'ts' || col === 'device' || col === '_') continue;
      const v = toNumber(cell);
      if (v === undefined) {
        drops.drop('not_a_number', line, `${where}: column ${i + 1} (${col}) = "${cell.slice(0, 40)}" is not a finite number`);
        continue;
      }
      emit({ stream: `${device}/${col}`, ts, value: v });
      n++;
    }
    return n;
  }

  counters(): Record<string, number> {
    return { csv_headers: this.headers };
  }
}

/** One JSON object a line; `device` and `metric` keys name the stream, else the config's device. */
export class JsonLineDecoder implements LineDecoder {
  private readonly dec: PayloadDecoder;
  constructor(private readonly device: string, cfg: Pick<SerialConfig, 'ts_unit' | 'ts_zone' | 'max_fields'> & Partial<Pick<SerialConfig, 'ignore_fields' | 'values_path'>>) {
    this.dec = new PayloadDecoder({ tsKeys: ['ts', 'time', 'timestamp'], tsUnit: cfg.ts_unit, tsZone: zoneOf(cfg.ts_zone), maxFields: cfg.max_fields, ignoreKeys: ['device', 'metric'], ignoreFields: cfg.ignore_fields, valuesPath: pathOf(cfg.values_path) });
  }

  decode(line: string, now: number, emit: (r: Reading) => void, drops: DropSink, where: string): number {
    const parsed = parseJsonObject(line);
    if (!parsed.ok) {
      drops.drop('bad_payload', line, `${where}: ${parsed.detail}`);
      return 0;
    }
    const o = parsed.obj;
    const device = typeof o.device === 'string' ? o.device : this.device;
    const metric = typeof o.metric === 'string' ? o.metric : undefined;
    if (!isValidName(device) || (metric !== undefined && !isValidName(metric))) {
      drops.drop('bad_name', line, `${where}: device or metric is not a valid name (letters, digits, _ . : -, max 64)`);
      return 0;
    }
    return this.dec.decodeObject(o, line, device, metric, now, emit, drops, where);
  }

  counters(): Record<string, number> {
    return { fields_ignored: this.dec.fieldsIgnored };
  }
}

/** `temp=21.5 hum=40` or `temp:21.5,hum:40` (separated by spaces, tabs, commas or semicolons); `ts` and `device` keys are special. */
export class KvDecoder implements LineDecoder {
  private readonly zone: LocalZone | undefined;
  constructor(private readonly device: string, private readonly cfg: Pick<SerialConfig, 'ts_unit' | 'ts_zone' | 'max_fields'>) {
    this.zone = zoneOf(cfg.ts_zone);
  }

  decode(line: string, now: number, emit: (r: Reading) => void, drops: DropSink, where: string): number {
    const parts = line.split(/[\s,;]+/).filter((p) => p.length > 0);
    if (parts.length === 0) {
      if (line.trim() !== '') drops.drop('garbled', line, `${where}: only separators, no key=value`);
      return 0;
    }
    const pairs: Array<[string, string]> = [];
    for (const p of parts) {
      // key=value, or key:value as the Arduino IDE's Serial Plotter reads it ("temp:21.5,hum:40")
      let eq = p.indexOf('=');
      if (eq < 0) eq = p.indexOf(':');
      if (eq <= 0) {
        drops.drop('garbled', line, `${where}: "${p.slice(0, 40)}" is not key=value or key:value`);
        return 0;
      }
      pairs.push([p.slice(0, eq), p.slice(eq + 1)]);
    }
    let ts = now;
    let device = this.device;
    let values = 0;
    for (const [k, v] of pairs) {
      if (k !== 'ts' && k !== 'device') values++;
      else if (k === 'ts') {
        const t = parseTimestamp(v, this.cfg.ts_unit, this.zone, now);
        if (Number.isNaN(t)) {
          drops.drop('bad_timestamp', line, `${where}: ts=${v.slice(0, 40)} is neither ${this.cfg.ts_unit} since epoch nor ISO 8601${unitHint(Number(v), now)}`);
          return 0;
        }
        ts = t;
      } else if (k === 'device') device = v;
    }
    if (!isValidName(device)) {
      drops.drop('bad_name', line, `${where}: device "${device.slice(0, 40)}" is not a valid name`);
      return 0;
    }
    if (values === 0) {
      drops.drop('no_values', line, `${where}: only ts/device, no key=value reading in the line`);
      return 0;
    }
    let n = 0;
    for (const [k, v] of pairs) {
      if (k === 'ts' || k === 'device') continue;
      if (!isValidName(k)) {
        drops.drop('bad_name', line, `${where}: key "${k.slice(0, 40)}" is not a valid metric name`);
        continue;
      }
      const x = toNumber(v);
      if (x === undefined) {
        drops.drop('not_a_number', line, `${where}: ${k}=${v.slice(0, 40)} is not a finite number`);
        continue;
      }
      if (n >= this.cfg.max_fields) {
        drops.drop('too_many_fields', line, `${where}: more than ${this.cfg.max_fields} values in one line`);
        break;
      }
      emit({ stream: `${device}/${k}`, ts, value: x });
      n++;
    }
    return n;
  }

  counters(): Record<string, number> {
    return {};
  }
}
