/**
 * The `telematics` operator's cost: readings/s and CPU µs per reading through a pipeline, on a
 * generated 50 Hz drive of 20 vehicles (3-axis accelerometer + gyro + 1 Hz speed; the drive of
 * test/domain/telematics-signals.ts), against the naive alternative in the same run: a threshold
 * detect step per raw accelerometer axis (what fails on unknown mountings and rebounds).
 * Run: npx tsx bench/telematics.bench.ts   (or npm run bench)
 */
import { pipelineSchema } from '../src/config/pipeline.js';
import type { Reading } from '../src/core/reading.js';
import { compilePipeline } from '../src/compile.js';
import { drive, testDrive } from '../test/domain/telematics-signals.js';
import { machine, printTable } from './report.js';

const VEHICLES = 20;
const readings: Reading[] = [];
const per: Reading[][] = [];
for (let v = 0; v < VEHICLES; v++) per.push(drive(testDrive().script, { mount: [17 * v, 40, 10 * v], speed: true, seed: v + 1, device: `car-${v}` }).readings);
// interleave vehicles by time, as a gateway receives them
for (let i = 0; ; i++) {
  let any = false;
  for (const list of per) if (i < list.length) (readings.push(list[i]!), (any = true));
  if (!any) break;
}

const variants: Record<string, unknown[]> = {
  'telematics operator': [{ telematics: {} }],
  'threshold per raw axis (naive)': ['accel_x', 'accel_y', 'accel_z'].map((m) => ({ detect: { name: `raw-${m.replace('_', '-')}`, detector: 'threshold', above: 3.4, below: -3.4 }, streams: [`*/${m}`] })),
};
const rows: string[][] = [];
for (const [name, steps] of Object.entries(variants)) {
  const spec = pipelineSchema().parse({ name: 'bench', input: { streams: ['**'] }, steps });
  let alerts = 0;
  let best = Infinity;
  let cpuBest = Infinity;
  for (let rep = 0; rep < 3; rep++) {
    const p = compilePipeline(spec, (e) => void (e.kind === 'alert' && e.alert.state === 'raised' && alerts++));
    alerts = 0;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (const r of readings) p.push({ stream: r.stream, ts: r.ts, value: r.value });
    p.flush();
    const ns = Number(process.hrtime.bigint() - t0);
    const cpu = process.cpuUsage(cpu0);
    best = Math.min(best, ns);
    cpuBest = Math.min(cpuBest, cpu.user + cpu.system);
  }
  rows.push([name, (readings.length / (best / 1e9) / 1e6).toFixed(2), ((cpuBest * 1000) / readings.length / 1000).toFixed(3), String(alerts)]);
}
printTable(
  `telematics: ${readings.length.toLocaleString('en')} readings (${VEHICLES} vehicles, ${Math.round((readings.at(-1)!.ts - readings[0]!.ts) / 1000)} s each, 50 Hz IMU + 1 Hz speed), best of 3, ${machine()}; CPU time is the figure to quote on a shared machine (wall time includes waiting for a core)`,
  ['pipeline', 'M readings/s', 'CPU µs/reading', 'alerts raised (3 harsh events per vehicle)'],
  rows,
);
