/**
 * Hot reload (docs/operations.md#reload): how long a reload holds up readings (the swap of the
 * pipelines and the checkpoint after it, `pauseMs`) and its CPU, for a gateway (in process, outbox
 * in a temp dir, no inputs) with 2 pipelines × STREAMS streams, each with an open 1-minute window
 * (count, mean, p95) and an EWMA detector. Reloads, in turn: nothing changed; one pipeline's detect
 * threshold changed (window kept, detector fresh); its window size changed (window flushed as
 * partial, rebuilt). Validation in the child process is timed apart (wall clock: its CPU is the child's).
 * Run: npx tsx bench/reload.bench.ts   (or npm run bench reload)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseGatewayText } from '../src/config/load.js';
import { loadGatewayFileInChild } from '../src/config/load-in-child.js';
import { pipelineSchema, type PipelineSpec } from '../src/config/pipeline.js';
import { silentLogger } from '../src/core/log.js';
import { Gateway } from '../src/runtime/gateway.js';
import { machine, printTable } from './report.js';

const T0 = Date.UTC(2026, 0, 1);

function spec(name: string, streams: number, size = '1m', threshold = 5): PipelineSpec {
  return pipelineSchema().parse({
    name,
    input: { streams: [`${name}-*/vibration`], max_keys: streams },
    steps: [{ window: { type: 'tumbling', size, aggregates: ['count', 'mean', 'p95'] } }, { detect: { detector: 'ewma', field: 'mean', threshold, output: 'alerts' } }, { output: 'agg' }],
  });
}

async function reloads(streams: number): Promise<string[][]> {
  const dir = mkdtempSync(join(os.tmpdir(), 'edgewise-reload-bench-'));
  const { config } = parseGatewayText('gateway: { id: bench }\noutbox: {}\nstate: { checkpoint_interval: 1h }\n', join(dir, 'edgewise.yaml'), {}, dir);
  const a = spec('a', streams);
  const b = spec('b', streams);
  const gw = new Gateway({ config, pipelines: [a, b], baseDir: dir, log: silentLogger(), tickMs: 3_600_000 });
  await gw.start();
  // 31 closed windows per stream (detector baselines) and an open one with 20 readings.
  for (let w = 0; w < 32; w++) {
    for (let k = 0; k < (w < 31 ? 2 : 20); k++) {
      for (let s = 0; s < streams; s++) for (const p of ['a', 'b']) gw.push({ stream: `${p}-${s}/vibration`, ts: T0 + w * 60_000 + k * 1000, value: 10 + Math.sin(w + s + k) });
    }
  }
  const rows: string[][] = [];
  const step = async (what: string, next: PipelineSpec[]) => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const out = await gw.reload({ config, pipelines: next });
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    if (out.result !== 'applied') throw new Error(`reload ${out.result}`);
    rows.push([`${streams.toLocaleString('en')} streams × 2 pipelines`, what, `${out.pauseMs.toFixed(1)} ms`, `${ms.toFixed(1)} ms`, `${((cpu.user + cpu.system) / 1000).toFixed(1)} ms`]);
  };
  await step('nothing changed', [a, b]);
  await step('b: detect threshold (window kept, detector fresh)', [a, spec('b', streams, '1m', 6)]);
  await step('b: window size (flushed as partial, rebuilt)', [a, spec('b', streams, '2m', 6)]);
  await gw.stop();
  rmSync(dir, { recursive: true, force: true });
  return rows;
}

async function validation(): Promise<string[]> {
  const dir = mkdtempSync(join(os.tmpdir(), 'edgewise-reload-bench-'));
  writeFileSync(join(dir, 'p.yaml'), 'name: p\ninput: { streams: ["*/v"] }\nsteps:\n  - window: { type: tumbling, size: 1m, aggregates: [count, mean] }\n  - detect: { detector: ewma, field: mean }\n  - output: agg\n');
  writeFileSync(join(dir, 'edgewise.yaml'), 'gateway: { id: bench }\npipelines: [p.yaml]\n');
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await loadGatewayFileInChild(join(dir, 'edgewise.yaml'), {});
    times.push(performance.now() - t0);
  }
  rmSync(dir, { recursive: true, force: true });
  times.sort((x, y) => x - y);
  return ['validation in the child process (edgewise.yaml + 1 pipeline)', '', '', `${times[2]!.toFixed(0)} ms (median of 5)`, 'in the child'];
}

const rows = [...(await reloads(1_000)), ...(await reloads(10_000)), await validation()];
printTable(`reload (${machine()}; shared machine: other work ran on the same cores)`, ['gateway', 'reload', 'pause (swap + checkpoint)', 'reload() wall', 'reload() CPU'], rows);
