/**
 * The default detector on the corpora reported by exception (a condition nobody here made them
 * with): each column sent only when it moved by a deadband from the value last sent, or after a
 * heartbeat (an hour, or 10 steps on slower series) — as Sparkplug B, an OPC UA subscription with
 * a deadband, a Zigbee or LoRaWAN sensor's reportable change, or Node-RED's `rbe` node send — and
 * scored against the same windows, the changes alone and after the `hold` step (every = the
 * file's median step, max = the heartbeat and a step). A column's alert holds between its
 * readings. Deadbands:
 *   noise    — the median step of the column's first 15 % (about its noise: half the readings go);
 *   span 1 % — 1 % of the column's range (1st to 99th percentile) over its first 15 % (OPC UA's
 *              percent deadband is of the instrument's range: an engineer's setting).
 *
 *   npx tsx bench/tune/exception.ts ['{overrides}'] [--corpus NAME] [--sim DIR,DIR] [--kinds as is,noise,noise+hold,...] [--rules]
 * --rules: also the alerts each rule raised, per column, inside a window and outside (after NAB's probation).
 */
import { backtestFile, summarise } from '../../src/backtest/metrics.js';
import { compileDetect } from '../../src/compile.js';
import type { Reading } from '../../src/core/reading.js';
import type { OperatorContext } from '../../src/engine/pipeline.js';
import { HoldOperator } from '../../src/engine/operators/hold/hold.js';
import { detectStepSchema } from '../../test/helpers/schemas.js';
import type { LoadedFile } from './corpus.js';
import { historyRows, PROFILE } from './harness.js';
import { corpora } from './sweep.js';

const args = process.argv.slice(2);
const over = JSON.parse(args.find((a) => a.startsWith('{')) ?? '{}') as Record<string, unknown>;
const only = args.includes('--corpus') ? args[args.indexOf('--corpus') + 1] : undefined;
const sim = args.includes('--sim') ? args[args.indexOf('--sim') + 1]!.split(',') : [];
const byRule = args.includes('--rules');
const kinds = args.includes('--kinds') ? args[args.indexOf('--kinds') + 1]!.split(',') : ['as is', 'noise', 'noise+hold', 'span 1%', 'span 1%+hold'];

function quantile(a: ArrayLike<number>, q: number): number {
  const s = Array.from(a).sort((x, y) => x - y);
  return s[Math.floor(q * (s.length - 1))] ?? 0;
}

/** One column as sent: every reading, or only those past the deadband or the heartbeat. */
function sent(ts: Float64Array, col: Float64Array, deadband: string, heartbeat: number): Array<[number, number]> {
  const fin: number[] = [];
  for (const v of col) if (Number.isFinite(v)) fin.push(v);
  const head = fin.slice(0, Math.max(100, Math.floor(0.15 * fin.length)));
  const steps = head.slice(1).map((v, i) => Math.abs(v - head[i]!));
  const db = deadband === 'as is' ? 0 : deadband === 'noise' ? quantile(steps, 0.5) : 0.01 * (quantile(head, 0.99) - quantile(head, 0.01));
  const out: Array<[number, number]> = [];
  let last = Number.NaN;
  let lastT = -Infinity;
  for (let i = 0; i < col.length; i++) {
    const v = col[i]!;
    if (!Number.isFinite(v)) continue;
    if (deadband === 'as is' || !(Math.abs(v - last) < db) || ts[i]! - lastT >= heartbeat) {
      out.push([ts[i]!, v]);
      last = v;
      lastT = ts[i]!;
    }
  }
  return out;
}

/** The same readings after a `hold` step. */
function held(readings: Array<[number, number]>, every: number, max: number): Array<[number, number]> {
  const op = new HoldOperator({ name: 'hold', every, max });
  const out: Array<[number, number]> = [];
  const ctx = { reading: (r: Reading) => out.push([r.ts, r.value]) } as unknown as OperatorContext;
  for (const [ts, value] of readings) op.reading({ stream: 'd/m', ts, value }, ctx);
  return out;
}

function score(files: LoadedFile[], kind: string): { m: ReturnType<typeof summarise>; share: number; rules: Record<string, [number, number]> } {
  const [deadband, hold] = kind.split('+');
  let share = 0;
  const rules: Record<string, [number, number]> = {};
  const ms = files.map((f) => {
    const step = quantile(f.ts.subarray(1, 5001).map((t, i) => t - f.ts[i]!), 0.5);
    const heartbeat = Math.max(3_600_000, 10 * step);
    const active = new Uint8Array(f.ts.length);
    let total = 0;
    let kept = 0;
    for (const col of f.values) {
      let rs = sent(f.ts, col, deadband!, heartbeat);
      kept += rs.length;
      total += col.filter(Number.isFinite).length;
      if (hold) rs = held(rs, step, heartbeat + step);
      // The column's alert over time, then per row: active from a reading until the next.
      const det = compileDetect(detectStepSchema.parse({ detector: 'default', ...over }));
      const st = det.createKeyState(`${f.key}`);
      let k = 0;
      let on = false;
      const probation = f.ts[Math.min(Math.floor(0.15 * f.ts.length), 750)]!;
      for (let i = 0; i < f.ts.length; i++) {
        while (k < rs.length && rs[k]![0] <= f.ts[i]!) {
          const [t, v] = rs[k++]!;
          const o = det.update(st, t, v);
          on = o.alertActive;
          if (byRule && o.alert?.state === 'raised' && t >= probation) {
            const tally = (rules[(o.alert.reason ?? '?').split(' ')[0]!] ??= [0, 0]);
            tally[f.windows.some(([a, b]) => t >= a && t <= b) ? 0 : 1]++;
          }
        }
        if (on) active[i] = 1;
      }
    }
    share += kept / total / files.length;
    return backtestFile(Array.from(f.ts, (ts, i) => ({ ts, alert: active[i] === 1 })), f.windows, { file: f.key, profile: PROFILE, history: historyRows(f) });
  });
  return { m: summarise(ms), share, rules };
}

console.log(`default detector ${JSON.stringify(over)}, NAB ${process.env.TUNE_PROFILE ?? 'standard'}: score (windows detected, false alerts; share of readings sent)`);
console.log(`| corpus | ${kinds.join(' | ')} |`);
console.log(`|---|${kinds.map(() => '---').join('|')}|`);
for (const [name, files] of Object.entries(corpora(sim))) {
  if (only !== undefined && name !== only) continue;
  const cols = kinds.map((k) => {
    const { m, share, rules } = score(files, k);
    if (byRule) console.log(`${name}, ${k}: alerts by rule [in a window, outside] ${JSON.stringify(rules)}`);
    return `${m.nab.score.toFixed(1)} (${m.detected}/${m.windows}, ${m.falseAlerts}; ${(100 * share).toFixed(0)} %)`;
  });
  console.log(`| ${name} | ${cols.join(' | ')} |`);
}
