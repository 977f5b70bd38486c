/**
 * The long corpora cut into files as long as NAB's 5-minute files (14 days), each scored with a
 * fresh detector: how the detector does when it has little history (a freshly flashed gateway,
 * and every NAB file). Windows are clipped to their chunk; chunks shorter than 90 % of that or without a window after NAB's probation are left out.
 *   npx tsx bench/tune/short.ts ['{"season_shift_after":"2d"}' ...]
 */
import { summarise } from '../../src/backtest/metrics.js';
import type { LoadedFile } from './corpus.js';
import { evaluate, HEADER, row } from './harness.js';
import { asdFiles } from './asd-data.js';
import { kpiCorpora } from './sweep.js';

const DAYS = Number(process.env.SHORT_DAYS ?? 14);

export function cut(files: LoadedFile[], days = DAYS): LoadedFile[] {
  const out: LoadedFile[] = [];
  for (const f of files) {
    const span = days * 86_400_000;
    for (let from = 0; from < f.ts.length; ) {
      const t0 = f.ts[from]!;
      let to = from;
      while (to < f.ts.length && f.ts[to]! < t0 + span) to++;
      const t1 = f.ts[to - 1]!;
      if (t1 - t0 < 0.9 * span) break;
      // NAB's probation: the first 15 % of rows (at most 750) are not scored.
      const probationEnd = f.ts[from + Math.min(Math.floor(0.15 * (to - from)), 750)]!;
      const windows = f.windows.filter(([a, b]) => b >= t0 && a <= t1).map(([a, b]) => [Math.max(a, t0), Math.min(b, t1)] as [number, number]);
      if (windows.some(([, b]) => b >= probationEnd)) out.push({ ...f, key: `${f.key}#${out.length}`, ts: f.ts.slice(from, to), values: f.values.map((v) => v.slice(from, to)), windows, scoreFrom: undefined });
      from = to;
    }
  }
  return out;
}

if (process.argv[1]?.endsWith('short.ts')) {
  const c: Record<string, LoadedFile[]> = { 'ASD 14 d': cut(asdFiles()), 'KPI 5-minute 14 d': cut(kpiCorpora()['KPI 5-minute']) };
  const overs = process.argv.slice(2).filter((a) => a.startsWith('{'));
  for (const o of overs.length ? overs : ['{}']) {
    console.log(o, HEADER);
    for (const [name, files] of Object.entries(c)) console.log(row(`${name} (${files.length})`, summarise(evaluate(files, { step: { detector: 'default', ...JSON.parse(o) } }))));
  }
}
