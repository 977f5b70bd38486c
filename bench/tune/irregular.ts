/**
 * The default detector on the same series sampled irregularly (issue 12: NAB's held-back traffic
 * and ad-exchange series have gaps and uneven steps; conditions nobody here made the corpora with).
 * Each file is scored as it is and after a seeded transformation keeping its labelled windows:
 *   drop    — 10 % of readings removed at random and one gap of 2 % of the file (a day or two);
 *   jitter  — every timestamp moved by up to ±40 % of the file's typical step (order kept);
 *   bursts  — readings in clumps: 3 to 8 readings 1 % of a step apart, then a gap of that many steps.
 * A detector that estimates its interval, seasons and memories from time should lose about what
 * the missing readings cost, not collapse.
 *   npx tsx bench/tune/irregular.ts ['{overrides}'] [--corpus NAME]
 */
import { summarise } from '../../src/backtest/metrics.js';
import type { LoadedFile } from './corpus.js';
import { evaluate } from './harness.js';
import { corpora } from './sweep.js';

const args = process.argv.slice(2);
const over = JSON.parse(args.find((a) => a.startsWith('{')) ?? '{}') as Record<string, unknown>;
const only = args.includes('--corpus') ? args[args.indexOf('--corpus') + 1] : undefined;
const all = corpora([]);

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function medianStep(ts: Float64Array): number {
  const d = Array.from({ length: Math.min(ts.length - 1, 2000) }, (_, i) => ts[i + 1]! - ts[i]!).sort((a, b) => a - b);
  return d[d.length >> 1] ?? 1;
}

function keep(f: LoadedFile, rows: number[], ts?: Float64Array): LoadedFile {
  return {
    ...f,
    ts: ts ?? Float64Array.from(rows, (r) => f.ts[r]!),
    values: f.values.map((v) => Float64Array.from(rows, (r) => v[r]!)),
  };
}

const transforms: Record<string, (f: LoadedFile, seed: number) => LoadedFile> = {
  drop(f, seed) {
    const g = rng(seed);
    const n = f.ts.length;
    const gapLen = Math.floor(0.02 * n);
    const gapAt = Math.floor(0.2 * n + g() * 0.6 * n);
    const rows: number[] = [];
    for (let r = 0; r < n; r++) if (g() >= 0.1 && (r < gapAt || r >= gapAt + gapLen)) rows.push(r);
    return keep(f, rows);
  },
  'drop 10 %'(f, seed) {
    const g = rng(seed);
    const rows: number[] = [];
    for (let r = 0; r < f.ts.length; r++) if (g() >= 0.1) rows.push(r);
    return keep(f, rows);
  },
  gap(f, seed) {
    const g = rng(seed);
    const n = f.ts.length;
    const gapLen = Math.floor(0.02 * n);
    const gapAt = Math.floor(0.2 * n + g() * 0.6 * n);
    return keep(f, Array.from(f.ts, (_, r) => r).filter((r) => r < gapAt || r >= gapAt + gapLen));
  },
  jitter(f, seed) {
    const g = rng(seed);
    const step = medianStep(f.ts);
    const ts = Float64Array.from(f.ts, (t) => t + (g() - 0.5) * 0.8 * step);
    for (let r = 1; r < ts.length; r++) if (ts[r]! <= ts[r - 1]!) ts[r] = ts[r - 1]! + 1;
    return keep(f, Array.from(f.ts, (_, r) => r), ts);
  },
  bursts(f, seed) {
    const g = rng(seed);
    const step = medianStep(f.ts);
    const rows: number[] = [];
    const ts: number[] = [];
    let r = 0;
    while (r < f.ts.length) {
      const k = 3 + Math.floor(g() * 6);
      for (let j = 0; j < k && r + j < f.ts.length; j++) {
        rows.push(r + j);
        ts.push(f.ts[r]! + j * 0.01 * step);
      }
      r += 2 * k;
    }
    return keep(f, rows, Float64Array.from(ts));
  },
};

const cfg = { step: { detector: 'default', ...over } };
const fmt = (m: ReturnType<typeof summarise>) => `${m.nab.score.toFixed(1)} (${m.detected}/${m.windows}, ${m.falseAlerts})`;
console.log(`| corpus | as it is | ${Object.keys(transforms).join(' | ')} |`);
console.log(`|---|---|${Object.keys(transforms).map(() => '---').join('|')}|`);
for (const [name, files] of Object.entries(all)) {
  if (only !== undefined && name !== only) continue;
  const base = fmt(summarise(evaluate(files, cfg)));
  const cols = Object.values(transforms).map((t) => fmt(summarise(evaluate(files.map((f, i) => t(f, 7 + i)), cfg))));
  console.log(`| ${name} | ${base} | ${cols.join(' | ')} |`);
}
