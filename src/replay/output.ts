import { createWriteStream, type WriteStream } from 'node:fs';
import type { Emission } from '../core/records.js';
import { formatTimestamp } from '../core/time.js';

/** Where replay output goes: a file (CSV or JSON lines by extension, or `format`) or stdout. */
export interface OutputTarget {
  write(line: string): void;
  close(): Promise<void>;
}

export function openOutput(path: string | undefined): OutputTarget {
  const stream: NodeJS.WritableStream = path && path !== '-' ? createWriteStream(path, { highWaterMark: 1 << 20 }) : process.stdout;
  let buf = '';
  return {
    write(line) {
      buf += line + '\n';
      if (buf.length > 1 << 16) {
        stream.write(buf);
        buf = '';
      }
    },
    close() {
      return new Promise((resolve, reject) => {
        if (buf) stream.write(buf);
        buf = '';
        if (stream === process.stdout) return resolve();
        (stream as WriteStream).end((err?: Error | null) => (err ? reject(err) : resolve()));
      });
    },
  };
}

/** The output format: `format` if given, else the file's extension (.csv, .jsonl, .json, .ndjson); stdout is JSON lines. */
export function outputFormat(path: string | undefined, format: string | undefined): 'csv' | 'jsonl' {
  if (format !== undefined) {
    if (format === 'csv' || format === 'jsonl') return format;
    throw new Error(`--format ${format}: expected csv or jsonl`);
  }
  if (!path || path === '-') return 'jsonl';
  if (/\.csv$/i.test(path)) return 'csv';
  if (/\.(jsonl|ndjson|json)$/i.test(path)) return 'jsonl';
  throw new Error(`--output ${path}: cannot tell the format from the file name; name it .csv or .jsonl, or add --format csv|jsonl`);
}

function csvCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'number' ? String(v) : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Emissions as CSV: one row per emission, a fixed set of columns plus one per aggregate.
 * Times are written as `YYYY-MM-DD HH:MM:SS[.mmm]` UTC.
 */
export class EmissionCsv {
  readonly header: string;

  private readonly aggregates: string[];

  constructor(aggregates: readonly string[]) {
    // `count` has its own column.
    this.aggregates = [...new Set(aggregates)].filter((a) => a !== 'count');
    this.header = ['kind', 'pipeline', 'output', 'stream', 'time', 'end', 'count', ...aggregates, 'value', 'alert_id', 'alert_state', 'severity', 'score', 'detector', 'reason'].join(',');
  }

  row(e: Emission): string {
    const agg = this.aggregates.map(() => '');
    let time = '', end = '', count = '', value = '', id = '', state = '', severity = '', score = '', detector = '', reason = '', stream = '';
    switch (e.kind) {
      case 'reading':
      case 'late':
        stream = e.reading.stream;
        time = formatTimestamp(e.reading.ts);
        value = String(e.reading.value);
        break;
      case 'aggregate':
        stream = e.result.stream;
        time = formatTimestamp(e.result.start);
        end = formatTimestamp(e.result.end);
        count = String(e.result.count);
        this.aggregates.forEach((a, i) => {
          const v = e.result.values[a];
          if (v !== undefined) agg[i] = String(v);
        });
        break;
      case 'alert':
        stream = e.alert.stream;
        time = formatTimestamp(e.alert.state === 'cleared' ? (e.alert.end ?? e.alert.start) : e.alert.start);
        end = e.alert.end !== undefined ? formatTimestamp(e.alert.end) : '';
        value = String(e.alert.value);
        id = e.alert.id;
        state = e.alert.state;
        severity = e.alert.severity;
        score = String(e.alert.score);
        detector = e.alert.detector;
        reason = e.alert.reason ?? '';
        break;
    }
    return [e.kind, e.pipeline, e.output, stream, time, end, count, ...agg, value, id, state, severity, score, detector, reason].map(csvCell).join(',');
  }
}
