/**
 * Per-file view of one corpus: windows (row ranges), alerts raised (row+rows active) and each file's
 * NAB score, for a setting of the default detector. Debugging aid for the leave-one-corpus-out check.
 *   npx tsx bench/tune/files.ts "cloud hourly" '{"spike_z":5}' [--sim DIR,DIR]
 * Corpus names as in bench/tune/sweep.ts (NAB artificial, NAB realKnownCause, SKAB, cloud hourly,
 * cloud minute, KPI minute, KPI 5-minute, sim <dir>).
 */
import { backtestFile, summarise, type FileMetrics } from '../../src/backtest/metrics.js';
import { runFile } from './harness.js';
import { corpora } from './sweep.js';

const args = process.argv.slice(2);
const name = args[0] ?? 'cloud hourly';
const over = JSON.parse(args.find((a) => a.startsWith('{')) ?? '{}') as Record<string, unknown>;
const sim = args.includes('--sim') ? args[args.indexOf('--sim') + 1]!.split(',') : [];
const files = corpora(sim)[name];
if (!files) throw new Error(`no corpus "${name}": one of ${Object.keys(corpora(sim)).join(', ')}`);
const all: FileMetrics[] = [];
for (const f of files) {
  const { active, raised } = runFile(f, { step: { detector: 'default', ...over } });
  const n = f.ts.length;
  const m = backtestFile(Array.from(f.ts, (ts, i) => ({ ts, alert: active[i] === 1 })), f.windows, { file: f.key });
  all.push(m);
  const s = summarise([m]);
  const rows = (t: number) => f.ts.findIndex((x) => x >= t);
  const win = f.windows.map(([a, b]) => `${rows(a)}-${rows(b) < 0 ? n - 1 : rows(b)}`);
  const alerts: string[] = [];
  for (let i = 0; i < n; i++) {
    if (!raised[i]) continue;
    let j = i;
    while (j < n && active[j]) j++;
    alerts.push(`${i}+${j - i}`);
  }
  console.log(`${f.key} n=${n} NAB ${s.nab.score.toFixed(1)} detected ${s.detected}/${s.windows} false ${s.falseAlerts}\n  windows ${win.join(' ')}\n  alerts  ${alerts.join(' ')}`);
}
const t = summarise(all);
console.log(`${name}: NAB ${t.nab.score.toFixed(1)}, ${t.detected}/${t.windows} windows, ${t.falseAlerts} false alerts`);
