/**
 * A daylight-saving change in every file (issue 12): the corpora as streams that follow people in
 * Berlin, stamped in UTC as a gateway stamps them. Each file's timestamps are taken as Berlin wall
 * time, moved by whole weeks so that a change (spring: 2024-03-31, autumn: 2024-10-27) falls 40 %
 * into it, and turned into UTC: from the change on, the daily pattern comes an hour earlier
 * (spring) or later (autumn) against the timestamps; spring's missing hour drops the readings that
 * fall in it, autumn's repeated hour leaves an hour without readings. Labelled windows move with
 * their readings. Scored with the default detector as committed (phase in UTC) and with
 * `timezone: Europe/Berlin`, NAB standard (windows detected, false alerts).
 *   npx tsx bench/tune/dst.ts ['{overrides}'] [--corpus NAME]
 */
import { summarise } from '../../src/backtest/metrics.js';
import { zoneOffset } from '../../src/detectors/default/local-time.js';
import type { LoadedFile } from './corpus.js';
import { evaluate } from './harness.js';
import { corpora } from './sweep.js';

const args = process.argv.slice(2);
const over = JSON.parse(args.find((a) => a.startsWith('{')) ?? '{}') as Record<string, unknown>;
const only = args.includes('--corpus') ? args[args.indexOf('--corpus') + 1] : undefined;
const ZONE = 'Europe/Berlin';
const WEEK = 7 * 86_400_000;
const CHANGES = { spring: Date.UTC(2024, 2, 31, 2), autumn: Date.UTC(2024, 9, 27, 3) };

/** Berlin wall time (ms as if UTC) → UTC: the offset looked up two hours before it (Berlin is UTC+1 or +2). */
const toUtc = (wall: number) => wall - zoneOffset(ZONE, wall - 2 * 3_600_000);

function acrossChange(f: LoadedFile, change: number): LoadedFile {
  const at = f.ts[Math.floor(0.4 * f.ts.length)]!;
  const shift = Math.round((change - at) / WEEK) * WEEK;
  const rows: number[] = [];
  const ts: number[] = [];
  for (let r = 0; r < f.ts.length; r++) {
    const u = toUtc(f.ts[r]! + shift);
    // spring's missing wall hour maps onto the hour before it: those readings do not exist
    if (ts.length > 0 && u <= ts[ts.length - 1]!) continue;
    rows.push(r);
    ts.push(u);
  }
  return {
    ...f,
    ts: Float64Array.from(ts),
    values: f.values.map((v) => Float64Array.from(rows, (r) => v[r]!)),
    windows: f.windows.map(([a, b]) => [toUtc(a + shift), toUtc(b + shift)] as [number, number]),
    scoreFrom: f.scoreFrom === undefined ? undefined : toUtc(f.scoreFrom + shift),
  };
}

const fmt = (files: LoadedFile[], step: Record<string, unknown>) => {
  const m = summarise(evaluate(files, { step: { detector: 'default', ...over, ...step } }));
  return `${m.nab.score.toFixed(1)} (${m.detected}/${m.windows}, ${m.falseAlerts})`;
};
console.log('| corpus | as it is | spring, phase in UTC | spring, `timezone` | autumn, phase in UTC | autumn, `timezone` |');
console.log('|---|---|---|---|---|---|');
for (const [name, files] of Object.entries(corpora([]))) {
  if (only !== undefined && name !== only) continue;
  const cols = [fmt(files, {})];
  for (const change of Object.values(CHANGES)) {
    const moved = files.map((f) => acrossChange(f, change));
    cols.push(fmt(moved, {}), fmt(moved, { timezone: ZONE }));
  }
  console.log(`| ${name} | ${cols.join(' | ')} |`);
}
