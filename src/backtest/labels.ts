import { readFileSync } from 'node:fs';
import { parseTimestamp } from '../core/time.js';
import type { LabelWindow } from './metrics.js';

/**
 * Load a NAB-format windows file: `{ "<dir>/<file>.csv": [["start", "end"], ...] }` with times as
 * text (UTC unless they carry a zone). A window may carry its type as a third element,
 * `["start", "end", "harsh_braking"]` (used by `backtest --by-type`). Throws a clear error naming
 * the file and key on bad content.
 */
export function loadWindows(path: string): Map<string, LabelWindow[]> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: cannot read the labels file: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error(`${path}: expected a JSON object { "<dir>/<file>.csv": [[start, end], ...] } (NAB's windows format)`);
  }
  const out = new Map<string, LabelWindow[]>();
  for (const [key, value] of Object.entries(json)) {
    if (!Array.isArray(value)) throw new Error(`${path}: "${key}": expected a list of [start, end] pairs`);
    const wins: LabelWindow[] = [];
    value.forEach((pair, i) => {
      if (!Array.isArray(pair) || pair.length < 2 || pair.length > 3) throw new Error(`${path}: "${key}"[${i}]: expected [start, end] or [start, end, type]`);
      if (pair.length === 3 && (typeof pair[2] !== 'string' || pair[2] === '')) throw new Error(`${path}: "${key}"[${i}]: the third element (the window's type) must be a non-empty string, found ${JSON.stringify(pair[2])}`);
      const a = typeof pair[0] === 'number' ? pair[0] : parseTimestamp(String(pair[0]));
      const b = typeof pair[1] === 'number' ? pair[1] : parseTimestamp(String(pair[1]));
      if (!Number.isFinite(a) || !Number.isFinite(b) || b < a) {
        throw new Error(`${path}: "${key}"[${i}]: ${JSON.stringify(pair)} is not a window of two times, start <= end`);
      }
      wins.push(pair.length === 3 ? [a, b, pair[2] as string] : [a, b]);
    });
    out.set(key.replace(/\\/g, '/'), wins);
  }
  return out;
}

/** The labels key for a data file: the longest key that the file path ends with (`valve1/0.csv` for `.../skab/valve1/0.csv`). */
export function labelKeyFor(filePath: string, labels: Map<string, LabelWindow[]>): string | undefined {
  const p = filePath.replace(/\\/g, '/');
  let best: string | undefined;
  for (const key of labels.keys()) {
    if ((p === key || p.endsWith(`/${key}`)) && (best === undefined || key.length > best.length)) best = key;
  }
  return best;
}
