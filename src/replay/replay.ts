import type { PipelineSpec } from '../config/pipeline.js';
import { DropCounter } from '../core/drops.js';
import type { Emission } from '../core/records.js';
import { compilePipeline } from '../compile.js';
import type { DetectEvent, PipelineStats } from '../engine/pipeline.js';
import { readRecorded, type InputOptions } from './input.js';
import { EmissionCsv, openOutput, outputFormat } from './output.js';

export interface ReplayOptions {
  input: string;
  pipeline: PipelineSpec;
  /** Output file (`.csv` or `.jsonl`), or undefined / `-` for stdout. */
  output?: string;
  format?: 'csv' | 'jsonl';
  /**
   * `emissions`: what the pipeline emitted (aggregates, alerts, readings, late), one per line.
   * `scores`: one row per input row: timestamp, the row's values, anomaly_score, alert (0/1:
   * an alert is active at that row) — the format NAB's scorer reads.
   */
  mode: 'emissions' | 'scores';
  inputOptions?: Omit<InputOptions, 'drops' | 'onProgress'>;
  onProgress?: (bytesRead: number, totalBytes: number) => void;
}

export interface ReplaySummary {
  rows: number;
  readings: number;
  emitted: number;
  /** Rows the reader could not use (wrong column count, bad JSON), by reason. */
  inputDrops: Record<string, number>;
  /** For each of those reasons, where and why one such row was refused (file:line: what was wrong). */
  inputDropExamples: Record<string, string>;
  pipeline: PipelineStats;
  seconds: number;
}

/** Run a recorded file through a pipeline as fast as the CPU allows. */
export async function replay(opts: ReplayOptions): Promise<ReplaySummary> {
  const started = process.hrtime.bigint();
  const format = outputFormat(opts.output, opts.format);
  const out = openOutput(opts.output);
  const writeRow = rowWriter(out, format);
  const inputDrops = new DropCounter();
  let emitted = 0;
  let rows = 0;
  let readings = 0;

  // Scores mode state: the latest score per stream, and the alerts now active.
  const lastScore = new Map<string, number>();
  const active = new Set<string>();
  let rowScore = 0;

  const windowAggs = opts.pipeline.steps.flatMap((s) => (s.window ? s.window.aggregates : []));
  const csv = new EmissionCsv(windowAggs);
  let headerWritten = false;

  const sink = (e: Emission) => {
    emitted++;
    if (e.kind === 'alert') {
      if (e.alert.state === 'cleared') active.delete(e.alert.id);
      else active.add(e.alert.id);
    }
    if (opts.mode !== 'emissions') return;
    if (format === 'jsonl') out.write(JSON.stringify(e));
    else {
      if (!headerWritten) {
        out.write(csv.header);
        headerWritten = true;
      }
      out.write(csv.row(e));
    }
  };
  const onDetect = (d: DetectEvent) => {
    lastScore.set(d.stream, d.score);
    if (d.score > rowScore) rowScore = d.score;
  };
  const pipeline = compilePipeline(opts.pipeline, sink, { onDetect: opts.mode === 'scores' ? onDetect : undefined });

  for await (const row of readRecorded(opts.input, { ...opts.inputOptions, drops: inputDrops, onProgress: opts.onProgress })) {
    rows++;
    rowScore = 0;
    for (const r of row.readings) {
      readings++;
      pipeline.push(r);
    }
    if (opts.mode === 'scores') {
      if (!headerWritten) {
        const cols = row.readings.length === 1 ? ['value'] : row.readings.map((r) => r.stream.slice(r.stream.indexOf('/') + 1));
        writeRow(['timestamp', ...cols, 'anomaly_score', 'alert']);
        headerWritten = true;
      }
      // The row's score: the highest latest score of its streams (a windowed detector's score
      // holds until its next window).
      let score = rowScore;
      for (const r of row.readings) {
        const s = lastScore.get(r.stream);
        if (s !== undefined && s > score) score = s;
      }
      writeRow([row.time, ...row.readings.map((r) => r.value), round(score), active.size > 0 ? 1 : 0]);
    }
  }
  pipeline.flush(false);
  await out.close();
  return {
    rows,
    readings,
    emitted,
    inputDrops: inputDrops.counters(),
    inputDropExamples: Object.fromEntries(Object.keys(inputDrops.counters()).map((r) => [r, inputDrops.samplesFor(r)[0]?.detail ?? ''])),
    pipeline: pipeline.stats(),
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
  };
}

/** Writes score rows as CSV, or as JSON objects keyed by the header (the first row given). */
function rowWriter(out: ReturnType<typeof openOutput>, format: 'csv' | 'jsonl') {
  let header: string[] | undefined;
  return (cells: Array<string | number>) => {
    if (format === 'csv') {
      out.write(cells.map((c) => (typeof c === 'string' && /[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : String(c))).join(','));
    } else if (!header) header = cells.map(String);
    else out.write(JSON.stringify(Object.fromEntries(header.map((h, i) => [h, cells[i]]))));
  };
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
