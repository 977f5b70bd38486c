/** Loads the labelled corpora into memory for tuning (sync, small files). */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadWindows } from '../../src/backtest/labels.js';
import type { LabelWindow } from '../../src/backtest/metrics.js';
import { parseTimestamp } from '../../src/core/time.js';

export interface LoadedFile {
  key: string;
  corpus: string;
  ts: Float64Array;
  columns: string[];
  values: Float64Array[];
  windows: LabelWindow[];
  /**
   * The time of the first labelled row, when a file has an unlabelled part before it (a training
   * month nobody labelled: ASD, SMD). The detector runs over that part as history; only the
   * labelled part is scored (harness.ts `evaluate`).
   */
  scoreFrom?: number;
}

const LABEL_COLS = new Set(['anomaly', 'changepoint', 'label', 'is_anomaly']);

export function loadCorpus(dataDir: string, labelsPath: string): LoadedFile[] {
  const labels = loadWindows(labelsPath);
  const out: LoadedFile[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.csv')) {
        const key = relative(dataDir, p);
        const windows = labels.get(key);
        if (windows === undefined) continue;
        const lines = readFileSync(p, 'utf8').split(/\r?\n/).filter((l) => l.length > 0);
        const delim = lines[0]!.split(';').length > lines[0]!.split(',').length ? ';' : ',';
        const header = lines[0]!.split(delim).map((h) => h.trim());
        const idx = header.map((h, i) => i).filter((i) => i > 0 && !LABEL_COLS.has(header[i]!.toLowerCase()));
        const n = lines.length - 1;
        const ts = new Float64Array(n);
        const values = idx.map(() => new Float64Array(n));
        for (let r = 0; r < n; r++) {
          const cells = lines[r + 1]!.split(delim);
          ts[r] = parseTimestamp(cells[0]!);
          // An empty cell is a missing reading (NaN: skipped), as `edgewise backtest` reads it — not 0.
          for (const [k, ci] of idx.entries()) values[k]![r] = (cells[ci] ?? '').trim() === '' ? NaN : Number(cells[ci]);
        }
        out.push({ key, corpus: key.split('/')[0]!, ts, columns: idx.map((i) => header[i]!), values, windows });
      }
    }
  };
  walk(dataDir);
  return out;
}

export const NAB_DIR = '/work/shared/data/nab/data';
export const NAB_LABELS = '/work/shared/data/nab/labels/combined_windows.json';
export const SKAB_DIR = '/work/shared/data/skab';
export const SKAB_LABELS = '/work/shared/data/skab/labels/skab_windows.json';
