/**
 * Simulator benchmark: how many readings/s one simulator process offers over MQTT (QoS 0) to an
 * in-process aedes broker (counting what the broker received), and how fast a data set is
 * written in simulated time. Run: npx tsx bench/sim.bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedBroker } from '../drivers/mqtt/index.js';
import { MqttTransport, runLive, Simulation, writeDataset, parseDomains } from '../firmware-sim/index.js';
import { machine, printTable } from './report.js';

async function mqttRun(domain: string, devices: number, rateHz: number, seconds: number): Promise<string[]> {
  let received = 0;
  const broker = await startEmbeddedBroker({ port: 0, allowAnonymous: true, onPublish: () => void received++ });
  const t = await MqttTransport.connect({ url: broker.url });
  const sim = new Simulation({ domains: parseDomains(domain), devices, rateHz, seed: 1, start: Date.UTC(2024, 0, 1), durationMs: seconds * 1000 });
  const t0 = performance.now();
  await runLive(sim, [t], { realTime: false, maxBatch: 20 });
  const t1 = performance.now();
  const deadline = t1 + 30_000;
  while (received < t.published && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const t2 = performance.now();
  await t.close();
  await broker.close();
  return [
    `${domain} ×${devices} @${rateHz} Hz`,
    t.published.toLocaleString('en'),
    Math.round(t.published / ((t1 - t0) / 1000)).toLocaleString('en'),
    Math.round(received / ((t2 - t0) / 1000)).toLocaleString('en'),
    `${received === t.published ? 'all' : `${received}/${t.published}`}`,
  ];
}

const rows: string[][] = [];
rows.push(await mqttRun('maintenance', 100, 100, 10));
rows.push(await mqttRun('all', 50, 50, 10));
printTable('Simulator → in-process aedes, MQTT QoS 0 (simulator and broker share one process)', ['load', 'published', 'offered readings/s', 'received readings/s (end to end)', 'received'], rows);

const dir = mkdtempSync(path.join(os.tmpdir(), 'sim-bench-'));
try {
  const sim = new Simulation({ domains: parseDomains('all'), devices: 5, rateHz: 1, seed: 1, start: Date.UTC(2024, 0, 1), durationMs: 6 * 3_600_000 });
  const t0 = performance.now();
  const s = writeDataset(sim, dir);
  const sec = (performance.now() - t0) / 1000;
  printTable('Data set (CSV + labels, simulated time)', ['run', 'readings', 'seconds', 'readings/s'], [[`all ×5, 1 Hz, 6 h`, s.readings.toLocaleString('en'), sec.toFixed(2), Math.round(s.readings / sec).toLocaleString('en')]]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(machine());
