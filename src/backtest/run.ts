/**
 * The backtest driver: recorded files → pipeline (the engine) → per-row alert flags → metrics.
 * I/O lives here; the metrics themselves are pure (metrics.ts).
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import '../detectors/index.js';
import type { PipelineSpec } from '../config/pipeline.js';
import { DropCounter } from '../core/drops.js';
import type { Emission } from '../core/records.js';
import { compilePipeline } from '../engine/pipeline.js';
import { defaultPipeline } from '../replay/default-pipeline.js';
import { readRecorded } from '../replay/input.js';
import { labelKeyFor, loadWindows } from './labels.js';
import { backtestFile, NAB_PROFILES, summarise, type BacktestRow, type FileMetrics, type NabProfile, type TotalMetrics } from './metrics.js';

export interface BacktestOptions {
  /** A recorded file, or a folder searched recursively for `.csv` / `.jsonl` files. */
  input: string;
  /** NAB-format windows JSON. Files without an entry in it are skipped (and listed). */
  labels: string;
  /** Pipeline to run; default: the default detector on every column. */
  pipeline?: PipelineSpec;
  profile?: NabProfile;
  /** Called before each file with its index (0-based), the count and its name. */
  onFile?: (index: number, count: number, name: string) => void;
}

export interface BacktestReport {
  input: string;
  labels: string;
  pipeline: string;
  profile: string;
  files: FileMetrics[];
  total: TotalMetrics;
  /** Data files with no entry in the labels file. */
  skipped: string[];
  /** Rows the reader could not use, by reason. */
  inputDrops: Record<string, number>;
  /** Readings the pipeline refused, by reason (summed over files). */
  pipelineDrops: Record<string, number>;
}

/** What runs without --pipeline: the same default pipeline as `replay` (the default detector on every stream). */
export function defaultBacktestPipeline(): PipelineSpec {
  return defaultPipeline();
}

export function findDataFiles(input: string): string[] {
  const st = statSync(input, { throwIfNoEntry: false });
  if (!st) throw new Error(`--input ${input}: no such file or folder`);
  if (st.isFile()) return [input];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const s = statSync(p);
      if (s.isDirectory()) walk(p);
      else if (/\.(csv|jsonl|ndjson)$/i.test(name)) out.push(p);
    }
  };
  walk(input);
  return out;
}

/** One file's per-row alert flags: `alert` is true while any alert of the pipeline is active on that row. */
export async function alertRows(path: string, spec: PipelineSpec, drops: DropCounter, pipelineDrops: Record<string, number>): Promise<BacktestRow[]> {
  const active = new Set<string>();
  const sink = (e: Emission) => {
    if (e.kind !== 'alert') return;
    if (e.alert.state === 'cleared') active.delete(e.alert.id);
    else active.add(e.alert.id);
  };
  const pipeline = compilePipeline(spec, sink);
  const rows: BacktestRow[] = [];
  for await (const row of readRecorded(path, { drops })) {
    for (const r of row.readings) pipeline.push(r);
    rows.push({ ts: row.ts, alert: active.size > 0 });
  }
  pipeline.flush(false);
  for (const [k, v] of Object.entries(pipeline.stats().dropped)) pipelineDrops[k] = (pipelineDrops[k] ?? 0) + v;
  return rows;
}

export async function backtest(opts: BacktestOptions): Promise<BacktestReport> {
  const labels = loadWindows(opts.labels);
  const spec = opts.pipeline ?? defaultBacktestPipeline();
  const profile = opts.profile ?? NAB_PROFILES.standard;
  const all = findDataFiles(opts.input);
  const matched: Array<{ path: string; key: string }> = [];
  const skipped: string[] = [];
  for (const path of all) {
    const key = labelKeyFor(path, labels);
    if (key === undefined) skipped.push(relative(process.cwd(), path) || path);
    else matched.push({ path, key });
  }
  if (matched.length === 0) {
    throw new Error(`no data file under ${opts.input} has an entry in ${opts.labels} (keys look like "${[...labels.keys()][0] ?? '<dir>/<file>.csv'}"); point --input at the folder those paths are relative to`);
  }
  const drops = new DropCounter();
  const pipelineDrops: Record<string, number> = {};
  const files: FileMetrics[] = [];
  for (let i = 0; i < matched.length; i++) {
    const { path, key } = matched[i]!;
    opts.onFile?.(i, matched.length, key);
    const rows = await alertRows(path, spec, drops, pipelineDrops);
    files.push(backtestFile(rows, labels.get(key)!, { file: key, profile }));
  }
  opts.onFile?.(matched.length, matched.length, '');
  return {
    input: opts.input,
    labels: opts.labels,
    pipeline: spec.name,
    profile: profile.name,
    files,
    total: summarise(files),
    skipped,
    inputDrops: drops.counters(),
    pipelineDrops,
  };
}
