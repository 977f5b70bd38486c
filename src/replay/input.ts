import { createReadStream, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { createInterface } from 'node:readline';
import type { Reading } from '../core/reading.js';
import { DropCounter } from '../core/drops.js';
import { parseTimestamp } from '../core/time.js';
import { parseJsonObject } from '../core/json-object.js';

/** One row (CSV) or line (JSON lines) of a recorded file, with the readings it holds. */
export interface RecordedRow {
  /** 1-based line number in the file. */
  line: number;
  /** The timestamp text as written (replay writes it back unchanged). */
  time: string;
  /** Event time in ms (NaN when the text is not a time; the engine counts it). */
  ts: number;
  readings: Reading[];
}

export interface InputOptions {
  /** `auto` (default): `.jsonl`/`.ndjson`/`.json` are JSON lines, everything else CSV. */
  format?: 'auto' | 'csv' | 'jsonl';
  /** Device part of the stream keys for CSVs without a stream column. Default: the file name without extension. */
  device?: string;
  /** CSV columns that are labels, not sensors, and are never fed to a pipeline. */
  excludeColumns?: string[];
  /** Rows the reader could not use (no header, wrong column count, bad JSON) are counted here. */
  drops?: DropCounter;
  /** Called every few thousand lines with bytes read so far and the file size. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
}

/** Columns that hold ground truth in public benchmarks (SKAB, NAB variants): never fed to detectors. */
const LABEL_COLUMNS = ['anomaly', 'changepoint', 'label', 'is_anomaly'];
const TIME_COLUMNS = ['timestamp', 'datetime', 'time', 'ts', 'date'];

interface CsvLayout {
  delimiter: string;
  timeIndex: number;
  /** Index of a `stream` column, or -1. */
  streamIndex: number;
  /** When streamIndex >= 0: the one value column. Else: each value column and its stream key. */
  valueColumns: Array<{ index: number; stream: string }>;
  excluded: string[];
  /** Columns the header names. */
  width: number;
}

/** Work out a CSV's layout from its header: delimiter, time column, stream column or value columns. */
function csvLayout(header: string, device: string, excludeColumns = LABEL_COLUMNS): CsvLayout {
  const delimiter = pickDelimiter(header);
  const names = splitCsvLine(header, delimiter).map((n) => n.trim());
  const lower = names.map((n) => n.toLowerCase());
  let timeIndex = lower.findIndex((n) => TIME_COLUMNS.includes(n));
  if (timeIndex < 0) timeIndex = 0;
  const streamIndex = lower.indexOf('stream');
  const excluded: string[] = [];
  const valueColumns: CsvLayout['valueColumns'] = [];
  names.forEach((name, index) => {
    if (index === timeIndex || index === streamIndex) return;
    const low = name.toLowerCase();
    if (excludeColumns.includes(low)) {
      excluded.push(name);
      return;
    }
    if (streamIndex >= 0 && low !== 'value') return;
    valueColumns.push({ index, stream: `${device}/${name.replace(/\//g, '_')}` });
  });
  return { delimiter, timeIndex, streamIndex, valueColumns, excluded, width: names.length };
}

function pickDelimiter(header: string): string {
  const counts = [',', ';', '\t'].map((d) => [d, header.split(d).length - 1] as const);
  const [most] = counts.sort((a, b) => b[1] - a[1]);
  return most && most[1] > 0 ? most[0] : ',';
}

/** Split one CSV line; handles double-quoted fields when the line has quotes. */
function splitCsvLine(line: string, delimiter: string): string[] {
  if (!line.includes('"')) return line.split(delimiter);
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charAt(i);
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === delimiter) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** A number with a decimal comma, as spreadsheets in most European locales write it (`-4,5`; no thousands separator). */
const DECIMAL_COMMA = /^[+-]?\d+,\d+$/;

/**
 * A number from a CSV cell; empty or non-numeric text gives NaN (the engine counts it). In a file
 * whose columns are not separated by commas, `4,5` is 4.5 (a comma can only be a decimal one there).
 */
function parseNumber(text: string | undefined, delimiter: string): number {
  if (text === undefined) return NaN;
  const t = text.trim();
  if (t.length === 0) return NaN;
  const n = Number(t);
  // (the pattern only for what Number refused: a cell that is a number costs no more than before)
  return Number.isNaN(n) && delimiter !== ',' && DECIMAL_COMMA.test(t) ? Number(t.replace(',', '.')) : n;
}

function defaultDevice(path: string): string {
  return basename(path, extname(path)).replace(/[^A-Za-z0-9_.-]/g, '_') || 'replay';
}

/**
 * Read a recorded file row by row: CSV (`timestamp,value` as in NAB; `;`-separated
 * multi-column as in SKAB; or with a `stream` column) or JSON lines
 * (`{"stream":"dev/metric","ts":...,"value":...}`, or `device` + `metric` instead of `stream`).
 */
export async function* readRecorded(path: string, opts: InputOptions = {}): AsyncGenerator<RecordedRow> {
  const format = opts.format && opts.format !== 'auto' ? opts.format : /\.(jsonl|ndjson|json)$/i.test(path) ? 'jsonl' : 'csv';
  const device = opts.device ?? defaultDevice(path);
  const drops = opts.drops ?? new DropCounter();
  let total: number;
  try {
    total = statSync(path).size;
  } catch (err) {
    throw new Error(`cannot read the input file ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (err as Error).message}`);
  }
  const input = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let bytes = 0;
  let lineNo = 0;
  let layout: CsvLayout | undefined;
  try {
    for await (const raw of lines) {
      lineNo++;
      bytes += Buffer.byteLength(raw) + 1;
      if (opts.onProgress && (lineNo & 4095) === 0) opts.onProgress(bytes, total);
      const line = lineNo === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
      if (line.trim().length === 0) continue;
      if (format === 'jsonl') {
        const row = jsonRow(line, lineNo, device, drops, path);
        if (row) yield row;
        continue;
      }
      if (!layout) {
        layout = csvLayout(line, device, opts.excludeColumns ?? LABEL_COLUMNS);
        if (layout.valueColumns.length === 0) {
          throw new Error(`${path}:1: the header "${line}" names no value column; expected e.g. "timestamp,value" or "timestamp;sensor1;sensor2"`);
        }
        continue;
      }
      const cells = splitCsvLine(line, layout.delimiter);
      const expected = Math.max(layout.timeIndex, layout.streamIndex, ...layout.valueColumns.map((c) => c.index)) + 1;
      if (cells.length < expected) {
        drops.drop('wrong_columns', line, `${path}:${lineNo}: expected ${expected} columns, found ${cells.length}`);
        continue;
      }
      // More cells than the header names, not all empty (an empty one is a trailing delimiter): a
      // decimal comma splits "4,5" into 4 and 5, and the row would be read as 4 without a word.
      if (cells.length > layout.width && cells.slice(layout.width).some((c) => c.trim() !== '')) {
        drops.drop('wrong_columns', line, `${path}:${lineNo}: expected ${layout.width} columns as the header names, found ${cells.length} (a decimal comma? quote such a value, or separate the columns with ";")`);
        continue;
      }
      // cells.length >= expected: the time, stream and value cells are there (the fallbacks never apply).
      const time = (cells[layout.timeIndex] ?? '').trim();
      const ts = parseTimestamp(time);
      const readings: Reading[] = [];
      const [valueColumn] = layout.valueColumns; // the header named at least one
      if (layout.streamIndex >= 0 && valueColumn) {
        readings.push({ stream: (cells[layout.streamIndex] ?? '').trim(), ts, value: parseNumber(cells[valueColumn.index], layout.delimiter) });
      } else {
        for (const col of layout.valueColumns) readings.push({ stream: col.stream, ts, value: parseNumber(cells[col.index], layout.delimiter) });
      }
      yield { line: lineNo, time, ts, readings };
    }
  } finally {
    lines.close();
    input.destroy();
    opts.onProgress?.(total, total);
  }
}

function jsonRow(line: string, lineNo: number, device: string, drops: DropCounter, path: string): RecordedRow | undefined {
  const parsed = parseJsonObject(line);
  if (!parsed.ok) {
    drops.drop('bad_payload', line, `${path}:${lineNo}: ${parsed.detail}`);
    return undefined;
  }
  const o = parsed.obj;
  const timeRaw = o.ts ?? o.timestamp ?? o.time;
  const time = timeRaw === undefined ? '' : String(timeRaw);
  const ts = parseTimestamp(timeRaw ?? '');
  const stream = typeof o.stream === 'string' ? o.stream : typeof o.metric === 'string' ? `${typeof o.device === 'string' ? o.device : device}/${o.metric}` : undefined;
  const reading = { stream, ts, value: o.value } as unknown as Reading;
  if (o.fields && typeof o.fields === 'object') reading.fields = o.fields as Reading['fields'];
  if (o.tags && typeof o.tags === 'object') reading.tags = o.tags as Reading['tags'];
  return { line: lineNo, time, ts, readings: [reading] };
}
