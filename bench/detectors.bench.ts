/**
 * Detector throughput (readings/s on one core, detector alone and through the detect step with
 * its alert tracker) and state per key (heap + typed-array bytes measured over 20,000 keys, and
 * the size of the JSON snapshot). Run: npx tsx bench/detectors.bench.ts (node --expose-gc for
 * steadier memory figures). Optional arguments: the kinds to run (default all).
 */
import { cpus } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { compileDetect } from '../src/compile.js';
import { builtinPlugins } from '../src/plugins.js';
import { detectStepSchema, DETECTOR_KINDS, multivariateStepSchema } from '../test/helpers/schemas.js';
import { compileMultivariateStep } from '../src/detectors/multivariate/step.js';
import type { OperatorContext } from '../src/engine/pipeline.js';

const N = 2_000_000;
// Memory per key needs a full GC before and after (without one the figures are noise, even
// negative): with --expose-gc (npm run bench) or without it (bench/alternate.ts), get one.
const gc: () => void =
  globalThis.gc ??
  (() => {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  })();
const params: Record<string, Record<string, unknown>> = { threshold: { above: 3, below: -3 } };
// Pre-generated input: noise with occasional spikes and steps (so rules and alerts do work).
const xs = new Float64Array(1 << 16);
let seed = 1;
const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
for (let i = 0; i < xs.length; i++) xs[i] = rnd() + rnd() + rnd() - 1.5 + (i % 5000 === 0 ? 8 : 0) + (i % 20000 > 15000 ? 2 : 0);

/**
 * Rows: every kind at its defaults, and the default detector without its sequence, shape or joint rule,
 * with a block per reading (the shape rule's worst case: a series at least as slow as `shape_block`,
 * 50 min) and with its calibration stage on (their cost, same run); `ewma` with a half-life.
 */
const variants: Record<string, { detector: string } & Record<string, unknown>> = {
  'default, no sequence rule': { detector: 'default', rules: ['range', 'spike', 'flat', 'season', 'shape', 'joint'] },
  'default, no shape rule': { detector: 'default', rules: ['range', 'spike', 'flat', 'season', 'sequence', 'joint'] },
  'default, no joint rule': { detector: 'default', rules: ['range', 'spike', 'flat', 'season', 'sequence', 'shape'] },
  'default, shape block per reading': { detector: 'default', shape_block: 1000 },
  'default, calibrated (cal_z 3)': { detector: 'default', cal_z: 3 },
  'default, drift rule (as the pump pipeline)': { detector: 'default', range_margin: 0.35, drift_margin: 0.5, drift_steps: 8 },
  'ewma, memory in time (half_life 1h)': { detector: 'ewma', half_life: '1h', warmup_time: '30m' },
};
function spec(kind: string) {
  return detectStepSchema.parse(variants[kind] ?? { detector: kind, ...(params[kind] ?? {}) });
}

function rate(fn: (ts: number, x: number) => unknown): number {
  const mask = xs.length - 1;
  for (let i = 0; i < 200_000; i++) fn(i * 1000, xs[i & mask]!); // warm the JIT
  const t0 = process.hrtime.bigint();
  let sink = 0;
  for (let i = 0; i < N; i++) {
    const r = fn(1e12 + i * 1000, xs[i & mask]!) as { score: number };
    sink += r.score;
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (sink === -1) console.log(sink);
  return N / s;
}

/**
 * Bytes per key: the JS heap and every ArrayBuffer's backing store (process.memoryUsage's
 * heapUsed + arrayBuffers), measured over 20,000 keys after 300 readings each (`stepMs` apart: at
 * 1 s, and at 5 minutes where the default detector's slow-series memories are in use). Until
 * 2026-12-04 the typed arrays were added by a formula that left out the shape rule's buffer.
 */
function heapPerKey(kind: string, stepMs = 1000): number {
  const step = compileDetect(spec(kind));
  const K = 20_000;
  const keep: unknown[] = new Array(K);
  gc();
  gc();
  const mem = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const before = mem();
  for (let k = 0; k < K; k++) {
    const st = step.createKeyState(`dev-${k}/m`);
    for (let i = 0; i < 300; i++) step.update(st, i * stepMs, xs[(k * 7 + i) & (xs.length - 1)]! + (stepMs >= 60_000 && i % 100 >= 50 ? 20 : 0));
    keep[k] = st;
  }
  gc();
  const after = mem();
  if (keep.length !== K) throw new Error('unreachable');
  return (after - before) / K;
}

const rows: string[][] = [];
const only = process.argv.slice(2);
for (const kind of [...DETECTOR_KINDS, ...Object.keys(variants)].filter((k) => only.length === 0 || only.some((o) => k.startsWith(o)))) {
  const sp = spec(kind);
  const det = builtinPlugins.detector(sp.detector)!.create(sp);
  const detRate = rate((ts, x) => det.update(ts, x));
  const step = compileDetect(spec(kind));
  const st = step.createKeyState('dev/m');
  const stepRate = rate((ts, x) => step.update(st, ts, x));
  const snapBytes = JSON.stringify(step.snapshot(st)).length;
  rows.push([kind, (detRate / 1e6).toFixed(detRate < 1e6 ? 2 : 1), (stepRate / 1e6).toFixed(stepRate < 1e6 ? 2 : 1), String(Math.round(heapPerKey(kind))), String(Math.round(heapPerKey(kind, 300_000))), String(snapBytes)]);
}

// The multivariate step (an operator: one state per device, 8 sensors a row as on the SKAB pump).
// Its rate counts readings (8 a row), through row assembly, the MEWMA and the alert tracker.
let mvCpu = NaN;
if (only.length === 0 || only.some((o) => 'multivariate'.startsWith(o))) {
  const M = 8;
  const ctx: OperatorContext = { pipeline: 'b', reading() {}, result() {}, emit() {}, drop() {}, deviceTime: () => 0, pause() {}, resume() {} };
  const metrics = Array.from({ length: M }, (_, k) => `s${k}`);
  const streams = (dev: string) => metrics.map((m) => `${dev}/${m}`);
  const feed = (op: ReturnType<typeof compileMultivariateStep>, ss: string[], rows: number, from: number) => {
    const r = { stream: '', ts: 0, value: 0 };
    for (let i = from; i < from + rows; i++) {
      r.ts = 1e12 + i * 1000;
      for (let k = 0; k < M; k++) {
        r.stream = ss[k]!;
        r.value = 10 * k + xs[(i * M + k) & (xs.length - 1)]!;
        op.reading(r, ctx);
      }
    }
  };
  const spec = multivariateStepSchema.parse({});
  const op = compileMultivariateStep(spec);
  const ss = streams('pump');
  feed(op, ss, 25_000, 0); // past baseline and calibration, JIT warm
  const rowsN = N / M;
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  feed(op, ss, rowsN, 25_000);
  const rate = N / (Number(process.hrtime.bigint() - t0) / 1e9);
  const cpu = process.cpuUsage(c0);
  mvCpu = ((cpu.user + cpu.system) * 1000) / N; // ns of CPU per reading (robust to other load)
  const K = 5_000;
  const many = compileMultivariateStep(spec);
  gc();
  gc();
  const before = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  for (let k = 0; k < K; k++) feed(many, streams(`pump-${k}`), 450, 0);
  gc();
  const after = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const snap = JSON.stringify(op.snapshot()).length;
  rows.push([`multivariate (${M} sensors, per device)`, (rate / 1e6).toFixed(1), (rate / 1e6).toFixed(1), String(Math.round((after - before) / K)), "", String(snap)]);
}

console.log(`detectors: ${N.toLocaleString('en')} readings each, one core (${cpus()[0]?.model ?? '?'}, ${cpus().length} cores visible)`);
console.log('| detector | M readings/s (detector) | M readings/s (step + alerts) | bytes/key in memory, 1 s readings (detector + alert tracker; heap + array buffers) | the same, 5-minute readings with daily-like steps | snapshot JSON bytes |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
if (!Number.isNaN(mvCpu)) console.log(`multivariate: ${mvCpu.toFixed(0)} ns of CPU per reading (${(1e3 / mvCpu).toFixed(1)} M readings per CPU-second)`);
