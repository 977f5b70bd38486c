/**
 * Why labelled windows are missed, with the alert lifecycle (issue 12): for every scored window
 * (after NAB's probation) that the default detect step does not detect, the first cause that
 * applies — an alert still active from before the window, anomalous readings the reading cooldown
 * held back (and how long after the clear, in readings and hours), or no reading anomalous (then
 * the best score reached, and its rule).
 * For windows missed with an alert active: how long before it was raised and the last anomalous
 * reading (-a: one line each). Readings of all columns count (any column anomalous, active...).
 *   npx tsx bench/tune/miss-causes.ts "cloud hourly" ['{overrides}'] [-v] [-a] [--short]
 * (--short: the corpus cut into 14-day files as bench/tune/short.ts does, a fresh detector each)
 */
import { compileDetect } from '../../src/compile.js';
import { detectStepSchema } from '../../test/helpers/schemas.js';
import { DEFAULT_DETECTOR_PARAMS } from '../../src/detectors/default/detector.js';
import { corpora } from './sweep.js';
import { cut } from './short.js';

const args = process.argv.slice(2);
const name = args[0] ?? 'cloud hourly';
const over = JSON.parse(args.find((a) => a.startsWith('{')) ?? '{}') as Record<string, unknown>;
const whole = corpora([])[name];
if (!whole) throw new Error(`no corpus named ${JSON.stringify(name)}: one of ${Object.keys(corpora([])).join(', ')}`);
const files = args.includes('--short') ? cut(whole) : whole;
const P = { ...DEFAULT_DETECTOR_PARAMS, ...over };
const FLOOR: Record<string, number> = { spike: P.spike_z, dip: P.spike_z, season: P.season_z, season_shift: P.season_h, sequence: P.seq_z };
const count: Record<string, number> = {};
const add = (k: string) => (count[k] = (count[k] ?? 0) + 1);
const best: number[] = [];
for (const f of files) {
  const n = f.ts.length;
  const probation = Math.min(Math.floor(0.15 * n), 750);
  const step = compileDetect(detectStepSchema.parse({ detector: 'default', ...over }));
  const rows = Array.from({ length: n }, () => ({ active: false, raised: false, anom: false, score: 0, rule: '', dev: 0, lim: 0, supp: false, clearAgo: -1, clearH: -1 }));
  for (let c = 0; c < f.columns.length; c++) {
    const st = step.createKeyState(`${f.key}/${c}`) as { alert: { suppressed: number; active: boolean } };
    let lastClear = -1;
    for (let i = 0; i < n; i++) {
      const v = f.values[c]![i]!;
      if (!Number.isFinite(v)) continue;
      const s0 = st.alert.suppressed;
      const o = step.update(st, f.ts[i]!, v);
      const det = (st as unknown as { detector: { out: { rule: string; deviation: number; limit: number } } }).detector;
      const r = rows[i]!;
      if (o.alert?.state === 'cleared') lastClear = i;
      if (o.alertActive) r.active = true;
      if (o.alert?.state === 'raised') r.raised = true;
      if (o.anomalous) r.anom = true;
      if (o.score > r.score) { r.score = o.score; r.rule = det.out.rule; r.dev = det.out.deviation; r.lim = det.out.limit; }
      if (st.alert.suppressed > s0) { r.supp = true; r.clearAgo = i - lastClear; r.clearH = (f.ts[i]! - f.ts[lastClear]!) / 3.6e6; }
    }
  }
  for (const [a, b] of f.windows) {
    const L = f.ts.findIndex((t) => t >= a);
    let R = f.ts.findIndex((t) => t > b) - 1;
    if (R < 0) R = n - 1;
    if (R < probation) continue;
    add('windows');
    const lo = Math.max(L, probation);
    let cause = 'none';
    const seg = rows.slice(lo, R + 1);
    if (seg.some((r) => r.raised)) cause = 'detected';
    else if (rows[lo]!.active && seg.every((r) => r.active)) cause = 'active through';
    else if (rows[lo]!.active) cause = 'active at start';
    else if (seg.some((r) => r.supp)) cause = 'cooldown';
    else if (L < probation && rows.slice(L, probation).some((r) => r.anom)) cause = 'anomalous in probation only';
    add(cause);
    const mx = seg.reduce((m, r) => (r.score > m.score ? r : m), seg[0]!);
    if (cause === 'cooldown') add(seg.find((r) => r.supp)!.clearH < 6 ? 'cooldown: < 6 h after the clear' : 'cooldown: ≥ 6 h after the clear (score gate)');
    if (cause === 'none') { best.push(mx.score); add(`none, best rule ${mx.rule}`); const fl = FLOOR[mx.rule]; if (fl !== undefined) add(`none, ${mx.rule} limit ${mx.lim > 1.05 * fl ? 'a record' : 'the floor'}${mx.score >= 0.4 ? ', near' : ''}`); }
    if (cause.startsWith('active')) {
      let k = lo; while (k > 0 && !rows[k]!.raised) k--;
      let la = lo - 1; while (la > k && !rows[la]!.anom) la--;
      const an = rows.slice(k, lo).filter((r) => r.anom).length;
      if (k < probation) add('active: raised inside the probation (in the window, but not scored)');
      add(`active: raised ${lo - k < 12 ? '<12' : lo - k < 48 ? '12-47' : '≥48'} readings before, last anomalous ${lo - la < 5 ? '<5' : '≥5'} before`);
      if (args.includes('-a')) console.log(`${f.key} window ${L}-${R} lo ${lo}: raised at ${k} (${rows[k]!.rule}), anomalous readings since ${an}, last ${la}; active through ${seg.every((r) => r.active)}`);
    }
    if (args.includes('-v') && cause !== 'detected') console.log(`${f.key} rows ${L}-${R} (${R - L + 1}): ${cause}, best ${mx.score.toFixed(2)} ${mx.rule}`);
  }
}
console.log(name, JSON.stringify(over));
for (const [k, v] of Object.entries(count).sort()) console.log(`  ${k}: ${v}`);
best.sort((a, b) => a - b);
const q = (p: number) => best[Math.floor(p * (best.length - 1))]?.toFixed(2);
console.log(`  none: best score quartiles ${q(0.25)} ${q(0.5)} ${q(0.75)}, ≥0.45: ${best.filter((s) => s >= 0.45).length}, ≥0.4: ${best.filter((s) => s >= 0.4).length}`);
