/**
 * Engine throughput: readings/s through a pipeline (no I/O), 1,000 keys, a 1-second tumbling
 * window with mean, stddev and p95, and the heap used as the number of readings grows.
 * Run: npx tsx --expose-gc bench/engine.bench.ts   (or npm run bench)
 */
import { pipelineSchema } from '../src/config/pipeline.js';
import type { Reading } from '../src/core/reading.js';
import { compilePipeline } from '../src/compile.js';
import { machine, printTable } from './report.js';

const KEYS = 1000;
const RATE_PER_KEY_HZ = 100; // readings per second per key → 100k readings per 1 s of event time

/**
 * `live`: readings carry the gateway's arrival time and the clock ticks every second, as in `edgewise run`.
 * `dedupe`: a `dedupe` step before the window (each reading compared with its stream's last 8).
 */
function run(totalReadings: number, live = false, dedupe = false) {
  const spec = pipelineSchema().parse({
    name: 'bench',
    input: { streams: ['**'], max_keys: KEYS },
    steps: [...(dedupe ? [{ dedupe: {} }] : []), { window: { type: 'tumbling', size: '1s', aggregates: ['mean', 'stddev', 'p95'] } }, { output: 'agg' }],
  });
  let windows = 0;
  const p = compilePipeline(spec, () => void windows++);
  const streams = Array.from({ length: KEYS }, (_, i) => `machine-${i}/vibration`);
  // Readings are prepared up front so the timing is the engine's alone (a driver allocates them).
  const batch = 100_000;
  const readings: Reading[] = Array.from({ length: batch }, (_, i) => ({ stream: streams[i % KEYS]!, ts: 0, value: 0 }));
  let seed = 12345;
  const step = 1000 / (RATE_PER_KEY_HZ * KEYS);
  let t = Date.UTC(2026, 0, 1);
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let done = 0; done < totalReadings; done += batch) {
    for (let i = 0; i < batch; i++) {
      seed = (seed * 16807) % 2147483647;
      const r = readings[i]!;
      t += step;
      // A fresh object per reading, as a driver would hand over.
      const ts = Math.floor(t);
      if (live) p.push({ stream: r.stream, ts, value: 1 + (seed / 2147483647) * 0.2, arrival: ts });
      else p.push({ stream: r.stream, ts, value: 1 + (seed / 2147483647) * 0.2 });
    }
    if (live) p.advanceTo(Math.floor(t));
  }
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuNs = ((cpu.user + cpu.system) * 1000) / totalReadings;
  gc?.();
  const heapAfter = process.memoryUsage().heapUsed;
  return { rate: totalReadings / secs, cpuNs, windows, heapMB: heapAfter / 1048576, growthMB: (heapAfter - heapBefore) / 1048576, open: p.stats().openWindows };
}

run(1_000_000); // warm-up
const rows: string[][] = [];
// The dedupe rows alternate with plain ones of the same size, so that the machine's noise shows.
for (const [n, live, dedupe] of [[1_000_000, false, false], [5_000_000, false, false], [5_000_000, false, true], [5_000_000, false, false], [5_000_000, false, true], [20_000_000, false, false], [5_000_000, true, false]] as const) {
  const r = run(n, live, dedupe);
  rows.push([`${n.toLocaleString('en')}${live ? ' live' : ''}${dedupe ? ' dedupe' : ''}`, `${(r.rate / 1e6).toFixed(2)} M/s`, `${r.cpuNs.toFixed(0)} ns`, r.windows.toLocaleString('en'), String(r.open), `${r.heapMB.toFixed(1)} MB`, `${r.growthMB.toFixed(1)} MB`]);
}
printTable(`engine: 1,000 keys, 1 s tumbling window, mean+stddev+p95 (${machine()})`, ['readings', 'throughput', 'CPU per reading', 'windows fired', 'open windows', 'heap after', 'heap growth'], rows);
