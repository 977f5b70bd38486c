/**
 * Faults of kinds SKAB's valve runs do not have, injected into its real healthy rows: a step, a
 * ramp, an exponential rise or single spikes of vibration; a step or ramp of current, voltage,
 * pressure, flow and the two temperatures; more noise in vibration, pressure or flow. The rows are the fault-free run (cut into runs of 1,150
 * rows, the fault at row 250 or 570 for 400 rows) and each valve run before its fault (the fault
 * from row 300 to the labelled one), 36 runs in all, with their real noise, drift and quantisation.
 * Sizes are in units of each sensor's noise (the robust spread of its reading-to-reading steps /
 * √2, at least a fifth of a run's spread). A fault is found when an alert is raised while it
 * lasts; alerts outside it are false. Every pipeline judges the same runs.
 *
 *   npx tsx bench/tune/skab-inject.ts                       # pipelines/pump-skab.yaml against the range rule alone
 *   npx tsx bench/tune/skab-inject.ts '{"name":[steps]}' '[5,10,20]'
 */
import { join } from 'node:path';
import { compilePipeline } from '../../src/compile.js';
import { loadPipelineFile } from '../../src/config/load.js';
import { pipelineSchema, type PipelineSpec } from '../../src/config/pipeline.js';
import { loadSkabAll } from './multivariate.js';

interface Run {
  ts: number[];
  cols: string[];
  vals: number[][];
  /** Rows [from, to) of the injected fault. */
  fault: [number, number];
}

export function healthyRuns(): Run[] {
  const runs: Run[] = [];
  for (const f of loadSkabAll()) {
    if (f.corpus === 'anomaly-free') {
      for (let s = 0; s + 1150 <= f.ts.length; s += 1150)
        for (const at of [250, 570]) runs.push({ ts: [...f.ts.slice(s, s + 1150)], cols: f.columns, vals: f.values.map((v) => [...v.slice(s, s + 1150)]), fault: [at, at + 400] });
    } else {
      let n = 0;
      while (f.ts[n]! < f.windows[0]![0]) n++;
      runs.push({ ts: [...f.ts.slice(0, n)], cols: f.columns, vals: f.values.map((v) => [...v.slice(0, n)]), fault: [300, n] });
    }
  }
  return runs;
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
/** Each sensor's unit: its noise (median over runs), at least a fifth of a run's spread. */
function units(runs: Run[]): Record<string, number> {
  const out: Record<string, number> = {};
  runs[0]!.cols.forEach((c, ci) => {
    const noise = median(runs.map((r) => (1.4826 * median(r.vals[ci]!.slice(1).map((x, i) => Math.abs(x - r.vals[ci]![i]!)))) / Math.SQRT2));
    const spread = median(runs.map((r) => {
      const v = r.vals[ci]!;
      const m = v.reduce((a, b) => a + b) / v.length;
      return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
    }));
    out[c] = Math.max(noise, 0.2 * spread);
  });
  return out;
}

interface Kind {
  name: string;
  cols: string[];
  /** The fault's shape at `u` (0 → 1 over its length), row `k` of it. */
  shape: (u: number, k: number) => number;
}
const VIB = ['Accelerometer1RMS', 'Accelerometer2RMS'];
/** A fixed N(0, 1) draw for row `k` (mulberry32 of k, Box-Muller): added noise, the same in every pipeline. */
function draw(k: number): number {
  const u = (a: number) => {
    let t = (a + 0x6d2b79f5) >>> 0;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Math.sqrt(-2 * Math.log(u(2 * k) + 1e-12)) * Math.cos(2 * Math.PI * u(2 * k + 1));
}
export const KINDS: Kind[] = [
  { name: 'vibration step', cols: VIB, shape: () => 1 },
  { name: 'vibration ramp', cols: VIB, shape: (u) => u },
  { name: 'vibration exponential', cols: VIB, shape: (u) => (Math.exp(4 * u) - 1) / (Math.exp(4) - 1) },
  { name: 'vibration spikes', cols: VIB, shape: (_u, k) => (k % 50 === 10 ? 1 : 0) },
  // Noise of `size` units added: the sensor unsteadier (cavitation, a loose mount), its level the same.
  { name: 'vibration noisier', cols: VIB, shape: (_u, k) => draw(k) },
  { name: 'current step', cols: ['Current'], shape: () => 1 },
  { name: 'current ramp', cols: ['Current'], shape: (u) => u },
  { name: 'voltage step', cols: ['Voltage'], shape: () => 1 },
  { name: 'pressure step', cols: ['Pressure'], shape: () => 1 },
  { name: 'pressure ramp', cols: ['Pressure'], shape: (u) => u },
  { name: 'pressure noisier', cols: ['Pressure'], shape: (_u, k) => draw(k) },
  { name: 'flow step down', cols: ['Volume Flow RateRMS'], shape: () => -1 },
  { name: 'flow ramp down', cols: ['Volume Flow RateRMS'], shape: (u) => -u },
  { name: 'flow noisier', cols: ['Volume Flow RateRMS'], shape: (_u, k) => draw(k) },
  { name: 'fluid temperature step', cols: ['Thermocouple'], shape: () => 1 },
  { name: 'fluid temperature ramp', cols: ['Thermocouple'], shape: (u) => u },
  { name: 'motor temperature step', cols: ['Temperature'], shape: () => 1 },
  { name: 'motor temperature ramp', cols: ['Temperature'], shape: (u) => u },
];

/** One run through `spec`, with `kind` injected at `size` units: found while it lasts, false alerts outside it. */
export function judge(spec: PipelineSpec, r: Run, unit: Record<string, number>, kind?: Kind, size = 0): { found: boolean; falseAlerts: number } {
  const raised: number[] = [];
  const p = compilePipeline(spec, (e) => {
    if (e.kind === 'alert' && e.alert.state === 'raised') raised.push(e.alert.start);
  });
  const [a, b] = r.fault;
  for (let i = 0; i < r.ts.length; i++)
    for (let c = 0; c < r.cols.length; c++) {
      const col = r.cols[c]!;
      const v = r.vals[c]![i]! + (kind && i >= a && i < b && kind.cols.includes(col) ? size * unit[col]! * kind.shape((i - a) / (b - a), i - a) : 0);
      p.push({ stream: `pump/${col}`, ts: r.ts[i]!, value: v });
    }
  p.flush();
  const t0 = r.ts[a]!;
  const t1 = r.ts[b - 1]!;
  return { found: raised.some((t) => t >= t0 && t <= t1), falseAlerts: raised.filter((t) => t < t0 || t > t1).length };
}

if (process.argv[1]?.endsWith('skab-inject.ts')) {
  const warning = { alert: { severity: 'warning' } };
  const given = process.argv[2] ? (JSON.parse(process.argv[2]) as Record<string, unknown[]>) : undefined;
  const specs: Record<string, PipelineSpec> = given
    ? Object.fromEntries(Object.entries(given).map(([n, steps]) => [n, pipelineSchema().parse({ name: n, input: { streams: ['**'] }, steps })]))
    : {
        'pump-skab.yaml': loadPipelineFile(join(import.meta.dirname, '../../pipelines/pump-skab.yaml')),
        'range rule only': pipelineSchema().parse({ name: 'r', input: { streams: ['**'] }, steps: [{ detect: { detector: 'default', range_margin: 0.35, flat_readings: 60, ...warning } }] }),
      };
  const sizes = JSON.parse(process.argv[3] ?? '[5,10,20,40]') as number[];
  const runs = healthyRuns();
  const unit = units(runs);
  const names = Object.keys(specs);
  console.log(`${runs.length} runs of SKAB's healthy rows; units: ${Object.entries(unit).map(([c, u]) => `${c} ${u.toPrecision(2)}`).join(', ')}`);
  console.log(`runs found of ${runs.length}, ${names.join(' / ')}`);
  console.log(`no fault: ${names.map((n) => runs.reduce((s, r) => s + judge(specs[n]!, r, unit).falseAlerts, 0)).join(' / ')} false alerts`);
  for (const kind of KINDS) {
    const cells = sizes.map((k) => `${k}σ ${names.map((n) => runs.filter((r) => judge(specs[n]!, r, unit, kind, k).found).length).join('/')}`);
    console.log(`${kind.name.padEnd(24)} ${cells.join('  ')}`);
  }
}
