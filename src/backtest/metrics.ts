/**
 * Backtest metrics: alerts against labelled anomaly windows (NAB's windows format). Pure code.
 *
 * A detection is the row where an alert is raised: a rising edge of the per-row `alert` flag, so
 * rows flagged "alert active" and rows flagged "alert raised here" give the same answer. Scoring
 * follows NAB's rules (shared/tools/README.md): probationary period, scaled sigmoid, one credit
 * per window for its earliest detection, every false detection penalised, normalised against a
 * null and a perfect detector over the whole corpus.
 */
import { itemAt } from '../core/item-at.js';

export interface BacktestRow {
  /** Event time of the row (ms). */
  ts: number;
  /** Whether an alert is active at (or raised on) this row. */
  alert: boolean;
}

/** An anomaly window, both ends included (ms), with an optional type (e.g. `harsh_braking`). */
export type LabelWindow = [number, number] | [number, number, string];

export interface NabProfile {
  name: string;
  tpWeight: number;
  fnWeight: number;
  fpWeight: number;
}

export const NAB_PROFILES: Record<'standard' | 'reward_low_FP_rate' | 'reward_low_FN_rate', NabProfile> = {
  standard: { name: 'standard', tpWeight: 1, fnWeight: 1, fpWeight: 0.11 },
  reward_low_FP_rate: { name: 'reward_low_FP_rate', tpWeight: 1, fnWeight: 1, fpWeight: 0.22 },
  reward_low_FN_rate: { name: 'reward_low_FN_rate', tpWeight: 1, fnWeight: 2, fpWeight: 0.11 },
};

interface NabScore {
  /** Summed raw score (true positives, misses and false positives with their weights). */
  raw: number;
  /** Raw score of a detector that never fires: −fnWeight × scorable windows. */
  nullRaw: number;
  /** Raw score of a perfect detector: tpWeight × windows. */
  perfectRaw: number;
  /** 100·(raw − null)/(perfect − null); NaN when the file has no window. */
  score: number;
}

export interface FileMetrics {
  file: string;
  rows: number;
  /** Leading rows ignored by NAB's rules (min(⌊0.15·rows⌋, 750)). */
  probationRows: number;
  /** Windows that overlap the scored rows (after the probationary period). */
  windows: number;
  detected: number;
  missed: number;
  /** Alerts raised after the probationary period. */
  alerts: number;
  /** Of those, raised inside a window. */
  alertsInWindows: number;
  /** Raised outside every window. */
  falseAlerts: number;
  /** alertsInWindows / alerts (NaN with no alert). */
  precision: number;
  /** detected / windows (NaN with no window). */
  recall: number;
  f1: number;
  /** Mean time from window start to the first alert in it, over detected windows (ms; NaN if none). */
  meanDelayMs: number;
  /** Same, as a fraction of the window width in rows (0 = first row, 1 = after the last). */
  meanDelayFraction: number;
  nab: NabScore;
}

export interface TotalMetrics extends Omit<FileMetrics, 'file' | 'probationRows'> {
  files: number;
}

const PROBATION_FRACTION = 0.15;
const PROBATION_CAP = 750;

export function scaledSigmoid(x: number): number {
  if (x > 3) return -1;
  return 2 / (1 + Math.exp(5 * x)) - 1;
}
const MAX_TP = scaledSigmoid(-1);

/** Row index range [L, R] of each window (first row at or after its start, last at or before its end). */
function windowRows(ts: ArrayLike<number>, windows: LabelWindow[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const n = ts.length;
  for (const [a, b] of [...windows].sort((x, y) => x[0] - y[0])) {
    const L = countWhile(ts, (t) => t < a);
    const R = countWhile(ts, (t) => t <= b) - 1;
    if (L < n && R >= 0 && R >= L) out.push([L, R]);
  }
  return out;
}

/** How many leading values of the sorted `ts` satisfy `holds` (a binary search). */
function countWhile(ts: ArrayLike<number>, holds: (t: number) => boolean): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (holds(ts[m] ?? Infinity)) lo = m + 1; // m < ts.length: never the fallback
    else hi = m;
  }
  return lo;
}

/** Score one file. `rows` must be in time order, one per data row. */
export function backtestFile(
  rows: ReadonlyArray<BacktestRow>,
  windows: LabelWindow[],
  opts: {
    file?: string;
    profile?: NabProfile;
    /**
     * Leading rows that are the detector's history, run but not scored (a training period nobody
     * labelled): NAB's probationary period is these rows instead of its 15 %.
     */
    history?: number;
  } = {},
): FileMetrics {
  const profile = opts.profile ?? NAB_PROFILES.standard;
  const n = rows.length;
  const ts = rows.map((r) => r.ts);
  const win = windowRows(ts, windows);
  const probation = opts.history ?? Math.min(Math.floor(PROBATION_FRACTION * n), PROBATION_CAP);
  const scorable = win.map(([, R]) => R >= probation);
  const firstHit: number[] = win.map(() => -1);
  let alerts = 0;
  let inWin = 0;
  let fpSum = 0;
  let w = 0; // next window not yet ended before row i
  let prev: [number, number] | undefined; // (R, W) of the last window ended before row i
  let alertBefore = false;
  for (const [i, row] of rows.entries()) {
    let current = win[w];
    while (current && current[1] < i) {
      const [L, R] = current;
      prev = [R, R - L + 1];
      current = win[++w];
    }
    const raised = row.alert && !alertBefore;
    alertBefore = row.alert;
    if (!raised || i < probation) continue;
    alerts++;
    const inside = current !== undefined && current[0] <= i && i <= current[1];
    if (inside) {
      inWin++;
      if (firstHit[w] === -1) firstHit[w] = i;
    } else {
      const sig = prev === undefined || prev[1] <= 1 ? -1 : scaledSigmoid(Math.abs(i - prev[0]) / (prev[1] - 1));
      fpSum += profile.fpWeight * sig;
    }
  }
  let raw = fpSum;
  let windowsScored = 0;
  let detected = 0;
  let delaySum = 0;
  let delayFracSum = 0;
  win.forEach(([L, R], k) => {
    if (!scorable[k]) return;
    windowsScored++;
    const i = firstHit[k] ?? -1;
    if (i < 0) {
      raw -= profile.fnWeight;
      return;
    }
    detected++;
    const W = R - L + 1;
    raw += (profile.tpWeight * scaledSigmoid(-(R - i + 1) / W)) / MAX_TP;
    delaySum += itemAt(ts, i, 'backtest rows') - itemAt(ts, L, 'backtest rows');
    delayFracSum += (i - L) / W;
  });
  const nullRaw = -profile.fnWeight * windowsScored;
  const perfectRaw = profile.tpWeight * win.length;
  return {
    file: opts.file ?? '',
    probationRows: probation,
    ...derived({ rows: n, windows: windowsScored, detected, alerts, inWin, delaySum, delayFracSum, raw, nullRaw, perfectRaw }),
  };
}

interface Counts {
  rows: number;
  windows: number;
  detected: number;
  alerts: number;
  inWin: number;
  delaySum: number;
  delayFracSum: number;
  raw: number;
  nullRaw: number;
  perfectRaw: number;
}

/** The figures a file and a corpus share, from their counts. */
function derived(c: Counts) {
  const precision = c.alerts > 0 ? c.inWin / c.alerts : NaN;
  const recall = c.windows > 0 ? c.detected / c.windows : NaN;
  return {
    rows: c.rows,
    windows: c.windows,
    detected: c.detected,
    missed: c.windows - c.detected,
    alerts: c.alerts,
    alertsInWindows: c.inWin,
    falseAlerts: c.alerts - c.inWin,
    precision,
    recall,
    f1: f1(precision, recall),
    meanDelayMs: c.detected > 0 ? c.delaySum / c.detected : NaN,
    meanDelayFraction: c.detected > 0 ? c.delayFracSum / c.detected : NaN,
    nab: { raw: c.raw, nullRaw: c.nullRaw, perfectRaw: c.perfectRaw, score: normalise(c.raw, c.nullRaw, c.perfectRaw) },
  };
}

function f1(p: number, r: number): number {
  const pp = Number.isNaN(p) ? 0 : p;
  const rr = Number.isNaN(r) ? 0 : r;
  return pp + rr > 0 ? (2 * pp * rr) / (pp + rr) : 0;
}

function normalise(raw: number, nullRaw: number, perfectRaw: number): number {
  const d = perfectRaw - nullRaw;
  return d > 0 ? (100 * (raw - nullRaw)) / d : NaN;
}

/**
 * One file's figures from its per-type parts (each scored with `backtestFile` on that type's alerts
 * and windows): counts and NAB raw scores summed, rates recomputed.
 */
export function combineTypes(file: string, probationRows: number, parts: ReadonlyArray<FileMetrics>): FileMetrics {
  const { files: _files, ...total } = summarise(parts);
  return { file, probationRows, ...total, rows: parts[0]?.rows ?? 0 };
}

/** Corpus totals: counts summed, precision/recall/F1 over the pooled counts, NAB normalised over the corpus. */
export function summarise(files: ReadonlyArray<FileMetrics>): TotalMetrics {
  let rows = 0, windows = 0, detected = 0, alerts = 0, inWin = 0, raw = 0, nullRaw = 0, perfectRaw = 0;
  let delay = 0, delayFrac = 0;
  for (const f of files) {
    rows += f.rows;
    windows += f.windows;
    detected += f.detected;
    alerts += f.alerts;
    inWin += f.alertsInWindows;
    raw += f.nab.raw;
    nullRaw += f.nab.nullRaw;
    perfectRaw += f.nab.perfectRaw;
    if (f.detected > 0) {
      delay += f.meanDelayMs * f.detected;
      delayFrac += f.meanDelayFraction * f.detected;
    }
  }
  return { files: files.length, ...derived({ rows, windows, detected, alerts, inWin, delaySum: delay, delayFracSum: delayFrac, raw, nullRaw, perfectRaw }) };
}
