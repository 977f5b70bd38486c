/**
 * Memory per stream: 1,000 / 10,000 / 100,000 streams, each with an open window and a detector
 * with its state, in one pipeline (the engine alone, no I/O). Each count runs in a fresh process:
 * the figure is the heap (after a full GC) and RSS grown from the same process with the pipeline
 * compiled but no stream, divided by the number of streams.
 *
 * Two pipelines:
 * - `ewma + 10 s window [count, mean, stddev]`: the peer-comparison flow (bench/peers/flow.ts);
 * - `default detector + 10 s window [count, mean, max, p95]`: the runtime bench's flow (the
 *   default detector keeps a seasonal model and a sequence table per stream; p95 keeps a sketch).
 * Every stream gets 3 readings inside one window: the window stays open, the detector has state.
 *
 * Run: npx tsx bench/streams-memory.bench.ts      (~1 min; the 100,000-stream runs need ~2 GB)
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pipelineSchema } from '../src/config/pipeline.js';
import { compilePipeline } from '../src/compile.js';
import { machine, printTable } from './report.js';

const FLOWS = {
  'ewma + window [count, mean, stddev]': [
    { detect: { detector: 'ewma', alpha: 0.02, threshold: 3, warmup: 50 } },
    { window: { type: 'tumbling', size: '10s', aggregates: ['count', 'mean', 'stddev'] } },
  ],
  'default detector + window [count, mean, max, p95]': [
    { detect: { detector: 'default' } },
    { window: { type: 'tumbling', size: '10s', aggregates: ['count', 'mean', 'max', 'p95'] } },
  ],
} as const;
type Flow = keyof typeof FLOWS;
const COUNTS = [1_000, 10_000, 100_000];

interface Measure {
  heap: number;
  rss: number;
  open: number;
  keys: number;
}

/** In a fresh process: the memory with `n` streams (n = 0: the baseline). */
function child(flow: Flow, n: number): Measure {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const spec = pipelineSchema().parse({ name: 'mem', input: { streams: ['**'], max_keys: Math.max(n, 1) }, steps: [...FLOWS[flow], { output: 'out' }] });
  const p = compilePipeline(spec, () => {});
  const t0 = Date.UTC(2026, 0, 1, 0, 0, 1);
  for (let k = 0; k < 3; k++) for (let i = 0; i < n; i++) p.push({ stream: `device-${i}/temperature`, ts: t0 + k * 1000, value: 20 + (i % 7) + k * 0.1 });
  gc();
  gc();
  const m = process.memoryUsage();
  const s = p.stats();
  return { heap: m.heapUsed, rss: m.rss, open: s.openWindows, keys: s.keys };
}

function measure(flow: Flow, n: number): Measure {
  const r = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=4096', '--import', 'tsx', fileURLToPath(import.meta.url), 'child', flow, String(n)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`streams-memory child (${flow}, ${n}) failed:\n${r.stderr}`);
  return JSON.parse(r.stdout) as Measure;
}

if (process.argv[2] === 'child') {
  console.log(JSON.stringify(child(process.argv[3] as Flow, Number(process.argv[4]))));
} else {
  const rows: string[][] = [];
  const mb = (x: number) => `${(x / 1048576).toFixed(1)} MB`;
  for (const flow of Object.keys(FLOWS) as Flow[]) {
    const base = measure(flow, 0);
    for (const n of COUNTS) {
      const m = measure(flow, n);
      if (m.keys !== n || m.open !== n) throw new Error(`${flow}, ${n} streams: ${m.keys} keys and ${m.open} open windows`);
      rows.push([flow, n.toLocaleString('en'), mb(m.heap), `${((m.heap - base.heap) / n / 1024).toFixed(2)} KB`, mb(m.rss), `${((m.rss - base.rss) / n / 1024).toFixed(2)} KB`]);
    }
  }
  printTable(
    `streams memory: one open 10 s window and a detector per stream, heap after a full GC (${machine()})`,
    ['pipeline', 'streams', 'heap used', 'heap per stream', 'RSS', 'RSS per stream'],
    rows,
  );
}
