/**
 * The backtest driver: recorded files → pipeline (the engine) → per-row alert flags → metrics.
 * I/O lives here; the metrics themselves are pure (metrics.ts).
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { PipelineSpec } from '../config/pipeline.js';
import { DropCounter } from '../core/drops.js';
import type { Emission } from '../core/records.js';
import { compilePipeline } from '../compile.js';
import { defaultPipeline } from '../replay/default-pipeline.js';
import { readRecorded } from '../replay/input.js';
import { labelKeyFor, loadWindows } from './labels.js';
import { backtestFile, combineTypes, NAB_PROFILES, summarise, type BacktestRow, type FileMetrics, type LabelWindow, type NabProfile, type TotalMetrics } from './metrics.js';

export interface BacktestOptions {
  /** A recorded file, or a folder searched recursively for `.csv` / `.jsonl` files. */
  input: string;
  /** NAB-format windows JSON. Files without an entry in it are skipped (and listed). */
  labels: string;
  /** Pipeline to run; default: the default detector on every column. */
  pipeline?: PipelineSpec;
  profile?: NabProfile;
  /**
   * Score by type: an alert counts as a detection only for a window of its type (the window's third
   * element; untyped windows take any alert), and the report has a table per type.
   */
  byType?: boolean;
  /**
   * Score only rows at or after this time (ms); the rows before are the detector's history (a
   * training period nobody labelled): run, not scored, in place of NAB's probationary period.
   */
  scoreFrom?: number;
  /** Alert detector name → label type, where they differ (default: the name with `-` as `_`). */
  types?: Record<string, string>;
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
  /** With `byType`: the totals per type (label types and alert types), by name. */
  byType?: Record<string, TotalMetrics>;
  /** Data files with no entry in the labels file. */
  skipped: string[];
  /** Rows the reader could not use, by reason. */
  inputDrops: Record<string, number>;
  /** Readings the pipeline refused, by reason (summed over files). */
  pipelineDrops: Record<string, number>;
  /**
   * The operator steps' own counters, by step name, summed over files (a telematics step's
   * `uncalibrated` and `unjudged` say why a drive raised nothing); absent when the pipeline has none.
   */
  operators?: Record<string, Record<string, number>>;
  /**
   * Files that ended with streams still in a detector's warm-up (no alert could come from them
   * until it ended: a file shorter than the warm-up is scored on no judgement at all), with how
   * many such streams; absent when there were none.
   */
  learningAtEnd?: Array<{ file: string; streams: number }>;
  /**
   * Alerts judged after they began (AlertRecord.judged: a harsh brake judged once the vehicle's
   * forward axis was learnt), summed over files: each is scored at its own time, not at the row
   * that raised it; `maxDelayMs` is the longest wait. Absent when there were none.
   */
  late?: { alerts: number; maxDelayMs: number };
}

/** What runs without --pipeline: the same default pipeline as `replay` (the default detector on every stream). */
function defaultBacktestPipeline(): PipelineSpec {
  return defaultPipeline();
}

function findDataFiles(input: string): string[] {
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

/** Rows before `from` (all of them when none is at or after it). */
function historyRows(rows: BacktestRow[], from: number): number {
  const i = rows.findIndex((r) => r.ts >= from);
  return i < 0 ? rows.length : i;
}

/** An alert's type: its detector name through `types`, else the name with `-` as `_` (`harsh-braking` → `harsh_braking`). */
function alertType(detector: string, types?: Record<string, string>): string {
  return types?.[detector] ?? detector.toLowerCase().replace(/-/g, '_');
}

interface AlertRows {
  /** `alert` is true while any alert of the pipeline is active on that row. */
  rows: BacktestRow[];
  /** Per alert type: true while an alert of that type is active on the row (one entry per row). */
  byType: Map<string, boolean[]>;
  /** Alerts judged after they began: how many, and the longest wait (ms). */
  late: { alerts: number; maxDelayMs: number };
  /** Streams whose detector was still in its warm-up when the file ended (summed over detect steps). */
  learning: number;
}

/** An alert judged after it began: flagged on the rows of its own time, from its start to its end. */
interface LateAlert {
  id: string;
  type: string;
  from: number;
  to: number;
}

/** One file's per-row alert flags, overall and per alert type. */
async function alertRows(path: string, spec: PipelineSpec, drops: DropCounter, pipelineDrops: Record<string, number>, operators: Record<string, Record<string, number>>, types?: Record<string, string>): Promise<AlertRows> {
  const active = new Map<string, Set<string>>();
  let open = 0;
  const late: LateAlert[] = [];
  let maxDelayMs = 0;
  const sink = (e: Emission) => {
    if (e.kind !== 'alert') return;
    const t = alertType(e.alert.detector, types);
    const a = e.alert;
    if (a.judged !== undefined && a.state === 'raised') {
      late.push({ id: a.id, type: t, from: a.start, to: a.start });
      maxDelayMs = Math.max(maxDelayMs, a.judged - a.start);
    } else if (a.state === 'cleared' && a.end !== undefined) {
      const l = late.find((x) => x.id === a.id);
      if (l) l.to = Math.max(l.to, a.end);
    }
    let ids = active.get(t);
    if (!ids) active.set(t, (ids = new Set()));
    open -= ids.size;
    if (e.alert.state === 'cleared') ids.delete(e.alert.id);
    else ids.add(e.alert.id);
    open += ids.size;
  };
  const pipeline = compilePipeline(spec, sink);
  const rows: BacktestRow[] = [];
  const byType = new Map<string, boolean[]>();
  for await (const row of readRecorded(path, { drops })) {
    for (const r of row.readings) pipeline.push(r);
    rows.push({ ts: row.ts, alert: open > 0 });
    for (const [t, ids] of active) {
      let flags = byType.get(t);
      if (!flags) byType.set(t, (flags = new Array<boolean>(rows.length - 1).fill(false)));
      flags.push(ids.size > 0);
    }
  }
  pipeline.flush(false);
  for (const l of late) {
    const flags = byType.get(l.type) ?? byType.set(l.type, new Array<boolean>(rows.length).fill(false)).get(l.type)!;
    rows.forEach((r, i) => {
      if (r.ts < l.from || r.ts > l.to) return;
      r.alert = true;
      flags[i] = true;
    });
  }
  const stats = pipeline.stats();
  for (const [k, v] of Object.entries(stats.dropped)) pipelineDrops[k] = (pipelineDrops[k] ?? 0) + v;
  for (const [step, counts] of Object.entries(stats.operators)) {
    const sum = (operators[step] ??= {});
    for (const [k, v] of Object.entries(counts)) sum[k] = (sum[k] ?? 0) + v;
  }
  return { rows, byType, late: { alerts: late.length, maxDelayMs }, learning: stats.detectors.reduce((n, d) => n + d.learning, 0) };
}

/**
 * Score one file by type: each type (of its windows and of the alerts raised) is scored on its own
 * (its windows, its alerts); untyped windows take any alert. Returns the per-type parts by type.
 */
function scoreByType(file: string, ar: AlertRows, windows: LabelWindow[], profile: NabProfile, history: number | undefined): Map<string, FileMetrics> {
  const types = new Set<string>(ar.byType.keys());
  for (const w of windows) types.add(w[2] ?? '');
  const out = new Map<string, FileMetrics>();
  for (const t of [...types].sort()) {
    const flags = t === '' ? undefined : ar.byType.get(t);
    const rows = t === '' ? ar.rows : ar.rows.map((r, i) => ({ ts: r.ts, alert: flags?.[i] ?? false }));
    // untyped windows ('') take every alert (a file should not mix typed and untyped windows: an alert would be counted in both)
    const wins = windows.filter((w) => (w[2] ?? '') === t);
    if (t === '' && wins.length === 0) continue;
    out.set(t, backtestFile(rows, wins, { file, profile, history }));
  }
  return out;
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
  const operators: Record<string, Record<string, number>> = {};
  const files: FileMetrics[] = [];
  const late = { alerts: 0, maxDelayMs: 0 };
  const learningAtEnd: Array<{ file: string; streams: number }> = [];
  const perType = new Map<string, FileMetrics[]>();
  for (const [i, { path, key }] of matched.entries()) {
    opts.onFile?.(i, matched.length, key);
    const ar = await alertRows(path, spec, drops, pipelineDrops, operators, opts.types);
    late.alerts += ar.late.alerts;
    late.maxDelayMs = Math.max(late.maxDelayMs, ar.late.maxDelayMs);
    if (ar.learning > 0) learningAtEnd.push({ file: key, streams: ar.learning });
    const windows = labels.get(key)!;
    const history = opts.scoreFrom === undefined ? undefined : historyRows(ar.rows, opts.scoreFrom);
    if (!opts.byType) {
      files.push(backtestFile(ar.rows, windows, { file: key, profile, history }));
      continue;
    }
    const parts = scoreByType(key, ar, windows, profile, history);
    for (const [t, m] of parts) (perType.get(t) ?? perType.set(t, []).get(t)!).push(m);
    const list = [...parts.values()];
    const [first] = list;
    files.push(first ? combineTypes(key, first.probationRows, list) : backtestFile(ar.rows, [], { file: key, profile, history }));
  }
  opts.onFile?.(matched.length, matched.length, '');
  return {
    input: opts.input,
    labels: opts.labels,
    pipeline: spec.name,
    profile: profile.name,
    files,
    total: summarise(files),
    ...(opts.byType ? { byType: Object.fromEntries([...perType].sort(([a], [b]) => a.localeCompare(b)).map(([t, ms]) => [t === '' ? '(untyped)' : t, summarise(ms)])) } : {}),
    skipped,
    inputDrops: drops.counters(),
    pipelineDrops,
    ...(Object.keys(operators).length > 0 ? { operators } : {}),
    ...(late.alerts > 0 ? { late } : {}),
    ...(learningAtEnd.length > 0 ? { learningAtEnd } : {}),
  };
}
